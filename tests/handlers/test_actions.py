"""The buttons and the modal's item selection through the real app: one test (or two) per listener."""

from __future__ import annotations

from bot.slack.render import ids
from bot.store.models import RequestStatus
from cancel_order_bot.demo.harness import Harness
from cancel_order_bot.demo.slack_payloads import Action
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import ALICE, BOB, CREATE, DAVE, request_cancel, told


async def test_approve_by_an_approver_cancels_on_lazada(bot: Harness, world: SandboxWorld, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    response = await bot.click(BOB, ids.REQUEST_APPROVE, request)
    assert response.status_code == 200
    assert (await bot.refreshed(request)).status is RequestStatus.EXECUTED
    assert world.call_count(CREATE) == 1


async def test_approve_by_the_requester_is_refused_privately(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    await bot.click(ALICE, ids.REQUEST_APPROVE, request)
    assert "can't approve your own request" in told(bot, ALICE)
    assert (await bot.refreshed(request)).status is RequestStatus.PENDING
    assert world.call_count(CREATE) == 0


async def test_approve_with_a_forged_button_value_changes_nothing(bot: Harness, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    assert request.message_ts is not None
    action = Action.button(ids.REQUEST_APPROVE, '{"k":"req","request_id":"../../etc"}', block_id="actions")
    signed = bot.payloads.block_actions_from_message(
        [action], user_id=BOB, channel_id=request.channel_id, message={"ts": request.message_ts}
    )
    assert (await bot.send(signed)).status_code == 200
    await bot.settle()
    assert (await bot.refreshed(request)).status is RequestStatus.PENDING


async def test_reject_opens_the_reason_form_for_an_approver(bot: Harness, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    await bot.click(BOB, ids.REQUEST_REJECT, request)
    form = bot.open_modal(BOB)
    assert form["callback_id"] == ids.REJECT_MODAL
    assert ids.RejectMetadata.unpack(form["private_metadata"]).request_id == request.id


async def test_reject_by_a_non_approver_turns_the_form_into_the_refusal(bot: Harness, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    await bot.click(DAVE, ids.REQUEST_REJECT, request)
    form = bot.open_modal(DAVE)
    assert form["title"]["text"] == "Can't reject"
    assert "Only an approver" in str(form["blocks"])
    assert (await bot.refreshed(request)).status is RequestStatus.PENDING


async def test_withdraw_by_the_requester(bot: Harness, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    await bot.click(ALICE, ids.REQUEST_WITHDRAW, request)
    assert (await bot.refreshed(request)).status is RequestStatus.WITHDRAWN
    assert any("was withdrawn" in t for t in bot.thread_texts(request))


async def test_withdraw_by_someone_else_is_refused(bot: Harness, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    await bot.click(BOB, ids.REQUEST_WITHDRAW, request)
    assert "Only the person who made the request can withdraw it" in told(bot, BOB)
    assert (await bot.refreshed(request)).status is RequestStatus.PENDING


async def test_changing_the_selection_asks_lazada_again(bot: Harness, showcase: Showcase) -> None:
    await bot.command(ALICE, str(showcase.packed))
    form = bot.open_modal(ALICE)
    mouse = next(i for i in bot.world.order_items(showcase.packed) if i.status == "packed")
    action = Action.checkboxes(ids.MODAL_ITEMS, [str(mouse.order_item_id)], block_id=ids.ITEMS_BLOCK)
    updates = len(bot.slack.calls_to("views.update"))
    await bot.send(bot.payloads.block_actions_from_view([action], user_id=ALICE, view=form))
    await bot.settle()
    assert len(bot.slack.calls_to("views.update")) == updates + 1
    assert "also holds an item you did not select" in str(bot.open_modal(ALICE)["blocks"])


async def test_a_selection_by_someone_else_is_ignored(bot: Harness, showcase: Showcase) -> None:
    await bot.command(ALICE, str(showcase.packed))
    form = bot.open_modal(ALICE)
    action = Action.checkboxes(ids.MODAL_ITEMS, [], block_id=ids.ITEMS_BLOCK)
    updates = len(bot.slack.calls_to("views.update"))
    await bot.send(bot.payloads.block_actions_from_view([action], user_id=BOB, view=form))
    await bot.settle()
    assert len(bot.slack.calls_to("views.update")) == updates


async def test_inputs_read_on_submit_are_only_acknowledged(bot: Harness, showcase: Showcase) -> None:
    await bot.command(ALICE, str(showcase.pending))
    form = bot.open_modal(ALICE)
    calls = len(bot.slack.calls)
    action = Action.static_select(ids.MODAL_REASON, "10000019", block_id=ids.REASON_BLOCK)
    response = await bot.send(bot.payloads.block_actions_from_view([action], user_id=ALICE, view=form))
    await bot.settle()
    assert response.status_code == 200
    assert len(bot.slack.calls) == calls
