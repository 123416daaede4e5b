"""What a person deciding a buyer's cancellation request sees besides its card: the refusal form, the offer in the
`/cancel-order` form, the modals that follow a decision, and the private answers to refused clicks.

The card itself (and its thread replies) is `bot.slack.render.buyer`'s. Everything here is pure: it renders a
`BuyerRequest` as stored, Lazada's refusal reasons, or a refusal of the domain.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    InputBlock,
    Option,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.buyer.errors import (
    BuyerRequestClosedError,
    BuyerRequestNotFoundError,
    DeadlinePassedError,
    MembershipUnknownError,
    NotAllowedToDecideError,
)
from bot.buyer.models import BuyerRequest, BuyerRequestStatus
from bot.domain import DomainError
from bot.lazada.errors import LazadaError
from bot.lazada.reverse import RefusalReason
from bot.slack.render.buyer import BUYER_ACCEPT, BUYER_REFUSE, deadline_text, render_buyer_actions
from bot.slack.render.form import SELECT_OPTION_LIMIT, modal_view
from bot.slack.render.text import (
    FALLBACK_TEXT_LIMIT,
    OPTION_TEXT_LIMIT,
    Message,
    escape,
    message_link,
    oneline,
    plain,
    plural,
    section,
    truncate,
    user,
)

__all__ = [
    "BUYER_ACCEPT",
    "BUYER_REASON",
    "BUYER_REASON_BLOCK",
    "BUYER_REASON_MISSING",
    "BUYER_REFUSE",
    "BUYER_REFUSE_FORM",
    "accept_actions",
    "buyer_answer_for",
    "buyer_decided_answer",
    "buyer_offer_blocks",
    "refusal_form_not_opened",
    "refusal_reasons_unread",
    "render_buyer_decided_modal",
    "render_buyer_not_decided_modal",
    "render_refusal_expired",
    "render_refusal_loading_modal",
    "render_refusal_modal",
    "render_refusal_sending_modal",
]

# The ids issue 11's contract names (they follow its words, not `bot.slack.render.ids`' dotted style). The card's
# buttons, `BUYER_ACCEPT` and `BUYER_REFUSE`, are `bot.slack.render.buyer`'s; the refusal form's are here.
BUYER_REFUSE_FORM = "buyer_refuse_form"
BUYER_REASON_BLOCK = "reason"
BUYER_REASON = "reason"
BUYER_REASON_MISSING = "Pick one of Lazada's reasons for refusing."
REFUSE_TITLE = "Refuse buyer's request"
ACCEPT_TEXT = "Accept the buyer's request"
REFUSAL_WARNING = (
    "⚠️ *If you refuse, the order stays and must be shipped:* pack it and hand it over within Lazada's shipping "
    "time, like any other order. Missing that deadline is a seller-fault cancellation."
)


def _items_text(request: BuyerRequest, shown: int = 10) -> str:
    names = [
        escape(truncate(oneline(line.item_name or line.sku or line.order_item_id), 60))
        + (f" (SKU {escape(truncate(oneline(line.sku), 40))})" if line.sku and line.item_name else "")
        for line in request.lines[:shown]
    ]
    more = len(request.lines) - shown
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _reason_text(request: BuyerRequest) -> str:
    if not request.buyer_reason or not request.buyer_reason.strip():
        return "the buyer gave no reason"
    return f"“{escape(truncate(request.buyer_reason.strip(), 500))}”"


def accept_actions(request: BuyerRequest) -> ActionsBlock:
    """The card's Accept button alone (the same confirm dialog), for the request form and App Home lists."""
    card = render_buyer_actions(request)
    accept = [e for e in card.elements if isinstance(e, ButtonElement) and e.action_id == BUYER_ACCEPT]
    return ActionsBlock(elements=accept)


def buyer_offer_blocks(requests: Sequence[BuyerRequest], *, now: datetime, tz: ZoneInfo) -> list[Block]:
    """The top of the `/cancel-order` form when the buyer asked to cancel: accept that instead, with a link to the card.

    Only open requests are offered; one being decided right now is named without a button.
    """
    blocks: list[Block] = []
    for request in requests[:3]:
        link = ""
        if request.channel_id and request.message_ts:
            link = f" <{message_link(request.channel_id, request.message_ts)}|See the request's card>."
        blocks.append(
            section(
                f"🛒 *The buyer asked to cancel {plural(request.item_count, 'item')} of this order:* "
                f"{_items_text(request)}. Reason: {_reason_text(request)}.\n"
                f"{deadline_text(request, now=now, tz=tz)}{link}"
            )
        )
        if request.status is BuyerRequestStatus.OPEN:
            blocks.append(
                section(
                    "✅ *Accepting the buyer's request is the better way to cancel:* it does not count against the "
                    "store's seller-fault cancellation rate, and needs no second approver."
                )
            )
            blocks.append(accept_actions(request))
        else:
            blocks.append(section("⏳ A decision on it is being sent to Lazada right now."))
    blocks.append(DividerBlock())
    blocks.append(
        section("*Or cancel for a seller reason* (counts against the store's rate; a second person approves):")
    )
    return blocks


def _summary(request: BuyerRequest) -> str:
    return (
        f"Order *{escape(oneline(request.order_id))}* · {plural(request.item_count, 'item')}: {_items_text(request)}\n"
        f"The buyer's reason: {_reason_text(request)}"
    )


def render_refusal_loading_modal(request: BuyerRequest) -> View:
    """The refusal form opened at once with the click's trigger, while Lazada is asked for its refusal reasons."""
    return modal_view(
        [
            section(
                f"⏳ Asking Lazada which reasons it accepts for refusing the buyer's request on order "
                f"*{escape(oneline(request.order_id))}*…"
            )
        ],
        callback_id=BUYER_REFUSE_FORM,
        title=REFUSE_TITLE,
        metadata=request.key,
    )


def _reason_select(reasons: Sequence[RefusalReason]) -> InputBlock:
    options = [
        Option(value=r.reason_id, text=plain(oneline(r.text) or r.reason_id, OPTION_TEXT_LIMIT))
        for r in reasons[:SELECT_OPTION_LIMIT]
    ]
    return InputBlock(
        block_id=BUYER_REASON_BLOCK,
        label=PlainTextObject(text="Reason (as Lazada offers it)"),
        element=StaticSelectElement(
            action_id=BUYER_REASON, placeholder=PlainTextObject(text="Choose a reason"), options=options
        ),
    )


def render_refusal_modal(
    request: BuyerRequest, reasons: Sequence[RefusalReason], *, now: datetime, tz: ZoneInfo
) -> View:
    """The refusal form: the request, Lazada's refusal reasons (one required) and the warning that the order ships.

    ``private_metadata`` is the request's key. Without any reason offered there is nothing to submit: the form says
    the request can only be accepted or left to Lazada.
    """
    blocks: list[Block] = [
        section(_summary(request)),
        section(deadline_text(request, now=now, tz=tz)),
    ]
    if not reasons:
        blocks.append(
            section(
                "⛔ Lazada offers no reason to refuse this request, so it cannot be refused from here: accept it "
                "on its card, or leave it to Lazada."
            )
        )
        return modal_view(blocks, callback_id=BUYER_REFUSE_FORM, title=REFUSE_TITLE, metadata=request.key)
    blocks += [section(REFUSAL_WARNING), _reason_select(reasons)]
    return modal_view(
        blocks,
        callback_id=BUYER_REFUSE_FORM,
        title=REFUSE_TITLE,
        metadata=request.key,
        submit="Refuse",
        close="Back",
    )


def render_refusal_sending_modal() -> View:
    """What replaces the refusal form once submitted, while the refusal is sent to Lazada."""
    return modal_view(
        [section("⏳ Sending your refusal to Lazada…")],
        callback_id=BUYER_REFUSE_FORM,
        title=REFUSE_TITLE,
        metadata=None,
    )


def render_refusal_expired() -> View:
    """What replaces a refusal form that cannot be read (not ours, or out of date)."""
    return modal_view(
        [section("ℹ️ This form is out of date. Please close it and click Refuse on the request's card again.")],
        callback_id=BUYER_REFUSE_FORM,
        title=REFUSE_TITLE,
        metadata=None,
    )


def _outcome_sentence(request: BuyerRequest) -> tuple[str, str]:
    """The icon and the sentence for a decision the bot sent, as stored after Lazada's answer was read back."""
    order = f"order *{escape(oneline(request.order_id))}*"
    answer = ""
    if request.lazada_answer:
        answer = f" {escape(truncate(oneline(request.lazada_answer), 300))}"
    match request.status:
        case BuyerRequestStatus.ACCEPTED:
            return "✅", (
                f"You accepted the buyer's request on {order}: Lazada cancels {plural(request.item_count, 'item')} "
                f"at the buyer's request, which does not count against the store's rate.{answer}"
            )
        case BuyerRequestStatus.REFUSED:
            reason = escape(oneline(request.refusal_reason_text or request.refusal_reason_code or "no reason"))
            return (
                "🚫",
                f"You refused the buyer's request on {order} (“{reason}”). The order must now be shipped.{answer}",
            )
        case BuyerRequestStatus.NEEDS_ATTENTION:
            return "🛠️", (
                f"Lazada's outcome for {order} is unknown, and the request could not be read back.{answer} The bot "
                "keeps reading it and updates its card; check Seller Center if it cannot wait."
            )
        case BuyerRequestStatus.ANSWERED_ELSEWHERE if request.agreed is None:
            return (
                "ℹ️",
                f"The buyer's request on {order} was withdrawn or closed by Lazada meanwhile: no decision needed.",
            )
        case BuyerRequestStatus.ANSWERED_ELSEWHERE:
            return "ℹ️", f"The buyer's request on {order} was answered outside Slack meanwhile.{answer}"
        case BuyerRequestStatus.DECIDED_BY_LAZADA:
            return "ℹ️", f"Lazada decided the buyer's request on {order} by itself.{answer}"
        case _:
            state = escape(request.status.value.replace("_", " "))
            return "ℹ️", f"The buyer's request on {order} is {state}.{answer}"


def render_buyer_decided_modal(request: BuyerRequest) -> View:
    """What replaces a modal (the refusal form, or the `/cancel-order` form accepted from) once the decision is in."""
    icon, sentence = _outcome_sentence(request)
    title = {
        BuyerRequestStatus.ACCEPTED: "Request accepted",
        BuyerRequestStatus.REFUSED: "Request refused",
    }.get(request.status, "Buyer's request")
    return modal_view([section(f"{icon} {sentence}")], callback_id=BUYER_REFUSE_FORM, title=title, metadata=None)


def buyer_decided_answer(request: BuyerRequest) -> Message:
    """The private note of a decision taken away from the card (App Home, or a closed modal)."""
    icon, sentence = _outcome_sentence(request)
    return Message(
        text=truncate(sentence, FALLBACK_TEXT_LIMIT),
        blocks=[section(f"{icon} {sentence}")],
    )


def render_buyer_not_decided_modal(answer: Message) -> View:
    """What replaces a modal when the decision was refused (not allowed, too late, already decided) or failed."""
    return modal_view(list(answer.blocks), callback_id=BUYER_REFUSE_FORM, title="Not decided", metadata=None)


def _answer(icon: str, text: str) -> Message:
    safe = escape(text.strip() or "Something went wrong.")
    return Message(text=truncate(safe, FALLBACK_TEXT_LIMIT), blocks=[section(f"{icon} {safe}")])


_ESCAPED_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]{2,30})&gt;")


def _closed(error: BuyerRequestClosedError) -> Message:
    """Already decided: the domain's words, with the decider's mention working (it names a Slack user id)."""
    how = _ESCAPED_MENTION.sub(lambda m: user(m.group(1)), escape(error.how))
    sentence = f"The buyer's request on order {escape(oneline(error.order_id))} was already {how}. Nothing was sent."
    return Message(text=truncate(sentence, FALLBACK_TEXT_LIMIT), blocks=[section(f"ℹ️ {sentence}")])


def buyer_answer_for(error: DomainError | LazadaError) -> Message:
    """The private answer to a decision that was refused or failed: the domain's sentence, or Lazada's."""
    match error:
        case NotAllowedToDecideError():
            return _answer("🔒", str(error))
        case DeadlinePassedError():
            return _answer("⌛", str(error))
        case MembershipUnknownError():
            return _answer("⚠️", str(error))
        case BuyerRequestClosedError():
            return _closed(error)
        case BuyerRequestNotFoundError():
            return _answer("ℹ️", str(error))
        case LazadaError():
            return _answer("⚠️", f"Lazada did not take the decision: {error.user_message}")
    return _answer("⚠️", str(error))


def refusal_reasons_unread(error: DomainError | LazadaError) -> Message:
    """The refusal form's place when Lazada's refusal reasons could not be read: no decision was attempted."""
    if isinstance(error, LazadaError):
        return _answer(
            "⚠️",
            "The refusal form needs Lazada's reasons, and they could not be read: "
            f"{error.user_message} Nothing was sent; the buyer's request is still open.",
        )
    return buyer_answer_for(error)


def refusal_form_not_opened(error: str | None) -> Message:
    """The private note when Slack did not open the refusal form (the click's trigger expired, Slack failed)."""
    return _answer("⚠️", f"Slack didn't open the refusal form ({error}). Please click Refuse again.")


def decided_by_text(request: BuyerRequest) -> str:
    """Who decided, for lists: a mention, or Lazada / outside Slack."""
    if request.decided_by:
        return user(request.decided_by)
    if request.status is BuyerRequestStatus.DECIDED_BY_LAZADA:
        return "Lazada"
    return "someone outside Slack"
