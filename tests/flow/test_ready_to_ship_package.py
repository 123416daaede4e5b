"""Issue 10 point 1 through the real app: a ready-to-ship item shares its package as much as a packed one."""

from __future__ import annotations

from bot.slack.render import ids
from bot.store.models import RequestStatus
from cancel_order_bot.demo.harness import Harness
from cancel_order_bot.demo.slack_payloads import Action
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import ALICE, BOB, CREATE, request_cancel

REPACK = "/order/package/repack"


async def test_leaving_a_ready_to_ship_sibling_out_warns_and_offers_repack_first(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    await bot.command(ALICE, str(showcase.ready_to_ship_package))
    modal = bot.open_modal(ALICE)
    bulb, _shade = world.order_items(showcase.ready_to_ship_package)
    change = bot.payloads.block_actions_from_view(
        [Action.checkboxes(ids.MODAL_ITEMS, [str(bulb.order_item_id)], block_id=ids.ITEMS_BLOCK)],
        user_id=ALICE,
        view=modal,
    )
    assert (await bot.send(change)).status_code == 200
    await bot.settle()
    refreshed = bot.slack.view(modal["id"])
    assert refreshed is not None
    blocks = str(refreshed["blocks"])
    assert "also holds an item you did not select: Linen Lamp Shade" in blocks
    assert "Repack first" in blocks


async def test_ready_to_ship_repack_first_cancels_only_the_selected_item(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    bulb, shade = world.order_items(showcase.ready_to_ship_package)
    request = await request_cancel(
        bot,
        showcase.ready_to_ship_package,
        item_ids=[str(bulb.order_item_id)],
        package_choice=ids.PackageChoice.REPACK_FIRST,
    )
    assert request.repack_first
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    done = await bot.refreshed(request)
    assert done.status is RequestStatus.EXECUTED
    assert world.call_count(REPACK) == 1
    assert world.call_count(CREATE) == 1
    assert world.item(bulb.order_item_id).status == "canceled"
    assert world.item(shade.order_item_id).status != "canceled"


async def test_ready_to_ship_whole_package_names_the_sibling_on_the_card_and_cancels_it(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    bulb, shade = world.order_items(showcase.ready_to_ship_package)
    request = await request_cancel(
        bot,
        showcase.ready_to_ship_package,
        item_ids=[str(bulb.order_item_id)],
        package_choice=ids.PackageChoice.WHOLE_PACKAGE,
    )
    assert not request.repack_first
    assert "Linen Lamp Shade" in bot.message_json(request), "the approval card names the sibling"
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    assert (await bot.refreshed(request)).status is RequestStatus.EXECUTED
    assert world.call_count(REPACK) == 0
    assert world.item(shade.order_item_id).status == "canceled"
