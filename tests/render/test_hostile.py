"""Hostile text from people and from Lazada cannot ping, link, format or break Slack's limits on any surface."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.domain import Item, OrderStatus, RequestStatus
from bot.slack.render.help import render_help
from bot.slack.render.home import render_home
from bot.slack.render.modal import render_modal_message, render_order_prompt_modal, render_request_modal
from bot.slack.render.replies import (
    error_for_person,
    render_ephemeral,
    render_expired_reply,
    render_needs_attention_reply,
    render_outcome_reply,
    render_rejected_reply,
    render_reminder,
    render_withdrawn_reply,
)
from bot.slack.render.request_message import render_request_message
from bot.slack.render.text import Message
from bot.workflow.models import (
    OrderDraft,
    OrderLine,
    PackageConflict,
    Reason,
    RequestCard,
)
from tests.render.factories import HOSTILE, NOW, RATE, check_message, check_view, metadata, walk_texts

LONG = ("<!here> *x* " * 500)[:5000]
RTL = "\u202e\u05e9\u05dc\u05d5\u05dd <!channel> \u0645\u0631\u062d\u0628\u0627 \u2066@here\u2069"
SAMPLES = [HOSTILE, LONG, RTL]
KNOWN_USERS = {"U0REQ", "U0APP"}

# The only markup we write ourselves: user mentions, channel links, dates and user groups.
_OUR_MARKUP = re.compile(
    r"<@(?P<user>[UW][A-Z0-9]+)>|<#[CDG][A-Z0-9]+>|<!date\^\d+\^\{date_short_pretty\} \{time\}\|[0-9: -]+UTC>"
    r"|<!subteam\^S[A-Z0-9]+>"
)
_BROADCAST = re.compile(r"[@＠](channel|here|everyone)", re.IGNORECASE)
# The formatting the samples try to inject, which must never reach mrkdwn intact.
_INJECTED = ("*bold*", "_it_", "~s~", "`code`", "*x*")


def _hostile_item(n: int, text: str, status: str = "pending", package: str = "PKG<1>") -> Item:
    return Item(
        order_item_id=f"9{n:05d}",
        name=f"{text} {n}",
        sku=f"{text[:40]}_{n}",
        variation=text,
        status=status,
        package_id=package,
        paid_price=Decimal("12.90"),
        currency="SGD",
    )


def _draft(text: str, **overrides: Any) -> OrderDraft:
    items = tuple(_hostile_item(n, text, s) for n, s in enumerate(["pending", "packed", "ready_to_ship", "shipped"]))
    values: dict[str, Any] = {
        "store_code": "sg-main",
        "store_label": text,
        "order_id": "123456789",
        "items": items,
        "selected_ids": tuple(i.order_item_id for i in items[:3]),
        "reasons": (Reason(reason_id="1", reason_name=text), Reason(reason_id="2", reason_name="Out of Stock")),
        "tip_content": text,
        "tip_type": "warning",
        "package_conflicts": (PackageConflict(package_id=text, selected=items[:1], others=items[1:2]),),
        "rate": RATE.model_copy(update={"status": text, "projected_status": text}),
    }
    values.update(overrides)
    return OrderDraft(**values)


def _card(text: str, status: RequestStatus, orders: int = 1) -> RequestCard:
    lines = tuple(
        OrderLine(
            order_id=f"55{n:03d}",
            items=(_hostile_item(n, text), _hostile_item(n + 100, text, "ready_to_ship")),
            siblings=(_hostile_item(n + 200, text, "packed"),),
            status=OrderStatus.FAILED if status is RequestStatus.FAILED else OrderStatus.EXECUTED,
            tip_content=text,
            tip_type="warning",
            outcome_tip_content=text,
            outcome_tip_type="success",
            error=text,
        )
        for n in range(orders)
    )
    return RequestCard(
        request_id="CR-7K2Q9",
        store_code="sg-main",
        store_label=text,
        orders=lines,
        reason=Reason(reason_id="10000021", reason_name=f"Out of Stock {text}"),
        justification=text,
        requester_id="U0REQ",
        status=status,
        required_approvals=2,
        approver_ids=("U0APP",),
        decided_by="U0APP",
        decision_note=text,
        expires_at=NOW + timedelta(hours=12),
        created_at=NOW,
        rate=RATE,
    )


def _surfaces(text: str) -> Iterator[tuple[str, Any]]:
    yield "modal", check_view(render_request_modal(_draft(text), metadata()))
    yield "refused modal", check_view(render_request_modal(_draft(text, refusal=text), metadata()))
    yield "prompt", check_view(render_order_prompt_modal(metadata(None), error=text))
    yield "modal message", check_view(render_modal_message(text, text))
    for status in RequestStatus:
        for orders in (1, 50):
            card = _card(text, status, orders)
            yield f"card {status} x{orders}", _message(render_request_message(card, now=NOW))
            for reply in (
                render_outcome_reply(card),
                render_reminder(card, ["U0APP", text]),
                render_expired_reply(card),
                render_rejected_reply(card),
                render_withdrawn_reply(card),
                render_needs_attention_reply(card),
            ):
                yield f"reply {status} x{orders}", _message(reply)
    cards = [_card(text, s) for s in RequestStatus]
    home = render_home(
        pending_for_approver=cards,
        my_requests=cards,
        recent=cards,
        store_rates=[(text, RATE), (text, None)],
        is_approver=True,
        now=NOW,
    )
    yield "home", check_view(home)
    yield "help", _message(render_help([text, "sg-main"]))
    yield "ephemeral", _message(render_ephemeral(text))
    yield "error", _message(error_for_person(text))


def _message(message: Message) -> dict[str, Any]:
    blocks = check_message(message)
    return {"blocks": blocks, "fallback": [{"type": "mrkdwn", "text": message.text}]}


def _texts(surface: Any) -> Iterator[tuple[str, str]]:
    # Views are walked whole, so their title, submit and close texts are checked too.
    yield from walk_texts(surface)


@pytest.mark.parametrize("sample", SAMPLES, ids=["hostile", "long", "rtl"])
def test_hostile_text_cannot_ping_link_or_format(sample: str) -> None:
    for name, surface in _surfaces(sample):
        for kind, text in _texts(surface):
            assert not _BROADCAST.search(text), (name, text)
            assert not re.search(r"<!(channel|here|everyone)", text), (name, text)
            assert not re.search("[\u202e\u2066]", text), (name, text)
            if kind == "plain_text":
                assert not re.search(r"<[!@#]", text), (name, text)
                continue
            users = {m.group("user") for m in _OUR_MARKUP.finditer(text) if m.group("user")}
            assert users <= KNOWN_USERS, (name, users)
            rest = _OUR_MARKUP.sub("", text)
            assert not re.search("[<>]", rest), (name, rest)
            assert not any(marker in rest for marker in _INJECTED), (name, rest)
            for line in rest.split("\n"):
                assert not line.lstrip(" \t").startswith(("&gt;", "＞")), (name, line)


def test_hostile_text_keeps_readable_content() -> None:
    text = "\n".join(t for _, surface in _surfaces(HOSTILE) for _, t in _texts(surface))
    assert "&lt;http://evil.example|click&gt;" in text
    assert "&amp;amp;" in text
    assert "\u2217bold\u2217" in text


def test_rtl_letters_survive() -> None:
    text = "\n".join(t for _, surface in _surfaces(RTL) for _, t in _texts(surface))
    assert "\u05e9\u05dc\u05d5\u05dd" in text
    assert "\u0645\u0631\u062d\u0628\u0627" in text
