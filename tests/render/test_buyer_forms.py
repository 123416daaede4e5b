"""The buyer-request surfaces besides the card: the refusal form, the offer in the request form, App Home, answers.

Lazada's and people's text is escaped everywhere; ids, limits and the sentences people read are checked here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.buyer.errors import (
    BuyerRequestClosedError,
    BuyerRequestNotFoundError,
    DeadlinePassedError,
    DecisionRefusedError,
    NotAllowedToDecideError,
    ReasonNotOfferedError,
)
from bot.buyer.models import BuyerRequest, BuyerRequestLine, BuyerRequestStatus
from bot.domain import DomainError
from bot.lazada.errors import LazadaError, LazadaTransportError
from bot.lazada.reverse import RefusalReason
from bot.slack.render import buyer_forms as forms
from bot.slack.render.home import BUYER_SHOWN, OpenBuyerRequest, render_home
from bot.slack.render.modal import render_request_modal
from tests.render.factories import HOSTILE, check_message, check_view, draft, metadata, view_text, walk_texts

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
SG = ZoneInfo("Asia/Singapore")


def _request(**changes: object) -> BuyerRequest:
    values: dict[str, object] = {
        "store_code": "main",
        "reverse_order_id": "400000000000001",
        "order_id": "100000000000006",
        "lines": (
            BuyerRequestLine(
                reverse_order_line_id="1",
                order_item_id="9001",
                item_name=f"Mug {HOSTILE}",
                sku="MUG_RED_XL",
                reason_text=HOSTILE,
                refund_amount=1250,
            ),
            BuyerRequestLine(reverse_order_line_id="2", order_item_id="9002", item_name="Saucer"),
        ),
        "buyer_reason": HOSTILE,
        "refund_total": 1250,
        "deadline": NOW + timedelta(hours=3, minutes=20),
        "status": BuyerRequestStatus.OPEN,
        "first_seen_at": NOW,
        "updated_at": NOW,
        "channel_id": "C0OPS",
        "message_ts": "1764558000.000100",
    }
    values.update(changes)
    return BuyerRequest.model_validate(values)


REASONS = (
    RefusalReason(reason_id="1000201", text="The order has already been packed"),
    RefusalReason(reason_id="1000202", text=f"Buyer agreed to keep it {HOSTILE}"),
)


def _no_injection(blocks: object) -> None:
    """No markup from Lazada's or people's text is live in mrkdwn (plain_text is never formatted)."""
    text = "\n".join(t for kind, t in walk_texts(blocks) if kind == "mrkdwn")
    for markup in ("<!channel>", "<http://evil", "<@U999>", "*bold*", "`code`", "@here"):
        assert markup not in text, markup


def test_the_refusal_form_offers_lazadas_reasons_and_warns_the_order_ships() -> None:
    view = check_view(forms.render_refusal_modal(_request(), REASONS, now=NOW, tz=SG))
    assert view["callback_id"] == forms.BUYER_REFUSE_FORM == "buyer_refuse_form"
    assert view["private_metadata"] == "main:400000000000001"
    assert view["submit"]["text"] == "Refuse"
    select = next(b for b in view["blocks"] if b.get("block_id") == forms.BUYER_REASON_BLOCK)
    assert select["type"] == "input"
    assert select.get("optional", False) is False, "a reason is required"
    assert select["element"]["action_id"] == forms.BUYER_REASON == "reason"
    assert [o["value"] for o in select["element"]["options"]] == ["1000201", "1000202"]
    assert all(len(o["text"]["text"]) <= 75 for o in select["element"]["options"])
    text = view_text(view)
    assert "must be shipped" in text
    assert "(in 3 h 20 min)" in text
    _no_injection(view["blocks"])


def test_without_any_reason_the_refusal_form_cannot_be_submitted() -> None:
    view = check_view(forms.render_refusal_modal(_request(), (), now=NOW, tz=SG))
    assert view.get("submit") is None
    assert "Lazada offers no reason to refuse this request" in view_text(view)


def test_the_request_form_offers_accepting_the_buyers_request_before_the_seller_reason_form() -> None:
    view = check_view(
        render_request_modal(draft(), metadata("100000000000006"), buyer_requests=[_request()], now=NOW, tz=SG)
    )
    blocks = view["blocks"]
    assert "The buyer asked to cancel 2 items of this order" in json.dumps(blocks[1], ensure_ascii=False)
    actions = [b for b in blocks if b["type"] == "actions"]
    assert len(actions) == 1
    (button,) = actions[0]["elements"]
    assert (button["action_id"], button["value"], button["style"]) == (
        "buyer_accept",
        "main:400000000000001",
        "primary",
    )
    assert button["confirm"]["confirm"]["text"] == "Accept"
    text = view_text(view)
    assert "<https://slack.com/archives/C0OPS/p1764558000000100|See the request's card>" in text
    assert text.index("Accept the buyer's request") < text.index("Or cancel for a seller reason")
    assert text.index("Or cancel for a seller reason") < text.index("Reason (as Lazada offers it)")
    _no_injection(view["blocks"])


def test_a_request_being_decided_is_named_without_a_button_and_an_unposted_one_without_a_link() -> None:
    deciding = _request(status=BuyerRequestStatus.DECIDING, channel_id=None, message_ts=None)
    view = check_view(render_request_modal(draft(), metadata(), buyer_requests=[deciding], now=NOW, tz=SG))
    assert not [b for b in view["blocks"] if b["type"] == "actions"]
    text = view_text(view)
    assert "being sent to Lazada right now" in text
    assert "See the request's card" not in text


def test_the_outcome_modals_say_what_lazada_was_told() -> None:
    accepted = _request(
        status=BuyerRequestStatus.ACCEPTED,
        decided_by="U0BOB",
        lazada_answer="Lazada confirmed the decision (request id 0b01).",
    )
    view = check_view(forms.render_buyer_decided_modal(accepted))
    assert view["title"]["text"] == "Request accepted"
    assert "does not count against the store's rate. Lazada confirmed the decision (request id 0b01)." in view_text(
        view
    )

    refused = _request(
        status=BuyerRequestStatus.REFUSED, refusal_reason_code="1000202", refusal_reason_text=f"Kept {HOSTILE}"
    )
    view = check_view(forms.render_buyer_decided_modal(refused))
    assert view["title"]["text"] == "Request refused"
    assert "The order must now be shipped" in view_text(view)
    _no_injection(view["blocks"])

    unknown = check_view(forms.render_buyer_decided_modal(_request(status=BuyerRequestStatus.NEEDS_ATTENTION)))
    assert "Lazada's outcome for order *100000000000006* is unknown" in view_text(unknown)
    assert "keeps reading it and updates its card" in view_text(unknown)


def test_every_refusal_reads_as_one_sentence_with_its_icon() -> None:
    deadline = NOW - timedelta(minutes=1)
    cases: list[tuple[DomainError | LazadaError, str, str]] = [
        (NotAllowedToDecideError("the store's approvers", order_id="100000000000006"), "🔒", "Only the store's"),
        (DeadlinePassedError("100000000000006", deadline, SG), "⌛", "Lazada decides it now"),
        (BuyerRequestNotFoundError("main:1"), "ℹ️", "can't find this buyer's cancellation request"),
        (ReasonNotOfferedError("999"), "⚠️", "does not offer reason 999"),
        (
            DecisionRefusedError("100000000000006", "E0116: no seller id"),
            "⚠️",
            "still shows the request open and undecided: you can answer it again.",
        ),
        (
            LazadaTransportError("timeout", api_path="/x", timed_out=True, request_sent=False),
            "⚠️",
            "Lazada did not take the decision",
        ),
    ]
    for error, icon, words in cases:
        message = forms.buyer_answer_for(error)
        blocks = check_message(message)
        markup = blocks[0]["text"]["text"]
        assert markup.startswith(icon), markup
        assert words in markup, markup


def test_already_decided_names_the_decider_with_a_working_mention_and_nothing_else() -> None:
    message = forms.buyer_answer_for(BuyerRequestClosedError("1<!here>", "accepted by <@U0BOB>"))
    markup = check_message(message)[0]["text"]["text"]
    assert "was already accepted by <@U0BOB>. Nothing was sent." in markup
    assert "<!here>" not in markup
    assert "<@U0BOB>" in message.text


def test_app_home_lists_open_buyer_requests_with_their_buttons_and_deadlines() -> None:
    many = [
        OpenBuyerRequest(request=_request(reverse_order_id=str(400 + n)), store_label="SG Main", tz=SG)
        for n in range(BUYER_SHOWN + 2)
    ]
    view = check_view(
        render_home(
            pending_for_approver=[],
            my_requests=[],
            recent=[],
            store_rates=[],
            is_approver=True,
            now=NOW,
            buyer_requests=many,
        )
    )
    text = view_text(view)
    assert f"Buyers' cancellation requests waiting for an answer ({BUYER_SHOWN + 2})" in text
    assert "Answer by Tue 01 Dec 14:20 (Asia/Singapore)* (in 3 h 20 min)" in text
    assert "…and 2 more in the approval channel." in text
    assert text.count("<https://slack.com/archives/C0OPS/p1764558000000100|card>") == BUYER_SHOWN
    actions = [b for b in view["blocks"] if b["type"] == "actions"]
    assert len(actions) == BUYER_SHOWN
    assert all("block_id" not in b for b in actions), "block ids must be unique within a view"
    assert [e["action_id"] for e in actions[0]["elements"]] == ["buyer_accept", "buyer_refuse"]
    _no_injection(view["blocks"])


def test_app_home_without_buyer_requests_leaves_the_section_out() -> None:
    view = check_view(
        render_home(pending_for_approver=[], my_requests=[], recent=[], store_rates=[], is_approver=True, now=NOW)
    )
    assert "Buyers' cancellation requests" not in view_text(view)
