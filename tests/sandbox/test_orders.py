"""The sandbox's GetOrders and GetOrder: filters, sorting, paging limits and ``countTotal``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cancel_order_bot.sandbox import ItemSpec, Order, SandboxWorld
from tests.sandbox.support import ManualClock, SandboxCaller

SGT = ZoneInfo("Asia/Singapore")
START = datetime(2026, 11, 1, 0, 0, tzinfo=SGT)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))


@pytest.fixture
def hourly(world: SandboxWorld) -> list[Order]:
    """Ten orders one hour apart from START; every third has a cancelled item."""
    orders = []
    for hour in range(10):
        status = "canceled" if hour % 3 == 0 else "pending"
        orders.append(world.add_order([ItemSpec(status=status), ItemSpec()], created_at=START + timedelta(hours=hour)))
    return orders


def _iso(moment: datetime) -> str:
    return moment.isoformat()


async def _orders(caller: SandboxCaller, **params: str) -> Any:
    body = await caller.call("/orders/get", params)
    assert body["code"] == "0", body
    return body["data"]


async def test_get_orders_window_is_inclusive_and_counts_total(caller: SandboxCaller, hourly: list[Order]) -> None:
    data = await _orders(
        caller,
        created_after=_iso(START + timedelta(hours=2)),
        created_before=_iso(START + timedelta(hours=5)),
        sort_direction="ASC",
    )
    assert data["countTotal"] == 4
    assert data["count"] == 4
    assert [order["order_id"] for order in data["orders"]] == [order.order_id for order in hourly[2:6]]


async def test_get_orders_accepts_offsets_in_other_zones(caller: SandboxCaller, hourly: list[Order]) -> None:
    # 2026-10-31T18:00Z is START in Singapore; the filter must compare instants, not wall clocks.
    data = await _orders(caller, created_after="2026-10-31T18:00:00+00:00", created_before="2026-10-31T19:00:00Z")
    assert data["countTotal"] == 2


async def test_get_orders_payload_has_the_order_fields(caller: SandboxCaller, hourly: list[Order]) -> None:
    data = await _orders(caller, created_after=_iso(START), limit="1", sort_direction="ASC")
    order = data["orders"][0]
    assert order["order_id"] == hourly[0].order_id
    assert order["created_at"] == "2026-11-01 00:00:00 +0800"
    assert order["statuses"] == ["canceled", "pending"]
    assert order["items_count"] == 2
    assert order["price"] == "20.00"


async def test_get_orders_default_is_newest_first(caller: SandboxCaller, hourly: list[Order]) -> None:
    data = await _orders(caller, created_after=_iso(START))
    assert [order["order_id"] for order in data["orders"]] == [order.order_id for order in reversed(hourly)]


@pytest.mark.parametrize(("status", "expected"), [("canceled", [0, 3, 6, 9]), ("pending", list(range(10)))])
async def test_get_orders_status_filter_matches_any_item(
    caller: SandboxCaller, hourly: list[Order], status: str, expected: list[int]
) -> None:
    data = await _orders(caller, created_after=_iso(START), status=status, sort_direction="ASC")
    assert data["countTotal"] == len(expected)
    assert [order["order_id"] for order in data["orders"]] == [hourly[index].order_id for index in expected]


async def test_get_orders_status_all_returns_everything(caller: SandboxCaller, hourly: list[Order]) -> None:
    assert (await _orders(caller, created_after=_iso(START), status="all"))["countTotal"] == 10
    assert (await _orders(caller, created_after=_iso(START), status="delivered"))["countTotal"] == 0


async def test_get_orders_by_update_time(
    caller: SandboxCaller, world: SandboxWorld, hourly: list[Order], clock: ManualClock
) -> None:
    since = clock.current
    clock.advance(minutes=5)
    world.set_item_status(hourly[7].items[1].order_item_id, "packed")
    clock.advance(minutes=5)
    world.set_item_status(hourly[2].items[1].order_item_id, "packed")

    data = await _orders(caller, update_after=_iso(since), sort_by="updated_at", sort_direction="ASC")

    assert [order["order_id"] for order in data["orders"]] == [hourly[7].order_id, hourly[2].order_id]
    both = await _orders(
        caller,
        created_after=_iso(START + timedelta(hours=5)),
        update_after=_iso(since),
        sort_direction="ASC",
    )
    assert [order["order_id"] for order in both["orders"]] == [hourly[7].order_id]
    before = await _orders(caller, update_after=_iso(START), update_before=_iso(since))
    assert before["countTotal"] == 8


async def test_get_orders_sorts_by_updated_at_within_a_created_window(
    caller: SandboxCaller, world: SandboxWorld, hourly: list[Order], clock: ManualClock
) -> None:
    clock.advance(minutes=1)
    world.set_item_status(hourly[0].items[1].order_item_id, "packed")
    data = await _orders(caller, created_after=_iso(START), sort_by="updated_at", sort_direction="DESC", limit="2")
    assert data["orders"][0]["order_id"] == hourly[0].order_id
    assert data["countTotal"] == 10


async def test_get_orders_pages_with_limit_and_offset(caller: SandboxCaller, hourly: list[Order]) -> None:
    seen: list[int] = []
    for offset in range(0, 10, 3):
        data = await _orders(caller, created_after=_iso(START), sort_direction="ASC", limit="3", offset=str(offset))
        assert data["countTotal"] == 10
        assert data["count"] == len(data["orders"])
        seen += [order["order_id"] for order in data["orders"]]
    assert seen == [order.order_id for order in hourly]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": "101"}, "19"),
        ({"limit": "0"}, "19"),
        ({"limit": "ten"}, "19"),
        ({"offset": "5001"}, "14"),
        ({"offset": "-1"}, "14"),
        ({"sort_by": "price"}, "75"),
        ({"sort_direction": "UP"}, "74"),
        ({"status": "teleported"}, "36"),
        ({"created_before": "2026-11-01 00:00:00"}, "17"),
        ({"created_after": "2026-11-01T00:00:00"}, "17"),
        ({"created_after": "2026-11-01T00:00:00 08:00"}, "17"),
    ],
)
async def test_get_orders_refuses_bad_parameters(caller: SandboxCaller, params: dict[str, str], code: str) -> None:
    body = await caller.call("/orders/get", {"created_after": _iso(START), **params})
    assert body["code"] == code
    assert body["message"].startswith(f"E0{code}")


async def test_get_orders_accepts_the_limits(caller: SandboxCaller, hourly: list[Order]) -> None:
    data = await _orders(caller, created_after=_iso(START), limit="100", offset="5000")
    assert data == {"count": 0, "countTotal": 10, "orders": []}


async def test_get_orders_needs_created_after_or_update_after(caller: SandboxCaller) -> None:
    body = await caller.call("/orders/get", {"created_before": _iso(START)})
    assert body["code"] == "MissingParameter"


async def test_get_orders_over_a_large_history_bisects_windows(caller: SandboxCaller, world: SandboxWorld) -> None:
    for day in range(30):
        for hour in range(24):
            world.add_order([ItemSpec()], created_at=START + timedelta(days=day, hours=hour))
    day_start = START + timedelta(days=12)
    data = await _orders(
        caller,
        created_after=_iso(day_start),
        created_before=_iso(day_start + timedelta(hours=23, minutes=59, seconds=59)),
        sort_direction="ASC",
    )
    assert data["countTotal"] == 24
    assert data["orders"][0]["created_at"] == "2026-11-13 00:00:00 +0800"


async def test_get_order_returns_one_order(caller: SandboxCaller, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec(status="packed"), ItemSpec(status="canceled")], payment_method="MIXEDCARD")
    body = await caller.call("/order/get", {"order_id": str(order.order_id)})
    assert body["data"]["order_id"] == order.order_id
    assert body["data"]["statuses"] == ["packed", "canceled"]
    assert body["data"]["payment_method"] == "MIXEDCARD"
    assert (await caller.call("/order/get", {"order_id": "abc"}))["code"] == "16"
    assert (await caller.call("/order/get", {}))["code"] == "MissingParameter"
