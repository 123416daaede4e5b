"""Thread replies and ephemeral answers."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain import OrderStatus, RequestStatus
from bot.slack.render.replies import (
    already_approved,
    already_decided,
    error_for_person,
    not_an_approver,
    only_requester_can_withdraw,
    render_cancel_pending_reply,
    render_ephemeral,
    render_expired_reply,
    render_needs_attention_reply,
    render_order_late_reply,
    render_outcome_reply,
    render_rejected_reply,
    render_reminder,
    render_withdrawn_reply,
    request_not_found,
    request_posted,
    self_approval,
)
from bot.slack.render.text import Message
from bot.workflow.models import Reason
from tests.render.factories import card, check_message, decided_card, order_line, walk_texts


def _text(message: Message) -> str:
    return "\n".join(text for _, text in walk_texts(check_message(message)))


def test_outcome_reply_tells_the_requester_and_reminds_to_restock() -> None:
    text = _text(render_outcome_reply(decided_card(RequestStatus.EXECUTED)))
    assert text.startswith("<@U0REQ> ✅ Your request *CR-7K2Q9*")
    assert "2 items cancelled on Lazada" in text
    assert "The order has been cancelled" in text
    assert "restore the stock of SKU TSHIRT_RED_0, TSHIRT_RED_1 in Seller Center" in text


def test_outcome_reply_has_no_restock_reminder_when_stock_is_kept() -> None:
    executed = decided_card(RequestStatus.EXECUTED)
    kept = executed.model_copy(update={"reason": Reason(reason_id="10000019", reason_name="Sourcing Delay")})
    assert "restore the stock" not in _text(render_outcome_reply(kept))


def test_outcome_reply_for_many_orders_counts_and_lists_the_unusual_ones() -> None:
    statuses = [OrderStatus.EXECUTED] * 38 + [OrderStatus.FAILED] * 2
    lines = tuple(
        order_line(f"66{n:03d}", 1, status=s, error="E0104 reason invalid" if s is OrderStatus.FAILED else None)
        for n, s in enumerate(statuses)
    )
    reply = render_outcome_reply(card(RequestStatus.EXECUTED, orders=lines))
    text = _text(reply)
    assert "38/40 orders cancelled, 2 failed" in text
    # The notification says the failures too, not only the items cancelled.
    assert reply.text.endswith("38/40 orders cancelled, 2 failed."), reply.text
    assert "❌ *66038* — E0104 reason invalid" in text
    assert "*66000*" not in text
    # Only the SKUs of the orders that were cancelled need restocking.
    assert "restore the stock of SKU TSHIRT_RED_0" in text


def test_outcome_reply_for_a_failure_gives_the_explanation() -> None:
    text = _text(render_outcome_reply(decided_card(RequestStatus.FAILED)))
    assert "failed: Lazada refused" in text
    assert "Lazada answered E0104" in text
    assert "restore the stock" not in text


def test_outcome_reply_for_needs_attention_asks_a_person_to_check() -> None:
    message = render_outcome_reply(decided_card(RequestStatus.NEEDS_ATTENTION))
    assert message == render_needs_attention_reply(decided_card(RequestStatus.NEEDS_ATTENTION))
    text = _text(message)
    assert "<@U0REQ> <@U0APP>" in text
    assert "open order 10000 in Seller Center" in text


def test_reminder_mentions_approvers_and_groups_but_not_the_requester() -> None:
    text = _text(render_reminder(card(), ["U0APP", "S0APPROVERS", "U0REQ", "U0APP"]))
    assert text.startswith("🔔 <@U0APP> <!subteam^S0APPROVERS>: Request *CR-7K2Q9*")
    assert text.count("<@U0APP>") == 1
    assert "from <@U0REQ>" in text
    assert "|2026-11-30 22:00 UTC>" in text


def test_reminder_without_approvers_is_still_a_reminder() -> None:
    assert "still waiting for approval" in _text(render_reminder(card(), []))


def test_expired_reply_suggests_asking_again() -> None:
    text = _text(render_expired_reply(decided_card(RequestStatus.EXPIRED)))
    assert "expired" in text
    assert "Nothing was cancelled" in text
    assert "`/cancel-order 10000`" in text


def test_rejected_reply_says_by_whom_and_why() -> None:
    text = _text(render_rejected_reply(decided_card(RequestStatus.REJECTED)))
    assert "rejected by <@U0APP>: Customer wants it after all" in text


def test_withdrawn_reply() -> None:
    text = _text(render_withdrawn_reply(decided_card(RequestStatus.WITHDRAWN)))
    assert "Request *CR-7K2Q9* (2 items of order 10000) was withdrawn by <@U0REQ>" in text


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (RequestStatus.EXECUTING, "already approved by <@U0APP>"),
        (RequestStatus.EXECUTED, "already approved by <@U0APP>"),
        (RequestStatus.FAILED, "already approved by <@U0APP>"),
        (RequestStatus.NEEDS_ATTENTION, "already approved by <@U0APP>"),
        (RequestStatus.REJECTED, "already rejected by <@U0APP>"),
        (RequestStatus.WITHDRAWN, "already withdrawn by <@U0APP>"),
        (RequestStatus.EXPIRED, "has expired"),
        (RequestStatus.PENDING, "already approved this request"),
    ],
)
def test_already_decided(status: RequestStatus, expected: str) -> None:
    assert expected in _text(already_decided(status, "U0APP"))


def test_already_decided_by_nobody_known() -> None:
    assert "already rejected by someone" in _text(already_decided(RequestStatus.REJECTED, None))


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (not_an_approver(), "Only an approver"),
        (self_approval(), "can't approve your own request"),
        (only_requester_can_withdraw(), "Only the person who made the request"),
        (request_not_found(), "does not exist"),
        (already_approved(), "needs another approver"),
    ],
)
def test_standard_answers(message: Message, expected: str) -> None:
    assert expected in _text(message)
    assert expected in message.text


def test_request_posted_links_the_channel() -> None:
    message = request_posted("CR-7K2Q9", "C0OPS")
    assert "Request *CR-7K2Q9* is posted in <#C0OPS> for approval" in _text(message)


@pytest.mark.parametrize("channel", ["#ops", "<!here>", "", "c0ops"])
def test_request_posted_never_turns_a_strange_channel_into_markup(channel: str) -> None:
    assert "<" not in _text(request_posted("CR-7K2Q9", channel))


def test_ephemeral_and_error_answers_are_escaped() -> None:
    for message in (render_ephemeral("<!channel> *now*"), error_for_person("Order <!here> not found")):
        text = _text(message)
        assert "<!" not in text
        assert "<!" not in message.text


def test_error_for_person_without_a_sentence() -> None:
    assert "Something went wrong" in _text(error_for_person("  "))


def _all_replies(status: RequestStatus) -> list[Any]:
    c = decided_card(status, orders=3)
    return [
        render_outcome_reply(c),
        render_reminder(c, ["U0APP"]),
        render_expired_reply(c),
        render_rejected_reply(c),
        render_withdrawn_reply(c),
        render_needs_attention_reply(c),
    ]


@pytest.mark.parametrize("status", list(RequestStatus))
def test_every_reply_is_valid_for_every_status(status: RequestStatus) -> None:
    for message in _all_replies(status):
        check_message(message)


def test_the_pending_reply_says_lazada_accepted_and_nothing_is_sent_again() -> None:
    message = render_cancel_pending_reply(decided_card(RequestStatus.CANCEL_PENDING))
    text = "\n".join(t for _, t in walk_texts(check_message(message)))
    assert "Lazada accepted the cancellation, but it is still pending at Lazada" in text
    assert "Nothing is sent to Lazada again" in text
    assert "cancellation pending at Lazada" in message.text


def test_a_late_reply_about_one_order_names_it_and_reminds_to_restock() -> None:
    done = order_line("10002", status=OrderStatus.EXECUTED)
    stock = card(
        RequestStatus.CANCEL_PENDING,
        orders=(order_line("10001", status=OrderStatus.CANCEL_PENDING), done),
        reason=Reason(reason_id="2", reason_name="Out of Stock"),
    )
    message = render_order_late_reply(stock, done)
    text = "\n".join(t for _, t in walk_texts(check_message(message)))
    assert "Order *10002* of request" in text
    assert "is now cancelled on Lazada: 2 items" in text
    assert "Restock reminder" in text
    assert message.text.startswith("Order 10002 of request")


def test_a_late_reply_for_an_order_that_needs_a_person_carries_the_bots_words_escaped() -> None:
    unclear = order_line("10003", status=OrderStatus.NEEDS_ATTENTION, error="after 24 h <!channel> still packed")
    message = render_order_late_reply(card(RequestStatus.CANCEL_PENDING, orders=(unclear,)), unclear)
    text = "\n".join(t for _, t in walk_texts(check_message(message)))
    assert "needs a person" in text
    assert "&lt;!channel&gt;" in text
    assert "<!channel>" not in text
