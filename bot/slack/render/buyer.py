"""The card of a buyer's cancellation request, its thread replies and reminders (pure Block Kit renderers).

The buyer's reason and item names are Lazada's text: always escaped. Times are shown in the store's zone with the
time left ("in 3 h 20 min"), so nobody has to convert Lazada's deadline in their head.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)

from bot.buyer.models import BuyerRequest, BuyerRequestLine, BuyerRequestStatus
from bot.buyer.timing import store_time, time_left
from bot.slack.render.text import (
    FALLBACK_TEXT_LIMIT,
    HEADER_LIMIT,
    MESSAGE_BLOCK_LIMIT,
    Message,
    escape,
    mention,
    money,
    mrkdwn,
    oneline,
    pack_lines,
    plain,
    plural,
    section,
    truncate,
    user,
)

__all__ = [
    "BUYER_ACCEPT",
    "BUYER_ACTIONS_BLOCK",
    "BUYER_REFUSE",
    "deadline_text",
    "refund_text",
    "render_buyer_actions",
    "render_buyer_reminder",
    "render_buyer_reopened_reply",
    "render_buyer_request_card",
    "render_buyer_settled_reply",
    "stamp_text",
    "state_words",
]

BUYER_ACCEPT = "buyer_accept"
BUYER_REFUSE = "buyer_refuse"
BUYER_ACTIONS_BLOCK = "buyer.actions"

S = BuyerRequestStatus
_ZERO_DECIMALS = frozenset({"VND"})
_MENTIONS_SHOWN = 10


def deadline_text(request: BuyerRequest, *, now: datetime, tz: ZoneInfo) -> str:
    """When Lazada decides by itself, in the store's time and as the time left; what happens then."""
    if request.deadline is None:
        return "⏳ *Deadline:* Lazada did not say. If nobody answers, Lazada decides by itself."
    if request.deadline <= now:
        return (
            f"⌛ *The deadline passed at {store_time(request.deadline, tz)}:* waiting for Lazada's decision. It can no "
            "longer be answered here."
        )
    return (
        f"⏳ *Answer by {store_time(request.deadline, tz)}* ({time_left(request.deadline, now)}). "
        "If nobody answers by then, Lazada decides by itself (it usually accepts the buyer's request)."
    )


def refund_text(amount: int | None, currency: str | None) -> str:
    """A refund Lazada sends in minor units (VND whole) as money: ``SGD 12.50``; ``n/a`` when unknown."""
    if amount is None:
        return "n/a"
    code = (currency or "").upper()
    value = Decimal(amount) if code in _ZERO_DECIMALS else Decimal(amount) / 100
    return money(value, currency)


def _line_text(line: BuyerRequestLine) -> str:
    name = escape(truncate(oneline(line.item_name), 120)) if line.item_name else f"Item {escape(line.order_item_id)}"
    parts = [f"• {name}"]
    if line.sku:
        parts.append(f"SKU {escape(truncate(oneline(line.sku), 80))}")
    parts.append(f"item {escape(line.order_item_id)}")
    return " · ".join(parts)


def _reason(request: BuyerRequest) -> str:
    if not request.buyer_reason or not request.buyer_reason.strip():
        return "_The buyer gave no reason._"
    return f"*The buyer's reason:* {escape(truncate(request.buyer_reason.strip(), 1500))}"


def stamp_text(request: BuyerRequest, *, tz: ZoneInfo) -> str:
    """The line that says how a settled request ended (or that a decision is on its way)."""
    at = store_time(request.decided_at, tz) if request.decided_at else "an unknown time"
    if request.status is S.DECIDING:
        how = "accepting" if request.agreed else "refusing"
        return f"⏳ {user(request.decided_by)} is {how} the buyer's request; sending it to Lazada…"
    if request.status is S.ACCEPTED:
        return f"✅ Accepted by {user(request.decided_by)} at {at}. The items are cancelled at the buyer's request."
    if request.status is S.REFUSED:
        reason = f" (reason: {escape(oneline(request.refusal_reason_text))})" if request.refusal_reason_text else ""
        return f"🚫 Refused by {user(request.decided_by)} at {at}{reason}. The order must now be shipped."
    if request.status is S.DECIDED_BY_LAZADA:
        if request.agreed is False:
            return f"⌛ Nobody answered in time; Lazada refused it automatically at {at}."
        if request.deadline is None:
            return f"⌛ Lazada accepted it (no deadline was given), seen at {at}."
        return f"⌛ Nobody answered in time; Lazada accepted it automatically at {at}."
    if request.status is S.ANSWERED_ELSEWHERE:
        if request.agreed is None:
            return f"↩️ Withdrawn or closed by Lazada (no decision needed), seen at {at}."
        outcome = "accepted" if request.agreed else "refused"
        return f"↪️ Answered outside Slack ({outcome}), seen at {at}."
    if request.status is S.NEEDS_ATTENTION:
        how = "accept" if request.agreed else "refuse"
        return (
            f"⚠️ {user(request.decided_by)} chose to {how}, but Lazada's outcome is unknown: the request could not be "
            "read back. The bot keeps reading it and updates this card; check Seller Center if it cannot wait."
        )
    return "🟢 Waiting for an answer."


def _answer(request: BuyerRequest) -> list[Block]:
    if not request.lazada_answer or request.status in (S.OPEN, S.DECIDING):
        return []
    return [ContextBlock(elements=[mrkdwn(escape(truncate(request.lazada_answer.strip(), 1500)))])]


def render_buyer_actions(request: BuyerRequest) -> ActionsBlock:
    """Accept (primary, with a confirm dialog) and Refuse, both carrying the request's key."""
    items = plural(request.item_count, "item")
    confirm = ConfirmObject(
        title=PlainTextObject(text="Accept the buyer's request?"),
        text=plain(
            f"Lazada cancels {items} of order {request.order_id} and refunds the buyer. A cancellation at the "
            "buyer's request does not count against the store's cancellation rate. It cannot be undone.",
            300,
        ),
        confirm=PlainTextObject(text="Accept"),
        deny=PlainTextObject(text="Go back"),
    )
    return ActionsBlock(
        block_id=BUYER_ACTIONS_BLOCK,
        elements=[
            ButtonElement(
                text=PlainTextObject(text="Accept the buyer's request"),
                action_id=BUYER_ACCEPT,
                value=request.key,
                style="primary",
                confirm=confirm,
            ),
            ButtonElement(text=PlainTextObject(text="Refuse"), action_id=BUYER_REFUSE, value=request.key),
        ],
    )


_STATES = {
    S.OPEN: "waiting for an answer",
    S.DECIDING: "being answered",
    S.ACCEPTED: "accepted",
    S.REFUSED: "refused",
    S.DECIDED_BY_LAZADA: "decided by Lazada",
    S.ANSWERED_ELSEWHERE: "answered outside Slack",
    S.NEEDS_ATTENTION: "outcome unknown, being checked",
}


def state_words(request: BuyerRequest) -> str:
    """Where the request stands, in words (never the status's internal name)."""
    if request.status is S.ANSWERED_ELSEWHERE and request.agreed is None:
        return "withdrawn or closed by Lazada"
    return _STATES[request.status]


def _fallback(request: BuyerRequest, store_label: str) -> str:
    text = (
        f"Buyer cancellation request on order {escape(request.order_id)} in {escape(oneline(store_label))} "
        f"({state_words(request)}): {plural(request.item_count, 'item')}"
    )
    return truncate(text, FALLBACK_TEXT_LIMIT)


def render_buyer_request_card(
    request: BuyerRequest, *, now: datetime, tz: ZoneInfo, store_label: str, currency: str | None = None
) -> Message:
    """The card: order, items, the buyer's reason verbatim, the refund, the deadline; buttons only while open."""
    top: list[Block] = [
        HeaderBlock(text=plain(f"Buyer asks to cancel order {request.order_id}", HEADER_LIMIT)),
        section(
            f"*Store:* {escape(oneline(store_label))} · *Order:* {escape(request.order_id)} · "
            f"*Refund:* {refund_text(request.refund_total, currency)}"
        ),
        section(_reason(request)),
    ]
    bottom: list[Block] = []
    if request.status is S.OPEN and request.deadline is not None and request.deadline <= now:
        # Past the deadline, before the scan sees Lazada's decision: nothing can be sent, so no buttons.
        bottom.append(section(deadline_text(request, now=now, tz=tz)))
    elif request.status is S.OPEN:
        bottom.append(section(deadline_text(request, now=now, tz=tz)))
        bottom.append(
            ContextBlock(
                elements=[
                    mrkdwn(
                        "Accepting cancels the items at the buyer's request: it does not count against the store's "
                        "cancellation rate. Refusing needs one of Lazada's reasons, and the order must then be shipped."
                    )
                ]
            )
        )
        bottom.append(render_buyer_actions(request))
    else:
        bottom.append(section(stamp_text(request, tz=tz)))
        bottom += _answer(request)
    # One block stays free for the banner the gateway adds on the sandbox (bot.slack.gateway).
    room = MESSAGE_BLOCK_LIMIT - 1 - len(top) - len(bottom)
    listing: list[Block] = [
        SectionBlock(text=mrkdwn(t))
        for t in pack_lines([_line_text(li) for li in request.lines], room, noun="more items")
    ]
    return Message(text=_fallback(request, store_label), blocks=[*top, *listing, *bottom])


def _message(markup: str, fallback: str) -> Message:
    return Message(text=truncate(fallback, FALLBACK_TEXT_LIMIT), blocks=[section(markup)])


def render_buyer_settled_reply(request: BuyerRequest, *, tz: ZoneInfo) -> Message:
    """The one thread reply when a request settles: its outcome and Lazada's answer."""
    answer = f"\n{escape(truncate(request.lazada_answer.strip(), 1500))}" if request.lazada_answer else ""
    markup = f"{stamp_text(request, tz=tz)}{answer}"
    return _message(markup, f"Buyer cancellation request on order {request.order_id}: {state_words(request)}")


def render_buyer_reopened_reply(request: BuyerRequest) -> Message:
    """The thread reply when a decision whose outcome was unknown did not take: the request may be answered again."""
    markup = (
        f"🔁 Lazada shows the buyer's request on order {escape(request.order_id)} still open and undecided: the "
        "decision did not take. It can be answered again on the card."
    )
    return _message(markup, f"The buyer's request on order {request.order_id} can be answered again.")


def render_buyer_reminder(request: BuyerRequest, decider_ids: Sequence[str], *, now: datetime, tz: ZoneInfo) -> Message:
    """The reminder in the thread: who may answer, and how long is left before Lazada decides by itself."""
    mentions = " ".join(mention(i) for i in list(dict.fromkeys(decider_ids))[:_MENTIONS_SHOWN])
    left = time_left(request.deadline, now) if request.deadline else "soon"
    at = f" ({store_time(request.deadline, tz)})" if request.deadline else ""
    markup = (
        f"🔔 {mentions + ': ' if mentions else ''}the buyer's request to cancel order {escape(request.order_id)} "
        f"still waits for an answer. Lazada decides by itself {left}{at}."
    )
    return _message(markup, f"Reminder: the buyer's request on order {request.order_id} waits for an answer.")
