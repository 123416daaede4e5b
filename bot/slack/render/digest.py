"""The daily digest as a Slack message, and its short ephemeral form for `/cancel-order digest`.

On the sandbox the gateway marks whatever it sends, so nothing here knows about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock, SectionBlock

from bot.buyer.models import BuyerRequestCounts
from bot.digest.models import Activity, DigestReport, Figures, Indicator, NamedCount, RateStatus
from bot.slack.render.text import (
    FALLBACK_TEXT_LIMIT,
    HEADER_LIMIT,
    Message,
    agree,
    escape,
    joined,
    mrkdwn,
    oneline,
    percent,
    plain,
    plural,
    truncate,
    user,
    when,
)

__all__ = ["ESTIMATE_NOTE", "render_digest", "render_digest_ephemeral"]

ESTIMATE_NOTE = (
    "This is the bot's estimate of Lazada's own figure, computed from the orders Lazada's API returns "
    "(seller fault: cancelled by the seller, or by Lazada for a missed shipping deadline). "
    "The number in Seller Center is the one that counts."
)
_STATUS_ICONS = {RateStatus.OK: "✅", RateStatus.WARNING: "⚠️", RateStatus.OVER_LIMIT: "🛑"}
_NAMES_SHOWN = 10
_UNCHANGED = 0.00005


def _day(day: date) -> str:
    return day.strftime("%d %b %Y").lstrip("0")


def _span(figures: Figures) -> str:
    return f"{_day(figures.first_day)} to {_day(figures.last_day)}"


def _label(report: DigestReport) -> str:
    return escape(oneline(report.store_label))


def _change(change: float | None, before: Figures | None) -> str:
    """A change in words with its direction; a higher rate is worse."""
    if change is None or before is None:
        return "not known yet"
    if abs(change) < _UNCHANGED:
        return f"→ unchanged (was {percent(before.rate)})"
    arrow, word = ("↑", "up") if change > 0 else ("↓", "down")
    return f"{arrow} {word} {abs(change) * 100:.2f} pp (was {percent(before.rate)})"


def _headline(report: DigestReport) -> str:
    window = report.window
    return (
        f"{_STATUS_ICONS[report.status]} *{percent(window.rate)}* estimated seller-fault cancellation rate — "
        f"*{report.status.label}*\n"
        f"{window.cancelled_items} of {plural(window.ordered_items, 'item')} cancelled for seller fault, in orders "
        f"created {_span(window)} ({escape(report.timezone)} days)."
    )


def _thresholds(report: DigestReport) -> list[str]:
    t = report.thresholds
    return [
        f"*vs yesterday*\n{_change(report.change_vs_yesterday, report.yesterday)}",
        f"*vs a week ago*\n{_change(report.change_vs_week_ago, report.week_ago)}",
        f"*Thresholds*\nwarning {percent(t.warning_rate)} · limit {percent(t.limit_rate)}",
        f"*The limit applies from*\n{plural(t.min_cancelled_items, 'cancelled item')}",
    ]


def _by_initiator(report: DigestReport) -> str:
    """The window's cancelled items per initiator, and which initiators the estimate counts as seller fault."""
    counted = joined(list(report.seller_fault_initiators)) or "none"
    parts = [
        f"{escape(oneline(c.initiator or '(not given)'))} {c.items}" + (" (seller fault)" if c.seller_fault else "")
        for c in report.by_initiator[:_NAMES_SHOWN]
    ]
    more = len(report.by_initiator) - _NAMES_SHOWN
    listed = "; ".join(parts) + (f" and {more} more" if more > 0 else "") if parts else "no cancelled items"
    return f"*Cancelled items by initiator:* {listed}\nCounted as seller fault: {counted}."


def _indicator_line(indicator: Indicator) -> str:
    verdict = {True: "✅ target met", False: "⚠️ target missed", None: "target not stated"}[indicator.respected]
    score = escape(oneline(indicator.score or "no score"))
    target = f" (target {escape(oneline(indicator.target))})" if indicator.target else ""
    return f"• {escape(oneline(indicator.name))}: {score}{target} · {verdict}"


def _indicators(report: DigestReport) -> str:
    """Lazada's own indicators, the cancellation one beside the estimate; or one line saying why there are none."""
    problem = report.indicators_problem
    if problem is not None or report.indicators is None:
        return f"*Lazada's own indicators:* {escape(problem or '')}"
    lines = ["*Lazada's own indicators*"]
    lines += [_indicator_line(i) for i in report.indicators.indicators[:_NAMES_SHOWN]]
    more = len(report.indicators.indicators) - _NAMES_SHOWN
    if more > 0:
        lines.append(f"and {more} more")
    indicator, difference = report.cancellation_indicator, report.indicator_difference
    if indicator is not None and difference is not None and report.cancellation_indicator_rate is not None:
        lines.append(
            f"Lazada's {escape(oneline(indicator.name))} is {percent(report.cancellation_indicator_rate)}; the "
            f"estimate ({percent(report.rate)}) differs by {difference * 100:+.2f} pp."
        )
    elif indicator is not None:
        lines.append(f"Lazada's {escape(oneline(indicator.name))} cannot be compared with the estimate as a rate.")
    return "\n".join(lines)


def _pipeline(report: DigestReport) -> str:
    pipeline = report.pipeline
    return (
        f"*In the pipeline* — orders created {_span(pipeline)}, which Lazada has not counted yet\n"
        f"{plural(pipeline.cancelled_items, 'seller-fault cancelled item')} of {pipeline.ordered_items} ordered. "
        f"Once these orders are counted the rate will be about *{percent(report.projected.rate)}* "
        f"({_STATUS_ICONS[report.projected_status]} {report.projected_status.label}), if nothing else changes."
    )


def _counts(activity: Activity) -> str:
    parts = [
        plural(activity.requests, "request"),
        f"{activity.approved} approved",
        f"{activity.executed} executed",
        f"{activity.rejected} rejected",
        f"{activity.withdrawn} withdrawn",
        f"{activity.expired} expired",
        f"{activity.failed} failed",
    ]
    if activity.needs_attention:
        parts.append(f"{activity.needs_attention} need attention")
    parts.append(f"{activity.pending} still pending")
    if activity.pending_at_lazada:
        parts.append(f"{plural(activity.pending_at_lazada, 'cancellation')} pending at Lazada")
    return " · ".join(parts)


def _people(counts: Sequence[NamedCount]) -> str:
    shown = [f"{user(c.name)} {c.count}" for c in counts[:_NAMES_SHOWN]]
    more = len(counts) - _NAMES_SHOWN
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _activity(activity: Activity) -> str:
    lines = [f"*The bot, last 24 h*\n{_counts(activity)}"]
    if activity.by_reason:
        lines.append("*By reason:* " + joined([f"{c.name} {c.count}" for c in activity.by_reason], _NAMES_SHOWN))
    if activity.by_requester:
        lines.append(f"*By requester:* {_people(activity.by_requester)}")
    if activity.by_approver:
        approvers = [
            f"{user(a.approver_id)} {a.approved} approved" + (f", {a.rejected} rejected" if a.rejected else "")
            for a in activity.by_approver[:_NAMES_SHOWN]
        ]
        more = len(activity.by_approver) - _NAMES_SHOWN
        lines.append("*By approver:* " + "; ".join(approvers) + (f" and {more} more" if more > 0 else ""))
    return "\n".join(lines)


def _buyer_requests(counts: BuyerRequestCounts) -> str:
    """Buyers' cancellation requests of the last 24 h, and the seller-fault cancellations accepting them avoided."""
    parts = [
        f"{counts.received} received",
        f"{counts.accepted} accepted",
        f"{counts.refused} refused",
        f"{counts.decided_by_lazada} decided by Lazada",
    ]
    if counts.answered_elsewhere:
        parts.append(f"{counts.answered_elsewhere} answered outside Slack")
    spared = counts.items_spared
    return (
        "*Buyers' cancellation requests, last 24 h*\n"
        + " · ".join(parts)
        + f"\n🛡️ *{plural(spared, 'seller-fault cancellation')} avoided:* "
        + f"{agree(spared, 'an item was', f'{spared} items were')} cancelled at the buyer's request, which does not "
        + "count against the rate."
    )


def _footer(report: DigestReport) -> list[str]:
    notes = [ESTIMATE_NOTE]
    if report.synced_at is not None:
        notes.append(f"Orders read from Lazada at {when(report.synced_at)}.")
    if report.unreadable_orders:
        count = len(report.unreadable_orders)
        named = joined(list(report.unreadable_orders), _NAMES_SHOWN)
        notes.append(
            f"⚠️ {plural(count, 'order')} could not be read and {'is' if count == 1 else 'are'} left out of the "
            f"figures: {named}."
        )
    if not report.complete:
        unread = report.window.unread_orders + report.pipeline.unread_orders
        notes.append(
            f"⚠️ {plural(unread, 'order')} with cancelled items could not be read yet, so the rate may be low; "
            "the next sync tries again."
        )
    return notes


def _fallback(report: DigestReport) -> str:
    text = (
        f"{_label(report)}: estimated seller-fault cancellation rate {percent(report.rate)} "
        f"({report.status.label}); {percent(report.projected.rate)} once the last 7 days are counted."
    )
    return truncate(text, FALLBACK_TEXT_LIMIT)


def render_digest(report: DigestReport) -> Message:
    """The daily digest: the rate and its changes, the status, the pipeline, the bot's last 24 h; an estimate."""
    blocks: list[Block] = [
        HeaderBlock(text=plain(f"Cancellation rate · {oneline(report.store_label)}", HEADER_LIMIT)),
        SectionBlock(text=mrkdwn(_headline(report)), fields=[mrkdwn(field) for field in _thresholds(report)]),
        SectionBlock(text=mrkdwn(_by_initiator(report))),
        SectionBlock(text=mrkdwn(truncate(_indicators(report), 3000))),
        DividerBlock(),
        SectionBlock(text=mrkdwn(_pipeline(report))),
        DividerBlock(),
        SectionBlock(text=mrkdwn(_activity(report.activity))),
    ]
    if report.buyer_requests is not None:
        blocks.append(SectionBlock(text=mrkdwn(_buyer_requests(report.buyer_requests))))
    blocks.append(ContextBlock(elements=[mrkdwn(note) for note in _footer(report)]))
    return Message(text=_fallback(report), blocks=blocks)


def render_digest_ephemeral(report: DigestReport) -> Message:
    """The short answer to `/cancel-order digest [store]`: the rate, its direction and the pipeline, an estimate."""
    window = report.window
    text = (
        f"{_STATUS_ICONS[report.status]} *{_label(report)}*: *{percent(window.rate)}* estimated seller-fault "
        f"cancellation rate ({report.status.label}; {window.cancelled_items} of {window.ordered_items} items, "
        f"orders of {_span(window)}).\n"
        f"Since yesterday: {_change(report.change_vs_yesterday, report.yesterday)}. "
        f"In the pipeline: {plural(report.pipeline.cancelled_items, 'seller-fault cancelled item')} → about "
        f"{percent(report.projected.rate)} once counted."
    )
    return Message(
        text=_fallback(report),
        blocks=[SectionBlock(text=mrkdwn(text)), ContextBlock(elements=[mrkdwn(ESTIMATE_NOTE)])],
    )
