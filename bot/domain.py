"""The words every layer shares: a request's and an order's status, the package choice, an order item, not-found.

They live here, beside the packages rather than inside one, because the store keeps them, the workflow decides
with them and the presenter shows them: `bot.store` and `bot.workflow` both import this module, and it imports
neither (only the Lazada model an item is read from), so no package cycle can form through it.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from bot.lazada.models import CANCELLABLE_STATUSES
from bot.lazada.models import OrderItem as LazadaOrderItem

__all__ = [
    "CANCELLABLE_STATUSES",
    "ApprovalBasis",
    "ApprovalReason",
    "DomainError",
    "Item",
    "ItemAlreadyRequestedError",
    "OrderStatus",
    "PackageChoice",
    "RequestNotFoundError",
    "RequestStatus",
    "order_number",
]


def order_number(order_id: str) -> str:
    """An order id as the number it is (no leading zeros), so `0100` and `100` name the same order."""
    return order_id.lstrip("0") or "0"


class RequestStatus(StrEnum):
    """Where a cancel request is in its life (product.md §2).

    `pending → executing → executed | failed | needs_attention | cancel_pending`;
    `cancel_pending → executed | failed | needs_attention` (once Lazada's items settle, or a bound passes);
    `pending → rejected | withdrawn | expired`.
    """

    PENDING = "pending"
    EXECUTING = "executing"
    EXECUTED = "executed"
    FAILED = "failed"
    NEEDS_ATTENTION = "needs_attention"
    CANCEL_PENDING = "cancel_pending"
    """Lazada accepted a cancellation of some order that its items do not show yet: re-read until they settle."""
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class OrderStatus(StrEnum):
    """Where one order of a request is: its own execution outcome, or `skipped`."""

    PENDING = "pending"
    EXECUTING = "executing"
    EXECUTED = "executed"
    FAILED = "failed"
    NEEDS_ATTENTION = "needs_attention"
    CANCEL_PENDING = "cancel_pending"
    """The cancel was sent and Lazada accepted it (or shows it pending), but the items are not cancelled yet.

    Never sent again: the scheduler reads the items back until they settle or a bound passes."""
    SKIPPED = "skipped"


class ApprovalReason(StrEnum):
    """Why a request needs the approvals it needs."""

    STORE_DEFAULT = "store_default"
    """The store's own setting (`required_approvals`), and nothing asks for more."""
    NEAR_RATE_LIMIT = "near_rate_limit"
    """This cancellation (with the store's other open ones) takes its seller-fault rate to the warning rate."""


class ApprovalBasis(BaseModel):
    """The reason a request needs its approvals, kept with the request so its card can say why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: ApprovalReason
    projected_rate: float | None = None
    warning_rate: float | None = None


class PackageChoice(StrEnum):
    """What to do when a packed package also holds items that are not selected."""

    REPACK_FIRST = "repack_first"
    WHOLE_PACKAGE = "whole_package"


class Item(BaseModel):
    """One order item as the bot knows it: read from Lazada, kept with a request, shown on the form and the card."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_item_id: str
    name: str
    sku: str | None = None
    variation: str | None = None
    status: str
    package_id: str | None = None
    paid_price: Decimal | None = None
    currency: str | None = None
    is_cancel_pending: bool = False
    """Lazada shows a cancellation of this item under way (`is_cancel_pending`): it must not be asked again."""

    @classmethod
    def from_lazada(cls, item: LazadaOrderItem) -> Item:
        """The bot's item for a Lazada order item (the one conversion from Lazada's shape)."""
        return cls(
            order_item_id=item.order_item_id,
            name=item.name or item.sku or item.order_item_id,
            sku=item.sku,
            variation=item.variation,
            status=item.status,
            package_id=item.package_id,
            paid_price=item.paid_price,
            currency=item.currency,
            is_cancel_pending=item.is_cancel_pending,
        )

    @property
    def cancellable(self) -> bool:
        """Whether Lazada lets the seller cancel this item: pending, packed or ready_to_ship, and no cancellation
        already pending at Lazada (offering or sending it again could only be refused, or cancel twice)."""
        return self.status in CANCELLABLE_STATUSES and not self.is_cancel_pending


class DomainError(Exception):
    """Base: the request cannot go on as asked; `str(exc)` is a sentence for the person who acted."""


class RequestNotFoundError(DomainError, LookupError):
    """No request has this id (or the button came from elsewhere)."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"I can't find request {request_id}: it may belong to another workspace or be gone.")
        self.request_id = request_id


class ItemAlreadyRequestedError(DomainError):
    """An item is already in another open (pending or executing) request: one open request per item.

    Carries where that request's card is (`channel_id`, `message_ts`), so the refusal can link to it.
    """

    def __init__(
        self,
        *,
        request_id: str,
        order_id: str,
        item_id: str,
        channel_id: str | None = None,
        message_ts: str | None = None,
    ) -> None:
        super().__init__(
            f"Item {item_id} of order {order_id} is already in request {request_id}, which is still open. "
            "Nothing was submitted."
        )
        self.request_id = request_id
        self.order_id = order_id
        self.item_id = item_id
        self.channel_id = channel_id
        self.message_ts = message_ts
