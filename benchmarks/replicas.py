"""Load across replicas: two `serve` processes on one PostgreSQL take a 60-second mixed load on loopback.

Also a script of its own: ``python -m benchmarks.replicas [--postgres-url URL] [--seconds S]`` prints the
figures. The mix: requests approved (some by two approvers clicking at once, on different replicas),
rejected with a reason, App Home opens and help, about 100 requests a minute, round robin over the replicas.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from benchmarks.peers import CANCEL_CREATE
from benchmarks.people import local_peers, paced
from benchmarks.procs import Child, bot_env
from benchmarks.report import BenchResult, Figure, Goal, percentile, render_report
from benchmarks.stack import BenchContext, served_bot
from benchmarks.workload import SlackDriver
from bot.store import Database, RequestStore, create_engine
from bot.store.models import FINAL_REQUEST_STATUSES, RequestStatus

__all__ = ["main", "run", "scratch_schema"]

PER_MINUTE = 100
REPLICAS = 2


@asynccontextmanager
async def scratch_schema(base_url: str) -> AsyncIterator[str]:
    """A fresh PostgreSQL schema of its own (``?search_path=``), dropped afterwards."""
    schema = f"bench_{secrets.token_hex(6)}"
    engine = create_engine(base_url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        yield make_url(base_url).update_query_dict({"search_path": schema}).render_as_string(hide_password=False)
    finally:
        async with engine.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()


async def _settled(database_url: str, limit: float = 60.0) -> list[RequestStatus]:
    """The requests' statuses once none is executing any more (or ``limit`` seconds passed)."""
    db = Database.from_url(database_url)
    try:
        store = RequestStore(db)
        deadline = time.monotonic() + limit
        while True:
            statuses = [r.status for r in await store.list_requests(limit=10_000)]
            if RequestStatus.EXECUTING not in statuses or time.monotonic() > deadline:
                return statuses
            await asyncio.sleep(0.25)
    finally:
        await db.close()


def _logged_errors(path: Path) -> int:
    return sum(1 for line in path.read_text(errors="replace").splitlines() if '"level": "error"' in line)


async def run(ctx: BenchContext, *, seconds: float = 60.0) -> BenchResult:
    """Migrate a fresh schema, start the replicas, play the paced mix, then check the database and Lazada."""
    started = time.perf_counter()
    seconds = 20.0 if ctx.quick else seconds
    async with AsyncExitStack() as stack:
        database_url = await stack.enter_async_context(scratch_schema(ctx.postgres_url))
        peers = await stack.enter_async_context(local_peers(pending_orders=400))
        # No digest channel: the daily digest (a sync and a chart once a day) would blur the memory figure.
        quiet = {"DIGEST_CHANNEL": ""}
        env = bot_env(
            slack_api_url=peers.slack.api_url,
            lazada_api_url=peers.sandbox_api,
            database_url=database_url,
            extra=quiet,
        )
        migrate = Child("replicas-migrate", ["-m", "cancel_order_bot", "db", "upgrade"], log_dir=ctx.workdir, env=env)
        await migrate.start()
        if await migrate.wait() != 0:
            raise RuntimeError(f"db upgrade failed; see {migrate.log_path}")
        bots = [
            await stack.enter_async_context(
                served_bot(
                    f"replica-{index}",
                    workdir=ctx.workdir,
                    slack_api_url=peers.slack.api_url,
                    lazada_api_url=peers.sandbox_api,
                    database_url=database_url,
                    calls_per_second=10.0,
                    extra_env=quiet,
                )
            )
            for index in range(REPLICAS)
        ]
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=30.0))
        driver = SlackDriver(slack=peers.slack, world=peers.world, bots=[b.base_url for b in bots], http=http)
        await paced(driver, peers.orders, per_minute=PER_MINUTE / 4, seconds=5.0)  # warm up both replicas
        warm = [b.child.rss_mb() for b in bots]
        sent_before, latencies_before = driver.sent, len(driver.latencies)
        load_started = time.perf_counter()
        await paced(driver, peers.orders, per_minute=PER_MINUTE, seconds=seconds)
        load_seconds = time.perf_counter() - load_started
        statuses = await _settled(database_url)
        after = [b.child.rss_mb() for b in bots]
        logged = sum(_logged_errors(b.child.log_path) for b in bots)
        applied = [r for r in peers.world.calls if r.path == CANCEL_CREATE and r.applied]
    cancelled_items: dict[str, int] = {}
    for record in applied:
        for item in record.params.get("order_item_id_list", "").strip("[]").replace('"', "").split(","):
            cancelled_items[item] = cancelled_items.get(item, 0) + 1
    duplicates = sum(1 for count in cancelled_items.values() if count > 1)
    unsettled = [s for s in statuses if s not in FINAL_REQUEST_STATUSES and s is not RequestStatus.PENDING]
    latencies = [s * 1000 for s in driver.latencies[latencies_before:]]
    sent = driver.sent - sent_before
    errors = len(driver.errors) + logged
    growth = max(a / w for a, w in zip(after, warm, strict=True))
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status.value] = counts.get(status.value, 0) + 1
    return BenchResult(
        name="replicas",
        title="Load across two replicas",
        figures=(
            Figure(
                label="errors",
                measured=errors,
                bound=0,
                unit="",
                bound_label="none",
                goal=Goal(op="<=", target=0),
                compare="excess",
            ),
            Figure(
                label="items cancelled more than once",
                measured=duplicates,
                bound=0,
                unit="",
                bound_label="none",
                goal=Goal(op="<=", target=0),
                compare="excess",
            ),
            Figure(
                label="requests neither final nor pending",
                measured=len(unsettled),
                bound=0,
                unit="",
                bound_label="none",
                goal=Goal(op="<=", target=0),
                compare="excess",
            ),
            Figure(
                label="p99 ack latency",
                measured=percentile(latencies, 99),
                bound=percentile(latencies, 50),
                unit="ms",
                bound_label="p50",
            ),
            Figure(
                label="RSS after the load (the replica that grew most)",
                measured=max(after),
                bound=warm[after.index(max(after))],
                unit="MiB",
                bound_label="after the warm-up",
                goal=Goal(op="<=", target=1.10),
            ),
        ),
        setup=(
            f"{REPLICAS} × `python -m cancel_order_bot serve` on one PostgreSQL schema (migrated once by "
            "`cancel-order-bot db upgrade`), the fake Slack and the sandbox served over loopback from the driver's "
            "process",
            f"{sent} requests in {load_seconds:.0f} s ({sent / load_seconds * 60:.0f} a minute), round robin; "
            f"{len(latencies)} answered 200; {len(driver.errors)} failed at the driver, {logged} error lines logged",
            f"requests by status at the end: {counts}; {len(applied)} cancels applied by Lazada for "
            f"{len(cancelled_items)} items",
            f"RSS per replica after the warm-up {', '.join(f'{w:.0f}' for w in warm)} MiB, after the load "
            f"{', '.join(f'{a:.0f}' for a in after)} MiB (largest growth {100 * (growth - 1):.1f}%)",
        ),
        seconds=time.perf_counter() - started,
    )


def main(argv: list[str] | None = None) -> None:
    """Run the replica load on its own and print its section of the report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.replicas", description=__doc__)
    parser.add_argument("--postgres-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-replicas-") as folder:
        ctx = BenchContext(workdir=Path(folder), postgres_url=args.postgres_url)
        result = asyncio.run(run(ctx, seconds=args.seconds))
    from datetime import UTC, datetime

    from benchmarks.report import describe_machine

    print(
        render_report(
            [result],
            describe_machine("PostgreSQL"),
            started=datetime.now(UTC),
            seconds=result.seconds,
            command="python -m benchmarks.replicas",
        )
    )


if __name__ == "__main__":
    main()
