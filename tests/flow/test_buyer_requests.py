"""Buyer cancellation requests end to end: the real app and services, the Lazada sandbox and the fake Slack.

The sandbox's showcase order 100000000000006 carries an open buyer request (asked 20 minutes before the test's
clock, Lazada's deadline 48 hours after the request); the tests drive the service's tick and decisions as the
scheduler and the click handlers do, and read what Slack shows and what Lazada was sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.buyer.errors import (
    DeadlinePassedError,
    DecisionRefusedError,
    NotAllowedToDecideError,
    ReasonNotOfferedError,
    ReasonRequiredError,
)
from bot.buyer.models import BuyerRequest, BuyerRequestStatus
from bot.buyer.service import SETTLE_MARGIN
from bot.lazada.client import REVERSE_DECIDE_PATH, REVERSE_ORDERS_PATH
from bot.slack.render.buyer import BUYER_ACCEPT, BUYER_REFUSE
from cancel_order_bot.demo.harness import Harness, MovableClock, running_bot
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.faults import FaultKind
from cancel_order_bot.sandbox.showcase import SHOWCASE
from cancel_order_bot.sandbox.world import ItemSpec
from tests.flow.conftest import BOB, CAROL, DAVE

S = BuyerRequestStatus
CHANNEL = "C0OPS"
OVERRIDES = {"approval_channel": CHANNEL}


@pytest.fixture
async def bot(sqlite_url: str, world: SandboxWorld, clock: MovableClock) -> AsyncIterator[Harness]:
    """The whole bot on SQLite, with the approval channel where buyer requests are posted."""
    async with running_bot(sqlite_url, world=world, clock=clock, settings_overrides=OVERRIDES) as harness:
        yield harness


async def _found(bot: Harness) -> BuyerRequest:
    """Tick once and return the showcase order's request as stored."""
    await bot.services.buyer.tick()
    [request] = await bot.services.buyer.open_for_order("main", str(SHOWCASE.buyer_request))
    return request


def _card_posts(bot: Harness) -> list[dict[str, object]]:
    return [
        dict(c.params)
        for c in bot.slack.calls_to("chat.postMessage")
        if isinstance(c.response, dict)
        and c.response.get("ok")
        and "thread_ts" not in c.params
        and "Buyer asks to cancel" in json.dumps(c.params.get("blocks"))
    ]


def _card(bot: Harness, request: BuyerRequest) -> str:
    assert request.message_ts is not None
    return json.dumps(bot.slack.message(CHANNEL, request.message_ts), ensure_ascii=False)


def _thread(bot: Harness, request: BuyerRequest) -> list[str]:
    assert request.message_ts is not None
    return [json.dumps(m, ensure_ascii=False) for m in bot.slack.thread(CHANNEL, request.message_ts)]


def _decide_calls(world: SandboxWorld) -> list[dict[str, str]]:
    return [dict(c.params) for c in world.calls if c.path == REVERSE_DECIDE_PATH]


async def test_a_buyer_request_is_found_and_posted_once(bot: Harness, world: SandboxWorld) -> None:
    request = await _found(bot)
    await bot.services.buyer.tick()
    await bot.services.buyer.tick()

    assert len(_card_posts(bot)) == 1
    assert request.status is S.OPEN
    assert request.channel_id == CHANNEL
    assert request.buyer_reason == "Change of mind"
    assert [line.item_name for line in request.lines] == ["Bluetooth Headset", "Headset Pouch"]
    assert request.refund_total == 4900 + 750
    card = _card(bot, request)
    for shown in ("Change of mind", "Bluetooth Headset", "SGD 56.50", "in 1 d 23 h", "Lazada decides by itself"):
        assert shown in card, shown
    assert f'"action_id": "{BUYER_ACCEPT}"' in card
    assert f'"action_id": "{BUYER_REFUSE}"' in card
    assert f'"value": "{request.key}"' in card
    assert '"confirm"' in card
    # The scan asked for open CANCEL requests; the card is not a reason to ask again.
    listing = next(c for c in world.calls if c.path == REVERSE_ORDERS_PATH)
    assert listing.params["request_type_list"] == '["CANCEL"]'
    assert world.call_count(REVERSE_DECIDE_PATH) == 0


async def test_lazada_deciding_at_the_deadline_is_stamped_without_a_call(
    bot: Harness, world: SandboxWorld, clock: MovableClock
) -> None:
    request = await _found(bot)
    assert request.deadline is not None
    clock.advance(request.deadline - clock() + timedelta(minutes=3))

    await bot.services.buyer.tick()
    await bot.services.buyer.tick()

    settled = await bot.services.buyer.get(request.key)
    assert settled.status is S.DECIDED_BY_LAZADA
    assert (settled.decided_by, settled.agreed, settled.decided_at) == (None, True, request.deadline)
    assert world.call_count(REVERSE_DECIDE_PATH) == 0
    card = _card(bot, settled)
    assert "Lazada accepted it automatically" in card
    assert BUYER_ACCEPT not in card
    replies = _thread(bot, settled)
    assert len(replies) == 1
    assert "Lazada accepted it automatically" in replies[0]


async def test_accepting_sends_one_decision_and_stamps_the_card(bot: Harness, world: SandboxWorld) -> None:
    request = await _found(bot)

    decided = await bot.services.buyer.decide(request.key, actor=BOB, agree=True)

    assert decided.status is S.ACCEPTED
    assert (decided.decided_by, decided.agreed) == (BOB, True)
    assert _decide_calls(world) == [{"reverse_order_id": request.reverse_order_id, "agree_cancel": "true"}]
    assert {i.status for i in world.order_items(SHOWCASE.buyer_request)} == {"canceled"}
    card = _card(bot, decided)
    assert "Accepted by <@U0BOB>" in card
    assert BUYER_ACCEPT not in card
    # Lazada's answer is said once, as a sentence of its own (no "Lazada: Lazada …").
    assert "Lazada confirmed the decision (request id 0b" in card
    assert "Lazada: Lazada" not in card
    [reply] = _thread(bot, decided)
    assert "Accepted by <@U0BOB>" in reply
    assert "Lazada confirmed the decision (request id 0b" in reply
    assert "Lazada: Lazada" not in reply
    # A second click, from anyone, is refused with who decided; nothing more is sent.
    with pytest.raises(Exception, match=r"already accepted by <@U0BOB>"):
        await bot.services.buyer.decide(request.key, actor=CAROL, agree=True)
    assert world.call_count(REVERSE_DECIDE_PATH) == 1


async def test_refusing_sends_the_reason_chosen_from_lazadas_list(bot: Harness, world: SandboxWorld) -> None:
    request = await _found(bot)
    reasons = await bot.services.buyer.refusal_reasons(request.key)
    chosen = reasons[1]

    with pytest.raises(ReasonRequiredError):
        await bot.services.buyer.decide(request.key, actor=BOB, agree=False)
    with pytest.raises(ReasonNotOfferedError):
        await bot.services.buyer.decide(request.key, actor=BOB, agree=False, reason_code="999")
    decided = await bot.services.buyer.decide(request.key, actor=BOB, agree=False, reason_code=chosen.reason_id)

    assert decided.status is S.REFUSED
    assert (decided.refusal_reason_code, decided.refusal_reason_text) == (chosen.reason_id, chosen.text)
    assert _decide_calls(world) == [
        {"reverse_order_id": request.reverse_order_id, "agree_cancel": "false", "reason_code": chosen.reason_id}
    ]
    card = _card(bot, decided)
    assert "Refused by <@U0BOB>" in card
    assert chosen.text in card
    assert "must now be shipped" in card


async def test_a_decision_after_the_deadline_is_refused_without_a_call(
    bot: Harness, world: SandboxWorld, clock: MovableClock
) -> None:
    request = await _found(bot)
    assert request.deadline is not None
    clock.advance(request.deadline - clock() + timedelta(seconds=1))

    with pytest.raises(DeadlinePassedError, match=r"passed at .*Lazada decides it now\. Nothing was sent\."):
        await bot.services.buyer.decide(request.key, actor=BOB, agree=True)

    assert world.call_count(REVERSE_DECIDE_PATH) == 0
    assert (await bot.services.buyer.get(request.key)).status is S.OPEN


async def test_a_person_not_allowed_is_refused_with_a_clear_message(bot: Harness, world: SandboxWorld) -> None:
    request = await _found(bot)

    with pytest.raises(NotAllowedToDecideError) as refused:
        await bot.services.buyer.decide(request.key, actor=DAVE, agree=True)

    assert str(refused.value) == (
        "Only the store's approvers can accept or refuse a buyer's cancellation request for order "
        f"{SHOWCASE.buyer_request}. Nothing was sent to Lazada."
    )
    assert world.call_count(REVERSE_DECIDE_PATH) == 0
    stored = await bot.services.buyer.get(request.key)
    assert (stored.status, stored.decided_by) == (S.OPEN, None)


async def test_channel_deciders_are_anyone_in_the_approval_channel(
    sqlite_url: str, world: SandboxWorld, clock: MovableClock
) -> None:
    overrides = {**OVERRIDES, "buyer_request_deciders": "channel"}
    async with running_bot(sqlite_url, world=world, clock=clock, settings_overrides=overrides) as bot:
        request = await _found(bot)
        with pytest.raises(NotAllowedToDecideError, match="Only members of the store's approval channel"):
            await bot.services.buyer.check_may_decide(request.key, DAVE)  # not in C0OPS
        assert await bot.services.buyer.check_may_decide(request.key, "U0ALICE")  # in C0OPS, not an approver
        decided = await bot.services.buyer.decide(request.key, actor="U0ALICE", agree=True)
        assert decided.status is S.ACCEPTED


async def test_reminders_at_half_time_and_an_hour_before_each_once(
    bot: Harness, world: SandboxWorld, clock: MovableClock
) -> None:
    request = await _found(bot)
    assert request.deadline is not None
    half = request.first_seen_at + (request.deadline - request.first_seen_at) / 2
    clock.advance(half - clock() + timedelta(minutes=1))
    await bot.services.buyer.tick()
    await bot.services.buyer.tick()
    replies = _thread(bot, request)
    assert len(replies) == 1
    assert "<!subteam^S0APPROVERS>" in replies[0]
    assert "still waits for an answer" in replies[0]

    clock.advance(request.deadline - clock() - timedelta(minutes=59))
    await bot.services.buyer.tick()
    await bot.services.buyer.tick()
    replies = _thread(bot, request)
    assert len(replies) == 2
    assert "in 59 min" in replies[1]


async def test_an_unknown_outcome_unread_needs_attention_until_lazada_shows_it_open_again(
    bot: Harness, world: SandboxWorld, clock: MovableClock
) -> None:
    request = await _found(bot)
    world.faults.inject(FaultKind.ROC_INTERNAL_ERROR, path=REVERSE_DECIDE_PATH, apply_first=False)
    # Lazada's read-back also fails: nothing tells the bot what happened.
    world.faults.inject(FaultKind.HTTP_502, path=REVERSE_ORDERS_PATH, times=10)

    decided = await bot.services.buyer.decide(request.key, actor=BOB, agree=True)

    assert decided.status is S.NEEDS_ATTENTION
    assert decided.lazada_answer == "Lazada did not confirm the decision (its answer: “E0106: ROC internal error”)."
    card = _card(bot, decided)
    assert "Lazada's outcome is unknown" in card
    assert BUYER_ACCEPT not in card
    [reply] = _thread(bot, decided)
    # Each message says one thing once: no "Lazada: Lazada …", no "does not send again … before sending again".
    assert "Lazada: Lazada" not in reply
    assert "before ever sending it again" not in reply
    assert reply.count("did not confirm") == 1
    world.faults.clear()
    clock.advance(timedelta(minutes=10))
    await bot.services.buyer.tick()
    await bot.services.buyer.tick()

    # The scan lists it open: the decision did not take, so the request is open again, buttons back, and the
    # thread says so; nothing was sent again.
    assert world.call_count(REVERSE_DECIDE_PATH) == 1
    reopened = await bot.services.buyer.get(request.key)
    assert (reopened.status, reopened.decided_by, reopened.agreed) == (S.OPEN, None, None)
    assert BUYER_ACCEPT in _card(bot, reopened)
    replies = _thread(bot, reopened)
    assert len(replies) == 2
    assert "still open and undecided" in replies[1]
    assert "needs_attention" not in json.dumps(bot.slack.thread(CHANNEL, reopened.message_ts or ""))
    # Reminders go on, and the next click sends the decision, which Lazada takes this time.
    assert request.deadline is not None
    half = request.first_seen_at + (request.deadline - request.first_seen_at) / 2
    clock.advance(half - clock() + timedelta(minutes=1))
    await bot.services.buyer.tick()
    assert "still waits for an answer" in _thread(bot, reopened)[-1]
    assert (await bot.services.buyer.decide(request.key, actor=CAROL, agree=True)).status is S.ACCEPTED
    assert world.call_count(REVERSE_DECIDE_PATH) == 2
    assert "Accepted by <@U0CAROL>" in _card(bot, reopened)


async def test_an_unknown_outcome_is_read_back_until_lazada_decides_at_a_deadline_days_later(
    bot: Harness, world: SandboxWorld, clock: MovableClock
) -> None:
    request = await _found(bot)
    reason = (await bot.services.buyer.refusal_reasons(request.key))[0]
    world.faults.inject(FaultKind.ROC_INTERNAL_ERROR, path=REVERSE_DECIDE_PATH, apply_first=False)
    world.faults.inject(FaultKind.HTTP_502, path=REVERSE_ORDERS_PATH, times=10)
    decided = await bot.services.buyer.decide(request.key, actor=BOB, agree=False, reason_code=reason.reason_id)
    assert decided.status is S.NEEDS_ATTENTION
    world.faults.clear()
    assert request.deadline is not None

    # Two days later (past the deadline, Lazada having accepted it by itself there), the tick still reads it back.
    clock.advance(timedelta(days=2))
    await bot.services.buyer.tick()

    settled = await bot.services.buyer.get(request.key)
    assert (settled.status, settled.agreed, settled.decided_at) == (S.DECIDED_BY_LAZADA, True, request.deadline)
    assert "Lazada accepted it automatically" in _card(bot, settled)
    assert world.call_count(REVERSE_DECIDE_PATH) == 1


async def test_a_request_needing_attention_is_no_longer_read_well_after_its_deadline(
    bot: Harness, world: SandboxWorld, clock: MovableClock
) -> None:
    request = await _found(bot)
    world.faults.inject(FaultKind.ROC_INTERNAL_ERROR, path=REVERSE_DECIDE_PATH, apply_first=False)
    world.faults.inject(FaultKind.HTTP_502, path=REVERSE_ORDERS_PATH, times=10)
    await bot.services.buyer.decide(request.key, actor=BOB, agree=True)
    world.faults.clear()
    assert request.deadline is not None
    clock.advance(request.deadline + SETTLE_MARGIN - clock() + timedelta(minutes=1))
    reads = world.call_count(REVERSE_ORDERS_PATH)

    await bot.services.buyer.tick()

    # Only the scan's listing: the request is a person's now.
    assert world.call_count(REVERSE_ORDERS_PATH) == reads + 1
    assert (await bot.services.buyer.get(request.key)).status is S.NEEDS_ATTENTION


async def test_an_order_read_elsewhere_feeds_the_same_store_once(bot: Harness, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec(status="packed", name="Desk Lamp", sku="LAMP-1", price="20.00")])
    world.request_buyer_cancel([order.items[0].order_item_id], answer_within=timedelta(hours=24))
    items = await bot.services.clients["main"].get_order_items(order_id=order.order_id)

    found = await bot.services.buyer.note_items("main", str(order.order_id), items)
    again = await bot.services.buyer.note_items("main", str(order.order_id), items)
    await bot.services.buyer.tick()

    assert [r.order_id for r in found] == [str(order.order_id)] == [r.order_id for r in again]
    assert found[0].lines[0].item_name == "Desk Lamp"
    posts = [p for p in _card_posts(bot) if str(order.order_id) in json.dumps(p)]
    assert len(posts) == 1


async def test_the_digest_sync_feeds_the_same_store_without_a_scan(bot: Harness, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec(status="packed", name="Desk Lamp", sku="LAMP-1", price="20.00")])
    world.request_buyer_cancel([order.items[0].order_item_id], answer_within=timedelta(hours=24))

    await bot.services.digest.sync("main")
    reads = world.call_count(REVERSE_ORDERS_PATH)
    await bot.services.digest.sync("main")

    # No scan ran: the orders the digest listed anyway named the request, which was read, stored and posted once;
    # the second sync knows it and asks nothing more.
    assert reads >= 1
    assert world.call_count(REVERSE_ORDERS_PATH) == reads
    [found] = await bot.services.buyer.open_for_order("main", str(order.order_id))
    assert (found.status, found.lines[0].item_name) == (S.OPEN, "Desk Lamp")
    posts = [p for p in _card_posts(bot) if str(order.order_id) in json.dumps(p)]
    assert len(posts) == 1


async def test_a_card_slack_refuses_is_posted_by_a_later_tick(bot: Harness) -> None:
    bot.slack.fail("chat.postMessage", "not_in_channel")
    await bot.services.buyer.tick()
    [request] = await bot.services.buyer.open_requests("main")
    assert request.message_ts is None

    await bot.services.buyer.tick()

    posted = await bot.services.buyer.get(request.key)
    assert posted.message_ts is not None
    assert len(_card_posts(bot)) == 1


async def test_counts_for_the_digest(bot: Harness, world: SandboxWorld, clock: MovableClock) -> None:
    start = clock()
    lamp = world.add_order([ItemSpec(status="packed", name="Lamp", sku="LAMP-1")])
    mug = world.add_order([ItemSpec(status="pending", name="Mug", sku="MUG-1")])
    world.request_buyer_cancel([lamp.items[0].order_item_id], answer_within=timedelta(hours=2))
    world.request_buyer_cancel([mug.items[0].order_item_id], answer_within=timedelta(hours=24))
    await bot.services.buyer.tick()
    [showcase] = await bot.services.buyer.open_for_order("main", str(SHOWCASE.buyer_request))
    [mug_request] = await bot.services.buyer.open_for_order("main", str(mug.order_id))
    await bot.services.buyer.decide(showcase.key, actor=BOB, agree=True)
    reason = (await bot.services.buyer.refusal_reasons(mug_request.key))[0]
    await bot.services.buyer.decide(mug_request.key, actor=BOB, agree=False, reason_code=reason.reason_id)
    clock.advance(timedelta(hours=3))
    await bot.services.buyer.tick()  # Lazada accepted the lamp's at its deadline

    counts = await bot.services.buyer.counts("main", since=start, until=clock())
    before = await bot.services.buyer.counts("main", since=start - timedelta(days=1), until=start)

    assert counts.model_dump() == {
        "received": 3,
        "accepted": 1,
        "refused": 1,
        "decided_by_lazada": 1,
        "answered_elsewhere": 0,
        "items_spared": 3,
    }
    assert before.received == 0


@pytest.mark.parametrize(
    ("code", "message"),
    [("131", "E0131: no decision for this reverse order"), ("116", "E0116: no seller id")],
)
async def test_a_decision_lazada_definitely_refuses_leaves_the_request_open_and_says_why(
    bot: Harness, world: SandboxWorld, code: str, message: str
) -> None:
    request = await _found(bot)
    body = {"type": "ISV", "code": code, "message": message}
    world.faults.inject(FaultKind.CANNED, path=REVERSE_DECIDE_PATH, body=body)

    with pytest.raises(DecisionRefusedError) as refused:
        await bot.services.buyer.decide(request.key, actor=BOB, agree=True)

    # One coherent sentence: Lazada's words once, and that the request is still open (never "no longer awaits").
    assert str(refused.value) == (
        f"Lazada did not take the decision on the buyer's request on order {request.order_id} (Lazada's answer: "
        f"“{message}”), and it still shows the request open and undecided: you can answer it again."
    )
    stored = await bot.services.buyer.get(request.key)
    assert (stored.status, stored.decided_by, stored.agreed) == (S.OPEN, None, None)
    assert BUYER_ACCEPT in _card(bot, stored)
    assert world.call_count(REVERSE_DECIDE_PATH) == 1
    # Nothing was decided, so a second click may send it: Lazada takes it this time.
    assert (await bot.services.buyer.decide(request.key, actor=BOB, agree=True)).status is S.ACCEPTED


async def test_a_decision_lazada_refuses_with_its_words_escaped_on_the_person_s_answer(
    bot: Harness, world: SandboxWorld
) -> None:
    request = await _found(bot)
    world.faults.inject(FaultKind.CODE_WITH_TIP, path=REVERSE_DECIDE_PATH, text="Seller <b>not</b> allowed")

    with pytest.raises(DecisionRefusedError) as refused:
        await bot.services.buyer.decide(request.key, actor=BOB, agree=True)

    assert "Seller <b>not</b> allowed" in str(refused.value)
    assert (await bot.services.buyer.get(request.key)).status is S.OPEN


async def test_without_sla_the_items_cancel_trigger_time_is_the_deadline(
    bot: Harness, world: SandboxWorld, clock: MovableClock
) -> None:
    order = world.add_order([ItemSpec(status="packed", name="Desk Lamp", sku="LAMP-1", price="20.00")])
    reverse_id = world.request_buyer_cancel([order.items[0].order_item_id], answer_within=timedelta(hours=24))
    world.requests_without_sla.add(reverse_id)

    await bot.services.buyer.tick()

    [request] = await bot.services.buyer.open_for_order("main", str(order.order_id))
    assert request.deadline == world.buyer_request(reverse_id).deadline
    card = _card(bot, request)
    assert "Answer by" in card
    assert "in 23 h 59 min" in card or "in 1 d" in card


async def test_lazada_accepting_a_request_without_any_deadline_says_so(
    bot: Harness, world: SandboxWorld, clock: MovableClock
) -> None:
    order = world.add_order([ItemSpec(status="packed", name="Desk Lamp", sku="LAMP-1", price="20.00")])
    reverse_id = world.request_buyer_cancel([order.items[0].order_item_id], answer_within=timedelta(hours=2))
    world.requests_without_sla.add(reverse_id)
    world.items_without_cancel_trigger.add(order.items[0].order_item_id)
    await bot.services.buyer.tick()
    [request] = await bot.services.buyer.open_for_order("main", str(order.order_id))
    assert request.deadline is None
    assert "Lazada did not say" in _card(bot, request)

    clock.advance(timedelta(hours=3))  # Lazada accepts it by itself at its (unannounced) deadline
    await bot.services.buyer.tick()

    settled = await bot.services.buyer.get(request.key)
    assert (settled.status, settled.agreed, settled.decided_by) == (S.DECIDED_BY_LAZADA, True, None)
    card = _card(bot, settled)
    assert "Lazada accepted it (no deadline was given)" in card
    assert "Answered outside Slack" not in card
    [reply] = _thread(bot, settled)
    assert "Lazada accepted it (no deadline was given)" in reply


async def test_a_request_the_buyer_withdrew_says_no_decision_was_needed(
    bot: Harness, world: SandboxWorld, clock: MovableClock
) -> None:
    request = await _found(bot)
    world.withdraw_buyer_request(int(request.reverse_order_id))
    clock.advance(timedelta(minutes=10))

    await bot.services.buyer.tick()

    settled = await bot.services.buyer.get(request.key)
    assert (settled.status, settled.agreed) == (S.ANSWERED_ELSEWHERE, None)
    card = _card(bot, settled)
    assert "Withdrawn or closed by Lazada (no decision needed)" in card
    assert "Answered outside Slack" not in card
    assert BUYER_ACCEPT not in card
    [reply] = _thread(bot, settled)
    assert "Withdrawn or closed by Lazada (no decision needed)" in reply
    # The notification text names the outcome in words, never the status's internal name.
    [message] = bot.slack.thread(CHANNEL, settled.message_ts or "")
    assert message["text"].endswith("withdrawn or closed by Lazada")
    assert "answered_elsewhere" not in message["text"]
    with pytest.raises(Exception, match=r"already withdrawn by the buyer or closed by Lazada"):
        await bot.services.buyer.decide(request.key, actor=BOB, agree=True)


def _card_updates(bot: Harness, request: BuyerRequest) -> int:
    return sum(1 for c in bot.slack.calls_to("chat.update") if c.params.get("ts") == request.message_ts)


async def test_the_cards_time_left_is_redrawn_by_the_hour_at_reminders_and_when_the_deadline_passes(
    bot: Harness, world: SandboxWorld, clock: MovableClock
) -> None:
    request = await _found(bot)
    assert request.deadline is not None
    assert "in 1 d 23 h" in _card(bot, request)

    # Within the same hour left: no Slack call, however many ticks.
    clock.advance(timedelta(minutes=10))
    await bot.services.buyer.tick()
    await bot.services.buyer.tick()
    assert _card_updates(bot, request) == 0

    # An hour later the card says so, once.
    clock.advance(timedelta(hours=1))
    await bot.services.buyer.tick()
    await bot.services.buyer.tick()
    assert _card_updates(bot, request) == 1
    assert "in 1 d 22 h" in _card(bot, request)

    # The half-time reminder redraws it too.
    half = request.first_seen_at + (request.deadline - request.first_seen_at) / 2
    clock.advance(half - clock() + timedelta(minutes=1))
    await bot.services.buyer.tick()
    assert "in 23 h 49 min" in _card(bot, request)
    updates = _card_updates(bot, request)
    await bot.services.buyer.tick()
    assert _card_updates(bot, request) == updates

    # Past the deadline, before the scan sees Lazada's decision (Lazada cannot be listed): no buttons, and it says
    # the card waits for Lazada.
    world.faults.inject(FaultKind.HTTP_502, path=REVERSE_ORDERS_PATH, times=10)
    clock.advance(request.deadline - clock() + timedelta(minutes=1))
    await bot.services.buyer.tick()
    card = _card(bot, request)
    assert "The deadline passed at" in card
    assert "waiting for Lazada's decision" in card
    assert BUYER_ACCEPT not in card
    assert BUYER_REFUSE not in card
    assert (await bot.services.buyer.get(request.key)).status is S.OPEN

    world.faults.clear()
    clock.advance(timedelta(minutes=10))
    await bot.services.buyer.tick()
    assert "Lazada accepted it automatically" in _card(bot, request)
