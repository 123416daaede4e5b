"""Two replicas, one Lazada budget: each cancels 50 orders at once against a sandbox limited to 10 calls a second.

Both replicas are the real services (`open_services`) on one PostgreSQL schema, in this process, each with its
own HTTP pool, database pool and rate limiter; they share the budget only through the database. The sandbox is
served over HTTP from this process too (50 ms round trip) and counts calls per app on real time, as Lazada does.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

from benchmarks.procs import sandbox_settings
from benchmarks.replicas import scratch_schema
from benchmarks.report import BenchResult, Figure, Goal
from benchmarks.stack import BenchContext
from bot.domain import Item
from bot.services import Services, open_services
from bot.settings import Settings
from bot.store import upgrade_to_head
from bot.store.models import NewOrder, NewRequest, RequestStatus
from cancel_order_bot.sandbox import (
    REASON_OPTIONS,
    ItemSpec,
    SandboxServer,
    SandboxWorld,
)

__all__ = ["run"]

LIMIT = 10
RTT_MS = 50.0
APPROVER = "U0BOB"


def _settings(sandbox_api: str, database_url: str) -> Settings:
    return sandbox_settings(sandbox_api, database_url, calls_per_second=LIMIT, approvers=[APPROVER])


async def _requests(services: Services, world: SandboxWorld, count: int) -> list[str]:
    """`count` one-order requests stored as the form would (no Lazada call), ready to approve."""
    reason = REASON_OPTIONS["sg"][0]
    now = datetime.now(UTC)
    ids = []
    for _ in range(count):
        order = world.add_order([ItemSpec(status="pending")])
        items = tuple(
            Item(order_item_id=str(i.order_item_id), name=i.name, sku=i.sku, status=i.status) for i in order.items
        )
        new = NewRequest(
            store_code="main",
            requester_id="U0ALICE",
            reason_id=reason.reason_id,
            reason_name=reason.reason_name,
            justification="Out of stock at the supplier.",
            channel_id="C0OPS",
            expires_at=now + timedelta(hours=12),
            orders=(
                NewOrder(order_id=str(order.order_id), items=items, item_ids=tuple(i.order_item_id for i in items)),
            ),
        )
        ids.append((await services.requests.create_request(new, now=now)).id)
    return ids


async def _execute_all(services: Services, request_ids: list[str]) -> list[RequestStatus]:
    async def one(request_id: str) -> RequestStatus:
        outcome = await services.requests.approve(
            request_id, APPROVER, now=datetime.now(UTC), lease=timedelta(minutes=10)
        )
        if not outcome.must_execute:
            raise RuntimeError(f"the approval did not start the execution: {outcome.result}")
        return (await services.executor.execute(request_id, actor=APPROVER)).status

    return list(await asyncio.gather(*(one(i) for i in request_ids)))


async def run(ctx: BenchContext) -> BenchResult:
    """Both replicas approve and execute their orders at the same moment; refusals and wall time."""
    started = time.perf_counter()
    each = ctx.scale(50, 10)
    world = SandboxWorld(country="sg")
    world.rate_limit = LIMIT
    async with AsyncExitStack() as stack:
        database_url = await stack.enter_async_context(scratch_schema(ctx.postgres_url))
        await upgrade_to_head(database_url)
        server = await stack.enter_async_context(SandboxServer(world, port=0, rtt_ms=RTT_MS))
        settings = _settings(server.base_url, database_url)
        replicas = [await stack.enter_async_context(open_services(settings, migrate=False)) for _ in range(2)]
        batches = [await _requests(replica, world, each) for replica in replicas]
        calls_before = len(world.calls)
        began = time.perf_counter()
        outcomes = await asyncio.gather(*(_execute_all(r, b) for r, b in zip(replicas, batches, strict=True)))
        wall = time.perf_counter() - began
        calls = world.calls[calls_before:]
    refused = sum(1 for call in calls if call.code == "ApiCallLimit")
    statuses = [s for batch in outcomes for s in batch]
    executed = sum(s is RequestStatus.EXECUTED for s in statuses)
    return BenchResult(
        name="budget",
        title="One Lazada budget across two replicas",
        figures=(
            Figure(
                label="ApiCallLimit refusals",
                measured=refused,
                bound=0,
                unit="",
                bound_label="none",
                goal=Goal(op="<=", target=0),
                compare="excess",
            ),
            Figure(
                label=f"2 × {each} orders at once, wall time",
                measured=wall,
                bound=len(calls) / LIMIT,
                unit="s",
                bound_label=f"{len(calls)} calls ÷ {LIMIT}/s",
                goal=Goal(op="<=", target=1.15),
            ),
        ),
        setup=(
            f"2 replicas (open_services twice on one PostgreSQL schema, in one process), {each} one-order requests "
            f"each, all approved and executed at once; sandbox limit {LIMIT} calls/s per app on real time, each "
            f"replica set to {LIMIT}/s; sandbox round trip {RTT_MS:.0f} ms",
            f"requests executed: {executed} of {len(statuses)}",
        ),
        seconds=time.perf_counter() - started,
    )
