"""Buyers' cancellation requests answered from Slack, through the real app, the sandbox and the fake Slack (issue 11).

The card's Accept and Refuse, the refusal form, who may decide, the deadline, and `/cancel-order` on an order the
buyer asked to cancel. Each refusal is checked for what the person sees and for nothing stored or sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.buyer.models import BuyerRequest, BuyerRequestStatus
from bot.slack.render import buyer_forms as buyer_ids
from bot.slack.render import ids
from cancel_order_bot.demo.harness import Harness, MovableClock, running_bot
from cancel_order_bot.demo.slack_payloads import Action
from cancel_order_bot.sandbox import FaultKind, SandboxWorld
from cancel_order_bot.sandbox.api import REVERSE_DECIDE_PATH, REVERSE_ORDERS_PATH, REVERSE_REASONS_PATH
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import ALICE, BOB, CAROL, CREATE, DAVE, request_cancel, told

OPS = "C0OPS"


@pytest.fixture
async def bot(sqlite_url: str, world: SandboxWorld, clock: MovableClock) -> AsyncIterator[Harness]:
    """The whole bot on SQLite, posting buyer requests' cards in #order-ops (the store's approval channel)."""
    async with running_bot(
        sqlite_url, world=world, clock=clock, settings_overrides={"approval_channel": OPS}
    ) as harness:
        yield harness


async def posted(bot: Harness, order_id: int) -> BuyerRequest:
    """Let the scheduler's job find the order's buyer request and post its card; the request as stored."""
    await bot.services.buyer.tick()
    await bot.settle()
    request = await bot.buyer_request(order_id)
    assert request.message_ts is not None, "the card was not posted"
    return request


def card_json(bot: Harness, request: BuyerRequest) -> str:
    assert request.channel_id is not None
    assert request.message_ts is not None
    return json.dumps(bot.slack.message(request.channel_id, request.message_ts), ensure_ascii=False)


def reason_values(reason_id: str) -> dict[str, dict[str, object]]:
    """The refusal form's state with `reason_id` chosen."""
    chosen = {"type": "static_select", "selected_option": {"value": reason_id}}
    return {buyer_ids.BUYER_REASON_BLOCK: {buyer_ids.BUYER_REASON: chosen}}


def decide_calls(world: SandboxWorld) -> list[dict[str, str]]:
    return [dict(c.params) for c in world.calls if c.path == REVERSE_DECIDE_PATH]


async def test_accept_on_the_card_sends_one_decision_and_stamps_the_card(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await posted(bot, showcase.buyer_request)
    assert "Accept the buyer" in card_json(bot, request)

    await bot.click_buyer(BOB, buyer_ids.BUYER_ACCEPT, request)

    assert [(c["reverse_order_id"], c["agree_cancel"]) for c in decide_calls(world)] == [
        (request.reverse_order_id, "true")
    ]
    accepted = await bot.buyer_request(showcase.buyer_request)
    assert accepted.status is BuyerRequestStatus.ACCEPTED
    assert accepted.decided_by == BOB
    card = card_json(bot, accepted)
    assert "Accepted by <@U0BOB>" in card
    assert buyer_ids.BUYER_ACCEPT not in card, "the buttons are gone"
    assert all(i.status == "canceled" for i in world.order_items(showcase.buyer_request))
    assert world.call_count(CREATE) == 0, "a buyer's request is accepted, never cancelled for a seller reason"


async def test_refuse_opens_lazadas_reasons_and_sends_the_one_chosen(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await posted(bot, showcase.buyer_request)
    await bot.click_buyer(CAROL, buyer_ids.BUYER_REFUSE, request)
    form = bot.open_modal(CAROL)
    assert form["callback_id"] == buyer_ids.BUYER_REFUSE_FORM
    assert form["private_metadata"] == request.key
    select = next(b for b in form["blocks"] if b.get("block_id") == buyer_ids.BUYER_REASON_BLOCK)
    offered = [o["value"] for o in select["element"]["options"]]
    assert offered == [r.reason_id for r in world.refusal_reasons]
    assert "must be shipped" in json.dumps(form["blocks"])
    assert world.call_count(REVERSE_REASONS_PATH) == 1

    chosen = offered[1]
    await bot.send(bot.payloads.view_submission(form, user_id=CAROL, values=reason_values(chosen)))
    await bot.settle()

    assert [(c["agree_cancel"], c["reason_code"]) for c in decide_calls(world)] == [("false", chosen)]
    refused = await bot.buyer_request(showcase.buyer_request)
    assert refused.status is BuyerRequestStatus.REFUSED
    assert refused.refusal_reason_code == chosen
    assert "Refused by <@U0CAROL>" in card_json(bot, refused)
    assert "You refused" in json.dumps(bot.open_modal(CAROL)["blocks"])
    assert all(i.status == "packed" for i in world.order_items(showcase.buyer_request))


async def test_refusal_without_a_reason_is_asked_again_inline(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await posted(bot, showcase.buyer_request)
    await bot.click_buyer(BOB, buyer_ids.BUYER_REFUSE, request)
    form = bot.open_modal(BOB)
    answer = await bot.send(bot.payloads.view_submission(form, user_id=BOB, values={}))
    errors = {buyer_ids.BUYER_REASON_BLOCK: "Pick one of Lazada's reasons for refusing."}
    assert answer.json() == {"response_action": "errors", "errors": errors}
    await bot.settle()
    assert decide_calls(world) == []
    assert (await bot.buyer_request(showcase.buyer_request)).status is BuyerRequestStatus.OPEN


async def test_a_reason_lazada_does_not_offer_is_refused_in_the_form(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await posted(bot, showcase.buyer_request)
    await bot.click_buyer(BOB, buyer_ids.BUYER_REFUSE, request)
    form = bot.open_modal(BOB)
    await bot.send(bot.payloads.view_submission(form, user_id=BOB, values=reason_values("999")))
    await bot.settle()
    shown = bot.open_modal(BOB)
    assert shown["title"]["text"] == "Not decided"
    assert "does not offer reason 999" in json.dumps(shown["blocks"])
    assert decide_calls(world) == []
    assert (await bot.buyer_request(showcase.buyer_request)).status is BuyerRequestStatus.OPEN


async def test_someone_who_may_not_decide_is_told_and_nothing_is_sent(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await posted(bot, showcase.buyer_request)
    await bot.click_buyer(ALICE, buyer_ids.BUYER_ACCEPT, request)
    await bot.click_buyer(ALICE, buyer_ids.BUYER_REFUSE, request)

    said = told(bot, ALICE)
    assert said.count("Only the store's approvers can accept or refuse a buyer's cancellation request") == 2
    assert "Nothing was sent to Lazada" in said
    assert not bot.slack.calls_to("views.open"), "no refusal form for someone who may not refuse"
    assert decide_calls(world) == []
    assert world.call_count(REVERSE_REASONS_PATH) == 0
    stored = await bot.buyer_request(showcase.buyer_request)
    assert stored.status is BuyerRequestStatus.OPEN
    assert stored.decided_by is None
    assert buyer_ids.BUYER_ACCEPT in card_json(bot, stored), "the card still offers the buttons"


async def test_a_click_after_the_deadline_is_refused_without_a_call(
    bot: Harness, world: SandboxWorld, clock: MovableClock, showcase: Showcase
) -> None:
    request = await posted(bot, showcase.buyer_request)
    assert request.deadline is not None
    clock.advance(request.deadline - clock() + timedelta(seconds=1))

    await bot.click_buyer(BOB, buyer_ids.BUYER_ACCEPT, request)
    await bot.click_buyer(CAROL, buyer_ids.BUYER_REFUSE, request)

    assert "Lazada decides it now. Nothing was sent." in told(bot, BOB)
    assert "Lazada decides it now" in told(bot, CAROL)
    assert decide_calls(world) == []
    assert world.call_count(REVERSE_REASONS_PATH) == 0
    assert (await bot.buyer_request(showcase.buyer_request)).status is BuyerRequestStatus.OPEN


async def test_a_second_click_is_told_who_decided_first(bot: Harness, world: SandboxWorld, showcase: Showcase) -> None:
    request = await posted(bot, showcase.buyer_request)
    await bot.click_buyer(BOB, buyer_ids.BUYER_ACCEPT, request)
    await bot.click_buyer(CAROL, buyer_ids.BUYER_ACCEPT, request)
    await bot.click_buyer(CAROL, buyer_ids.BUYER_REFUSE, request)
    said = told(bot, CAROL)
    assert said.count("was already accepted by <@U0BOB>") == 2, said
    assert "&lt;@" not in said
    assert len(decide_calls(world)) == 1


async def test_a_forged_key_changes_nothing(bot: Harness, world: SandboxWorld, showcase: Showcase) -> None:
    request = await posted(bot, showcase.buyer_request)
    for value in ("main:../../etc", "other:999", '{"k":"req"}'):
        action = Action.button(buyer_ids.BUYER_ACCEPT, value, block_id="buyer.actions")
        signed = bot.payloads.block_actions_from_message(
            [action], user_id=BOB, channel_id=OPS, message={"ts": request.message_ts}
        )
        assert (await bot.send(signed)).status_code == 200
    await bot.settle()
    assert "can't find this buyer's cancellation request" in told(bot, BOB)
    assert decide_calls(world) == []


async def open_home(bot: Harness, user: str) -> dict[str, object]:
    """Open `user`'s App Home tab and return it as published."""
    await bot.send(bot.payloads.app_home_opened(user))
    await bot.settle()
    home = bot.slack.home_view(user)
    assert home is not None
    return home


def dm_texts(bot: Harness, user: str) -> str:
    channel = bot.slack.im_channel(user)
    return " ".join(str(m.get("text", "")) for m in bot.slack.messages(channel)) if channel else ""


async def test_app_home_lists_open_buyer_requests_for_those_who_may_decide(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await posted(bot, showcase.buyer_request)
    home = json.dumps((await open_home(bot, BOB))["blocks"], ensure_ascii=False)
    assert "Buyers' cancellation requests waiting for an answer (1)" in home
    assert f"Order {showcase.buyer_request}" in home
    assert "Answer by" in home
    assert "(in 1 d 23 h)" in home, "the deadline, in the store's time and from now"
    assert request.key in home
    assert buyer_ids.BUYER_ACCEPT in home
    assert buyer_ids.BUYER_REFUSE in home

    alice_home = json.dumps((await open_home(bot, ALICE))["blocks"], ensure_ascii=False)
    assert "Buyers' cancellation requests" not in alice_home, "Alice may not decide: nothing to list for her"

    # Accepting from App Home (no card in sight): Bob is told privately; the card and everyone's Home follow.
    home_view = bot.slack.home_view(BOB)
    assert home_view is not None
    action = Action.button(buyer_ids.BUYER_ACCEPT, request.key, block_id="home")
    await bot.send(bot.payloads.block_actions_from_view([action], user_id=BOB, view=home_view))
    await bot.settle()
    assert [c["agree_cancel"] for c in decide_calls(world)] == ["true"]
    assert "You accepted the buyer's request" in dm_texts(bot, BOB)
    assert "Accepted by <@U0BOB>" in card_json(bot, await bot.buyer_request(showcase.buyer_request))
    refreshed = bot.slack.home_view(CAROL)
    assert refreshed is not None
    assert request.key not in json.dumps(refreshed["blocks"]), "Carol's tab was refreshed"


async def test_channel_deciders_check_membership_away_from_the_card(
    sqlite_url: str, world: SandboxWorld, clock: MovableClock, showcase: Showcase
) -> None:
    overrides = {"approval_channel": OPS, "buyer_request_deciders": "channel"}
    async with running_bot(sqlite_url, world=world, clock=clock, settings_overrides=overrides) as bot:
        request = await posted(bot, showcase.buyer_request)
        # Dave is not in #order-ops: the request form offers him the button, but accepting is refused there.
        await bot.command(DAVE, str(showcase.buyer_request))
        form = bot.open_modal(DAVE)
        action = Action.button(buyer_ids.BUYER_ACCEPT, request.key, block_id="buyer.offer")
        await bot.send(bot.payloads.block_actions_from_view([action], user_id=DAVE, view=form))
        await bot.settle()
        assert "Only members of the store's approval channel can accept" in json.dumps(bot.open_modal(DAVE)["blocks"])
        assert decide_calls(world) == []
        assert "Buyers' cancellation requests" not in json.dumps((await open_home(bot, DAVE))["blocks"])

        # Alice is in #order-ops, though no approver: here that is enough, from her App Home too.
        home = await open_home(bot, ALICE)
        assert request.key in json.dumps(home["blocks"])
        action = Action.button(buyer_ids.BUYER_ACCEPT, request.key, block_id="home")
        await bot.send(bot.payloads.block_actions_from_view([action], user_id=ALICE, view=home))
        await bot.settle()
        accepted = await bot.buyer_request(showcase.buyer_request)
        assert accepted.status is BuyerRequestStatus.ACCEPTED
        assert accepted.decided_by == ALICE
        assert len(decide_calls(world)) == 1


async def test_cancel_order_on_a_buyer_request_offers_accepting_it(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    await bot.command(ALICE, str(showcase.buyer_request))
    modal = bot.open_modal(ALICE)
    blocks = json.dumps(modal["blocks"], ensure_ascii=False)
    # Read by the form, the request is stored and its card posted, so the offer links to it.
    request = await bot.buyer_request(showcase.buyer_request)
    assert request.message_ts is not None
    top = json.dumps(modal["blocks"][1:4], ensure_ascii=False)
    assert "The buyer asked to cancel 2 items of this order" in top
    assert "does not count against the store" in blocks
    assert f"https://slack.com/archives/{request.channel_id}/p{request.message_ts.replace('.', '')}" in blocks
    buttons = [e for b in modal["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [(buyer_ids.BUYER_ACCEPT, request.key)]
    assert buttons[0]["confirm"]["confirm"]["text"] == "Accept"
    assert blocks.index("Accept the buyer") < blocks.index(ids.REASON_BLOCK), "the offer comes before the form"

    # Bob, an approver, runs the command too and accepts from the form.
    await bot.command(BOB, str(showcase.buyer_request))
    modal = bot.open_modal(BOB)
    action = Action.button(buyer_ids.BUYER_ACCEPT, request.key, block_id="buyer.offer")
    await bot.send(bot.payloads.block_actions_from_view([action], user_id=BOB, view=modal))
    await bot.settle()

    assert [(c["reverse_order_id"], c["agree_cancel"]) for c in decide_calls(world)] == [
        (request.reverse_order_id, "true")
    ]
    assert world.call_count(CREATE) == 0, "no seller-reason cancellation"
    assert (await bot.buyer_request(showcase.buyer_request)).status is BuyerRequestStatus.ACCEPTED
    shown = bot.open_modal(BOB)
    assert shown["title"]["text"] == "Request accepted"
    assert "You accepted the buyer's request" in json.dumps(shown["blocks"])
    assert "Accepted by <@U0BOB>" in card_json(bot, await bot.buyer_request(showcase.buyer_request))


async def test_accepting_from_the_form_without_the_right_says_so_in_the_form(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    await bot.command(ALICE, str(showcase.buyer_request))
    modal = bot.open_modal(ALICE)
    request = await bot.buyer_request(showcase.buyer_request)
    action = Action.button(buyer_ids.BUYER_ACCEPT, request.key, block_id="buyer.offer")
    await bot.send(bot.payloads.block_actions_from_view([action], user_id=ALICE, view=modal))
    await bot.settle()
    shown = bot.open_modal(ALICE)
    assert shown["title"]["text"] == "Not decided"
    assert "Only the store's approvers can accept" in json.dumps(shown["blocks"])
    assert decide_calls(world) == []
    assert (await bot.buyer_request(showcase.buyer_request)).status is BuyerRequestStatus.OPEN


async def test_cancel_order_without_a_buyer_request_offers_nothing(bot: Harness, showcase: Showcase) -> None:
    await bot.command(ALICE, str(showcase.pending))
    blocks = json.dumps(bot.open_modal(ALICE)["blocks"])
    assert buyer_ids.BUYER_ACCEPT not in blocks
    assert "buyer asked" not in blocks


async def test_the_digest_counts_the_last_24_hours_of_buyer_requests(
    bot: Harness, world: SandboxWorld, clock: MovableClock, showcase: Showcase
) -> None:
    (lamp,) = world.order_items(showcase.ready_to_ship)
    (kettle,) = world.order_items(showcase.pending)
    world.request_buyer_cancel([lamp.order_item_id], answer_within=timedelta(hours=2))
    world.request_buyer_cancel([kettle.order_item_id], answer_within=timedelta(hours=30))
    accepted = await posted(bot, showcase.buyer_request)  # two items
    refused = await bot.buyer_request(showcase.pending)
    await bot.click_buyer(BOB, buyer_ids.BUYER_ACCEPT, accepted)
    await bot.click_buyer(CAROL, buyer_ids.BUYER_REFUSE, refused)
    await bot.send(bot.payloads.view_submission(bot.open_modal(CAROL), user_id=CAROL, values=reason_values("1000202")))
    await bot.settle()
    # Nobody answers the lamp's request: Lazada accepts it at its deadline, and the next scan sees that.
    clock.advance(timedelta(hours=2, minutes=10))
    await bot.services.buyer.tick()
    await bot.settle()
    lamp_request = await bot.buyer_request(showcase.ready_to_ship)
    assert lamp_request.status is BuyerRequestStatus.DECIDED_BY_LAZADA
    assert "Lazada accepted it automatically" in card_json(bot, lamp_request)

    await bot.services.digest.sync("main")
    report = await bot.services.digest.report("main")
    expected = {
        "received": 3,
        "accepted": 1,
        "refused": 1,
        "decided_by_lazada": 1,
        "answered_elsewhere": 0,
        "items_spared": 3,
    }
    assert report.to_json()["buyer_requests"] == expected
    assert not report.quiet

    posted_digest = await bot.services.digest.post("main", report)
    assert posted_digest.ts is not None
    shown = json.dumps(bot.slack.message(posted_digest.channel, posted_digest.ts), ensure_ascii=False)
    assert "Buyers' cancellation requests, last 24 h" in shown
    assert "3 received · 1 accepted · 1 refused · 1 decided by Lazada" in shown
    assert "3 seller-fault cancellations avoided" in shown

    # A day later the same requests are out of the 24 hours.
    clock.advance(timedelta(days=1))
    later = await bot.services.digest.report("main")
    assert later.buyer_requests is not None
    assert later.buyer_requests.received == 0
    assert later.buyer_requests.items_spared == 0


# -- when Lazada or Slack fail ---------------------------------------------------------------------------------


async def test_lazada_refusing_the_decision_is_told_and_the_request_stays_open(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await posted(bot, showcase.buyer_request)
    world.faults.inject(
        FaultKind.CANNED,
        path=REVERSE_DECIDE_PATH,
        body={"type": "ISV", "code": "116", "message": "E0116: no seller id"},
    )
    await bot.click_buyer(BOB, buyer_ids.BUYER_ACCEPT, request)

    said = told(bot, BOB)
    assert "Lazada did not take the decision on the buyer's request on order" in said
    assert "it still shows the request open and undecided: you can answer it again." in said
    assert world.call_count(REVERSE_DECIDE_PATH) == 1
    stored = await bot.buyer_request(showcase.buyer_request)
    assert stored.status is BuyerRequestStatus.OPEN
    assert stored.decided_by is None
    assert buyer_ids.BUYER_ACCEPT in card_json(bot, stored), "the card offers the buttons again"

    await bot.click_buyer(BOB, buyer_ids.BUYER_ACCEPT, stored)
    assert (await bot.buyer_request(showcase.buyer_request)).status is BuyerRequestStatus.ACCEPTED


async def test_an_unknown_outcome_lazada_shows_undecided_gives_the_buttons_back(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await posted(bot, showcase.buyer_request)
    world.faults.inject(FaultKind.ROC_INTERNAL_ERROR, path=REVERSE_DECIDE_PATH)  # not applied: nothing decided
    await bot.click_buyer(BOB, buyer_ids.BUYER_ACCEPT, request)

    # Read back, Lazada shows the request still open: Bob is told, the card offers the buttons again.
    said = told(bot, BOB)
    assert "Lazada did not take the decision on the buyer's request on order" in said
    assert "“E0106: ROC internal error”" in said
    assert "you can answer it again" in said
    stored = await bot.buyer_request(showcase.buyer_request)
    assert (stored.status, stored.decided_by) == (BuyerRequestStatus.OPEN, None)
    assert buyer_ids.BUYER_ACCEPT in card_json(bot, stored)
    assert world.call_count(REVERSE_DECIDE_PATH) == 1

    # Carol's click is answered normally: one more decision, which Lazada takes.
    await bot.click_buyer(CAROL, buyer_ids.BUYER_ACCEPT, stored)
    assert world.call_count(REVERSE_DECIDE_PATH) == 2
    assert (await bot.buyer_request(showcase.buyer_request)).status is BuyerRequestStatus.ACCEPTED


async def test_an_unknown_outcome_that_cannot_be_read_back_is_never_sent_again(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await posted(bot, showcase.buyer_request)
    world.faults.inject(FaultKind.ROC_INTERNAL_ERROR, path=REVERSE_DECIDE_PATH)
    world.faults.inject(FaultKind.HTTP_502, path=REVERSE_ORDERS_PATH, times=10)
    await bot.click_buyer(BOB, buyer_ids.BUYER_ACCEPT, request)

    assert "Lazada's outcome for order *100000000000006* is unknown" in told(bot, BOB)
    stored = await bot.buyer_request(showcase.buyer_request)
    assert stored.status is BuyerRequestStatus.NEEDS_ATTENTION
    assert "Lazada's outcome is unknown" in card_json(bot, stored)

    await bot.click_buyer(CAROL, buyer_ids.BUYER_ACCEPT, stored)
    assert "with an outcome still to be checked. Nothing was sent." in told(bot, CAROL)
    assert world.call_count(REVERSE_DECIDE_PATH) == 1


async def test_no_refusal_reason_from_lazada_turns_the_form_into_the_explanation(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await posted(bot, showcase.buyer_request)
    world.lines_without_refusal_reasons.update(int(line.reverse_order_line_id) for line in request.lines)
    await bot.click_buyer(BOB, buyer_ids.BUYER_REFUSE, request)

    form = bot.open_modal(BOB)
    assert form["title"]["text"] == "Not decided"
    assert "cannot find any cancel reasons" in json.dumps(form["blocks"]).lower()
    assert form.get("submit") is None
    assert decide_calls(world) == []
    assert (await bot.buyer_request(showcase.buyer_request)).status is BuyerRequestStatus.OPEN


async def test_refusal_reasons_lazada_cannot_give_leave_the_request_open_and_say_nothing_was_sent(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await posted(bot, showcase.buyer_request)
    world.faults.inject(FaultKind.HTTP_502, path=REVERSE_REASONS_PATH, times=10)
    await bot.click_buyer(BOB, buyer_ids.BUYER_REFUSE, request)

    form = bot.open_modal(BOB)
    shown = json.dumps(form["blocks"], ensure_ascii=False)
    assert "The refusal form needs Lazada's reasons, and they could not be read" in shown
    assert "Nothing was sent; the buyer's request is still open." in shown
    assert "did not take the decision" not in shown, "no decision was attempted"
    assert form.get("submit") is None
    assert decide_calls(world) == []
    assert (await bot.buyer_request(showcase.buyer_request)).status is BuyerRequestStatus.OPEN


async def test_a_refusal_form_slack_does_not_open_is_told(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await posted(bot, showcase.buyer_request)
    bot.slack.fail("views.open", "expired_trigger_id")
    await bot.click_buyer(BOB, buyer_ids.BUYER_REFUSE, request)
    assert "Slack didn't open the refusal form (expired_trigger_id). Please click Refuse again." in told(bot, BOB)
    assert world.call_count(REVERSE_REASONS_PATH) == 0
    assert (await bot.buyer_request(showcase.buyer_request)).status is BuyerRequestStatus.OPEN


async def test_a_refusal_submitted_after_someone_accepted_sends_nothing(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await posted(bot, showcase.buyer_request)
    await bot.click_buyer(CAROL, buyer_ids.BUYER_REFUSE, request)
    form = bot.open_modal(CAROL)
    await bot.click_buyer(BOB, buyer_ids.BUYER_ACCEPT, request)

    await bot.send(bot.payloads.view_submission(form, user_id=CAROL, values=reason_values("1000202")))
    await bot.settle()

    shown = bot.open_modal(CAROL)
    assert shown["title"]["text"] == "Not decided"
    assert "was already accepted by <@U0BOB>" in json.dumps(shown["blocks"])
    assert [c["agree_cancel"] for c in decide_calls(world)] == ["true"]


async def test_a_refusal_submitted_after_the_deadline_sends_nothing(
    bot: Harness, world: SandboxWorld, clock: MovableClock, showcase: Showcase
) -> None:
    request = await posted(bot, showcase.buyer_request)
    await bot.click_buyer(CAROL, buyer_ids.BUYER_REFUSE, request)
    form = bot.open_modal(CAROL)
    assert request.deadline is not None
    clock.advance(request.deadline - clock() + timedelta(minutes=1))

    await bot.send(bot.payloads.view_submission(form, user_id=CAROL, values=reason_values("1000202")))
    await bot.settle()

    assert "Lazada decides it now. Nothing was sent." in json.dumps(bot.open_modal(CAROL)["blocks"])
    assert decide_calls(world) == []


async def test_a_refusal_form_that_is_not_ours_is_expired(bot: Harness, world: SandboxWorld) -> None:
    view = {"id": "V0FORGED", "callback_id": buyer_ids.BUYER_REFUSE_FORM, "private_metadata": "not a key"}
    answer = await bot.send(bot.payloads.view_submission(view, user_id=BOB, values=reason_values("1000202")))
    assert answer.json()["response_action"] == "update"
    assert "This form is out of date" in json.dumps(answer.json()["view"]["blocks"])
    await bot.settle()
    assert decide_calls(world) == []


async def test_a_refusal_lazada_rejects_reaches_the_person_when_the_form_is_gone(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await posted(bot, showcase.buyer_request)
    await bot.click_buyer(CAROL, buyer_ids.BUYER_REFUSE, request)
    form = bot.open_modal(CAROL)
    world.faults.inject(
        FaultKind.CANNED,
        path=REVERSE_DECIDE_PATH,
        body={"type": "ISV", "code": "116", "message": "E0116: no seller id"},
    )
    bot.slack.fail("views.update", "not_found")

    await bot.send(bot.payloads.view_submission(form, user_id=CAROL, values=reason_values("1000202")))
    await bot.settle()

    assert "Lazada did not take the decision" in dm_texts(bot, CAROL)
    assert (await bot.buyer_request(showcase.buyer_request)).status is BuyerRequestStatus.OPEN


@pytest.mark.parametrize("value", ["garbage", "main:400000000000001:x", ""])
async def test_a_malformed_button_value_is_answered_and_changes_nothing(
    bot: Harness, world: SandboxWorld, showcase: Showcase, value: str
) -> None:
    request = await posted(bot, showcase.buyer_request)
    for action_id in (buyer_ids.BUYER_ACCEPT, buyer_ids.BUYER_REFUSE):
        action = Action.button(action_id, value, block_id="buyer.actions")
        signed = bot.payloads.block_actions_from_message(
            [action], user_id=BOB, channel_id=OPS, message={"ts": request.message_ts}
        )
        assert (await bot.send(signed)).status_code == 200
    await bot.settle()

    said = told(bot, BOB)
    assert said.count("This button does not name a buyer's cancellation request the bot knows") == 2, said
    assert "Nothing was sent to Lazada" in said
    assert value not in said.replace("[SANDBOX]", "") or not value
    assert decide_calls(world) == []
    assert not bot.slack.calls_to("views.open")
    stored = await bot.buyer_request(showcase.buyer_request)
    assert (stored.status, stored.decided_by) == (BuyerRequestStatus.OPEN, None)


async def test_channel_deciders_clicking_on_the_card_are_checked_too(
    sqlite_url: str, world: SandboxWorld, clock: MovableClock, showcase: Showcase
) -> None:
    overrides = {"approval_channel": OPS, "buyer_request_deciders": "channel"}
    async with running_bot(sqlite_url, world=world, clock=clock, settings_overrides=overrides) as bot:
        request = await posted(bot, showcase.buyer_request)
        # Dave is not in #order-ops (he left, or the card was shared to him): a click on the card is no proof.
        await bot.click_buyer(DAVE, buyer_ids.BUYER_ACCEPT, request)
        await bot.click_buyer(DAVE, buyer_ids.BUYER_REFUSE, request)
        said = told(bot, DAVE)
        assert said.count("Only members of the store's approval channel can accept") == 2, said
        assert decide_calls(world) == []
        assert not bot.slack.calls_to("views.open")
        # The member list is read once and kept briefly: two clicks, one conversations.members.
        assert len(bot.slack.calls_to("conversations.members")) == 1

        # When Slack cannot tell, the click is refused with a sentence saying so; nothing is sent.
        clock.advance(timedelta(minutes=2))
        bot.slack.fail("conversations.members", "ratelimited")
        await bot.click_buyer(ALICE, buyer_ids.BUYER_ACCEPT, request)
        assert "Slack could not tell whether you are in the store's approval channel" in told(bot, ALICE)
        assert decide_calls(world) == []
        assert (await bot.buyer_request(showcase.buyer_request)).status is BuyerRequestStatus.OPEN


async def test_the_bulk_form_and_the_approval_card_warn_of_an_open_buyer_request(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    await bot.command(ALICE, f"{showcase.buyer_request} {showcase.pending}")
    modal = bot.open_modal(ALICE)
    assert modal["callback_id"] == ids.BULK_MODAL
    blocks = json.dumps(modal["blocks"], ensure_ascii=False)
    # Read by the form, the buyer's request is stored and its card posted: the form marks its order and links it.
    request = await bot.buyer_request(showcase.buyer_request)
    assert request.message_ts is not None
    link = f"https://slack.com/archives/{request.channel_id}/p{request.message_ts.replace('.', '')}"
    assert f"The buyer asked to cancel one of these orders* ({showcase.buyer_request}, marked 🛒 below)" in blocks
    assert "does not count against the store's cancellation rate" in blocks
    lines = next(b["text"]["text"] for b in modal["blocks"] if "In this request" in b.get("text", {}).get("text", ""))
    [marked] = [line for line in lines.splitlines() if "🛒" in line]
    assert str(showcase.buyer_request) in marked
    assert link in marked
    assert str(showcase.pending) not in marked

    # Sent anyway for a seller reason: the approvers are warned on the approval card, with the buyer card's link.
    await bot.submit(ALICE, modal, reason_id="10000019")
    [cancel] = await bot.services.requests.list_requests(limit=5)
    assert cancel.message_ts is not None
    card = json.dumps(bot.slack.message(cancel.channel_id, cancel.message_ts), ensure_ascii=False)
    assert "The buyer asked to cancel:* accepting the buyer's request on its card does not count against" in card
    assert f"Order *{showcase.buyer_request}*: the buyer asked to cancel 2 items." in card
    assert link in card
    assert f"Order *{showcase.pending}*" not in card


async def test_the_approval_card_of_an_order_the_buyer_asked_to_cancel_warns_the_approvers(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    cancel = await request_cancel(bot, showcase.buyer_request)
    request = await bot.buyer_request(showcase.buyer_request)
    assert cancel.message_ts is not None
    assert request.message_ts is not None
    card = json.dumps(bot.slack.message(cancel.channel_id, cancel.message_ts), ensure_ascii=False)
    assert "The buyer asked to cancel:*" in card
    assert f"p{request.message_ts.replace('.', '')}|See the buyer's request>" in card

    # An order without a buyer's request: no warning.
    plain = await request_cancel(bot, showcase.pending)
    assert plain.message_ts is not None
    assert "buyer asked" not in json.dumps(bot.slack.message(plain.channel_id, plain.message_ts))
