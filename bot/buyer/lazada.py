"""What the buyer-request service needs from Lazada, per store: four reverse-order calls and the order's items.

`bot.lazada.client.LazadaClient` implements `BuyerLazada`; the service depends on this port only, so it never
reaches into the client's other methods and its tests can hand it a fake that answers with Lazada's own models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.lazada.models import OrderItem, OrderItems
from bot.lazada.reverse import RefusalReason, ReverseOrder

__all__ = ["BuyerLazada"]


class BuyerLazada(Protocol):
    """The Lazada calls the service makes for one store."""

    async def open_buyer_cancel_requests(self) -> Sequence[ReverseOrder]:
        """Every open buyer cancellation request of the store (all pages)."""
        ...

    async def get_reverse_order(self, reverse_order_id: str | int) -> ReverseOrder | None:
        """One reverse order as Lazada shows it now; None when Lazada knows none with this id."""
        ...

    async def refusal_reasons(self, *, reverse_order_line_id: str | int) -> tuple[RefusalReason, ...]:
        """Lazada's reasons to refuse the request on this line."""
        ...

    async def decide_buyer_cancel(
        self, *, reverse_order_id: str | int, agree: bool, reason_code: str | int | None = None
    ) -> str:
        """Send the seller's decision once; Lazada's request id (errors carry `outcome_unknown`)."""
        ...

    async def get_order_items(self, *, order_id: str | int) -> tuple[OrderItem, ...]:
        """The order's items (for the names on the card)."""
        ...

    async def get_multiple_order_items(self, *, order_ids: Sequence[str | int]) -> tuple[OrderItems, ...]:
        """Several orders' items in one call (at most 50 orders), for the names on new requests' cards."""
        ...
