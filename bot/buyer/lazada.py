"""What the buyer-request service needs from Lazada: read-only views of the reverse-order models and four calls.

`bot.lazada.client.LazadaClient` (with `bot.lazada.reverse`) implements `BuyerLazada`; the service depends on this
port only, so its tests can hand it a fake and it never reaches into the client's other methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bot.lazada.models import OrderItem

__all__ = ["BuyerLazada", "RefusalReasonView", "ReverseLineView", "ReverseOrderView"]


class ReverseLineView(Protocol):
    """One line of a reverse order (GetReverseOrdersForSeller's `reverse_order_lines[]`)."""

    @property
    def reverse_order_line_id(self) -> str: ...
    @property
    def trade_order_line_id(self) -> str: ...
    @property
    def reverse_status(self) -> str | None: ...
    @property
    def reason_code(self) -> str | None: ...
    @property
    def reason_text(self) -> str | None: ...
    @property
    def refund_amount(self) -> int | None: ...
    @property
    def sla(self) -> datetime | None: ...
    @property
    def seller_sku_id(self) -> str | None: ...


class ReverseOrderView(Protocol):
    """A reverse order: the buyer's request on one trade order."""

    @property
    def reverse_order_id(self) -> str: ...
    @property
    def trade_order_id(self) -> str: ...
    @property
    def reverse_order_lines(self) -> Sequence[ReverseLineView]: ...
    @property
    def deadline(self) -> datetime | None: ...
    @property
    def is_open(self) -> bool: ...
    @property
    def reverse_status(self) -> str | None: ...


class RefusalReasonView(Protocol):
    """One of Lazada's reasons to refuse a buyer's request (GetReverseOrderReasonList)."""

    @property
    def reason_id(self) -> str: ...
    @property
    def text(self) -> str: ...


class BuyerLazada(Protocol):
    """The Lazada calls the service makes for one store."""

    async def open_buyer_cancel_requests(self) -> Sequence[ReverseOrderView]:
        """Every open buyer cancellation request of the store (all pages)."""
        ...

    async def get_reverse_order(self, reverse_order_id: str) -> ReverseOrderView | None:
        """One reverse order as Lazada shows it now; None when Lazada knows none with this id."""
        ...

    async def refusal_reasons(self, *, reverse_order_line_id: str) -> Sequence[RefusalReasonView]:
        """Lazada's reasons to refuse the request on this line."""
        ...

    async def decide_buyer_cancel(self, *, reverse_order_id: str, agree: bool, reason_code: str | None = None) -> str:
        """Send the seller's decision once; Lazada's request id."""
        ...

    async def get_order_items(self, *, order_id: str | int) -> tuple[OrderItem, ...]:
        """The order's items (for the names on the card)."""
        ...
