"""The bulk request modal: one request for several orders, in compact lines that fit 50 orders in one view."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock, Option
from slack_sdk.models.views import View

from bot.buyer.models import BuyerRequest
from bot.domain import PackageChoice
from bot.slack.render import form, text
from bot.slack.render.ids import BULK_MODAL, BulkMetadata
from bot.slack.render.request_message import order_tips
from bot.workflow.models import BulkDraft, OrderDraft

__all__ = [
    "LEFT_OUT_BLOCKS",
    "ORDER_BLOCKS",
    "bulk_metadata",
    "render_bulk_loading_modal",
    "render_bulk_modal",
    "render_bulk_submitting_modal",
]

TITLE = "Cancel orders"
# Block budgets per part, so 50 orders (and long Lazada texts) stay far inside the 100-block view limit.
ORDER_BLOCKS = 20
LEFT_OUT_BLOCKS = 10
_PACKAGE_BLOCKS = 3


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
    return form.modal_view(blocks, callback_id=BULK_MODAL, title=TITLE, metadata=metadata, submit=submit)


def render_bulk_loading_modal(order_ids: Sequence[str], store_label: str) -> View:
    """The modal opened at once with the trigger id, while the bot asks Lazada about every order."""
    shown = text.joined([text.oneline(o) for o in order_ids], shown=10)
    return _view(
        [
            text.section(
                f"⏳ Asking Lazada about {text.plural(len(order_ids), 'order')} in store "
                f"*{text.escape(text.oneline(store_label))}*: {shown}…"
            ),
            ContextBlock(
                elements=[text.mrkdwn("This takes a few seconds. The form appears here when Lazada answers.")]
            ),
        ],
        metadata=None,
    )


def render_bulk_submitting_modal(order_count: int) -> View:
    """The modal shown while the bulk request is checked again, stored and posted for approval."""
    return _view(
        [
            text.section(
                f"⏳ Checking {text.plural(order_count, 'order')} with Lazada again and sending the request for "
                "approval…"
            )
        ],
        metadata=None,
    )


def _statuses(order: OrderDraft) -> str:
    counts = Counter(i.status for i in order.selected)
    if set(counts) <= {"pending"}:
        return ""
    return " (" + ", ".join(f"{n} {text.status_label(s)}" for s, n in counts.items()) + ")"


def _card_link(request: BuyerRequest) -> str:
    if request.channel_id and request.message_ts:
        return f"<{text.message_link(request.channel_id, request.message_ts)}|its card>"
    return "its card"


def _order_line(order: OrderDraft, buyer: Mapping[str, BuyerRequest]) -> str:
    selected = order.selected
    line = (
        f"• *{text.escape(text.oneline(order.order_id))}* — {text.plural(len(selected), 'item')}{_statuses(order)}: "
        f"{text.item_names(selected, shown=3)}"
    )
    request = buyer.get(order.order_id)
    if request is not None:
        line += f" 🛒 _the buyer asked to cancel: accept it on {_card_link(request)}_"
    return line


def _buyer_warning(draft: BulkDraft, buyer: Mapping[str, BuyerRequest]) -> list[Block]:
    """The orders whose buyer asked to cancel: accepting that (on its card) does not count against the rate."""
    marked = [o.order_id for o in draft.orders if o.order_id in buyer]
    if not marked:
        return []
    which = text.agree(len(marked), "one of these orders", f"{len(marked)} of these orders")
    return [
        text.section(
            f"🛒 *The buyer asked to cancel {which}* ({text.joined(marked, shown=5)}, marked 🛒 below). Accepting the "
            "buyer's request on its card does not count against the store's cancellation rate; cancelling it here "
            "for a seller reason does. Take those orders out of this request and accept them instead."
        )
    ]


def _left_out(draft: BulkDraft) -> list[Block]:
    if not draft.left_out:
        return []
    title = f"*Left out ({len(draft.left_out)})*: not part of this request."
    lines = [
        f"• *{text.escape(text.oneline(o.order_id))}* — {text.escape(text.truncate(text.oneline(o.why), 400))}"
        for o in draft.left_out
    ]
    return [text.section(t) for t in text.pack_lines([title, *lines], LEFT_OUT_BLOCKS, noun="more orders")]


def _package_warning(draft: BulkDraft) -> list[Block]:
    lines = [
        f"📦 *{text.escape(text.oneline(order_id))}*, package {text.escape(text.oneline(c.package_id))}, also holds "
        f"{text.agree(len(c.others), 'an item that is', f'{len(c.others)} items that are')} not in the request: "
        f"{text.item_names(c.others, shown=5)}."
        for order_id, c in draft.package_conflicts
    ]
    if lines:
        lines[0] = "Lazada cancels a whole package unless it is repacked first.\n" + lines[0]
    return [text.section(t) for t in text.pack_lines(lines, _PACKAGE_BLOCKS, noun="more packages")]


def _form(draft: BulkDraft) -> list[Block]:
    blocks: list[Block] = []
    if draft.package_conflicts:
        others = sum(len(c.others) for _, c in draft.package_conflicts)
        whole = Option(
            value=PackageChoice.WHOLE_PACKAGE.value,
            text=text.plain(
                f"Cancel the packages in full (also cancels {text.plural(others, 'more item')})", text.OPTION_TEXT_LIMIT
            ),
        )
        blocks.append(
            form.package_choice_input(
                "Shared packages (one choice for every order)",
                repack_text="Repack first (cancel only the listed items)",
                whole=whole,
            )
        )
    blocks.append(form.reason_input(draft.reasons, "Reason (offered by Lazada for every order)"))
    blocks.append(form.justification_input("Why must these orders be cancelled? The approver reads this."))
    return blocks


def render_bulk_modal(
    draft: BulkDraft, metadata: BulkMetadata | None, *, buyer_requests: Sequence[BuyerRequest] = ()
) -> View:
    """The request form for several orders: one compact line per order, those left out and why, one reason.

    `metadata` is None when nothing can be submitted (then the view carries none). `buyer_requests` are the open
    buyer cancellation requests on these orders: each such order is marked, with a link to the request's card.
    """
    buyer = {r.order_id: r for r in buyer_requests}
    heading = f"{text.plural(len(draft.orders) + len(draft.left_out), 'order')} · {text.oneline(draft.store_label)}"
    blocks: list[Block] = [HeaderBlock(text=text.plain(heading, text.HEADER_LIMIT))]
    if draft.submittable:
        blocks.append(
            text.section(
                f"📋 One request for *{text.plural(len(draft.orders), 'order')}* "
                f"({text.plural(draft.item_count, 'item')}): each order with all its cancellable items, one reason "
                "for all."
            )
        )
    elif any(o.draft is not None and o.draft.reasons for o in draft.left_out):
        blocks.append(text.section("⛔ These orders cannot go in one request: no reason is offered for all of them."))
    else:
        blocks.append(text.section("⛔ None of these orders can be cancelled; see why below."))
    blocks += _buyer_warning(draft, buyer)
    blocks += order_tips(draft.orders, width=300)
    if draft.orders:
        title = f"*In this request ({len(draft.orders)})*"
        lines = [title, *(_order_line(o, buyer) for o in draft.orders)]
        blocks += [text.section(t) for t in text.pack_lines(lines, ORDER_BLOCKS, noun="more orders")]
    blocks += _left_out(draft)
    if not draft.submittable or metadata is None:
        return _view(blocks, metadata=None)
    blocks.append(DividerBlock())
    blocks += form.request_warnings(draft, _package_warning(draft))
    blocks += _form(draft)
    return _view(blocks, metadata=metadata.pack(), submit=form.SUBMIT)
