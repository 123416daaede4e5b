"""The App Home tab: what waits for an approver, the person's own requests, recent outcomes and store rates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.buyer.models import BuyerRequest
from bot.digest.models import IndicatorReading
from bot.domain import RequestStatus
from bot.slack.render import text
from bot.slack.render.buyer import deadline_text, render_buyer_actions
from bot.slack.render.ids import REQUEST_WITHDRAW, ButtonValue
from bot.slack.render.request_message import STATUS_ICONS, STATUS_WORDS, order_scope, render_request_actions
from bot.slack.render.text import message_link
from bot.workflow.models import RateProjection, RequestCard

__all__ = ["BUYER_SHOWN", "RECENT_SHOWN", "OpenBuyerRequest", "render_home"]

RECENT_SHOWN = 20
PENDING_SHOWN = 12
MINE_WITH_BUTTON = 8
MINE_SHOWN = 20
LIST_BLOCKS = 5
BUYER_SHOWN = 8


@dataclass(frozen=True)
class OpenBuyerRequest:
    """A buyer's cancellation request waiting for an answer, with the store it is shown for."""

    request: BuyerRequest
    store_label: str
    tz: ZoneInfo


def _summary(card: RequestCard) -> str:
    return (
        f"*{text.escape(card.request_id)}* · {text.escape(text.oneline(card.store_label))} · "
        f"{text.plural(card.item_count, 'item')} of {order_scope(card)} · "
        f"“{text.escape(text.oneline(card.reason.reason_name))}”"
    )


def _line(card: RequestCard) -> str:
    decided = f" by {text.user(card.decided_by)}" if card.decided_by else ""
    return (
        f"• {STATUS_ICONS[card.status]} {_summary(card)} · {STATUS_WORDS[card.status]}{decided} · "
        f"requested by {text.user(card.requester_id)} {text.when(card.created_at)}"
    )


def _pending_for_approver(cards: Sequence[RequestCard], now: datetime) -> list[Block]:
    blocks: list[Block] = [text.section(f"*Waiting for your approval ({len(cards)})*")]
    if not cards:
        blocks.append(ContextBlock(elements=[text.mrkdwn("Nothing is waiting for you.")]))
        return blocks
    for card in cards[:PENDING_SHOWN]:
        justification = text.escape(text.truncate(text.oneline(card.justification), 300))
        blocks.append(
            text.section(
                f"{_summary(card)}\nFrom {text.user(card.requester_id)}: {justification}\n"
                f"Expires {text.when(card.expires_at)} ({text.relative(card.expires_at, now)})"
            )
        )
        # Home views have no message to update: the handler finds the request's message from the request id.
        blocks.append(render_request_actions(card, withdraw=False, block_id=None))
    if len(cards) > PENDING_SHOWN:
        more = len(cards) - PENDING_SHOWN
        blocks.append(ContextBlock(elements=[text.mrkdwn(f"…and {more} more in the approval channel.")]))
    return blocks


def _buyer_line(open_request: OpenBuyerRequest, now: datetime) -> str:
    request = open_request.request
    names = [
        text.escape(text.truncate(text.oneline(line.item_name or line.sku or line.order_item_id), 60))
        for line in request.lines[:5]
    ]
    more = f" and {len(request.lines) - 5} more" if len(request.lines) > 5 else ""
    reason = (
        f"“{text.escape(text.truncate(text.oneline(request.buyer_reason), 200))}”"
        if request.buyer_reason and request.buyer_reason.strip()
        else "no reason given"
    )
    card = ""
    if request.channel_id and request.message_ts:
        card = f" · <{message_link(request.channel_id, request.message_ts)}|card>"
    return (
        f"*Order {text.escape(request.order_id)}* · {text.escape(text.oneline(open_request.store_label))} · "
        f"{text.plural(request.item_count, 'item')}: {', '.join(names)}{more} · buyer's reason {reason}{card}\n"
        f"{deadline_text(request, now=now, tz=open_request.tz)}"
    )


def _buyer_requests(requests: Sequence[OpenBuyerRequest], now: datetime) -> list[Block]:
    """Buyers' requests waiting for an answer, soonest deadline first, each with Accept and Refuse."""
    blocks: list[Block] = [text.section(f"*Buyers' cancellation requests waiting for an answer ({len(requests)})*")]
    if not requests:
        blocks.append(ContextBlock(elements=[text.mrkdwn("No buyer is waiting for an answer.")]))
        return blocks
    for open_request in requests[:BUYER_SHOWN]:
        blocks.append(text.section(_buyer_line(open_request, now)))
        # The card's buttons without its block id: block ids must be unique within a view.
        card = render_buyer_actions(open_request.request)
        blocks.append(ActionsBlock(elements=[e for e in card.elements if isinstance(e, ButtonElement)]))
    if len(requests) > BUYER_SHOWN:
        more = len(requests) - BUYER_SHOWN
        blocks.append(ContextBlock(elements=[text.mrkdwn(f"…and {more} more in the approval channel.")]))
    return blocks


def _mine(cards: Sequence[RequestCard], now: datetime) -> list[Block]:
    blocks: list[Block] = [text.section(f"*Your requests ({len(cards)})*")]
    if not cards:
        blocks.append(ContextBlock(elements=[text.mrkdwn("You have no cancellation requests.")]))
        return blocks
    pending = [c for c in cards if c.status is RequestStatus.PENDING][:MINE_WITH_BUTTON]
    for card in pending:
        blocks.append(
            SectionBlock(
                text=text.mrkdwn(
                    f"• {STATUS_ICONS[card.status]} {_summary(card)} · waiting for approval, "
                    f"expires {text.relative(card.expires_at, now)}"
                ),
                accessory=ButtonElement(
                    text=PlainTextObject(text="Withdraw"),
                    action_id=REQUEST_WITHDRAW,
                    value=ButtonValue(request_id=card.request_id).pack(),
                ),
            )
        )
    shown = {c.request_id for c in pending}
    rest = [_line(c) for c in cards if c.request_id not in shown][:MINE_SHOWN]
    blocks += [text.section(t) for t in text.pack_lines(rest, LIST_BLOCKS, noun="more")]
    return blocks


def _recent(cards: Sequence[RequestCard]) -> list[Block]:
    blocks: list[Block] = [text.section("*Recent outcomes*")]
    if not cards:
        blocks.append(ContextBlock(elements=[text.mrkdwn("No request has been decided yet.")]))
        return blocks
    lines = [_line(c) for c in cards[:RECENT_SHOWN]]
    return blocks + [text.section(t) for t in text.pack_lines(lines, LIST_BLOCKS, noun="more")]


def _rate_line(label: str, rate: RateProjection | None) -> str:
    name = text.escape(text.oneline(label))
    if rate is None:
        return f"• *{name}*: not computed yet"
    icon = "🛑" if rate.rate >= rate.limit_rate else "⚠️" if rate.rate >= rate.warning_rate else "✅"
    return (
        f"• {icon} *{name}*: {text.percent(rate.rate)} seller-fault cancellations "
        f"(warning {text.percent(rate.warning_rate)}, limit {text.percent(rate.limit_rate)}) · "
        f"{text.escape(text.oneline(rate.status))}"
    )


def _indicators_line(label: str, reading: IndicatorReading | None) -> str:
    """A store's indicators from Lazada in one line: each one's score, target and whether it is met."""
    name = text.escape(text.oneline(label))
    if reading is None or reading.error or not reading.indicators:
        why = "not read today" if reading is None else "could not be read" if reading.error else "none returned"
        return f"• *{name}* — Lazada's indicators: {why}"
    marks = {True: "✅", False: "⚠️", None: "·"}
    parts = [
        f"{marks[i.respected]} {text.escape(text.oneline(i.name))} {text.escape(text.oneline(i.score or '?'))}"
        + (f" (target {text.escape(text.oneline(i.target))})" if i.target else "")
        for i in reading.indicators
    ]
    return f"• *{name}* — Lazada's indicators: " + "; ".join(parts)


def render_home(
    *,
    pending_for_approver: list[RequestCard],
    my_requests: list[RequestCard],
    recent: list[RequestCard],
    store_rates: list[tuple[str, RateProjection | None]],
    is_approver: bool,
    now: datetime,
    store_indicators: Sequence[tuple[str, IndicatorReading | None]] = (),
    buyer_requests: Sequence[OpenBuyerRequest] | None = None,
) -> View:
    """The Home tab: approvers see pending requests with buttons; everyone sees their requests, outcomes, rates.

    ``buyer_requests`` are the open buyer cancellation requests the person may answer (None: not one of those who
    may, and the section is left out).
    """
    blocks: list[Block] = [
        HeaderBlock(text=text.plain("Order cancellations")),
        ContextBlock(
            elements=[
                text.mrkdwn(
                    "Run `/cancel-order &lt;order number&gt;` to ask for a cancellation; a second person approves it. "
                    "`/cancel-order help` explains the rest."
                )
            ]
        ),
    ]
    if buyer_requests:
        blocks += [DividerBlock(), *_buyer_requests(buyer_requests, now)]
    if is_approver:
        blocks += [DividerBlock(), *_pending_for_approver(pending_for_approver, now)]
    blocks += [DividerBlock(), *_mine(my_requests, now)]
    blocks += [DividerBlock(), *_recent(recent)]
    rate_lines = [_rate_line(label, rate) for label, rate in store_rates]
    blocks += [DividerBlock(), text.section("*Store cancellation rates*")]
    if rate_lines:
        blocks += [text.section(t) for t in text.pack_lines(rate_lines, LIST_BLOCKS, noun="more stores")]
    else:
        blocks.append(ContextBlock(elements=[text.mrkdwn("No store is configured.")]))
    indicator_lines = [_indicators_line(label, reading) for label, reading in store_indicators]
    if indicator_lines:
        blocks += [
            text.section(text.truncate(t, 3000))
            for t in text.pack_lines(indicator_lines, LIST_BLOCKS, noun="more stores")
        ]
    blocks.append(ContextBlock(elements=[text.mrkdwn(f"Updated {text.when(now)}")]))
    return text.check_view(View(type="home", blocks=blocks))
