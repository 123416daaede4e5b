"""The approval message in the approval channel: the request, its warnings, its buttons, and later its outcome."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)

from bot.domain import ApprovalReason, OrderStatus, RequestStatus
from bot.slack.render.ids import (
    REQUEST_ACTIONS_BLOCK,
    REQUEST_APPROVE,
    REQUEST_REJECT,
    REQUEST_WITHDRAW,
    ButtonValue,
)
from bot.slack.render.text import (
    FALLBACK_TEXT_LIMIT,
    FIELD_LIMIT,
    HEADER_LIMIT,
    MESSAGE_BLOCK_LIMIT,
    Message,
    agree,
    escape,
    item_names,
    item_text,
    joined,
    message_link,
    mrkdwn,
    oneline,
    pack_lines,
    percent,
    plain,
    plural,
    rate_text,
    ready_to_ship_text,
    section,
    tip_icon,
    tip_text,
    truncate,
    user,
    when,
)
from bot.workflow.models import OrderLine, RequestCard

__all__ = [
    "OUTCOME_ICONS",
    "PENDING_AT_LAZADA",
    "STATUS_ICONS",
    "STATUS_WORDS",
    "TippedOrder",
    "approvals_reason",
    "approvals_text",
    "order_scope",
    "order_scope_plain",
    "order_tips",
    "render_request_actions",
    "render_request_message",
    "status_text",
]

STATUS_ICONS: dict[RequestStatus, str] = {
    RequestStatus.PENDING: "🕐",
    RequestStatus.EXECUTING: "⏳",
    RequestStatus.EXECUTED: "✅",
    RequestStatus.FAILED: "❌",
    RequestStatus.NEEDS_ATTENTION: "🛠️",
    RequestStatus.CANCEL_PENDING: "🔄",
    RequestStatus.REJECTED: "🚫",
    RequestStatus.WITHDRAWN: "↩️",
    RequestStatus.EXPIRED: "⌛",
}
STATUS_WORDS: dict[RequestStatus, str] = {
    RequestStatus.PENDING: "waiting for approval",
    RequestStatus.EXECUTING: "approved, cancelling",
    RequestStatus.EXECUTED: "cancelled",
    RequestStatus.FAILED: "failed",
    RequestStatus.NEEDS_ATTENTION: "needs attention",
    RequestStatus.CANCEL_PENDING: "cancellation pending at Lazada",
    RequestStatus.REJECTED: "rejected",
    RequestStatus.WITHDRAWN: "withdrawn",
    RequestStatus.EXPIRED: "expired",
}
OUTCOME_ICONS: dict[OrderStatus, str] = {
    OrderStatus.PENDING: "🕐",
    OrderStatus.EXECUTING: "⏳",
    OrderStatus.EXECUTED: "✅",
    OrderStatus.FAILED: "❌",
    OrderStatus.NEEDS_ATTENTION: "🛠️",
    OrderStatus.CANCEL_PENDING: "🔄",
    OrderStatus.SKIPPED: "⏭️",
}
PENDING_AT_LAZADA = "cancellation pending at Lazada"
_RAN = frozenset(
    {
        RequestStatus.EXECUTING,
        RequestStatus.EXECUTED,
        RequestStatus.FAILED,
        RequestStatus.NEEDS_ATTENTION,
        RequestStatus.CANCEL_PENDING,
    }
)
_ACTIVE = frozenset({RequestStatus.PENDING, RequestStatus.EXECUTING})
# Blocks kept aside for everything that is not an item list, so the lists can use the rest of the 50.
_SIBLING_BLOCKS = 3
_TIP_BLOCKS = 2
_NOTE_LIMIT = 1500


def order_scope(card: RequestCard) -> str:
    """``order 123`` or ``12 orders`` (escaped), for sentences about a request."""
    if len(card.orders) == 1:
        return f"order {escape(oneline(card.orders[0].order_id))}"
    return plural(len(card.orders), "order")


def order_scope_plain(card: RequestCard) -> str:
    """``order 123`` or ``12 orders``, unescaped, for ``plain_text``."""
    if len(card.orders) == 1:
        return f"order {oneline(card.orders[0].order_id)}"
    return plural(len(card.orders), "order")


def _approvers(card: RequestCard) -> str:
    ids = list(card.approver_ids) or ([card.decided_by] if card.decided_by else [])
    return " and ".join(user(i) for i in ids) if ids else "an approver"


def approvals_text(card: RequestCard) -> str:
    """Approvals so far, e.g. ``1 of 2 approvals: <@U1>``."""
    text = f"{len(card.approver_ids)} of {card.required_approvals} approvals"
    if card.approver_ids:
        text += ": " + ", ".join(user(i) for i in card.approver_ids)
    return text


def _note(card: RequestCard) -> str:
    return escape(truncate(card.decision_note.strip(), _NOTE_LIMIT)) if card.decision_note else ""


def _orders_to_check(card: RequestCard) -> str:
    unsure = [o.order_id for o in card.orders if o.status in (OrderStatus.NEEDS_ATTENTION, OrderStatus.EXECUTING)]
    return joined(unsure or [o.order_id for o in card.orders])


def approvals_reason(card: RequestCard) -> str:
    """Why the request needs more than one approval, when its rate decided it ('' otherwise)."""
    basis = card.approval_basis
    if (
        card.required_approvals < 2
        or basis is None
        or basis.reason is not ApprovalReason.NEAR_RATE_LIMIT
        or basis.projected_rate is None
        or basis.warning_rate is None
    ):
        return ""
    where = "above" if basis.projected_rate > basis.warning_rate else "at"
    return (
        f"Needs {card.required_approvals} approvals: this cancellation, with the store's other open requests, "
        f"takes the rate to {percent(basis.projected_rate)}, {where} the {percent(basis.warning_rate)} warning."
    )


def status_text(card: RequestCard) -> str:
    """The stamp that says where the request stands, in ``mrkdwn``."""
    icon = STATUS_ICONS[card.status]
    note = _note(card)
    match card.status:
        case RequestStatus.PENDING:
            if card.required_approvals > 1 or card.approver_ids:
                why = approvals_reason(card)
                return f"{icon} *Waiting for approval* · {approvals_text(card)} (the requester cannot approve)" + (
                    f"\n{why}" if why else ""
                )
            return f"{icon} *Waiting for approval* by someone other than the requester"
        case RequestStatus.EXECUTING:
            return f"{icon} *Approved by {_approvers(card)}, cancelling…*"
        case RequestStatus.EXECUTED:
            return f"{icon} *Cancelled on Lazada* · approved by {_approvers(card)}"
        case RequestStatus.FAILED:
            why = note or "Lazada did not cancel the items; the details per order are below."
            return f"{icon} *Cancellation failed* · approved by {_approvers(card)}\n{why}"
        case RequestStatus.CANCEL_PENDING:
            waiting = [o.order_id for o in card.orders if o.status is OrderStatus.CANCEL_PENDING]
            which = f" for order {joined(waiting)}" if len(card.orders) > 1 else ""
            return (
                f"{icon} *Cancellation pending at Lazada*{which} · approved by {_approvers(card)}\n"
                "Lazada accepted the cancellation, but its items do not show it carried out yet. The bot reads them "
                "again (after 1, 2, 4 … minutes) and updates this message when they settle; it never sends the "
                "cancellation again."
            )
        case RequestStatus.NEEDS_ATTENTION:
            text = (
                f"{icon} *Needs attention:* the bot could not confirm whether Lazada cancelled the items. "
                f"Open order {_orders_to_check(card)} in Seller Center and check the items' status: if they show "
                "as canceled nothing more is needed; otherwise cancel them there or make a new request."
            )
            return f"{text}\n{note}" if note else text
        case RequestStatus.REJECTED:
            return f"{icon} *Rejected by {user(card.decided_by)}*" + (f": {note}" if note else "")
        case RequestStatus.WITHDRAWN:
            return f"{icon} *Withdrawn by {user(card.decided_by or card.requester_id)}*. Nothing was cancelled."
        case RequestStatus.EXPIRED:
            return f"{icon} *Expired* {when(card.expires_at)} without a decision. Nothing was cancelled."


def _fields(card: RequestCard, now: datetime) -> SectionBlock:
    store = escape(oneline(card.store_label))
    if card.store_label != card.store_code:
        store += f" ({escape(card.store_code)})"
    if len(card.orders) == 1:
        orders = f"*Order*\n{escape(oneline(card.orders[0].order_id))}"
    else:
        orders = f"*Orders*\n{len(card.orders)}"
    fields = [
        f"*Store*\n{store}",
        orders,
        f"*Items to cancel*\n{card.item_count}",
        f"*Reason*\n{escape(oneline(card.reason.reason_name))}",
        f"*Requested by*\n{user(card.requester_id)}",
    ]
    if card.status is RequestStatus.PENDING:
        # The message stays posted for hours, so "in 3 h" would go stale: Slack shows the date in each reader's zone.
        passed = " (passed; closing soon)" if now >= card.expires_at else ""
        fields.append(f"*Expires*\n{when(card.expires_at)}{passed}")
    else:
        fields.append(f"*Requested*\n{when(card.created_at)}")
    return SectionBlock(fields=[mrkdwn(f, FIELD_LIMIT) for f in fields])


def _shared_outcome_tip(card: RequestCard) -> tuple[str, str | None] | None:
    """Lazada's outcome tip when several orders got the very same one: shown once instead of on every line."""
    if len(card.orders) < 2 or card.status not in _RAN:
        return None
    tips = [
        (o.outcome_tip_content.strip(), o.outcome_tip_type)
        for o in card.orders
        if o.outcome_tip_content and o.outcome_tip_content.strip()
    ]
    if len(tips) < 2 or len(set(tips)) != 1:
        return None
    return tips[0]


def _order_line(order: OrderLine, *, outcome: bool, tip: bool = True) -> str:
    icon = f"{OUTCOME_ICONS[order.status]} " if outcome else ""
    line = f"• {icon}*{escape(oneline(order.order_id))}* — {plural(len(order.items), 'item')}: "
    line += item_names(order.items, shown=5)
    if outcome and tip and order.outcome_tip_content:
        line += f" — {tip_icon(order.outcome_tip_type)} {escape(truncate(oneline(order.outcome_tip_content), 300))}"
    if outcome and order.status is OrderStatus.CANCEL_PENDING:
        line += f" — {PENDING_AT_LAZADA}"
    if outcome and order.error:
        line += f" — {escape(truncate(oneline(order.error), 300))}"
    return line


def _item_lines(card: RequestCard) -> list[str]:
    outcome = card.status in _RAN
    if len(card.orders) == 1:
        return [f"*Items to cancel ({card.item_count})*", *(f"• {item_text(i)}" for i in card.orders[0].items)]
    title = f"*Orders and items to cancel ({plural(card.item_count, 'item')})*"
    tip = _shared_outcome_tip(card) is None
    return [title, *(_order_line(o, outcome=outcome, tip=tip) for o in card.orders)]


def _outcome_summary(card: RequestCard) -> str:
    counts = Counter(o.status for o in card.orders)
    total = len(card.orders)
    parts = [f"{counts[OrderStatus.EXECUTED]}/{total} cancelled"]
    for status, word in (
        (OrderStatus.FAILED, "failed"),
        (OrderStatus.CANCEL_PENDING, "pending at Lazada"),
        (OrderStatus.NEEDS_ATTENTION, "to check"),
        (OrderStatus.EXECUTING, "in progress"),
        (OrderStatus.PENDING, "waiting"),
        (OrderStatus.SKIPPED, "skipped"),
    ):
        if counts[status]:
            parts.append(f"{counts[status]} {word}")
    return "*Outcome:* " + ", ".join(parts)


def _answered(card: RequestCard) -> bool:
    """Whether Lazada answered the cancellation itself: its answer then stands for what it said when asked."""
    return card.status in _RAN and any(o.outcome_tip_content and o.outcome_tip_content.strip() for o in card.orders)


def _single_outcome(order: OrderLine) -> list[Block]:
    blocks: list[Block] = []
    if order.outcome_tip_content:
        blocks.append(section(tip_text(order.outcome_tip_content, order.outcome_tip_type)))
        if order.status is OrderStatus.EXECUTED and (order.outcome_tip_type or "").strip().lower() == "error":
            # Lazada's reference answer: an error tip on a cancel it applied. The items decided, so say so.
            blocks.append(section("✅ Lazada answered with an error tip, yet its items show the cancellation done."))
    if order.status is OrderStatus.CANCEL_PENDING:
        blocks.append(section(f"🔄 *{PENDING_AT_LAZADA.capitalize()}:* the items do not show it carried out yet."))
    if order.error:
        blocks.append(section(f"❌ {escape(order.error.strip())}"))
    return blocks


def _packages(order: OrderLine) -> str:
    ids = list(dict.fromkeys(i.package_id for i in order.siblings if i.package_id))
    return f"{agree(len(ids), 'package', 'packages')} {joined(ids)}"


def _repack_lines(card: RequestCard, orders: Sequence[OrderLine]) -> list[str]:
    """What repacking first does (or, once cancelled, did) to the packages, naming them and the items kept."""
    count = sum(len(o.siblings) for o in orders)
    if card.status is RequestStatus.EXECUTED:
        title = (
            f"📦 *Repacked first, then cancelled:* the {plural(count, 'other item')} sharing a package with the "
            f"cancelled ones {agree(count, 'was', 'were')} repacked before the cancellation, so "
            f"{agree(count, 'it stays', 'they stay')} "
            "in the order."
        )
    elif card.status in _ACTIVE:
        title = (
            f"📦 *Repack first:* the {plural(count, 'other item')} sharing a package with the selected ones "
            f"{agree(count, 'is', 'are')} repacked before the cancellation, so {agree(count, 'it stays', 'they stay')} "
            "in the order."
        )
    else:
        title = (
            f"📦 *Repack first* was asked for the {plural(count, 'other item')} sharing a package with the selected "
            "ones."
        )
    if len(orders) == 1:
        return [title, f"• {_packages(orders[0])}: {item_names(orders[0].siblings)}"]
    return [
        title,
        *(f"• *{escape(oneline(o.order_id))}*, {_packages(o)}: {item_names(o.siblings, shown=5)}" for o in orders),
    ]


def _siblings(card: RequestCard) -> list[Block]:
    with_siblings = [o for o in card.orders if o.siblings]
    if not with_siblings:
        return []
    count = sum(len(o.siblings) for o in with_siblings)
    if card.repack_first:
        return [section(t) for t in pack_lines(_repack_lines(card, with_siblings), _SIBLING_BLOCKS, noun="more orders")]
    title = (
        f"⚠️ *Also cancelled — same package:* Lazada cancels {plural(count, 'item')} that "
        f"{agree(count, 'was not selected, because it shares', 'were not selected, because they share')} a package "
        "with the selected ones:"
    )
    if len(with_siblings) == 1:
        lines = [title, f"• {item_names(with_siblings[0].siblings)}"]
    else:
        lines = [title]
        lines += [f"• *{escape(oneline(o.order_id))}*: {item_names(o.siblings, shown=5)}" for o in with_siblings]
    return [section(t) for t in pack_lines(lines, _SIBLING_BLOCKS, noun="more orders")]


class TippedOrder(Protocol):
    """An order with the tip Lazada gave for it (a draft's or a stored request's)."""

    @property
    def order_id(self) -> str:
        """The order."""

    @property
    def tip_content(self) -> str | None:
        """Lazada's tip, verbatim."""

    @property
    def tip_type(self) -> str | None:
        """Lazada's tip type."""


def order_tips(orders: Sequence[TippedOrder], *, width: int = 400) -> list[Block]:
    """Lazada's tips: once when every order got the same, else one line per order (within a few blocks)."""
    tips = [(o, o.tip_content.strip()) for o in orders if o.tip_content and o.tip_content.strip()]
    if not tips:
        return []
    distinct = {(text, o.tip_type) for o, text in tips}
    if len(distinct) == 1:
        text, tip_type = next(iter(distinct))
        return [section(tip_text(text, tip_type))]
    lines = ["*Lazada says:*"]
    lines += [
        f"• *{escape(oneline(o.order_id))}*: {tip_icon(o.tip_type)} {escape(truncate(oneline(text), width))}"
        for o, text in tips
    ]
    return [section(t) for t in pack_lines(lines, _TIP_BLOCKS, noun="more orders")]


def _stock_warning(card: RequestCard) -> list[Block]:
    if not card.reason.zeroes_stock:
        return []
    skus = list(dict.fromkeys(i.sku or i.name for o in card.orders for i in o.items))
    return [
        section(
            f"⚠️ *Stock goes to 0:* “{escape(oneline(card.reason.reason_name))}” makes Lazada set the stock of "
            f"SKU {joined(skus)} to 0. Restore it in Seller Center after the cancellation."
        )
    ]


def _ready_to_ship(card: RequestCard) -> list[Block]:
    ready = [i for o in card.orders for i in o.items if i.status == "ready_to_ship"]
    if not ready:
        return []
    return [section(ready_to_ship_text(ready, shown=10))]


def render_request_actions(
    card: RequestCard, *, withdraw: bool = True, block_id: str | None = REQUEST_ACTIONS_BLOCK
) -> ActionsBlock:
    """Approve (with a confirm dialog), Reject and, unless ``withdraw`` is False, Withdraw, all for this request."""
    value = ButtonValue(request_id=card.request_id).pack()
    items = plural(card.item_count, "item")
    confirm = ConfirmObject(
        title=PlainTextObject(text=f"Cancel {items} on Lazada?"),
        text=plain(
            f"This cancels {items} of {order_scope_plain(card)} in store {oneline(card.store_label)} for the reason "
            f"“{oneline(card.reason.reason_name)}”. Lazada cannot undo a cancellation.",
            300,
        ),
        confirm=PlainTextObject(text="Cancel the items"),
        deny=PlainTextObject(text="Go back"),
        style="danger",
    )
    buttons = [
        ButtonElement(
            text=PlainTextObject(text="Approve"),
            action_id=REQUEST_APPROVE,
            value=value,
            style="primary",
            confirm=confirm,
        ),
        ButtonElement(text=PlainTextObject(text="Reject"), action_id=REQUEST_REJECT, value=value),
    ]
    if withdraw:
        buttons.append(ButtonElement(text=PlainTextObject(text="Withdraw"), action_id=REQUEST_WITHDRAW, value=value))
    return ActionsBlock(block_id=block_id, elements=buttons)


def _fallback(card: RequestCard) -> str:
    state = STATUS_WORDS[card.status]
    text = (
        f"Cancellation request {escape(card.request_id)} ({state}): {plural(card.item_count, 'item')} of "
        f"{order_scope(card)} in {escape(oneline(card.store_label))}, "
        f"reason {escape(oneline(card.reason.reason_name))}"
    )
    return truncate(text, FALLBACK_TEXT_LIMIT)


def buyer_request_warning(card: RequestCard) -> list[Block]:
    """The warning to approvers when the buyer asked to cancel one of the orders: accepting that is the better way."""
    if not card.buyer_requests:
        return []
    lines = []
    for found in card.buyer_requests:
        link = ""
        if found.channel_id and found.message_ts:
            link = f" <{message_link(found.channel_id, found.message_ts)}|See the buyer's request>."
        lines.append(
            f"• Order *{escape(oneline(found.order_id))}*: the buyer asked to cancel "
            f"{plural(found.item_count, 'item')}.{link}"
        )
    lines[0] = (
        "🛒 *The buyer asked to cancel:* accepting the buyer's request on its card does not count against the "
        "store's cancellation rate; approving this seller-reason cancellation does.\n" + lines[0]
    )
    return [section(t) for t in pack_lines(lines, 3, noun="more orders")]


def render_request_message(card: RequestCard, *, now: datetime) -> Message:
    """The approval message for a request in any state; buttons only while it is pending."""
    top: list[Block] = [HeaderBlock(text=plain(f"Cancellation request {card.request_id}", HEADER_LIMIT))]
    top += [section(status_text(card)), _fields(card, now)]

    bottom: list[Block] = []
    if card.status in _RAN and len(card.orders) > 1:
        bottom.append(section(_outcome_summary(card)))
        shared = _shared_outcome_tip(card)
        if shared is not None:
            bottom.append(section(tip_text(*shared)))
    elif card.status in _RAN:
        bottom += _single_outcome(card.orders[0])
    bottom += _siblings(card)
    if card.status in _ACTIVE or card.status in {RequestStatus.EXECUTED, RequestStatus.CANCEL_PENDING}:
        bottom += _stock_warning(card)
    bottom.append(section(f"*Justification*\n{escape(card.justification.strip())}"))
    if not _answered(card):
        bottom += order_tips(card.orders)
    if card.status is RequestStatus.PENDING:
        bottom += buyer_request_warning(card)
    if card.status in _ACTIVE:
        bottom += _ready_to_ship(card)
        if card.rate is not None:
            bottom.append(section(rate_text(card.rate)))
    footer = f"Requested by {user(card.requester_id)} {when(card.created_at)}"
    bottom.append(ContextBlock(elements=[mrkdwn(footer)]))
    if card.status is RequestStatus.PENDING:
        bottom.append(render_request_actions(card))

    # One block stays free for the banner the gateway adds on the sandbox (bot.slack.gateway).
    room = MESSAGE_BLOCK_LIMIT - 1 - len(top) - len(bottom) - 2
    noun = "more items" if len(card.orders) == 1 else "more orders"
    listing = [section(t) for t in pack_lines(_item_lines(card), room, noun=noun)]
    blocks = [*top, DividerBlock(), *listing, DividerBlock(), *bottom]
    return Message(text=_fallback(card), blocks=blocks)
