"""One open request per item: a second request for an item that is still in one is refused with a link to it."""

from __future__ import annotations

from bot.slack.render import ids
from bot.store.models import RequestStatus
from cancel_order_bot.demo.harness import Harness
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import BOB, CREATE, DAVE, request_cancel


async def test_second_request_for_an_open_item_is_refused_with_a_link_to_the_first(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    first = await request_cancel(bot, showcase.pending)
    assert first.message_ts is not None

    # Dave writes the same order with a leading zero: still the same order.
    await bot.command(DAVE, f"0{showcase.pending}")
    modal = bot.open_modal(DAVE)
    items = [str(i.order_item_id) for i in world.order_items(showcase.pending) if i.status == "pending"]
    await bot.submit(DAVE, modal, item_ids=items, reason_id="10000019")

    shown = str(bot.open_modal(DAVE)["blocks"])
    assert f"already in request {first.id}" in shown
    assert f"https://slack.com/archives/{first.channel_id}/p{first.message_ts.replace('.', '')}" in shown
    assert [r.id for r in await bot.services.requests.list_requests()] == [first.id]

    await bot.click(BOB, ids.REQUEST_APPROVE, first)
    assert (await bot.refreshed(first)).status is RequestStatus.EXECUTED
    assert world.call_count(CREATE) == 1
