"""The submitted forms through the real app: the request and bulk forms share a listener; the reject form."""

from __future__ import annotations

from typing import Any

from bot.slack.render import ids
from bot.store.models import CancelRequest, RequestStatus
from cancel_order_bot.demo.harness import Harness
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import ALICE, BOB, request_cancel, stored_count


async def test_a_complete_request_form_is_stored_and_posted(bot: Harness, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    assert request.status is RequestStatus.PENDING
    assert request.message_ts is not None
    assert bot.open_modal(ALICE)["title"]["text"] == "Request posted"
    assert any(request.id in str(m.get("text")) for m in bot.slack.ephemerals(ALICE))


async def test_missing_inputs_are_answered_inline_and_nothing_is_stored(bot: Harness, showcase: Showcase) -> None:
    await bot.command(ALICE, str(showcase.pending))
    response = await bot.submit(ALICE, bot.open_modal(ALICE), item_ids=[], justification="   ")
    assert response.json() == {
        "response_action": "errors",
        "errors": {
            ids.ITEMS_BLOCK: "Select at least one item to cancel.",
            ids.REASON_BLOCK: "Choose the reason Lazada should record.",
            ids.JUSTIFICATION_BLOCK: "Say briefly why these items must be cancelled.",
        },
    }
    assert await stored_count(bot) == 0


async def test_someone_elses_form_is_expired(bot: Harness, showcase: Showcase) -> None:
    await bot.command(ALICE, str(showcase.pending))
    response = await bot.submit(BOB, bot.open_modal(ALICE), item_ids=["1"], reason_id="10000019")
    assert response.json()["response_action"] == "update"
    assert response.json()["view"]["title"]["text"] == "Form expired"
    assert await stored_count(bot) == 0


async def test_the_bulk_form_goes_through_the_same_listener(bot: Harness, showcase: Showcase) -> None:
    await bot.command(ALICE, f"{showcase.pending} {showcase.ready_to_ship}")
    bulk = bot.open_modal(ALICE)
    assert bulk["callback_id"] == ids.BULK_MODAL
    response = await bot.submit(ALICE, bulk, reason_id="10000019")
    assert "Checking 2 orders with Lazada again" in str(response.json()["view"])
    request = await bot.request_for(str(showcase.pending))
    assert [o.order_id for o in request.orders] == [str(showcase.pending), str(showcase.ready_to_ship)]


async def test_the_order_prompt_fills_the_same_modal(bot: Harness, showcase: Showcase) -> None:
    await bot.command(ALICE, "")
    response = await bot.submit(ALICE, bot.open_modal(ALICE), order_id=str(showcase.pending), justification=None)
    assert "Asking Lazada about order" in str(response.json()["view"])
    assert "Electric Kettle" in str(bot.open_modal(ALICE)["blocks"])


async def _reject_form(bot: Harness, showcase: Showcase) -> tuple[CancelRequest, dict[str, Any]]:
    request = await request_cancel(bot, showcase.pending)
    await bot.click(BOB, ids.REQUEST_REJECT, request)
    return request, bot.open_modal(BOB)


async def test_reject_without_a_reason_is_answered_inline(bot: Harness, showcase: Showcase) -> None:
    request, form = await _reject_form(bot, showcase)
    response = await bot.send(bot.payloads.view_submission(form, user_id=BOB, values={}))
    assert response.json() == {
        "response_action": "errors",
        "errors": {ids.REJECT_REASON_BLOCK: "Give the requester a reason."},
    }
    assert (await bot.refreshed(request)).status is RequestStatus.PENDING


async def test_reject_with_a_reason_rejects_and_tells_the_thread(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    await bot.click(BOB, ids.REQUEST_REJECT, request)
    values = {
        ids.REJECT_REASON_BLOCK: {ids.REJECT_REASON: {"type": "plain_text_input", "value": "Not ours to cancel."}}
    }
    response = await bot.send(bot.payloads.view_submission(bot.open_modal(BOB), user_id=BOB, values=values))
    await bot.settle()
    assert response.status_code == 200
    assert (await bot.refreshed(request)).status is RequestStatus.REJECTED
    assert request.message_ts is not None
    assert "Not ours to cancel." in str(bot.slack.thread(request.channel_id, request.message_ts))
