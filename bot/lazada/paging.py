"""Reading every order of a window once, past GetOrders' 5,000 offset cap, by moving the window's time bound."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Literal, TypedDict

from bot.lazada.errors import LazadaBusinessError, LazadaDecodeError
from bot.lazada.models import Order, OrdersPage

__all__ = [
    "MAX_ORDERS_LIMIT",
    "MAX_ORDERS_OFFSET",
    "OrderBounds",
    "OrderQuery",
    "SortBy",
    "SortDirection",
    "iter_orders",
]

MAX_ORDERS_LIMIT = 100
MAX_ORDERS_OFFSET = 5000
_PATH = "/orders/get"

SortBy = Literal["created_at", "updated_at"]
SortDirection = Literal["ASC", "DESC"]
_BoundName = Literal["created_after", "created_before", "update_after", "update_before"]
_MOVING: dict[tuple[SortBy, SortDirection], _BoundName] = {
    ("created_at", "ASC"): "created_after",
    ("created_at", "DESC"): "created_before",
    ("updated_at", "ASC"): "update_after",
    ("updated_at", "DESC"): "update_before",
}


class OrderBounds(TypedDict, total=False):
    """The window: timezone-aware time bounds, each optional (GetOrders needs a lower one)."""

    created_after: datetime | None
    created_before: datetime | None
    update_after: datetime | None
    update_before: datetime | None


class OrderQuery(OrderBounds, total=False):
    """What GetOrders filters and sorts by besides the page: the window, the status and the sort."""

    status: str
    sort_by: SortBy
    sort_direction: SortDirection


PageReader = Callable[[OrderBounds, int], Awaitable[OrdersPage]]
"""Reads the page at an offset of the window."""


async def iter_orders(
    read_page: PageReader,
    bounds: OrderBounds,
    *,
    sort_by: SortBy,
    sort_direction: SortDirection,
    page_size: int,
) -> AsyncIterator[Order]:
    """Every order of the window once, read page by page with ``read_page(bounds, offset)``.

    When the next offset would pass 5,000, the bound on the sort field (``created_after``/``update_after``
    ascending, ``created_before``/``update_before`` descending) moves to the last order's timestamp, one
    second back so orders sharing that second are not lost, and paging restarts at offset 0; orders already
    yielded are skipped by ``order_id``.
    """
    bounds = bounds.copy()
    moving = _MOVING[sort_by, sort_direction]
    seen: set[str] = set()
    offset = 0
    while True:
        page = await read_page(bounds, offset)
        for order in page.orders:
            if order.order_id not in seen:
                seen.add(order.order_id)
                yield order
        if len(page.orders) < page_size:
            return
        offset += page_size
        if offset <= MAX_ORDERS_OFFSET:
            continue
        bounds[moving] = _next_bound(page.orders[-1], sort_by, sort_direction, bounds.get(moving))
        offset = 0


def _next_bound(last: Order, sort_by: SortBy, sort_direction: SortDirection, current: datetime | None) -> datetime:
    """The moved time bound for the next round of pages, or an error when it cannot move forward."""
    stamp = last.created_at if sort_by == "created_at" else last.updated_at
    if stamp is None:
        raise LazadaDecodeError(f"order {last.order_id} has no {sort_by}; cannot page further", api_path=_PATH)
    ascending = sort_direction == "ASC"
    bound = stamp - timedelta(seconds=1) if ascending else stamp + timedelta(seconds=1)
    if current is not None and (bound <= current if ascending else bound >= current):
        raise LazadaBusinessError(
            f"more than {MAX_ORDERS_OFFSET} orders share the {sort_by} second {stamp.isoformat()}; "
            "Lazada's paging cannot reach past them",
            api_path=_PATH,
        )
    return bound
