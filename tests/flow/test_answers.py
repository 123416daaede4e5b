"""Every bad input and failure gets a clear answer, and nothing is stored or sent that should not be."""

from __future__ import annotations

import pytest

from bot.slack.render import ids
from bot.store.models import RequestStatus
from cancel_order_bot.demo.harness import Harness
from cancel_order_bot.demo.slack_payloads import Action, Delivery
from cancel_order_bot.sandbox import FaultKind, SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import ALICE, CREATE, request_cancel, stored_count, told


def _modal_text(bot: Harness) -> str:
    return str(bot.open_modal(ALICE)["blocks"])


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("12ab", "doesn't look like a Lazada order number"),
        ("-5", "doesn't look like a Lazada order number"),
        ("1" * 30, "doesn't look like a Lazada order number"),
        ("123456789 nowhere", "There is no store"),
        ("digest nowhere", "There is no store"),
    ],
)
async def test_bad_command_text_is_answered_at_once(bot: Harness, text: str, words: str) -> None:
    response = await bot.command(ALICE, text)
    assert response.status_code == 200
    assert words in response.json()["text"]
    assert bot.slack.calls_to("views.open") == []
    assert await stored_count(bot) == 0


async def test_help(bot: Harness) -> None:
    response = await bot.command(ALICE, "help")
    assert "/cancel-order" in response.text
    assert bot.slack.calls_to("views.open") == []


async def test_no_order_id_asks_for_it_in_the_modal(bot: Harness, showcase: Showcase) -> None:
    await bot.command(ALICE, "")
    prompt = bot.open_modal(ALICE)
    assert ids.ORDER_ID_BLOCK in str(prompt["blocks"])
    bad = await bot.submit(ALICE, prompt, order_id="not a number", justification=None)
    assert bad.json()["response_action"] == "errors"
    await bot.submit(ALICE, prompt, order_id=str(showcase.pending), justification=None)
    assert "Electric Kettle" in _modal_text(bot)


async def test_unknown_order_shows_lazadas_answer_in_the_modal(bot: Harness) -> None:
    await bot.command(ALICE, "999999999")
    text = _modal_text(bot)
    assert "does not know this order" in text
    assert not bot.open_modal(ALICE).get("submit")
    assert await stored_count(bot) == 0


async def test_shipped_order_offers_nothing_to_submit(bot: Harness, showcase: Showcase) -> None:
    await bot.command(ALICE, str(showcase.shipped))
    modal = bot.open_modal(ALICE)
    assert "shipped" in str(modal["blocks"]).lower()
    assert not modal.get("submit")


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (FaultKind.TIMEOUT, "did not answer"),
        (FaultKind.ILLEGAL_ACCESS_TOKEN, "authoriz"),
        (FaultKind.CAMPAIGN_DISABLED, "campaign"),
        (FaultKind.MALFORMED_JSON, "Lazada"),
        (FaultKind.API_CALL_LIMIT, "Lazada"),
    ],
)
async def test_lazada_errors_while_filling_the_modal(
    bot: Harness, world: SandboxWorld, showcase: Showcase, fault: FaultKind, words: str
) -> None:
    world.faults.inject(fault, path="/order/items/get", times=3)
    await bot.command(ALICE, str(showcase.pending))
    text = _modal_text(bot)
    assert words.lower() in text.lower(), text
    assert "Traceback" not in text
    assert await stored_count(bot) == 0


async def test_missing_inputs_are_reported_inline(bot: Harness, showcase: Showcase) -> None:
    await bot.command(ALICE, str(showcase.pending))
    modal = bot.open_modal(ALICE)
    response = await bot.submit(ALICE, modal, item_ids=[], reason_id=None, justification="   ")
    errors = response.json()["errors"]
    assert set(errors) == {ids.ITEMS_BLOCK, ids.REASON_BLOCK, ids.JUSTIFICATION_BLOCK}
    too_long = await bot.submit(ALICE, modal, item_ids=["1"], reason_id="10000019", justification="x" * 501)
    assert ids.JUSTIFICATION_BLOCK in too_long.json()["errors"]
    assert await stored_count(bot) == 0


async def test_items_shipped_before_submit_are_refused(bot: Harness, world: SandboxWorld, showcase: Showcase) -> None:
    await bot.command(ALICE, str(showcase.pending))
    modal = bot.open_modal(ALICE)
    (item,) = world.order_items(showcase.pending)
    world.set_item_status(item.order_item_id, "shipped")
    await bot.submit(ALICE, modal, item_ids=[str(item.order_item_id)], reason_id="10000019")
    assert "can no longer be cancelled" in _modal_text(bot)
    assert await stored_count(bot) == 0


async def test_expired_trigger_is_explained(bot: Harness, showcase: Showcase) -> None:
    bot.slack.fail("views.open", "expired_trigger_id")
    await bot.command(ALICE, str(showcase.pending))
    assert "run the command again" in told(bot, ALICE)


async def test_request_that_cannot_be_posted_is_withdrawn_and_explained(bot: Harness, showcase: Showcase) -> None:
    bot.slack.fail("chat.postMessage", "not_in_channel")
    request = await request_cancel(bot, showcase.pending)
    assert request.status is RequestStatus.WITHDRAWN
    assert "invite me" in _modal_text(bot)
    trail = [e.action for e in await bot.services.requests.audit_trail(request.id)]
    assert trail == ["requested", "not_posted"]


async def test_unsigned_and_stale_requests_get_401(bot: Harness, world: SandboxWorld, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    for delivery in (Delivery(signature="missing"), Delivery(signature="wrong"), Delivery(stale=True)):
        response = await bot.click("U0BOB", ids.REQUEST_APPROVE, request, delivery=delivery)
        assert response.status_code == 401
    assert (await bot.refreshed(request)).status is RequestStatus.PENDING
    assert world.call_count(CREATE) == 0


async def test_foreign_or_malformed_button_values_do_nothing(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    message = {"ts": request.message_ts}
    for value in ("", "{}", '{"k":"button","request_id":"CR-ZZZZZ"}', "x" * 3000):
        action = bot.payloads.block_actions_from_message(
            [Action.button(ids.REQUEST_APPROVE, value, block_id="actions")],
            user_id="U0BOB",
            channel_id=request.channel_id,
            message=message,
        )
        response = await bot.send(action)
        await bot.settle()
        assert response.status_code == 200
    assert (await bot.refreshed(request)).status is RequestStatus.PENDING
    assert world.call_count(CREATE) == 0


async def test_deleted_approval_message_is_posted_again_with_the_outcome(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    assert request.message_ts is not None
    bot.slack.delete_message(request.channel_id, request.message_ts)
    await bot.click("U0BOB", ids.REQUEST_APPROVE, request)
    done = await bot.refreshed(request)
    assert done.status is RequestStatus.EXECUTED
    assert done.message_ts != request.message_ts
    assert "Cancelled on Lazada" in bot.message_json(done)


async def test_bot_removed_from_the_channel_still_tells_the_requester(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    bot.slack.remove_bot_from(request.channel_id)
    bot.slack.fail("chat.update", "not_in_channel", times=5)
    bot.slack.fail("chat.postMessage", "not_in_channel", times=1)
    await bot.click("U0BOB", ids.REQUEST_APPROVE, request)
    done = await bot.refreshed(request)
    assert done.status is RequestStatus.EXECUTED
    assert world.call_count(CREATE) == 1
    dm = bot.slack.im_channel(ALICE)
    assert dm is not None
    assert any("cancelled" in str(m.get("text", "")).lower() for m in bot.slack.messages(dm))


async def test_changing_the_selection_asks_lazada_again(bot: Harness, world: SandboxWorld, showcase: Showcase) -> None:
    await bot.command(ALICE, str(showcase.packed))
    modal = bot.open_modal(ALICE)
    mouse, _cable, _case = world.order_items(showcase.packed)
    validations = world.call_count("/order/reverse/cancel/validate")
    change = bot.payloads.block_actions_from_view(
        [Action.checkboxes(ids.MODAL_ITEMS, [str(mouse.order_item_id)], block_id=ids.ITEMS_BLOCK)],
        user_id=ALICE,
        view=modal,
    )
    assert (await bot.send(change)).status_code == 200
    await bot.settle()
    assert world.call_count("/order/reverse/cancel/validate") == validations + 1
    last = [c for c in world.calls if c.path == "/order/reverse/cancel/validate"][-1]
    assert last.params["order_item_id_list"] == f'["{mouse.order_item_id}"]'
    refreshed = bot.slack.view(modal["id"])
    assert refreshed is not None
    assert "Repack first" in str(refreshed["blocks"]), "the package choice appears once a sibling is left out"
