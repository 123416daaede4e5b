"""The buyer request card: Lazada's text escaped, the deadline in store time and as time left, buttons while open."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.buyer.models import BuyerRequest, BuyerRequestLine, BuyerRequestStatus
from bot.buyer.timing import time_left
from bot.slack.render.buyer import (
    BUYER_ACCEPT,
    BUYER_REFUSE,
    render_buyer_reminder,
    render_buyer_request_card,
    render_buyer_settled_reply,
)
from cancel_order_bot.cli.order_show import BuyerRequestsNow

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
                item_name="Mug *Limited* <!channel>",
                sku="MUG_RED_XL",
                reason_text="Wrong colour <@U0BOSS> _please_",
                refund_amount=1250,
            ),
        ),
        "buyer_reason": "Wrong colour <@U0BOSS> _please_",
        "refund_total": 1250,
        "deadline": NOW + timedelta(hours=3, minutes=20),
        "status": BuyerRequestStatus.OPEN,
        "first_seen_at": NOW,
        "updated_at": NOW,
    }
    values.update(changes)
    return BuyerRequest.model_validate(values)


def _json(request: BuyerRequest) -> str:
    message = render_buyer_request_card(request, now=NOW, tz=SG, store_label="SG Main", currency="SGD")
    return json.dumps([b.to_dict() for b in message.blocks], ensure_ascii=False)


def test_the_open_card_shows_the_reason_escaped_the_refund_and_the_deadline_in_store_time() -> None:
    card = _json(_request())

    assert "Wrong colour &lt;@U0BOSS&gt; \u02cdplease\u02cd" in card
    assert "<@U0BOSS>" not in card
    assert "<!channel>" not in card
    assert "MUG_RED_XL" in card
    assert "SGD 12.50" in card
    assert "Tue 01 Dec 14:20 (Asia/Singapore)" in card
    assert "in 3 h 20 min" in card
    assert "If nobody answers by then, Lazada decides by itself" in card
    assert f'"action_id": "{BUYER_ACCEPT}"' in card
    assert f'"action_id": "{BUYER_REFUSE}"' in card
    assert '"value": "main:400000000000001"' in card
    assert '"style": "primary"' in card
    assert '"confirm"' in card


def test_a_settled_card_has_a_stamp_and_no_buttons() -> None:
    accepted = _request(
        status=BuyerRequestStatus.ACCEPTED, decided_by="U0BOB", decided_at=NOW, agreed=True, lazada_answer="ok <b>"
    )
    by_lazada = _request(status=BuyerRequestStatus.DECIDED_BY_LAZADA, decided_at=NOW, agreed=True)
    elsewhere = _request(status=BuyerRequestStatus.ANSWERED_ELSEWHERE, decided_at=NOW, agreed=False)

    assert "Accepted by <@U0BOB> at Tue 01 Dec 11:00 (Asia/Singapore)" in _json(accepted)
    assert "ok &lt;b&gt;" in _json(accepted)
    assert "Lazada accepted it automatically at Tue 01 Dec 11:00 (Asia/Singapore)" in _json(by_lazada)
    assert "Answered outside Slack (refused), seen at Tue 01 Dec 11:00 (Asia/Singapore)" in _json(elsewhere)
    for settled in (accepted, by_lazada, elsewhere):
        assert BUYER_ACCEPT not in _json(settled)
        assert BUYER_REFUSE not in _json(settled)


def test_time_left_reads_in_hours_and_minutes() -> None:
    assert time_left(NOW + timedelta(hours=3, minutes=20, seconds=30), NOW) == "in 3 h 20 min"
    assert time_left(NOW + timedelta(minutes=45), NOW) == "in 45 min"
    assert time_left(NOW + timedelta(seconds=20), NOW) == "in 1 min"
    assert time_left(NOW + timedelta(days=1, hours=23, minutes=40), NOW) == "in 1 d 23 h"
    assert time_left(NOW, NOW) == "passed"


def test_the_reply_and_the_reminder_name_people_and_escape_lazadas_words() -> None:
    refused = _request(
        status=BuyerRequestStatus.REFUSED,
        decided_by="U0BOB",
        decided_at=NOW,
        agreed=False,
        refusal_reason_text="Already *shipped*",
    )
    reply = json.dumps([b.to_dict() for b in render_buyer_settled_reply(refused, tz=SG).blocks])
    reminder = render_buyer_reminder(_request(), ["S0APPROVERS", "U0CAROL"], now=NOW, tz=SG)

    assert "Refused by <@U0BOB>" in reply
    assert "must now be shipped" in reply
    assert "*shipped*" not in reply
    assert "<!subteam^S0APPROVERS> <@U0CAROL>" in json.dumps([b.to_dict() for b in reminder.blocks])
    assert "in 3 h 20 min" in reminder.blocks[0].to_dict()["text"]["text"]


def test_thread_replies_notify_in_words_never_with_status_names() -> None:
    for status in BuyerRequestStatus:
        if status in (BuyerRequestStatus.OPEN, BuyerRequestStatus.DECIDING):
            continue
        reply = render_buyer_settled_reply(_request(status=status, decided_by="U0BOB", decided_at=NOW), tz=SG)
        assert not any(s.value in reply.text for s in BuyerRequestStatus if "_" in s.value), reply.text


def test_the_time_left_and_store_time_read_the_same_as_order_show() -> None:
    request = _request(deadline=NOW + timedelta(hours=47, minutes=39))
    card = _json(request)
    shown = BuyerRequestsNow([request], now=NOW, tz=SG).deadline(request)
    assert shown == "Thu 03 Dec 10:39 (Asia/Singapore), in 1 d 23 h"
    assert "Thu 03 Dec 10:39 (Asia/Singapore)* (in 1 d 23 h)" in card
