"""Bulk: one approved request of 50 orders, from the approval to the last order's outcome, against the rate bound.

The request is stored with `RequestStore.create_request`, approved with `RequestStore.approve`, and carried
out by `Executor.execute`, as the Approve button does (without the Slack message's progress updates). The
sandbox (50 ms round trip, 20 calls a second) runs in the peers process; the bot's limiter is at 20/s too.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from benchmarks.peers import running_peers
from benchmarks.procs import sandbox_settings
from benchmarks.report import BenchResult, Figure, Goal
from benchmarks.stack import BenchContext
from bot.domain import Item
from bot.services import open_services
from bot.settings import Settings
from bot.store.models import NewOrder, NewRequest

__all__ = ["run"]

RTT_MS = 50.0
RATE = 20
APPROVER = "U0BOB"


def _settings(sandbox_api: str, database_url: str) -> Settings:
    return sandbox_settings(sandbox_api, database_url, calls_per_second=RATE, approvers=["U0BOB"])


def _total(counts: dict[str, int]) -> int:
    return sum(counts.values())


async def run(ctx: BenchContext) -> BenchResult:
    """Store, approve and execute a 50-order request; calls and time from approval to the last outcome."""
    started = time.perf_counter()
    size = ctx.scale(50, 10)
    options = ["--rtt-ms", str(RTT_MS), "--rate-limit", str(RATE), "--orders-per-day", "200", "--days", "3"]
    async with running_peers(ctx.workdir, *options) as peers:
        order_ids = await peers.orders("pending", size)
        if len(order_ids) < size:
            raise RuntimeError(f"the sandbox has only {len(order_ids)} pending orders")
        settings = _settings(peers.sandbox_api, ctx.sqlite_url("bulk"))
        async with open_services(settings, migrate=True) as services:
            client = services.clients["main"]
            orders = []
            for order_id in order_ids:
                items = await client.get_order_items(order_id=order_id)
                lines = tuple(Item.from_lazada(i) for i in items)
                orders.append(NewOrder(order_id=order_id, items=lines, item_ids=tuple(i.order_item_id for i in lines)))
            reason = await client.validate_cancel(order_id=order_ids[0], order_item_ids=[orders[0].item_ids[0]])
            option = reason.reason_options[0]
            now = datetime.now(UTC)
            request = await services.requests.create_request(
                NewRequest(
                    store_code="main",
                    requester_id="U0ALICE",
                    reason_id=option.reason_id,
                    reason_name=option.reason_name,
                    justification="Warehouse flooded; stock is gone.",
                    channel_id="C0OPS",
                    expires_at=now + timedelta(hours=12),
                    orders=tuple(orders),
                ),
                now=now,
            )
            lazada_before = await peers.lazada_calls()
            before = _total(lazada_before["counts"])
            approved_at = time.perf_counter()
            outcome = await services.requests.approve(
                request.id, APPROVER, now=datetime.now(UTC), lease=timedelta(minutes=10)
            )
            if not outcome.must_execute:
                raise RuntimeError(f"the approval did not start the execution: {outcome.result}")
            done = await services.executor.execute(request.id, actor=APPROVER)
            seconds = time.perf_counter() - approved_at
            lazada_after = await peers.lazada_calls()
            calls = _total(lazada_after["counts"]) - before
            new_connections = lazada_after["connections"] - lazada_before["connections"]
    statuses: dict[str, int] = {}
    for order in done.orders:
        statuses[order.status.value] = statuses.get(order.status.value, 0) + 1
    failures = sorted(
        {(order.error or "no error recorded").rstrip(".") for order in done.orders if order.status.value == "failed"}
    )
    notes: tuple[str, ...] = ()
    if failures:
        notes = (
            f"Orders that failed: {'; '.join(failures)}. A cancel refused with ApiCallLimit means more calls "
            "reached the sandbox within one second than its limit, although the bot's limiter spaces them 5% "
            "wider than the rate; a refused InitReverseOrderCancel is not retried (by design), so its order "
            "fails. See the findings.",
        )
    return BenchResult(
        name="bulk",
        title="Bulk request",
        figures=(
            Figure(
                label=f"{size} orders, approval to the last outcome",
                measured=seconds,
                bound=calls / RATE,
                unit="s",
                bound_label=f"{calls} calls ÷ {RATE}/s",
                goal=Goal(op="<=", target=1.2),
            ),
        ),
        setup=(
            f"one request of {size} pending orders, stored, approved and executed by `Executor.execute` (the "
            "Approve button's path without the Slack message's progress updates)",
            f"sandbox round trip {RTT_MS:.0f} ms and {RATE} calls/s per app; the bot's limiter at {RATE}/s",
            f"{calls} Lazada calls ({calls / size:.1f} an order) over {new_connections} new connections; request "
            f"{done.status.value}, orders {statuses}",
        ),
        notes=notes,
        seconds=time.perf_counter() - started,
    )
