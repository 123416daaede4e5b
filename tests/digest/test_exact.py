"""The estimate over a hand-built history: every count known, window edges at Bangkok midnight, not UTC's."""

from __future__ import annotations

import json
from datetime import date, timedelta

from bot.digest.models import RateStatus
from bot.slack.render.digest import render_digest
from cancel_order_bot.cli.digest import render_digest_text
from cancel_order_bot.sandbox import ItemSpec, SandboxWorld
from tests.digest.conftest import ServiceFactory, local
from tests.sandbox.support import ManualClock

SELLER = "cancellation-seller"
LAZADA = "cancellation-internal"
BUYER = "cancellation-customer"
ORDERS = "/orders/get"
ITEMS = "/orders/items/get"


def canceled(initiator: str) -> ItemSpec:
    """One cancelled item."""
    return ItemSpec(status="canceled", initiator=initiator)


DELIVERED = ItemSpec(status="delivered")


def build_history(world: SandboxWorld) -> dict[str, int]:
    """Orders around D = 2026-11-20 (window 2026-10-16..2026-11-12, Bangkok days); returns their ids by name."""
    orders = {
        # D-8, last second: in. In UTC it is 16:59:59 the same day.
        "A": world.add_order([canceled(SELLER), DELIVERED], created_at=local(2026, 11, 12, 23, 59, 59)),
        # D-35, first second: in. In UTC it is still 2026-10-15, the day before the window.
        "B": world.add_order([canceled(LAZADA), canceled(LAZADA), DELIVERED], created_at=local(2026, 10, 16, 0, 0, 0)),
        "C": world.add_order(
            [canceled(BUYER), canceled(SELLER), DELIVERED, DELIVERED], created_at=local(2026, 11, 1, 10)
        ),
        "D": world.add_order([DELIVERED], created_at=local(2026, 10, 25, 15)),
        "E": world.add_order([canceled(BUYER), canceled(BUYER)], created_at=local(2026, 11, 5, 9)),
        # D-7, first second: out (pipeline). In UTC it is 2026-11-12 17:00, inside a UTC window.
        "F": world.add_order([canceled(SELLER)], created_at=local(2026, 11, 13, 0, 0, 0)),
        # D-36, last second: out.
        "G": world.add_order([canceled(SELLER), canceled(SELLER)], created_at=local(2026, 10, 15, 23, 59, 59)),
        # Today: neither counted nor in the 7-day pipeline.
        "H": world.add_order([canceled(SELLER)], created_at=local(2026, 11, 20, 8)),
        "I": world.add_order(
            [canceled(SELLER), ItemSpec(status="shipped"), ItemSpec(status="shipped")],
            created_at=local(2026, 11, 18, 14),
        ),
    }
    return {name: order.order_id for name, order in orders.items()}


async def test_rate_is_the_hand_computed_figure_with_edges_at_local_midnight(
    world: SandboxWorld, make_service: ServiceFactory
) -> None:
    build_history(world)
    service = make_service()

    await service.sync("th-main")
    report = await service.report("th-main")

    assert report.today == date(2026, 11, 20)
    assert (report.window.first_day, report.window.last_day) == (date(2026, 10, 16), date(2026, 11, 12))
    # A, B, C, D, E: items 2 + 3 + 4 + 1 + 2; seller fault A 1 + B 2 (Lazada's deadline) + C 1 (not the buyer's).
    assert (report.window.orders, report.window.ordered_items, report.window.cancelled_items) == (5, 12, 4)
    assert report.rate == 4 / 12
    assert report.status is RateStatus.OVER_LIMIT
    # Yesterday's window 2026-10-15..2026-11-11 holds G but not A: items 2+3+4+1+2, cancelled 2+2+1.
    assert report.yesterday is not None
    assert (report.yesterday.ordered_items, report.yesterday.cancelled_items) == (12, 5)
    assert report.change_vs_yesterday == 4 / 12 - 5 / 12
    # Pipeline 2026-11-13..2026-11-19: F and I.
    assert (report.pipeline.first_day, report.pipeline.last_day) == (date(2026, 11, 13), date(2026, 11, 19))
    assert (report.pipeline.ordered_items, report.pipeline.cancelled_items) == (4, 2)
    # A week from now the window is 2026-10-23..2026-11-19: C, D, E, A, F, I.
    assert (report.projected.ordered_items, report.projected.cancelled_items) == (13, 4)
    assert report.projected.rate == 4 / 13
    assert report.complete


async def test_only_orders_with_a_cancelled_item_have_their_items_read(
    world: SandboxWorld, make_service: ServiceFactory
) -> None:
    ids = build_history(world)
    service = make_service()

    stats = await service.sync("th-main")

    (items_call,) = [call for call in world.calls if call.path == ITEMS]
    read = {str(one) for one in json.loads(items_call.params["order_ids"])}
    assert read == {str(ids[name]) for name in "ABCEFGHI"}
    assert stats.cold
    assert stats.calls == {ORDERS: 1, ITEMS: 1}
    assert stats.orders_listed == len(ids)


async def test_the_seller_fault_set_is_applied_to_the_cache_without_reading_again(
    world: SandboxWorld, make_service: ServiceFactory
) -> None:
    build_history(world)
    await make_service().sync("th-main")
    calls_before = len(world.calls)

    seller_only = await make_service(initiators=[SELLER]).report("th-main")
    with_buyers = await make_service(initiators=[SELLER, LAZADA, BUYER]).report("th-main")

    assert seller_only.window.cancelled_items == 2
    assert with_buyers.window.cancelled_items == 4 + 1 + 2
    assert len(world.calls) == calls_before


async def test_json_has_the_documented_fields(world: SandboxWorld, make_service: ServiceFactory) -> None:
    build_history(world)
    service = make_service()
    await service.sync("th-main")

    data = (await service.report("th-main")).to_json()

    assert json.loads(json.dumps(data)) == data
    assert data["store"] == "th-main"
    assert data["rate"] == 4 / 12
    assert (data["cancelled_items"], data["ordered_items"]) == (4, 12)
    assert (data["window_start"], data["window_end"]) == ("2026-10-16", "2026-11-12")
    assert data["pipeline_cancelled_items"] == 2
    assert data["projected_rate"] == 4 / 13
    assert data["status"] == "over_limit"
    assert data["estimate"] is True


async def test_projection_adds_the_cancelled_items_to_the_current_window(
    world: SandboxWorld, make_service: ServiceFactory
) -> None:
    build_history(world)
    service = make_service()
    assert await service.projection("th-main", 1) is None

    await service.sync("th-main")
    calls_before = len(world.calls)
    projection = await service.projection("th-main", 3)

    assert projection is not None
    assert (projection.cancelled_items, projection.ordered_items) == (4, 12)
    assert projection.rate == 4 / 12
    assert projection.projected_rate == (4 + 3) / (12 + 3)
    assert (projection.warning_rate, projection.limit_rate) == (0.03, 0.05)
    assert projection.status == projection.projected_status == "over the limit"
    assert len(world.calls) == calls_before


async def test_the_day_follows_the_store_clock_across_local_midnight(
    world: SandboxWorld, make_service: ServiceFactory, clock: ManualClock
) -> None:
    build_history(world)
    service = make_service()
    await service.sync("th-main")
    # 16:59 UTC is 23:59 in Bangkok: still 2026-11-20 there.
    clock.current = clock.current.replace(hour=16, minute=59)

    report = await service.report("th-main")

    assert report.today == date(2026, 11, 20)
    assert report.window.cancelled_items == 4


async def test_refresh_skips_the_sync_while_the_cache_is_fresh(
    world: SandboxWorld, make_service: ServiceFactory, clock: ManualClock
) -> None:
    build_history(world)
    service = make_service()
    await service.refresh("th-main", max_age=timedelta(minutes=10))
    calls = len(world.calls)

    clock.advance(minutes=9)
    await service.refresh("th-main", max_age=timedelta(minutes=10))
    assert len(world.calls) == calls

    clock.advance(minutes=1)
    await service.refresh("th-main", max_age=timedelta(minutes=10))
    assert len(world.calls) > calls


async def test_the_windows_cancelled_items_are_broken_down_by_initiator(
    world: SandboxWorld, make_service: ServiceFactory
) -> None:
    """Issue 10 point 8: the breakdown people can check the estimate against, in the message and in --json."""
    build_history(world)
    service = make_service()
    await service.sync("th-main")
    report = await service.report("th-main")

    # Window orders A, B, C, E: seller 1 + 1, Lazada 2, buyer 1 + 2; F, G, H, I lie outside it.
    data = report.to_json()
    assert data["by_initiator"] == [
        {"initiator": BUYER, "items": 3, "seller_fault": False},
        {"initiator": LAZADA, "items": 2, "seller_fault": True},
        {"initiator": SELLER, "items": 2, "seller_fault": True},
    ]
    assert data["seller_fault_initiators"] == sorted((SELLER, LAZADA))
    assert sum(row["items"] for row in data["by_initiator"] if row["seller_fault"]) == report.window.cancelled_items
    posted = str(render_digest(report).blocks)
    assert f"{BUYER} 3; {LAZADA} 2 (seller fault); {SELLER} 2 (seller fault)" in posted
    assert f"Counted as seller fault: {LAZADA}, {SELLER}." in posted
    text = render_digest_text(report)
    assert f"counted as seller fault: {LAZADA}, {SELLER}" in text
