"""The digest: a cold sync of an 80,000-order window, then the next day's incremental sync.

The sandbox (50 ms round trip, 20 calls a second per app) runs in the peers process on a clock shifted to a
fixed date; the sync runs in a child process of its own (``python -m benchmarks.digest --child ...``) with the
bot's whole object graph (`open_services`), so its peak RSS is the bot's while it syncs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.peers import PeersClient, running_peers
from benchmarks.procs import Child, sandbox_settings
from benchmarks.report import BenchResult, Figure, Goal
from benchmarks.stack import BenchContext
from bot.digest.window import day_start, history_first_day, local_day
from bot.logs import configure_logging
from bot.services import open_services
from bot.settings import Settings
from bot.slack.chart import render_chart

__all__ = ["main", "run", "sync_twice"]

RTT_MS = 50.0
RATE = 20
WINDOW_DAYS = 65
"""The sync reads history_first_day(today) (today - 64) through now: 65 store-local days."""
START = "2026-11-20T23:50:00+08:00"
"""Late in the store's day, so the partial first day is nearly whole and next day adds a full day."""
RSS_LIMIT_MB = 250.0


class _Clock:
    """The real clock shifted to the sandbox's time; re-read after the sandbox moves a day on."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def set(self, now: datetime) -> None:
        """Make the clock read ``now`` at this instant."""
        self.offset = now - datetime.now(UTC)

    def __call__(self) -> datetime:
        """The shifted time."""
        return datetime.now(UTC) + self.offset


def _settings(sandbox_api: str, database_url: str) -> Settings:
    return sandbox_settings(sandbox_api, database_url, calls_per_second=RATE, digest_channel="C0DIGEST")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def sync_twice(sandbox_api: str, control: str, database_url: str, orders_per_day: int) -> dict[str, Any]:
    """Cold sync, move the sandbox a day on, incremental sync, then the report and its chart; calls, time, RSS."""
    peers = PeersClient({"slack_api": "", "sandbox_api": sandbox_api, "control": control})
    clock = _Clock()
    clock.set(await peers.now())
    result: dict[str, Any] = {}
    try:
        async with open_services(_settings(sandbox_api, database_url), clock=clock, migrate=True) as services:
            for phase in ("cold", "incremental"):
                if phase == "incremental":
                    result["next_day"] = await peers.next_day(orders_per_day=orders_per_day)
                    clock.set(await peers.now())
                started = time.perf_counter()
                stats = await services.digest.sync("main")
                result[phase] = {
                    "seconds": time.perf_counter() - started,
                    "calls": stats.total_calls,
                    "per_path": stats.calls,
                    "orders_listed": stats.orders_listed,
                    "item_reads": stats.orders_item_reads,
                    "cold": stats.cold,
                }
            # What the daily post does next: the report from the cache, then the chart (matplotlib).
            before = _rss_mb()
            report = await services.digest.report("main")
            png = await asyncio.to_thread(render_chart, report)
            result["chart"] = {"rss_before_mb": before, "rss_after_mb": _rss_mb(), "png_bytes": len(png)}
    finally:
        await peers.close()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


async def _window(peers: PeersClient) -> dict[str, int]:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Singapore")
    now = await peers.now()
    return await peers.window(day_start(history_first_day(local_day(now, tz)), tz))


async def run(ctx: BenchContext) -> BenchResult:
    """Generate the window, sync it cold in a child process, then incrementally the next day."""
    started = time.perf_counter()
    target = ctx.scale(80_000, 8_000)
    per_day = math.ceil(target / (WINDOW_DAYS - 0.01))
    options = ["--rtt-ms", str(RTT_MS), "--rate-limit", str(RATE), "--orders-per-day", str(per_day)]
    options += ["--days", str(WINDOW_DAYS + 2), "--start", START]
    async with running_peers(ctx.workdir, *options) as peers:
        window = await _window(peers)
        argv = ["-m", "benchmarks.digest", "--child", "--sandbox-api", peers.sandbox_api]
        argv += ["--control", peers.control, "--database-url", ctx.sqlite_url("digest")]
        argv += ["--orders-per-day", str(per_day)]
        async with Child("digest-sync", argv, log_dir=ctx.workdir, announce=True) as child:
            result = child.announced
        lazada = await peers.lazada_calls()
    cold, incremental = result["cold"], result["incremental"]
    minimum = math.ceil(window["orders"] / 100) + math.ceil(window["with_cancelled"] / 50)
    chart = result["chart"]
    return BenchResult(
        name="digest",
        title="Digest sync",
        figures=(
            Figure(
                label="cold sync: API calls",
                measured=cold["calls"],
                bound=minimum,
                unit="calls",
                bound_label="⌈orders/100⌉ + ⌈orders with a cancelled item/50⌉",
                goal=Goal(op="<=", target=1.05),
            ),
            Figure(
                label="cold sync: wall time",
                measured=cold["seconds"],
                bound=cold["calls"] / RATE,
                unit="s",
                bound_label=f"calls ÷ {RATE}/s",
                goal=Goal(op="<=", target=1.2),
            ),
            Figure(
                label="peak RSS of the process (both syncs, the report and its chart)",
                measured=result["peak_rss_mb"],
                bound=RSS_LIMIT_MB,
                unit="MiB",
                bound_label="limit",
                goal=Goal(op="<=", target=1.0),
            ),
            Figure(
                label="next-day incremental sync: API calls",
                measured=incremental["calls"],
                bound=cold["calls"],
                unit="calls",
                bound_label="the cold sync's calls",
                goal=Goal(op="<=", target=0.10),
            ),
        ),
        setup=(
            f"window: {window['orders']:,} orders ({per_day:,} a day over {WINDOW_DAYS} store-local days), "
            f"{window['with_cancelled']:,} of them with a cancelled item; sandbox round trip {RTT_MS:.0f} ms, "
            f"{RATE} calls/s per app, the bot's limiter at {RATE}/s; SQLite cache",
            f"cold: {cold['per_path']} in {cold['seconds']:.1f} s, {cold['orders_listed']:,} orders listed, "
            f"{cold['item_reads']:,} orders' items read",
            f"next day: {result['next_day']['new_orders']:,} new orders, {result['next_day']['moved']:,} moved "
            f"on, {result['next_day']['cancelled']:,} cancelled; incremental: {incremental['per_path']} in "
            f"{incremental['seconds']:.1f} s",
            f"calls the sandbox received (both syncs, including refused ones): {lazada['counts']}",
            f"drawing the chart took the process from {chart['rss_before_mb']:.0f} to {chart['rss_after_mb']:.0f} "
            f"MiB (matplotlib is imported for it and stays): the replica that posts the daily digest keeps that",
        ),
        seconds=time.perf_counter() - started,
    )


def main(argv: list[str] | None = None) -> None:
    """The child side: sync twice and print the result as one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.digest")
    parser.add_argument("--child", action="store_true", required=True)
    parser.add_argument("--sandbox-api", required=True)
    parser.add_argument("--control", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--orders-per-day", type=int, required=True)
    args = parser.parse_args(argv)
    configure_logging(level="INFO", fmt="json")  # as the bot logs, to stderr: stdout carries the result
    result = asyncio.run(sync_twice(args.sandbox_api, args.control, args.database_url, args.orders_per_day))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
