"""One unreadable order never fails the sync: it is skipped, counted and named (issue 10 point 7)."""

from __future__ import annotations

from bot.slack.render.digest import render_digest
from cancel_order_bot.cli.digest import render_digest_text
from cancel_order_bot.sandbox import SandboxWorld
from tests.digest.conftest import ServiceFactory
from tests.digest.test_exact import build_history
from tests.sandbox.support import ManualClock


async def test_unreadable_orders_are_left_out_counted_and_named(
    world: SandboxWorld, make_service: ServiceFactory
) -> None:
    ids = build_history(world)
    world.garbled_orders.add(ids["C"])
    world.garbled_items.add(ids["E"])
    service = make_service()

    stats = await service.sync("th-main")
    report = await service.report("th-main")

    named = tuple(sorted((str(ids["C"]), str(ids["E"]))))
    assert stats.unreadable_orders == named
    assert report.unreadable_orders == named
    # C (one seller-fault item of four) is out of the figures; A, B, D and E count: 1 + 2 of 2 + 3 + 1 + 2 items.
    assert (report.window.cancelled_items, report.window.ordered_items) == (3, 8)
    data = report.to_json()
    assert data["unreadable_orders"] == 2
    assert data["unreadable_order_ids"] == list(named)
    assert "2 orders could not be read" in render_digest_text(report)
    posted = str(render_digest(report).blocks)
    assert "2 orders could not be read" in posted
    assert named[0] in posted
    assert named[1] in posted


async def test_an_order_read_later_is_no_longer_named(
    world: SandboxWorld, make_service: ServiceFactory, clock: ManualClock
) -> None:
    ids = build_history(world)
    world.garbled_items.add(ids["E"])
    service = make_service()
    await service.sync("th-main")
    assert (await service.report("th-main")).unreadable_orders == (str(ids["E"]),)

    world.garbled_items.clear()
    await service.sync("th-main")

    report = await service.report("th-main")
    assert report.unreadable_orders == ()
    assert report.complete
