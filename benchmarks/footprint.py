"""Footprint: start-up time to ready, and the bot's memory idle and after 1,000 handled interactions."""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time

import httpx

from benchmarks.people import local_peers, play
from benchmarks.report import BenchResult, Figure, Goal
from benchmarks.stack import BenchContext, served_bot
from benchmarks.workload import SlackDriver

__all__ = ["run"]

WORKERS = 4

BARE_LIBRARIES = ("slack_bolt.adapter.starlette.async_handler", "uvicorn")
"""What the bare app imports: Bolt (with slack_sdk and aiohttp), its Starlette adapter, uvicorn."""

BOT_LIBRARIES = (
    *BARE_LIBRARIES,
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.dialects.sqlite.aiosqlite",
    "pydantic_settings",
    "httpx",
    "stamina",
    "apscheduler.schedulers.asyncio",
    "structlog",
    "prometheus_client",
)
"""The libraries the bot's serving process imports, without a line of the bot: its floor, whatever the bot does."""

_PROBE = """
import importlib, json, sys, time
started = time.perf_counter()
for name in sys.argv[1:]:
    importlib.import_module(name)
seconds = time.perf_counter() - started
rss = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS:")) / 1024
print(json.dumps({"seconds": seconds, "rss": rss, "modules": len(sys.modules)}))
"""


async def _import_probe(modules: tuple[str, ...], runs: int) -> tuple[float, float, int]:
    """Median import time (s) and RSS (MiB) of a fresh interpreter that imports `modules` and nothing else."""
    samples = []
    for _ in range(runs):
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _PROBE, *modules, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await child.communicate()
        samples.append(json.loads(out))
    return (
        statistics.median(s["seconds"] for s in samples),
        statistics.median(s["rss"] for s in samples),
        samples[-1]["modules"],
    )


async def run(ctx: BenchContext) -> BenchResult:
    """Start `python -m cancel_order_bot serve`, wait until ready, then play the mixed load and read its RSS."""
    started = time.perf_counter()
    interactions = ctx.scale(1000, 100)
    warmup = ctx.scale(100, 20)
    runs = ctx.scale(3, 1)
    bare_import, bare_import_rss, bare_modules = await _import_probe(BARE_LIBRARIES, runs)
    libs_import, libs_import_rss, libs_modules = await _import_probe(BOT_LIBRARIES, runs)
    async with local_peers(pending_orders=interactions) as peers:
        bare_argv = ("-m", "benchmarks.bare_app", "--slack-api-url", peers.slack.api_url)
        async with served_bot(
            "footprint-bare",
            workdir=ctx.workdir,
            slack_api_url=peers.slack.api_url,
            lazada_api_url=peers.sandbox_api,
            database_url="sqlite://",
            argv=bare_argv,
        ) as bare:
            bare_ready, bare_rss = bare.ready_seconds, bare.child.rss_mb()
        async with (
            served_bot(
                "footprint-bot",
                workdir=ctx.workdir,
                slack_api_url=peers.slack.api_url,
                lazada_api_url=peers.sandbox_api,
                database_url=ctx.sqlite_url("footprint"),
                extra_env={"DIGEST_CHANNEL": ""},
            ) as bot,
            httpx.AsyncClient(timeout=30.0) as http,
        ):
            await asyncio.sleep(1.0)
            idle = bot.child.rss_mb()
            driver = SlackDriver(slack=peers.slack, world=peers.world, bots=[bot.base_url], http=http)
            await play(driver, peers.orders, requests=warmup, workers=WORKERS)
            await asyncio.sleep(1.0)
            warm = bot.child.rss_mb()
            load_started = time.perf_counter()
            await play(driver, peers.orders, requests=warmup + interactions, workers=WORKERS)
            load_seconds = time.perf_counter() - load_started
            await asyncio.sleep(1.0)
            after = bot.child.rss_mb()
            peak = bot.child.rss_mb(peak=True)
    handled = driver.sent - warmup
    return BenchResult(
        name="footprint",
        title="Footprint",
        figures=(
            Figure(
                label="start-up to ready (process start to /readyz 200)",
                measured=bot.ready_seconds,
                bound=bare_ready,
                unit="s",
                bound_label="the bare Bolt app",
                goal=Goal(op="<=", target=1.5),
            ),
            Figure(
                label="RSS idle at ready",
                measured=idle,
                bound=bare_rss,
                unit="MiB",
                bound_label="the bare Bolt app",
                goal=Goal(op="<=", target=1.5),
            ),
            Figure(
                label="RSS of the bot's libraries alone, imported by a process that runs nothing",
                measured=libs_import_rss,
                bound=bare_import_rss,
                unit="MiB",
                bound_label="the bare app's libraries, the same way",
            ),
            Figure(
                label="import time of the bot's libraries alone",
                measured=libs_import,
                bound=bare_import,
                unit="s",
                bound_label="the bare app's libraries, the same way",
            ),
            Figure(
                label=f"RSS after {handled:,} more interactions",
                measured=after,
                bound=warm,
                unit="MiB",
                bound_label=f"idle after {warmup} to warm up",
                goal=Goal(op="<=", target=1.10),
            ),
            Figure(
                label=f"RSS after {handled + warmup:,} interactions",
                measured=after,
                bound=idle,
                unit="MiB",
                bound_label="idle at ready",
            ),
        ),
        setup=(
            "`python -m cancel_order_bot serve` on SQLite, Lazada and Slack served over loopback from the driver's "
            "process; no digest channel, so the daily digest (whose sync and chart the digest benchmark measures) "
            "stays out",
            f"the mix, {WORKERS} people at once: a request approved, one rejected with a reason, one approved by two "
            "approvers at the same moment, App Home opens and help; each HTTP request to /slack/events counts once",
            f"the libraries' floor (median of {runs} fresh interpreters each): the bare app's "
            f"({', '.join(BARE_LIBRARIES)}) load {bare_modules} modules; the bot's "
            f"({', '.join(BOT_LIBRARIES[len(BARE_LIBRARIES) :])} on top) load {libs_modules}",
            f"{handled:,} interactions in {load_seconds:.1f} s ({handled / load_seconds:.0f}/s), "
            f"{len(driver.errors)} errors; peak RSS {peak:.0f} MiB",
        ),
        notes=(
            "The goal compares the memory after the load with the memory once the bot is warm: the first "
            "interactions import the modules and fill the caches a running bot keeps (Bolt's listeners, "
            "SQLAlchemy's compiled statements, the approvers' user group), which is a one-time cost, not growth.",
        ),
        seconds=time.perf_counter() - started,
    )
