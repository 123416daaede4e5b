"""Builders for the store tests: a fixed clock, order items and new requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.store import Item, NewOrder, NewRequest

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TTL = timedelta(hours=12)
LEASE = timedelta(minutes=5)


def item(order_item_id: str, **overrides: Any) -> Item:
    """An order item snapshot."""
    values: dict[str, Any] = {
        "order_item_id": order_item_id,
        "name": f"Item {order_item_id}",
        "sku": f"SKU-{order_item_id}",
        "variation": "Red",
        "status": "pending",
        "package_id": "PKG-1",
        "paid_price": Decimal("12.50"),
        "currency": "SGD",
        **overrides,
    }
    return Item(**values)


def new_request(*, orders: int = 1, first_order: int = 1000, **overrides: Any) -> NewRequest:
    """A valid new request by U_REQ with `orders` orders of two items each (one to cancel), from `first_order` on.

    An item can be in one open request at a time: give each open request of a test its own `first_order`.
    """
    values: dict[str, Any] = {
        "store_code": "main",
        "requester_id": "U_REQ",
        "reason_id": "10000021",
        "reason_name": "Out of Stock",
        "justification": "Supplier cannot deliver.",
        "zeroes_stock": True,
        "repack_first": False,
        "required_approvals": 1,
        "channel_id": "C_APPROVALS",
        "expires_at": NOW + TTL,
        "orders": tuple(
            NewOrder(
                order_id=f"{first_order + n}",
                items=(item(f"{n}01"), item(f"{n}02")),
                item_ids=(f"{n}01",),
                validate_tip_content="Cancelling may affect your rate.",
                validate_tip_type="warning",
            )
            for n in range(orders)
        ),
        **overrides,
    }
    return NewRequest(**values)
