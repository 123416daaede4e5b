"""Command to filled modal: from `/cancel-order <order>` to the views.update that shows the reasons.

The bound is the two Lazada round trips the modal needs (GetOrderItems, then OrderCancelValidate) on a
sandbox with a 200 ms round trip over warm connections; the goal is on what the bot adds to them.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from benchmarks.peers import PeersClient, running_peers
from benchmarks.report import BenchResult, Figure, Goal, percentile
from benchmarks.stack import BenchContext, ServedBot, payloads, served_bot

__all__ = ["run"]

USER = "U0ALICE"
CHANNEL = "C0OPS"
RTT_MS = 200.0
LAZADA_ROUND_TRIPS = 2


async def _one(http: httpx.AsyncClient, bot: ServedBot, peers: PeersClient, order_id: str) -> float:
    """Seconds from sending the command to Slack receiving the filled modal."""
    (trigger,) = await peers.triggers(USER, 1)
    (url,) = await peers.response_urls(CHANNEL, USER, 1)
    since, _ = await peers.slack_calls(since=1 << 62)
    signed = payloads().slash_command(
        "/cancel-order", order_id, user_id=USER, channel_id=CHANNEL, trigger_id=trigger, response_url=url
    )
    sent = time.time()
    response = await http.post(bot.events_url, content=signed.body, headers=dict(signed.headers))
    response.raise_for_status()
    deadline = sent + 30
    while time.time() < deadline:
        _, updates = await peers.slack_calls(since=since, method="views.update")
        filled = [call for call in updates if call["ok"] and call["has_reasons"]]
        if filled:
            return float(filled[0]["at"]) - sent
        await asyncio.sleep(0.02)
    raise TimeoutError(f"the modal for order {order_id} was not filled within 30 s")


async def run(ctx: BenchContext) -> BenchResult:
    """Sequential commands after a warm-up; the median and p95 of command-to-filled-modal."""
    started = time.perf_counter()
    count = ctx.scale(30, 8)
    async with running_peers(ctx.workdir, "--rtt-ms", str(RTT_MS)) as peers:
        orders = await peers.orders("pending", count + 3)
        async with (
            served_bot(
                "modal-bot",
                workdir=ctx.workdir,
                slack_api_url=peers.slack_api,
                lazada_api_url=peers.sandbox_api,
                database_url=ctx.sqlite_url("modal"),
                calls_per_second=10.0,
            ) as bot,
            httpx.AsyncClient(timeout=10.0) as http,
        ):
            for order_id in orders[:3]:
                await _one(http, bot, peers, order_id)
            connections_before = (await peers.lazada_calls())["connections"]
            times = [await _one(http, bot, peers, order_id) * 1000 for order_id in orders[3 : 3 + count]]
            new_connections = (await peers.lazada_calls())["connections"] - connections_before
    bound = LAZADA_ROUND_TRIPS * RTT_MS
    return BenchResult(
        name="modal",
        title="Command to filled modal",
        figures=(
            Figure(
                label="median, command to views.update with the reasons",
                measured=percentile(times, 50),
                bound=bound,
                unit="ms",
                bound_label="2 Lazada round trips",
                goal=Goal(op="<=", target=50),
                compare="excess",
            ),
            Figure(
                label="p95",
                measured=percentile(times, 95),
                bound=bound,
                unit="ms",
                bound_label="2 Lazada round trips",
                compare="excess",
            ),
        ),
        setup=(
            f"{count} commands one after another (after 3 to warm up), each for a different pending order; the "
            "time runs from the command's first byte to the fake Slack receiving the views.update",
            f"sandbox round trip {RTT_MS:.0f} ms; Lazada pacing at the default 10 calls/s; new Lazada "
            f"connections opened while measuring: {new_connections} (warm)",
            "the excess over the bound holds the bot's own work plus the views.open round trip to the fake Slack",
        ),
        seconds=time.perf_counter() - started,
    )
