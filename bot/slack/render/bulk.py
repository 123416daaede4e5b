"""The bulk request modal: one request for several orders, in compact lines that fit 50 orders in one view."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.domain import PackageChoice
from bot.slack.render.ids import (
    BULK_MODAL,
    JUSTIFICATION_BLOCK,
    MODAL_JUSTIFICATION,
    MODAL_PACKAGE_CHOICE,
    MODAL_REASON,
    PACKAGE_CHOICE_BLOCK,
    REASON_BLOCK,
    BulkMetadata,
)
from bot.slack.render.request_message import order_tips
from bot.slack.render.text import (
    HEADER_LIMIT,
    OPTION_TEXT_LIMIT,
    check_view,
    escape,
    item_names,
    joined,
    mrkdwn,
    oneline,
    pack_lines,
    plain,
    plural,
    rate_text,
    status_label,
    truncate,
)
from bot.workflow.models import BulkDraft, OrderDraft

__all__ = [
    "JUSTIFICATION_MAX_LENGTH",
    "LEFT_OUT_BLOCKS",
    "ORDER_BLOCKS",
    "bulk_metadata",
    "render_bulk_loading_modal",
    "render_bulk_modal",
    "render_bulk_submitting_modal",
]

TITLE = "Cancel orders"
SUBMIT = "Request approval"
CLOSE = "Close"
JUSTIFICATION_MAX_LENGTH = 500
# Block budgets per part, so 50 orders (and long Lazada texts) stay far inside the 100-block view limit.
ORDER_BLOCKS = 20
LEFT_OUT_BLOCKS = 10
_PACKAGE_BLOCKS = 3
_SELECT_OPTION_LIMIT = 100


def bulk_metadata(draft: BulkDraft, *, channel_id: str, requester_id: str) -> BulkMetadata | None:
    """What the bulk modal's submit needs: the store and each order with its selection digest; None if no order."""
    if not draft.orders:
        return None
    return BulkMetadata(
        store_code=draft.store_code,
        channel_id=channel_id,
        requester_id=requester_id,
        order_ids=list(draft.order_ids),
        digests=[o.selection_digest for o in draft.orders],
    )


def _view(blocks: Sequence[Block], *, metadata: str | None, submit: str | None = None) -> View:
    return check_view(
        View(
            type="modal",
            callback_id=BULK_MODAL,
            title=plain(TITLE, 24),
            submit=PlainTextObject(text=submit) if submit else None,
            close=PlainTextObject(text=CLOSE),
            private_metadata=metadata,
            blocks=list(blocks),
        )
    )


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=mrkdwn(text))


def render_bulk_loading_modal(order_ids: Sequence[str], store_label: str) -> View:
    """The modal opened at once with the trigger id, while the bot asks Lazada about every order."""
    shown = joined([oneline(o) for o in order_ids], shown=10)
    return _view(
        [
            _section(
                f"⏳ Asking Lazada about {plural(len(order_ids), 'order')} in store "
                f"*{escape(oneline(store_label))}*: {shown}…"
            ),
            ContextBlock(elements=[mrkdwn("This takes a few seconds. The form appears here when Lazada answers.")]),
        ],
        metadata=None,
    )


def render_bulk_submitting_modal(order_count: int) -> View:
    """The modal shown while the bulk request is checked again, stored and posted for approval."""
    return _view(
        [
            _section(
                f"⏳ Checking {plural(order_count, 'order')} with Lazada again and sending the request for approval…"
            )
        ],
        metadata=None,
    )


def _statuses(order: OrderDraft) -> str:
    counts = Counter(i.status for i in order.selected)
    if set(counts) <= {"pending"}:
        return ""
    return " (" + ", ".join(f"{n} {status_label(s)}" for s, n in counts.items()) + ")"


def _order_line(order: OrderDraft) -> str:
    selected = order.selected
    return (
        f"• *{escape(oneline(order.order_id))}* — {plural(len(selected), 'item')}{_statuses(order)}: "
        f"{item_names(selected, shown=3)}"
    )


def _left_out(draft: BulkDraft) -> list[Block]:
    if not draft.left_out:
        return []
    title = f"*Left out ({len(draft.left_out)})*: not part of this request."
    lines = [f"• *{escape(oneline(o.order_id))}* — {escape(truncate(oneline(o.why), 400))}" for o in draft.left_out]
    return [_section(t) for t in pack_lines([title, *lines], LEFT_OUT_BLOCKS, noun="more orders")]


def _warnings(draft: BulkDraft) -> list[Block]:
    blocks: list[Block] = []
    zeroing = [r for r in draft.reasons if r.zeroes_stock]
    if zeroing:
        reasons = " or ".join(f"“{escape(oneline(r.reason_name))}”" for r in zeroing)
        blocks.append(
            _section(
                f"⚠️ *Stock goes to 0:* choosing {reasons} sets the stock of SKU "
                f"{joined(draft.stock_zeroing_skus, shown=30)} to 0 on Lazada. Someone has to restore it in Seller "
                "Center afterwards."
            )
        )
    if draft.package_conflicts:
        lines = [
            f"📦 *{escape(oneline(order_id))}*, package {escape(oneline(c.package_id))}, also holds items that are "
            f"not in the request: {item_names(c.others, shown=5)}."
            for order_id, c in draft.package_conflicts
        ]
        lines[0] = "Lazada cancels a whole package unless it is repacked first.\n" + lines[0]
        blocks += [_section(t) for t in pack_lines(lines, _PACKAGE_BLOCKS, noun="more packages")]
    ready = draft.ready_to_ship_selected
    if ready:
        blocks.append(
            _section(
                f"🚚 *Ready to ship:* {item_names(ready, shown=10)}. A courier pickup may already be arranged; "
                "make sure the parcels are not handed over."
            )
        )
    if draft.rate is not None:
        blocks.append(_section(rate_text(draft.rate)))
    return blocks


def _form(draft: BulkDraft) -> list[Block]:
    blocks: list[Block] = []
    if draft.package_conflicts:
        others = sum(len(c.others) for _, c in draft.package_conflicts)
        repack = Option(
            value=PackageChoice.REPACK_FIRST.value, text=plain("Repack first (cancel only the listed items)")
        )
        whole = Option(
            value=PackageChoice.WHOLE_PACKAGE.value,
            text=plain(f"Cancel the packages in full (also cancels {plural(others, 'more item')})", OPTION_TEXT_LIMIT),
        )
        blocks.append(
            InputBlock(
                block_id=PACKAGE_CHOICE_BLOCK,
                label=PlainTextObject(text="Shared packages (one choice for every order)"),
                element=RadioButtonsElement(
                    action_id=MODAL_PACKAGE_CHOICE, options=[repack, whole], initial_option=repack
                ),
            )
        )
    options = [Option(value=r.reason_id, text=plain(oneline(r.reason_name), OPTION_TEXT_LIMIT)) for r in draft.reasons]
    blocks.append(
        InputBlock(
            block_id=REASON_BLOCK,
            label=PlainTextObject(text="Reason (offered by Lazada for every order)"),
            element=StaticSelectElement(
                action_id=MODAL_REASON,
                placeholder=PlainTextObject(text="Choose a reason"),
                options=options[:_SELECT_OPTION_LIMIT],
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=JUSTIFICATION_BLOCK,
            label=PlainTextObject(text="Justification"),
            element=PlainTextInputElement(
                action_id=MODAL_JUSTIFICATION,
                multiline=True,
                max_length=JUSTIFICATION_MAX_LENGTH,
                placeholder=PlainTextObject(text="Why must these orders be cancelled? The approver reads this."),
            ),
            hint=PlainTextObject(text=f"Required, at most {JUSTIFICATION_MAX_LENGTH} characters."),
        )
    )
    return blocks


def render_bulk_modal(draft: BulkDraft, metadata: BulkMetadata | None) -> View:
    """The request form for several orders: one compact line per order, those left out and why, one reason.

    `metadata` is None when nothing can be submitted (then the view carries none).
    """
    heading = f"{plural(len(draft.orders) + len(draft.left_out), 'order')} · {oneline(draft.store_label)}"
    blocks: list[Block] = [HeaderBlock(text=plain(heading, HEADER_LIMIT))]
    if draft.submittable:
        blocks.append(
            _section(
                f"📋 One request for *{plural(len(draft.orders), 'order')}* ({plural(draft.item_count, 'item')}): "
                "each order with all its cancellable items, one reason for all."
            )
        )
    elif any(o.draft is not None and o.draft.reasons for o in draft.left_out):
        blocks.append(_section("⛔ These orders cannot go in one request: no reason is offered for all of them."))
    else:
        blocks.append(_section("⛔ None of these orders can be cancelled; see why below."))
    blocks += order_tips(draft.orders, width=300)
    if draft.orders:
        title = f"*In this request ({len(draft.orders)})*"
        lines = [title, *(_order_line(o) for o in draft.orders)]
        blocks += [_section(t) for t in pack_lines(lines, ORDER_BLOCKS, noun="more orders")]
    blocks += _left_out(draft)
    if not draft.submittable or metadata is None:
        return _view(blocks, metadata=None)
    blocks.append(DividerBlock())
    blocks += _warnings(draft)
    blocks += _form(draft)
    return _view(blocks, metadata=metadata.pack(), submit=SUBMIT)
