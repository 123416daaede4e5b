"""Thread replies about a request and the short ephemeral answers people get when they click or type."""

from __future__ import annotations

import re
from collections.abc import Sequence

from slack_sdk.models.blocks import Block, SectionBlock

from bot.domain import DomainError, ItemAlreadyRequestedError, OrderStatus, RequestNotFoundError, RequestStatus
from bot.lazada.errors import LazadaError
from bot.slack.render.request_message import OUTCOME_ICONS, PENDING_AT_LAZADA, order_scope, status_text
from bot.slack.render.text import (
    FALLBACK_TEXT_LIMIT,
    Message,
    escape,
    joined,
    mention,
    message_link,
    mrkdwn,
    oneline,
    pack_lines,
    plural,
    tip_text,
    truncate,
    user,
    when,
)
from bot.workflow.errors import (
    AlreadyApprovedError,
    AlreadyDecidedError,
    NotAnApproverError,
    NotRequesterError,
    SelfApprovalError,
)
from bot.workflow.models import OrderLine, RequestCard

__all__ = [
    "COMMAND_NOT_UNDERSTOOD",
    "COMMAND_UNREADABLE",
    "DIGEST_WORKING",
    "already_approved",
    "already_decided",
    "already_requested",
    "answer_for",
    "approval_recorded",
    "digest_failed",
    "error_for_person",
    "form_not_opened",
    "form_not_shown",
    "not_an_approver",
    "only_requester_can_withdraw",
    "reject_form_not_opened",
    "render_cancel_pending_reply",
    "render_ephemeral",
    "render_expired_reply",
    "render_needs_attention_reply",
    "render_order_late_reply",
    "render_outcome_reply",
    "render_rejected_reply",
    "render_reminder",
    "render_withdrawn_reply",
    "request_not_found",
    "request_posted",
    "self_approval",
    "sentence_for",
]

_DETAIL_BLOCKS = 10
_MENTIONS_SHOWN = 30
_CHANNEL_ID = re.compile(r"^[CDG][A-Z0-9]{2,30}$")


def _message(markup: str, fallback: str, extra: Sequence[Block] = ()) -> Message:
    return Message(
        text=truncate(fallback, FALLBACK_TEXT_LIMIT),
        blocks=[SectionBlock(text=mrkdwn(markup)), *extra],
    )


def _sections(texts: Sequence[str]) -> list[Block]:
    return [SectionBlock(text=mrkdwn(t)) for t in texts]


def _ref(card: RequestCard, word: str = "request") -> str:
    return f"{word} *{escape(card.request_id)}* ({plural(card.item_count, 'item')} of {order_scope(card)})"


def _plain_ref(card: RequestCard, word: str = "request") -> str:
    return f"{word} {escape(card.request_id)}"


def _order_outcome_line(order: OrderLine) -> str:
    line = f"• {OUTCOME_ICONS[order.status]} *{escape(oneline(order.order_id))}*"
    if order.outcome_tip_content:
        line += f" — {escape(truncate(oneline(order.outcome_tip_content), 300))}"
    if order.error:
        line += f" — {escape(truncate(oneline(order.error), 300))}"
    return line


def _details(card: RequestCard) -> list[Block]:
    if len(card.orders) == 1:
        order = card.orders[0]
        blocks: list[Block] = []
        if order.outcome_tip_content:
            blocks += _sections([tip_text(order.outcome_tip_content, order.outcome_tip_type)])
        if order.error:
            blocks += _sections([f"❌ {escape(order.error.strip())}"])
        return blocks
    # Orders that went well need no line of their own: the summary counts them.
    unusual = [o for o in card.orders if o.status is not OrderStatus.EXECUTED]
    if not unusual:
        return []
    return _sections(pack_lines([_order_outcome_line(o) for o in unusual], _DETAIL_BLOCKS, noun="more orders"))


def _restock(card: RequestCard, orders: Sequence[OrderLine] | None = None) -> list[Block]:
    if not card.reason.zeroes_stock:
        return []
    cancelled = [
        i for o in (card.orders if orders is None else orders) if o.status is OrderStatus.EXECUTED for i in o.items
    ]
    if not cancelled:
        return []
    skus = list(dict.fromkeys(i.sku or i.name for i in cancelled))
    return _sections(
        [
            f"🔁 *Restock reminder:* “{escape(oneline(card.reason.reason_name))}” made Lazada set the stock to 0. "
            f"Please restore the stock of SKU {joined(skus, shown=30)} in Seller Center."
        ]
    )


def render_outcome_reply(card: RequestCard) -> Message:
    """The thread reply to the requester once a request has run: what was cancelled, Lazada's words, restocking."""
    if card.status is RequestStatus.NEEDS_ATTENTION:
        return render_needs_attention_reply(card)
    requester = user(card.requester_id)
    done = sum(len(o.items) for o in card.orders if o.status is OrderStatus.EXECUTED)
    if card.status is RequestStatus.EXECUTED:
        markup = f"{requester} ✅ Your {_ref(card)} is done: {plural(done, 'item')} cancelled on Lazada."
        fallback = f"Your {_plain_ref(card)} is done: {plural(done, 'item')} cancelled on Lazada."
    elif card.status is RequestStatus.FAILED:
        note = escape(truncate(card.decision_note.strip(), 1500)) if card.decision_note else ""
        markup = f"{requester} ❌ Your {_ref(card)} failed" + (f": {note}" if note else ".")
        if done:
            markup += f" Cancelled nonetheless: {plural(done, 'item')}."
        fallback = f"Your {_plain_ref(card)} failed."
    else:
        markup = f"{requester} {status_text(card)}"
        fallback = f"Update on {_plain_ref(card)}: {card.status.value.replace('_', ' ')}."
    if len(card.orders) > 1:
        counts = {s: sum(1 for o in card.orders if o.status is s) for s in OrderStatus}
        failed = counts[OrderStatus.FAILED]
        tally = f"{counts[OrderStatus.EXECUTED]}/{len(card.orders)} orders cancelled" + (
            f", {failed} failed" if failed else ""
        )
        markup += f"\n{tally}"
        fallback += f" {tally}."
    return _message(markup, fallback, [*_details(card), *_restock(card)])


def render_cancel_pending_reply(card: RequestCard) -> Message:
    """The thread reply when Lazada accepted a cancellation it has not carried out yet: the bot keeps reading back."""
    waiting = [o.order_id for o in card.orders if o.status is OrderStatus.CANCEL_PENDING]
    which = f" (order {joined(waiting)})" if len(card.orders) > 1 else ""
    markup = (
        f"{user(card.requester_id)} 🔄 Your {_ref(card)} was approved and Lazada accepted the cancellation, but it is "
        f"still pending at Lazada{which}: the items do not show it carried out yet. The bot reads them again and "
        "replies here when they settle. Nothing is sent to Lazada again, so nothing is cancelled twice."
    )
    fallback = f"Your {_plain_ref(card)}: {PENDING_AT_LAZADA}."
    return _message(markup, fallback, _details(card) if len(card.orders) > 1 else [])


def render_order_late_reply(card: RequestCard, order: OrderLine) -> Message:
    """The thread reply about one order of a request that settled late: pending at Lazada, or unclear, until now."""
    number = escape(oneline(order.order_id))
    if order.status is OrderStatus.EXECUTED:
        markup = (
            f"{user(card.requester_id)} ✅ Order *{number}* of {_ref(card)} is now cancelled on Lazada: "
            f"{plural(len(order.items), 'item')}."
        )
        fallback = f"Order {number} of {_plain_ref(card)} is now cancelled on Lazada."
        return _message(markup, fallback, _restock(card, [order]))
    who = " ".join(dict.fromkeys(user(i) for i in (card.requester_id, *card.approver_ids)))
    why = f" {escape(truncate(order.error.strip(), 1500))}" if order.error else ""
    markup = f"{who} {OUTCOME_ICONS[order.status]} Order *{number}* of {_ref(card)} needs a person.{why}"
    return _message(markup, f"Order {number} of {_plain_ref(card)} needs attention: check it in Seller Center.")


def render_needs_attention_reply(card: RequestCard) -> Message:
    """The thread reply when the bot cannot know whether Lazada cancelled: a person must check Seller Center."""
    unsure = [o.order_id for o in card.orders if o.status in (OrderStatus.NEEDS_ATTENTION, OrderStatus.EXECUTING)] or [
        o.order_id for o in card.orders
    ]
    who = " ".join(dict.fromkeys(user(i) for i in (card.requester_id, *card.approver_ids)))
    markup = (
        f"{who} 🛠️ {_ref(card, 'Request')} needs a person: the bot could not confirm whether Lazada cancelled "
        f"the items. Please open order {joined(unsure)} in Seller Center and check the items' status. If they show "
        "as canceled nothing more is needed; otherwise cancel them there or make a new request. The bot will not "
        "try again on its own, so nothing is cancelled twice."
    )
    # What the bot saw (one order: its own words, e.g. a cancellation still pending at Lazada after a day).
    details = _details(card) if len(card.orders) > 1 or card.orders[0].error else []
    return _message(markup, f"{_plain_ref(card, 'Request')} needs attention: check it in Seller Center.", details)


def render_reminder(card: RequestCard, approver_ids: Sequence[str]) -> Message:
    """The one reminder to approvers, halfway to expiry."""
    ids = list(dict.fromkeys(i for i in approver_ids if i != card.requester_id))
    mentions = " ".join(mention(i) for i in ids[:_MENTIONS_SHOWN])
    markup = (
        f"🔔 {mentions + ': ' if mentions else ''}{_ref(card, 'Request')} from {user(card.requester_id)} is still "
        f"waiting for approval. It expires {when(card.expires_at)}."
    )
    return _message(markup, f"Reminder: {_plain_ref(card)} is waiting for approval.")


def render_expired_reply(card: RequestCard) -> Message:
    """The thread reply when a request expired without a decision."""
    again = ""
    if len(card.orders) == 1:
        again = f" Run `/cancel-order {escape(oneline(card.orders[0].order_id))}` again if it is still needed."
    markup = (
        f"{user(card.requester_id)} ⌛ Your {_ref(card)} expired {when(card.expires_at)} without a decision. "
        f"Nothing was cancelled.{again}"
    )
    return _message(markup, f"Your {_plain_ref(card)} expired; nothing was cancelled.")


def render_rejected_reply(card: RequestCard) -> Message:
    """The thread reply telling the requester who rejected the request and why."""
    note = escape(truncate(card.decision_note.strip(), 2000)) if card.decision_note else "no reason given"
    markup = (
        f"{user(card.requester_id)} 🚫 Your {_ref(card)} was rejected by {user(card.decided_by)}: {note}\n"
        "Nothing was cancelled."
    )
    return _message(markup, f"Your {_plain_ref(card)} was rejected; nothing was cancelled.")


def render_withdrawn_reply(card: RequestCard) -> Message:
    """The thread reply when the requester withdrew the request."""
    markup = (
        f"↩️ {_ref(card, 'Request')} was withdrawn by {user(card.decided_by or card.requester_id)}. "
        "Nothing was cancelled."
    )
    return _message(markup, f"{_plain_ref(card, 'Request')} was withdrawn; nothing was cancelled.")


def render_ephemeral(text: str) -> Message:
    """A short answer only the person who acted sees; ``text`` is escaped."""
    return _message(escape(text), escape(text))


def already_decided(status: RequestStatus, by: str | None) -> Message:
    """The answer to a click on a request someone already decided (or a second click by the same person)."""
    who = user(by) if by else "someone"
    match status:
        case RequestStatus.PENDING:
            return already_approved()
        case (
            RequestStatus.EXECUTING
            | RequestStatus.EXECUTED
            | RequestStatus.FAILED
            | RequestStatus.NEEDS_ATTENTION
            | RequestStatus.CANCEL_PENDING
        ):
            text = f"This request was already approved by {who}."
        case RequestStatus.REJECTED:
            text = f"This request was already rejected by {who}."
        case RequestStatus.WITHDRAWN:
            text = f"This request was already withdrawn by {who}."
        case RequestStatus.EXPIRED:
            text = "This request has expired; nothing can be decided on it any more."
    return _message(f"ℹ️ {text} Nothing changed.", f"{text} Nothing changed.")


def already_approved() -> Message:
    """The answer to an approver who clicks Approve again while a second approval is still needed."""
    text = "You have already approved this request; it needs another approver."
    return _message(f"ℹ️ {text}", text)


def not_an_approver() -> Message:
    """The answer to someone who is not an approver clicking Approve or Reject."""
    text = "Only an approver can approve or reject cancellation requests. Nothing changed."
    return _message(f"🔒 {text}", text)


def self_approval() -> Message:
    """The answer to a requester who tries to approve their own request."""
    text = "You can't approve your own request: a second person has to. Nothing changed."
    return _message(f"🔒 {text}", text)


def only_requester_can_withdraw() -> Message:
    """The answer to anyone but the requester clicking Withdraw."""
    text = "Only the person who made the request can withdraw it. Nothing changed."
    return _message(f"🔒 {text}", text)


def request_posted(request_id: str, channel_id: str) -> Message:
    """The requester's confirmation that the request is posted for approval."""
    where = f"<#{channel_id}>" if _CHANNEL_ID.match(channel_id) else "the approval channel"
    rid = escape(request_id)
    return _message(
        f"✅ Request *{rid}* is posted in {where} for approval. You can withdraw it there while it is pending.",
        f"Request {rid} is posted for approval.",
    )


def approval_recorded(request_id: str, approvals: int, required: int) -> Message:
    """The approver's confirmation when their approval counted and another approver is still needed."""
    return render_ephemeral(
        f"Your approval of {request_id} is recorded ({approvals} of {required}). "
        "It needs another approver before anything is cancelled."
    )


def form_not_opened(error: str | None) -> str:
    """Why the command's form did not open (the trigger expired, Slack failed), and what to do."""
    return f"Slack didn't let me open the form in time ({error}). Please run the command again."


def form_not_shown(error: str | None) -> Message:
    """The requester's private note when the open form could not be filled in."""
    return render_ephemeral(f"Slack didn't let me show the form ({error}). Please run the command again.")


def reject_form_not_opened(error: str | None) -> Message:
    """The approver's private note when the reject form did not open."""
    return render_ephemeral(f"Slack didn't open the reject form ({error}). Please click Reject again.")


def digest_failed(sentence: str) -> str:
    """The answer to `/cancel-order digest` when the rate cannot be worked out, and why."""
    return f"I couldn't work out the cancellation rate: {sentence}"


COMMAND_UNREADABLE = "I couldn't read that command. Please try again."
COMMAND_NOT_UNDERSTOOD = "I couldn't understand that."
DIGEST_WORKING = "Working out the cancellation rate…"


def request_not_found() -> Message:
    """The answer to a click on a request the bot does not know (any more)."""
    text = "That request does not exist (any more). Nothing changed."
    return _message(f"ℹ️ {text}", text)


def error_for_person(sentence: str) -> Message:
    """A failure told to a person in one plain sentence (the details are in the logs)."""
    text = escape(sentence.strip() or "Something went wrong.")
    return _message(f"⚠️ {text}", text)


def sentence_for(error: Exception) -> str:
    """The plain sentence a refusal or a Lazada failure says to the person (Lazada's says what to do).

    Only for the errors whose `str` is written for people (`DomainError`, `DigestError`) and `LazadaError`.
    """
    if isinstance(error, ItemAlreadyRequestedError):
        return already_requested(error)
    return error.user_message if isinstance(error, LazadaError) else str(error)


def already_requested(error: ItemAlreadyRequestedError) -> str:
    """Why a second request for an item was refused, with a link to the open request that holds it."""
    where = ""
    if error.channel_id and error.message_ts:
        where = f" ({message_link(error.channel_id, error.message_ts)})"
    return (
        f"Item {error.item_id} of order {error.order_id} is already in request {error.request_id}{where}, "
        "which is still open: decide on that one first. Nothing was submitted."
    )


def answer_for(error: DomainError | LazadaError) -> Message:
    """The ephemeral answer for a refusal (Slack markup is added here, never taken from the error's text)."""
    match error:
        case AlreadyDecidedError():
            return already_decided(RequestStatus(error.status), error.by)
        case AlreadyApprovedError():
            return already_approved()
        case SelfApprovalError():
            return self_approval()
        case NotAnApproverError():
            return not_an_approver()
        case NotRequesterError():
            return only_requester_can_withdraw()
        case RequestNotFoundError():
            return request_not_found()
    return error_for_person(sentence_for(error))
