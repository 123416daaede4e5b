"""The request modal and its small siblings (loading, order prompt, messages, submitting, reject)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    Option,
    OptionGroup,
    PlainTextInputElement,
    PlainTextObject,
    StaticMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.buyer.models import BuyerRequest
from bot.domain import Item
from bot.slack.render.buyer_forms import buyer_offer_blocks
from bot.slack.render.form import (
    JUSTIFICATION_MAX_LENGTH,
    SELECT_OPTION_LIMIT,
    SUBMIT,
    justification_input,
    modal_view,
    package_choice_input,
    reason_input,
    request_warnings,
)
from bot.slack.render.ids import (
    ITEMS_BLOCK,
    MODAL_ITEMS,
    MODAL_ORDER_ID,
    ORDER_ID_BLOCK,
    REJECT_MODAL,
    REJECT_REASON,
    REJECT_REASON_BLOCK,
    REQUEST_MODAL,
    ModalMetadata,
    PackageChoice,
    RejectMetadata,
)
from bot.slack.render.text import (
    HEADER_LIMIT,
    OPTION_TEXT_LIMIT,
    agree,
    escape,
    item_names,
    item_text,
    mrkdwn,
    oneline,
    pack_lines,
    plain,
    plural,
    section,
    tip_text,
    truncate,
)
from bot.workflow.models import OrderDraft, PackageConflict

__all__ = [
    "CHECKBOX_LIMIT",
    "ITEMS_MISSING",
    "JUSTIFICATION_MAX_LENGTH",
    "JUSTIFICATION_MISSING",
    "ORDER_PROMPT_INVALID",
    "REASON_MISSING",
    "REJECT_REASON_MISSING",
    "TOO_LONG",
    "MessageKind",
    "render_cannot_reject",
    "render_draft_failed",
    "render_expired_form",
    "render_loading_modal",
    "render_modal_message",
    "render_not_submitted",
    "render_order_prompt_modal",
    "render_reject_modal",
    "render_request_modal",
    "render_request_posted",
    "render_submitting_modal",
]

MessageKind = Literal["error", "info", "success"]

TITLE = "Cancel order"
REJECT_REASON_MAX_LENGTH = 500
# Slack allows at most 10 checkboxes; beyond that the items go into a multi-select.
CHECKBOX_LIMIT = 10
ORDER_ID_MAX_LENGTH = 64
# Room for 50 pasted order numbers of up to 20 digits with their separators, and a store code.
ORDER_LIST_MAX_LENGTH = 1500
# Each item list gets at most this many sections, so a huge order stays inside the 100-block view limit.
LISTING_BLOCKS = 30

_KIND_ICONS: dict[str, str] = {"error": "⛔", "info": "ℹ️", "success": "✅"}

# What a submitted form is told, inline under the input concerned (the submission models pick the sentence).
ITEMS_MISSING = "Select at least one item to cancel."
REASON_MISSING = "Choose the reason Lazada should record."
JUSTIFICATION_MISSING = "Say briefly why these items must be cancelled."
REJECT_REASON_MISSING = "Give the requester a reason."
TOO_LONG = f"At most {JUSTIFICATION_MAX_LENGTH} characters, please."
ORDER_PROMPT_INVALID = (
    "Enter a Lazada order number (4 to 20 digits), or up to 50 of them separated by spaces, commas or new lines."
)


def _modal(*, blocks: Sequence[Block], metadata: str | None, title: str = TITLE, submit: str | None = None) -> View:
    return modal_view(blocks, callback_id=REQUEST_MODAL, title=title, metadata=metadata, submit=submit)


def render_loading_modal(order_id: str, store_label: str, metadata: ModalMetadata) -> View:
    """The modal opened at once with the trigger id, while the bot asks Lazada about the order."""
    return _modal(
        blocks=[
            section(
                f"⏳ Asking Lazada about order *{escape(oneline(order_id))}* in store *{escape(oneline(store_label))}*…"
            ),
            ContextBlock(elements=[mrkdwn("This takes a few seconds. The form appears here when Lazada answers.")]),
        ],
        metadata=metadata.pack(),
    )


def render_order_prompt_modal(metadata: ModalMetadata, *, error: str | None = None) -> View:
    """The modal asking for an order number (or a pasted list of them), when ``/cancel-order`` was run without."""
    blocks: list[Block] = []
    if error:
        blocks.append(section(f"⛔ {escape(error)}"))
    blocks.append(
        InputBlock(
            block_id=ORDER_ID_BLOCK,
            label=PlainTextObject(text="Lazada order number"),
            element=PlainTextInputElement(
                action_id=MODAL_ORDER_ID,
                placeholder=PlainTextObject(text="e.g. 1234567890, or a list of them"),
                multiline=True,
                max_length=ORDER_LIST_MAX_LENGTH,
            ),
            hint=PlainTextObject(
                text=(
                    "The order number as Seller Center shows it, or up to 50 of them separated by spaces, commas "
                    f"or new lines: they become one request. Store: {metadata.store_code}"
                )
            ),
        )
    )
    return _modal(blocks=blocks, metadata=metadata.pack(), submit="Look up order")


def render_modal_message(title: str, text: str, *, kind: MessageKind = "error") -> View:
    """A modal that only says something (an error, a note, a success), with nothing to submit."""
    return _modal(
        blocks=[section(f"{_KIND_ICONS[kind]} {escape(text)}")],
        metadata=None,
        title=title,
    )


def render_expired_form() -> View:
    """What replaces a form that can no longer be read (out of date, someone else's, or not ours)."""
    return render_modal_message(
        "Form expired", "This form is out of date. Please close it and run /cancel-order again."
    )


def render_draft_failed(sentence: str, *, orders: int = 1) -> View:
    """What replaces the loading modal when Lazada cannot be asked about the order(s) or refuses."""
    title = "Can't cancel this order" if orders == 1 else "Can't cancel these orders"
    return render_modal_message(title, sentence, kind="error")


def render_not_submitted(sentence: str) -> View:
    """What replaces the submitting modal when the request was not stored and posted, and why."""
    return render_modal_message("Not submitted", sentence, kind="error")


def render_request_posted(request_id: str, scope: str) -> View:
    """What replaces the submitting modal once the request is posted; ``scope`` is ``order 123`` or ``3 orders``."""
    return render_modal_message(
        "Request posted",
        f"Request {request_id} for {scope} is waiting for a second person's approval in the approval channel. "
        "You'll hear back in its thread.",
        kind="success",
    )


def render_cannot_reject(sentence: str) -> View:
    """What replaces the reject modal when the person may not reject the request."""
    return render_modal_message("Can't reject", sentence, kind="error")


def render_submitting_modal(order_id: str) -> View:
    """The modal shown while the request is stored and posted for approval."""
    return _modal(
        blocks=[section(f"⏳ Sending the request for order *{escape(oneline(order_id))}* for approval…")],
        metadata=None,
    )


def render_reject_modal(metadata: RejectMetadata) -> View:
    """The small modal in which an approver gives the reason for rejecting a request."""
    return modal_view(
        [
            section(f"Rejecting request *{escape(metadata.request_id)}*. The requester sees your reason."),
            InputBlock(
                block_id=REJECT_REASON_BLOCK,
                label=PlainTextObject(text="Reason"),
                element=PlainTextInputElement(
                    action_id=REJECT_REASON,
                    multiline=True,
                    max_length=REJECT_REASON_MAX_LENGTH,
                    placeholder=PlainTextObject(text="Why should these items not be cancelled?"),
                ),
            ),
        ],
        metadata=metadata.pack(),
        title="Reject request",
        submit="Reject",
        callback_id=REJECT_MODAL,
        close="Back",
    )


def _item_option(item: Item, *, described: bool) -> Option:
    # The full details are in the item list above the selector; options only have to be recognisable.
    if not described:
        sku = f" · {oneline(item.sku)}" if item.sku else ""
        name_room = max(OPTION_TEXT_LIMIT - len(sku), OPTION_TEXT_LIMIT // 2)
        label = truncate(truncate(oneline(item.name), name_room) + sku, OPTION_TEXT_LIMIT)
        return Option(value=item.order_item_id, text=plain(label, OPTION_TEXT_LIMIT))
    details = [oneline(item.status.replace("_", " ")), f"SKU {oneline(item.sku)}" if item.sku else ""]
    details.append(f"package {oneline(item.package_id)}" if item.package_id else "")
    return Option(
        value=item.order_item_id,
        text=plain(oneline(item.name), OPTION_TEXT_LIMIT),
        description=plain(" · ".join(d for d in details if d), OPTION_TEXT_LIMIT),
    )


def _items_input(draft: OrderDraft) -> InputBlock:
    cancellable = draft.cancellable
    detailed = len(cancellable) <= CHECKBOX_LIMIT
    options = [_item_option(i, described=detailed) for i in cancellable]
    wanted = set(draft.selected_ids)
    initial = [o for o in options if o.value in wanted] or None
    label = PlainTextObject(text="Items to cancel")
    if detailed:
        element: CheckboxesElement | StaticMultiSelectElement = CheckboxesElement(
            action_id=MODAL_ITEMS, options=options, initial_options=initial
        )
    elif len(options) <= SELECT_OPTION_LIMIT:
        element = StaticMultiSelectElement(
            action_id=MODAL_ITEMS,
            placeholder=PlainTextObject(text="Choose items"),
            options=options,
            initial_options=initial,
        )
    else:
        groups = [
            OptionGroup(
                label=PlainTextObject(text=f"Items {start + 1}–{min(start + SELECT_OPTION_LIMIT, len(options))}"),
                options=options[start : start + SELECT_OPTION_LIMIT],
            )
            for start in range(0, len(options), SELECT_OPTION_LIMIT)
        ]
        element = StaticMultiSelectElement(
            action_id=MODAL_ITEMS,
            placeholder=PlainTextObject(text="Choose items"),
            option_groups=groups,
            initial_options=initial,
        )
    # dispatch_action: every change of the selection comes back as block_actions, so the bot validates again.
    return InputBlock(block_id=ITEMS_BLOCK, label=label, element=element, dispatch_action=True)


def _listing(title: str, items: Sequence[Item]) -> list[Block]:
    lines = [f"• {item_text(i)}" for i in items]
    texts = pack_lines([f"*{title}*", *lines], LISTING_BLOCKS, noun="more items")
    return [section(t) for t in texts]


def _package_warning(conflicts: Sequence[PackageConflict]) -> list[Block]:
    lines = [
        f"📦 *Package {escape(oneline(c.package_id))}* also holds "
        f"{agree(len(c.others), 'an item', f'{len(c.others)} items')} you did not select: {item_names(c.others)}. "
        "Lazada cancels the whole package unless it is repacked first."
        for c in conflicts
    ]
    return [section(t) for t in pack_lines(lines, 3, noun="more packages")]


def _package_choice(conflicts: Sequence[PackageConflict]) -> InputBlock:
    others = [i for c in conflicts for i in c.others]
    whole_package = "whole package" if len(conflicts) == 1 else "packages in full"
    whole = Option(
        value=PackageChoice.WHOLE_PACKAGE.value,
        text=plain(f"Cancel the {whole_package} (also cancels {plural(len(others), 'more item')})"),
        description=plain("Also cancels: " + ", ".join(oneline(i.name) for i in others), OPTION_TEXT_LIMIT),
    )
    return package_choice_input(
        "Shared package", repack_text="Repack first (cancel only the selected items)", whole=whole
    )


def _form(draft: OrderDraft) -> list[Block]:
    blocks: list[Block] = []
    if draft.package_conflicts:
        blocks.append(_package_choice(draft.package_conflicts))
    blocks.append(reason_input(draft.reasons, "Reason (as Lazada offers it)"))
    blocks.append(justification_input("Why must these items be cancelled? The approver reads this."))
    return blocks


def render_request_modal(
    draft: OrderDraft,
    metadata: ModalMetadata,
    *,
    buyer_requests: Sequence[BuyerRequest] = (),
    now: datetime | None = None,
    tz: ZoneInfo | None = None,
) -> View:
    """The request form for one order: items, Lazada's reasons and tip, the bot's warnings, the justification.

    When the buyer asked to cancel (``buyer_requests``, open), the form says so first and offers accepting that
    instead, which does not count against the store's rate; the seller-reason form follows.
    """
    heading = f"Order {oneline(draft.order_id)} · {oneline(draft.store_label)}"
    blocks: list[Block] = [
        HeaderBlock(text=plain(heading, HEADER_LIMIT)),
    ]
    if buyer_requests:
        if now is None or tz is None:
            raise ValueError("showing buyer requests needs the time now and the store's time zone")
        blocks += buyer_offer_blocks(buyer_requests, now=now, tz=tz)

    if draft.tip_content and draft.tip_content != draft.refusal:
        blocks.append(section(tip_text(draft.tip_content, draft.tip_type)))
    cancellable = draft.cancellable
    if draft.refusal is not None:
        blocks.append(section(f"⛔ *Lazada refuses this cancellation:* {escape(draft.refusal)}"))
    elif not cancellable:
        blocks.append(section(f"🚫 {draft.nothing_cancellable}"))
    elif not draft.selected_ids:
        blocks.append(section("☝️ Nothing is selected. Select at least one item to cancel."))
    elif not draft.reasons:
        blocks.append(section("⛔ Lazada offers no cancellation reason for these items, so they cannot be cancelled."))

    if cancellable:
        blocks += _listing(f"Cancellable items ({len(cancellable)})", cancellable)
    others = [i for i in draft.items if not i.cancellable]
    if others:
        lines = [f"• {item_text(i)}" for i in others]
        title = (
            f"*Not cancellable ({len(others)})*: Lazada only cancels items that are pending, packed or ready to ship"
            " and have no cancellation pending already."
        )
        texts = pack_lines([title, *lines], LISTING_BLOCKS, noun="more items")
        blocks += [section(t) for t in texts]
    if cancellable:
        blocks.append(_items_input(draft))

    if draft.submittable:
        blocks.append(DividerBlock())
        blocks += request_warnings(draft, _package_warning(draft.package_conflicts))
        blocks += _form(draft)
        submit: str | None = SUBMIT
    else:
        submit = None
    return _modal(blocks=blocks, metadata=metadata.pack(), submit=submit)
