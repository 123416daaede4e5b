"""Ack latency: time to the HTTP response for a burst of `/cancel-order` commands, bot against a bare Bolt app.

Both serve through the same stack (uvicorn, Starlette, Bolt's adapter, `create_http_app`) in a process of
their own; the fake Slack and the sandbox (50 ms round trip) run in a third. The bot does its real work
after each ack (views.open, two Lazada calls, views.update) while the rest of the burst is still arriving.
"""

from __future__ import annotations

import statistics
import time

from benchmarks.peers import PeersClient, running_peers
from benchmarks.report import BenchResult, Figure, Goal, percentile
from benchmarks.stack import BenchContext, ServedBot, burst, payloads, served_bot

__all__ = ["run"]

USER = "U0ALICE"
CHANNEL = "C0OPS"
RTT_MS = 50.0
CALLS_PER_SECOND = 1000.0


async def _burst(bot: ServedBot, peers: PeersClient, orders: list[str], size: int) -> list[tuple[float, int]]:
    triggers = await peers.triggers(USER, size)
    urls = await peers.response_urls(CHANNEL, USER, size)
    slack = payloads()
    requests = [
        slack.slash_command(
            "/cancel-order",
            orders[index % len(orders)],
            user_id=USER,
            channel_id=CHANNEL,
            trigger_id=triggers[index],
            response_url=urls[index],
        )
        for index in range(size)
    ]
    answers = await burst(bot.events_url, requests)
    await peers.settle(quiet=1.0)
    return answers


async def run(ctx: BenchContext) -> BenchResult:
    """Bursts of commands at the bare app and the bot, alternating; p50 and p99 of each."""
    started = time.perf_counter()
    size = ctx.scale(200, 50)
    rounds = ctx.scale(5, 1)
    async with running_peers(ctx.workdir, "--rtt-ms", str(RTT_MS)) as peers:
        orders = await peers.orders("pending", 50)
        bare_argv = ("-m", "benchmarks.bare_app", "--slack-api-url", peers.slack_api)
        async with (
            served_bot(
                "ack-bare",
                workdir=ctx.workdir,
                slack_api_url=peers.slack_api,
                lazada_api_url=peers.sandbox_api,
                database_url=ctx.sqlite_url("ack-bare"),
                argv=bare_argv,
            ) as bare,
            served_bot(
                "ack-bot",
                workdir=ctx.workdir,
                slack_api_url=peers.slack_api,
                lazada_api_url=peers.sandbox_api,
                database_url=ctx.sqlite_url("ack-bot"),
                calls_per_second=CALLS_PER_SECOND,
            ) as bot,
        ):
            per_burst: dict[str, list[tuple[float, float]]] = {"bare": [], "bot": []}
            statuses: dict[str, set[int]] = {"bare": set(), "bot": set()}
            for target in (bare, bot):  # warm both: imports, auth.test, connection pools
                await _burst(target, peers, orders, 10)
            for _ in range(rounds):
                for name, target in (("bare", bare), ("bot", bot)):
                    answers = await _burst(target, peers, orders, size)
                    millis = [seconds * 1000 for seconds, _ in answers]
                    per_burst[name].append((percentile(millis, 50), percentile(millis, 99)))
                    statuses[name] |= {status for _, status in answers}
            _, views = await peers.slack_calls(method="views.update")
    # Each burst's percentiles, then the median over the bursts: one burst disturbed by something else on the
    # machine moves the figure less than it would in the pooled samples.
    p = {
        name: (statistics.median(b[0] for b in bursts), statistics.median(b[1] for b in bursts))
        for name, bursts in per_burst.items()
    }
    filled = sum(1 for call in views if call["ok"] and call["has_reasons"])
    rows = "; ".join(
        f"{name} " + ", ".join(f"{p50:.0f}/{p99:.0f}" for p50, p99 in bursts) for name, bursts in per_burst.items()
    )
    return BenchResult(
        name="ack",
        title="Ack latency",
        figures=(
            Figure(
                label="p50 time to response (median of bursts)",
                measured=p["bot"][0],
                bound=p["bare"][0],
                unit="ms",
                bound_label="bare app",
            ),
            Figure(
                label="p99 time to response (median of bursts)",
                measured=p["bot"][1],
                bound=p["bare"][1],
                unit="ms",
                bound_label="bare app",
                goal=Goal(op="<=", target=1.0),
            ),
        ),
        setup=(
            f"{rounds} bursts of {size} `/cancel-order <order>` commands per app, alternating bare and bot, each "
            "request on its own connection opened beforehand, all written at once; the figures are the median "
            "over the bursts of each burst's percentile",
            f"p50/p99 ms of each burst: {rows}",
            f"sandbox round trip {RTT_MS:.0f} ms, Lazada pacing off (1,000 calls/s) so the bot's work after "
            "each ack competes with the burst as hard as it can",
            f"HTTP statuses seen: bare {sorted(statuses['bare'])}, bot {sorted(statuses['bot'])}; "
            f"modals filled with reasons by the bot: {filled} of {size * rounds + 10}",
        ),
        seconds=time.perf_counter() - started,
    )
