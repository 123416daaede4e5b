"""Later syncs read only what changed and what is new; long listings page past Lazada's 5,000 offset cap."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterable
from datetime import timedelta

import httpx
import pytest

from bot.digest.models import DigestReport
from bot.digest.window import DayRange, history_first_day, rate_window
from bot.lazada.errors import LazadaServerError
from bot.store import Database
from cancel_order_bot.sandbox import ItemSpec, SandboxTransport, SandboxWorld, generate_history
from tests.digest.conftest import SELLER_FAULT, TZ, ServiceFactory, make_client, store_config
from tests.sandbox.support import ManualClock

ORDERS = "/orders/get"
ITEMS = "/orders/items/get"


def truth(world: SandboxWorld, span: DayRange) -> tuple[int, int]:
    """``(ordered_items, seller_fault_cancelled_items)`` straight from the sandbox's orders."""
    ordered = cancelled = 0
    for order in world.orders_by_created():
        if order.created_at.astimezone(TZ).date() in span:
            ordered += order.items_count
            cancelled += sum(
                1 for item in order.items if item.status == "canceled" and item.cancel_return_initiator in SELLER_FAULT
            )
    return ordered, cancelled


def item_reads(world: SandboxWorld, since: int) -> set[str]:
    """The order ids sent to GetMultipleOrderItems in calls after the first ``since`` of the log."""
    return {
        str(order_id)
        for call in world.calls[since:]
        if call.path == ITEMS
        for order_id in json.loads(call.params["order_ids"])
    }


def counts_since(world: SandboxWorld, since: int) -> dict[str, int]:
    """Calls per path after the first ``since`` of the log."""
    counts: dict[str, int] = {}
    for call in world.calls[since:]:
        counts[call.path] = counts.get(call.path, 0) + 1
    return counts


def assert_matches_world(report: DigestReport, world: SandboxWorld) -> None:
    """The report's window agrees with the sandbox's own orders."""
    assert (report.window.ordered_items, report.window.cancelled_items) == truth(world, rate_window(report.today))


def untouched_ids(world: SandboxWorld, span: DayRange, statuses: Iterable[str], count: int) -> list[int]:
    """Ids of ``count`` orders created in ``span`` whose items all have one of ``statuses``."""
    wanted = set(statuses)
    found = [
        order.order_id
        for order in world.orders_by_created()
        if order.created_at.astimezone(TZ).date() in span and set(order.statuses) <= wanted
    ]
    return found[:count]


async def test_a_day_later_only_changed_and_new_orders_are_read(
    world: SandboxWorld, make_service: ServiceFactory, clock: ManualClock
) -> None:
    generate_history(world, seed=7, orders_per_day=40, days=70)
    service = make_service()
    cold = await service.sync("th-main")
    cold_calls = len(world.calls)

    clock.advance(days=1)
    today = clock().astimezone(TZ).date()
    window = rate_window(today)
    delivered = untouched_ids(world, window, {"delivered"}, 3)
    packed = untouched_ids(world, DayRange(today - timedelta(days=3), today), {"pending"}, 2)
    for order_id in delivered:
        world.set_item_status(world.order(order_id).items[0].order_item_id, "canceled", initiator="cancellation-seller")
    for order_id in packed:
        world.set_item_status(world.order(order_id).items[0].order_item_id, "packed")
    new_plain = world.add_order([ItemSpec()], created_at=clock() - timedelta(hours=2))
    new_cancelled = world.add_order(
        [ItemSpec(status="canceled", initiator="cancellation-internal"), ItemSpec()],
        created_at=clock() - timedelta(hours=1),
    )

    warm = await service.sync("th-main")

    assert cold.cold
    assert cold.calls == {ORDERS: math.ceil(cold.orders_listed / 100), ITEMS: math.ceil(cold.orders_item_reads / 50)}
    assert cold.orders_listed > 2500
    assert not warm.cold
    assert warm.calls == {ORDERS: 2, ITEMS: 1}
    assert counts_since(world, cold_calls) == {ORDERS: 2, ITEMS: 1}
    assert item_reads(world, cold_calls) == {str(i) for i in [*delivered, new_cancelled.order_id]}
    assert len(delivered) == 3
    assert len(packed) == 2
    assert new_plain.order_id not in {int(i) for i in item_reads(world, cold_calls)}
    report = await service.report("th-main")
    assert_matches_world(report, world)
    pipeline = DayRange(report.pipeline.first_day, report.pipeline.last_day)
    assert (report.pipeline.ordered_items, report.pipeline.cancelled_items) == truth(world, pipeline)


async def test_a_sync_with_nothing_changed_reads_no_items(
    world: SandboxWorld, make_service: ServiceFactory, clock: ManualClock
) -> None:
    generate_history(world, seed=3, orders_per_day=20, days=70)
    service = make_service()
    await service.sync("th-main")
    before = len(world.calls)
    clock.advance(minutes=30)

    again = await service.sync("th-main")

    assert again.calls == {ORDERS: 2}
    assert item_reads(world, before) == set()


async def test_incremental_cache_equals_a_cold_read(
    world: SandboxWorld, make_service: ServiceFactory, clock: ManualClock
) -> None:
    generate_history(world, seed=11, orders_per_day=30, days=70)
    service = make_service()
    await service.sync("th-main")
    for _ in range(3):
        clock.advance(days=1)
        today = clock().astimezone(TZ).date()
        for order_id in untouched_ids(world, DayRange(today - timedelta(days=20), today), {"delivered", "shipped"}, 2):
            world.set_item_status(
                world.order(order_id).items[-1].order_item_id, "canceled", initiator="cancellation-seller"
            )
        world.add_order(
            [ItemSpec(status="canceled", initiator="cancellation-seller")], created_at=clock() - timedelta(hours=3)
        )
        await service.sync("th-main")

    incremental = await service.report("th-main")

    assert_matches_world(incremental, world)
    assert incremental.window.cancelled_items > 0


async def test_orders_older_than_the_history_are_pruned(
    world: SandboxWorld, make_service: ServiceFactory, clock: ManualClock, database: Database
) -> None:
    generate_history(world, seed=5, orders_per_day=10, days=80)
    service = make_service()
    first = await service.sync("th-main")
    clock.advance(days=2)

    second = await service.sync("th-main")

    today = clock().astimezone(TZ).date()
    oldest = history_first_day(today)
    counts = await service.cache.day_counts("th-main", oldest - timedelta(days=30), today, initiators=SELLER_FAULT)
    assert min(counts) >= oldest
    assert second.orders_pruned > 0
    assert first.orders_pruned == 0


async def test_a_listing_longer_than_the_offset_cap_is_cut_into_shorter_windows(
    world: SandboxWorld, make_service: ServiceFactory
) -> None:
    generate_history(world, seed=2, orders_per_day=90, days=66)
    service = make_service()

    stats = await service.sync("th-main")

    listed = [call for call in world.calls if call.path == ORDERS]
    today = world.today()
    horizon = DayRange(history_first_day(today), today)
    in_horizon = [o for o in world.orders_by_created() if o.created_at.astimezone(TZ).date() in horizon]
    assert len(in_horizon) > 5100
    assert max(int(call.params.get("offset", "0")) for call in listed) <= 5000
    assert len({call.params["created_after"] for call in listed}) > 1
    assert stats.orders_listed == len(in_horizon)
    report = await service.report("th-main")
    assert_matches_world(report, world)


class _CountingTransport(SandboxTransport):
    """The sandbox transport, slowed a little, remembering how many requests were in flight at once."""

    def __init__(self, world: SandboxWorld) -> None:
        super().__init__(world)
        self.in_flight = 0
        self.most = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(0.005)
            return await super().handle_async_request(request)
        finally:
            self.in_flight -= 1


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_calls_run_at_once_up_to_the_concurrency(
    world: SandboxWorld, make_service: ServiceFactory, clock: ManualClock, concurrency: int
) -> None:
    generate_history(world, seed=9, orders_per_day=40, days=66)
    transport = _CountingTransport(world)
    async with httpx.AsyncClient(transport=transport) as http:
        make_service.client = make_client(world, http, clock)
        service = make_service(concurrency=concurrency)

        stats = await service.sync("th-main")

    assert stats.total_calls > concurrency
    assert transport.most == concurrency


async def test_a_failed_sync_keeps_its_marks_and_the_next_one_completes(
    world: SandboxWorld, make_service: ServiceFactory, clock: ManualClock
) -> None:
    generate_history(world, seed=4, orders_per_day=30, days=70)
    service = make_service()
    world.faults.inject("service_timeout", path=ITEMS, times=1)

    with pytest.raises(LazadaServerError):
        await service.sync("th-main")
    assert await service.cache.state("th-main") is None

    clock.advance(minutes=5)
    retried = await service.sync("th-main")

    assert retried.cold
    assert_matches_world(await service.report("th-main"), world)


async def test_a_new_time_zone_starts_the_cache_again(
    world: SandboxWorld, make_service: ServiceFactory, clock: ManualClock
) -> None:
    generate_history(world, seed=6, orders_per_day=10, days=70)
    await make_service().sync("th-main")
    clock.advance(hours=1)

    moved = make_service(stores=[store_config(timezone="Asia/Singapore")])
    stats = await moved.sync("th-main")

    state = await moved.cache.state("th-main")
    assert stats.cold
    assert state is not None
    assert state.timezone == "Asia/Singapore"
