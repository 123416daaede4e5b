"""Run every benchmark and write `docs/benchmarks.md`: ``python -m benchmarks [--quick] [--only NAME ...]``."""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from benchmarks import (
    ack_latency,
    approval,
    budget,
    bulk,
    buyer_scan,
    digest,
    footprint,
    hostile,
    lazada_client,
    modal,
    replicas,
)
from benchmarks.findings import FINDINGS
from benchmarks.report import BenchResult, describe_machine, render_report, write_report
from benchmarks.stack import BenchContext
from bot.logs import configure_logging
from bot.store import create_engine

BENCHMARKS: dict[str, Callable[[BenchContext], Awaitable[BenchResult]]] = {
    "ack": ack_latency.run,
    "modal": modal.run,
    "lazada": lazada_client.run,
    "digest": digest.run,
    "bulk": bulk.run,
    "footprint": footprint.run,
    "replicas": replicas.run,
    "hostile": hostile.run,
    "approval": approval.run,
    "budget": budget.run,
    "buyer_scan": buyer_scan.run,
}
TITLES = {
    "ack": "Ack latency",
    "modal": "Command to filled modal",
    "lazada": "Lazada client against lazop-sdk",
    "digest": "Digest sync",
    "bulk": "Bulk request",
    "footprint": "Footprint",
    "replicas": "Load across two replicas",
    "hostile": "Hostile clients",
    "approval": "Approval click to cancel",
    "budget": "One Lazada budget across two replicas",
    "buyer_scan": "Buyer request scan",
}
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
REPORT = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


async def _postgres_version(url: str) -> str:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            version = (await conn.execute(sa.text("SHOW server_version"))).scalar_one()
        return f"PostgreSQL {str(version).split()[0]}"
    except Exception as exc:  # the replica benchmark will say it could not run
        return f"PostgreSQL unreachable ({type(exc).__name__})"
    finally:
        await engine.dispose()


async def run_all(ctx: BenchContext, names: Sequence[str]) -> list[BenchResult]:
    """Run the named benchmarks one after another; one that fails is reported, not fatal."""
    results = []
    for name in names:
        started = time.perf_counter()
        print(f"benchmarks: {name} ...", file=sys.stderr, flush=True)
        load_before = os.getloadavg()[0]
        try:
            result = await BENCHMARKS[name](ctx)
        except Exception as exc:
            traceback.print_exc()
            result = BenchResult(
                name=name,
                title=TITLES[name],
                error=f"{type(exc).__name__}: {exc}",
                seconds=time.perf_counter() - started,
            )
        load = f"load average (1 min) {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
        result = result.model_copy(update={"setup": (*result.setup, load)})
        verdicts = ", ".join(f"{f.label}: {'met' if f.met else 'MISSED'}" for f in result.figures if f.met is not None)
        print(f"benchmarks: {name} done in {result.seconds:.0f} s; {verdicts or result.error}", file=sys.stderr)
        results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the suite and write the report; exit 1 when a benchmark did not finish."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the suite works (not reported)")
    parser.add_argument(
        "--postgres-url", default=DEFAULT_POSTGRES, help=f"for the replicas (default {DEFAULT_POSTGRES})"
    )
    parser.add_argument("--output", type=Path, default=None, help=f"where to write the report (default {REPORT})")
    parser.add_argument("--keep", action="store_true", help="keep the folder of logs and databases")
    args = parser.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    output = args.output or (REPORT if not args.quick else None)
    started_at, started = datetime.now(UTC), time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="benchmarks-"))
    with (workdir / "driver.log").open("w") as log:
        configure_logging(level="WARNING", fmt="json", stream=log)
        ctx = BenchContext(workdir=workdir, postgres_url=args.postgres_url, quick=args.quick)
        results = asyncio.run(run_all(ctx, names))
        database = f"SQLite for one process; {asyncio.run(_postgres_version(args.postgres_url))} for the replicas"
    seconds = time.perf_counter() - started
    command = "python -m benchmarks" + (" " + shlex.join(argv if argv is not None else sys.argv[1:])).rstrip()
    text = render_report(
        results,
        describe_machine(database),
        started=started_at,
        seconds=seconds,
        command=command.strip(),
        findings=FINDINGS,
    )
    if output is not None:
        write_report(output, text)
        print(f"benchmarks: wrote {output} ({seconds / 60:.1f} minutes)", file=sys.stderr)
    else:
        print(text)
    if args.keep:
        print(f"benchmarks: logs and databases kept in {workdir}", file=sys.stderr)
    else:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
