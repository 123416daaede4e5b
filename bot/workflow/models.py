"""What the cancellation workflow shows people: drafts in the request modal and cards in the approval channel."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from bot.domain import CANCELLABLE_STATUSES, ApprovalBasis, Item, OrderStatus, RequestStatus

__all__ = [
    "BulkDraft",
    "BuyerRequestOnOrder",
    "LeftOut",
    "OrderDraft",
    "OrderLine",
    "PackageConflict",
    "RateProjection",
    "Reason",
    "RequestCard",
    "is_stock_zeroing",
    "selection_digest",
]

# Lazada sets the SKU's stock to 0 for these reasons (lazada-api.md §4); matched by name since ids differ per country.
_STOCK_ZEROING_NAMES = frozenset({"out of stock", "wrong price or pricing error"})


def is_stock_zeroing(reason_name: str) -> bool:
    """Whether Lazada zeroes the SKU's stock when an item is cancelled for this reason."""
    return " ".join(reason_name.lower().split()) in _STOCK_ZEROING_NAMES


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Reason(_Frozen):
    """A cancellation reason as Lazada offers it for this order (ids differ per country)."""

    reason_id: str
    reason_name: str

    @property
    def zeroes_stock(self) -> bool:
        """Whether this reason sets the SKU's stock to 0."""
        return is_stock_zeroing(self.reason_name)


class PackageConflict(_Frozen):
    """A packed package holding selected items and items that are not selected: Lazada would cancel them all."""

    package_id: str
    selected: tuple[Item, ...]
    others: tuple[Item, ...]


class RateProjection(_Frozen):
    """The store's estimated seller-fault cancellation rate now and if this cancellation goes through."""

    rate: float
    projected_rate: float
    warning_rate: float
    limit_rate: float
    cancelled_items: int
    ordered_items: int
    status: str
    projected_status: str


class OrderDraft(_Frozen):
    """What the request modal shows for one order: items, Lazada's reasons and tip, and the bot's warnings."""

    store_code: str
    store_label: str
    order_id: str
    items: tuple[Item, ...]
    selected_ids: tuple[str, ...]
    reasons: tuple[Reason, ...] = ()
    tip_content: str | None = None
    tip_type: str | None = None
    refusal: str | None = None
    package_conflicts: tuple[PackageConflict, ...] = ()
    rate: RateProjection | None = None

    @property
    def cancellable(self) -> tuple[Item, ...]:
        """The items that can be selected."""
        return tuple(i for i in self.items if i.cancellable)

    @property
    def nothing_cancellable(self) -> str:
        """Why no item can be selected, as a sentence (meaningful only when `cancellable` is empty)."""
        pending = sum(i.is_cancel_pending and i.status in CANCELLABLE_STATUSES for i in self.items)
        if not pending:
            return "No item of this order can be cancelled: they have shipped, been delivered or been cancelled."
        rest = len(self.items) - pending
        others = ("" if not rest else "; the other has" if rest == 1 else f"; the other {rest} have") + (
            " shipped, been delivered or been cancelled" if rest else ""
        )
        return (
            f"No item of this order can be cancelled now: a cancellation of {pending} item"
            f"{'s' if pending != 1 else ''} is already pending at Lazada{others}."
        )

    @property
    def selected(self) -> tuple[Item, ...]:
        """The selected items, in order."""
        wanted = set(self.selected_ids)
        return tuple(i for i in self.items if i.order_item_id in wanted)

    @property
    def ready_to_ship_selected(self) -> tuple[Item, ...]:
        """Selected items already ready to ship: a courier pickup may be arranged."""
        return tuple(i for i in self.selected if i.status == "ready_to_ship")

    @property
    def stock_zeroing_skus(self) -> tuple[str, ...]:
        """The SKUs whose stock a stock-zeroing reason would set to 0."""
        return tuple(dict.fromkeys(i.sku or i.name for i in self.selected))

    @property
    def submittable(self) -> bool:
        """Whether the requester can submit: something selected, Lazada did not refuse, reasons offered."""
        return bool(self.selected_ids) and self.refusal is None and bool(self.reasons)

    @property
    def selection_digest(self) -> str:
        """A short fingerprint of the selected item ids, to notice on submit that an order changed meanwhile."""
        return selection_digest(self.selected_ids)


def selection_digest(item_ids: Sequence[str]) -> str:
    """Eight hex digits that change whenever the set of item ids does."""
    joined = ",".join(sorted(set(item_ids)))
    return hashlib.sha256(joined.encode()).hexdigest()[:8]


class LeftOut(_Frozen):
    """An order named for a bulk request that the request does not cover, and why (a sentence for the person)."""

    order_id: str
    why: str
    draft: OrderDraft | None = None


class BulkDraft(_Frozen):
    """What the bulk request modal shows: the orders one request covers, the orders left apart, the common reasons.

    Each included order has all its cancellable items selected; `reasons` are offered by Lazada for every one of
    them (same `reason_id`).
    """

    store_code: str
    store_label: str
    orders: tuple[OrderDraft, ...]
    left_out: tuple[LeftOut, ...] = ()
    reasons: tuple[Reason, ...] = ()
    rate: RateProjection | None = None

    @property
    def order_ids(self) -> tuple[str, ...]:
        """The ids of the orders the request covers."""
        return tuple(o.order_id for o in self.orders)

    @property
    def item_count(self) -> int:
        """How many items the request would cancel."""
        return sum(len(o.selected_ids) for o in self.orders)

    @property
    def package_conflicts(self) -> tuple[tuple[str, PackageConflict], ...]:
        """Packed packages that also hold items not to cancel, with their order ids."""
        return tuple((o.order_id, c) for o in self.orders for c in o.package_conflicts)

    @property
    def ready_to_ship_selected(self) -> tuple[Item, ...]:
        """Items to cancel that are already ready to ship."""
        return tuple(i for o in self.orders for i in o.ready_to_ship_selected)

    @property
    def stock_zeroing_skus(self) -> tuple[str, ...]:
        """The SKUs whose stock a stock-zeroing reason would set to 0."""
        return tuple(dict.fromkeys(s for o in self.orders for s in o.stock_zeroing_skus))

    @property
    def submittable(self) -> bool:
        """Whether there is something to request: at least one order and a reason common to all of them."""
        return bool(self.orders) and bool(self.reasons)


class OrderLine(_Frozen):
    """One order of a request, as the approval card shows it.

    `items` are the selected items; `siblings` are unselected, still-cancellable items sharing a package with
    them, which Lazada cancels too unless the request repacks first.
    """

    order_id: str
    items: tuple[Item, ...]
    siblings: tuple[Item, ...] = ()
    status: OrderStatus = OrderStatus.PENDING
    tip_content: str | None = None
    tip_type: str | None = None
    outcome_tip_content: str | None = None
    outcome_tip_type: str | None = None
    error: str | None = None


class BuyerRequestOnOrder(_Frozen):
    """An open buyer's cancellation request on one of a request's orders (issue 11), for the approval card.

    Accepting it cancels at the buyer's request, which does not count against the store's rate; the approvers are
    warned before they approve a seller-reason cancellation instead. `channel_id` and `message_ts` locate its card.
    """

    order_id: str
    item_count: int
    channel_id: str | None = None
    message_ts: str | None = None


class RequestCard(_Frozen):
    """Everything the approval message shows about a request, at one moment."""

    request_id: str
    store_code: str
    store_label: str
    orders: tuple[OrderLine, ...]
    reason: Reason
    justification: str
    requester_id: str
    status: RequestStatus
    required_approvals: int = 1
    approval_basis: ApprovalBasis | None = None
    approver_ids: tuple[str, ...] = ()
    decided_by: str | None = None
    decision_note: str | None = None
    repack_first: bool = False
    expires_at: datetime
    created_at: datetime
    rate: RateProjection | None = None
    buyer_requests: tuple[BuyerRequestOnOrder, ...] = ()
    """Open buyer requests on the request's orders (filled by the presenter while the request is pending)."""

    @property
    def item_count(self) -> int:
        """How many items the request cancels."""
        return sum(len(o.items) for o in self.orders)
