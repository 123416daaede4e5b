"""The digest's tables: Lazada orders cached per store, which of them need their items read, and per-day counts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.digest.estimate import seller_fault_items
from bot.digest.models import DayCounts
from bot.lazada.models import Order
from bot.store.db import Database
from bot.store.tables import digest_orders, digest_sync_state
from bot.store.types import JSONValue, UTCDateTime
from bot.store.upsert import dialect_insert

__all__ = ["DigestCache", "ItemsRead", "SyncState"]

WRITE_CHUNK = 1000
"""Rows per write transaction: keeps each transaction short (a SQLite writer blocks every other writer)."""

_O = digest_orders.c
_S = digest_sync_state.c
_ORDER_COLUMNS = ("created_at", "created_day", "updated_at", "items_count", "has_canceled", "synced_at")


class SyncState(BaseModel):
    """How far a store's cache reaches: orders created in ``[covered_from, covered_until]``, changes up to a mark.

    The next incremental sync lists orders created after ``covered_until`` and orders of the covered range
    updated after ``updates_since``.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    store_code: str
    timezone: str
    covered_from: datetime
    covered_until: datetime
    updates_since: datetime
    last_synced_at: datetime
    last_cold_sync_at: datetime | None = None
    unreadable_orders: tuple[str, ...] = ()
    """Orders Lazada sent that could not be read (named by id, or by place in a page), until a sync reads them."""

    @field_validator("unreadable_orders", mode="before")
    @classmethod
    def _none_is_none(cls, value: object) -> object:
        return () if value is None else value


class ItemsRead(BaseModel):
    """One order's cancelled items per initiator, read when the order's ``updated_at`` was ``version``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: str
    cancelled_by: dict[str, int]
    version: datetime | None


def _upsert(conn: AsyncConnection, update: Sequence[str], *, newly_cancelled_unread: bool = False) -> Any:
    # Bulk rows need the dialect's INSERT … ON CONFLICT with executemany, which bot.store.upsert (one row) lacks.
    insert = dialect_insert(conn, digest_orders)
    values: dict[str, Any] = {name: insert.excluded[name] for name in update}
    if newly_cancelled_unread:
        # An order that had no cancelled item until now must have its items read, whatever its versions say.
        values["cancelled_by"] = sa.case((_O.has_canceled.is_(True), _O.cancelled_by), else_=sa.null())
    return insert.on_conflict_do_update(index_elements=[_O.store_code, _O.order_id], set_=values)


def _chunks(rows: Sequence[dict[str, Any]], size: int = WRITE_CHUNK) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class DigestCache:
    """Reads and writes of ``digest_orders`` and ``digest_sync_state``; every transaction short, no HTTP inside."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def state(self, store_code: str) -> SyncState | None:
        """The store's sync marks, or None before its first successful sync."""
        async with self._db.read() as conn:
            row = (await conn.execute(sa.select(digest_sync_state).where(_S.store_code == store_code))).one_or_none()
        return None if row is None else SyncState.model_validate(dict(row._mapping))

    async def save_state(self, state: SyncState) -> None:
        """Replace the store's sync marks."""
        values = state.model_dump()
        values["unreadable_orders"] = list(state.unreadable_orders) or None
        async with self._db.begin() as conn:
            updated = await conn.execute(
                sa.update(digest_sync_state).where(_S.store_code == state.store_code).values(**values)
            )
            if updated.rowcount == 0:
                await conn.execute(sa.insert(digest_sync_state).values(**values))

    async def forget(self, store_code: str) -> None:
        """Drop everything cached for a store (its time zone changed, so its days mean something else)."""
        async with self._db.begin() as conn:
            await conn.execute(sa.delete(digest_orders).where(_O.store_code == store_code))
            await conn.execute(sa.delete(digest_sync_state).where(_S.store_code == store_code))

    async def upsert_orders(self, store_code: str, orders: Iterable[Order], *, tz: ZoneInfo, now: datetime) -> int:
        """Store GetOrders' view of each order; items already read stay until the order's ``updated_at`` moves.

        An order without a ``canceled`` item has no cancellations, so it is stored as read. Returns how many
        orders were written.
        """
        settled: list[dict[str, Any]] = []
        cancelled: list[dict[str, Any]] = []
        for order in orders:
            if order.created_at is None:
                continue
            has_canceled = "canceled" in order.statuses
            row: dict[str, Any] = {
                "store_code": store_code,
                "order_id": order.order_id,
                "created_at": order.created_at,
                "created_day": order.created_at.astimezone(tz).date(),
                "updated_at": order.updated_at,
                "items_count": order.items_count,
                "has_canceled": has_canceled,
                "synced_at": now,
            }
            if has_canceled:
                cancelled.append({**row, "cancelled_by": None, "items_version": None})
            else:
                settled.append({**row, "cancelled_by": {}, "items_version": order.updated_at})
        for rows, update, unread in (
            (settled, (*_ORDER_COLUMNS, "cancelled_by", "items_version"), False),
            (cancelled, _ORDER_COLUMNS, True),
        ):
            for chunk in _chunks(rows):
                async with self._db.begin() as conn:
                    await conn.execute(_upsert(conn, update, newly_cancelled_unread=unread), list(chunk))
        return len(settled) + len(cancelled)

    async def orders_needing_items(self, store_code: str, *, since: date) -> list[tuple[str, datetime | None]]:
        """Orders created on or after ``since`` with a cancelled item never read, or changed since it was read.

        Returns ``(order_id, updated_at)`` pairs; record ``updated_at`` as the version of what is then read.
        """
        query = (
            sa.select(_O.order_id, _O.updated_at)
            .where(
                _O.store_code == store_code,
                _O.created_day >= since,
                _O.has_canceled.is_(True),
                sa.or_(_O.cancelled_by.is_(None), _O.items_version.is_distinct_from(_O.updated_at)),
            )
            .order_by(_O.created_at, _O.order_id)
        )
        async with self._db.read() as conn:
            return [(row.order_id, row.updated_at) for row in await conn.execute(query)]

    async def save_items(self, store_code: str, reads: Sequence[ItemsRead]) -> None:
        """Record each order's cancelled items per initiator, with the version they were read at."""
        statement = (
            sa.update(digest_orders)
            .where(_O.store_code == sa.bindparam("b_store"), _O.order_id == sa.bindparam("b_order"))
            .values(
                cancelled_by=sa.bindparam("b_cancelled_by", type_=JSONValue),
                items_version=sa.bindparam("b_version", type_=UTCDateTime),
            )
        )
        rows = [
            {
                "b_store": store_code,
                "b_order": read.order_id,
                "b_cancelled_by": read.cancelled_by,
                "b_version": read.version,
            }
            for read in reads
        ]
        for chunk in _chunks(rows):
            async with self._db.begin() as conn:
                await conn.execute(statement, list(chunk))

    async def prune(self, store_code: str, *, before: date) -> int:
        """Delete orders created before ``before``: no window the digest shows reaches them any more."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                sa.delete(digest_orders).where(_O.store_code == store_code, _O.created_day < before)
            )
        return result.rowcount

    async def day_counts(
        self, store_code: str, first: date, last: date, *, initiators: Collection[str]
    ) -> dict[date, DayCounts]:
        """Orders, ordered items and seller-fault cancelled items per creation day from ``first`` to ``last``."""
        in_range = (_O.store_code == store_code, _O.created_day >= first, _O.created_day <= last)
        totals = (
            sa.select(_O.created_day, sa.func.count(), sa.func.coalesce(sa.func.sum(_O.items_count), 0))
            .where(*in_range)
            .group_by(_O.created_day)
        )
        cancellations = sa.select(_O.created_day, _O.cancelled_by).where(*in_range, _O.has_canceled.is_(True))
        async with self._db.read() as conn:
            total_rows = (await conn.execute(totals)).all()
            cancel_rows = (await conn.execute(cancellations)).all()
        cancelled: dict[date, int] = defaultdict(int)
        unread: dict[date, int] = defaultdict(int)
        for day, cancelled_by in cancel_rows:
            if cancelled_by is None:
                unread[day] += 1
            else:
                cancelled[day] += seller_fault_items(_counts(cancelled_by), initiators)
        return {
            day: DayCounts(
                day=day,
                orders=int(orders),
                ordered_items=int(items),
                cancelled_items=cancelled[day],
                unread_orders=unread[day],
            )
            for day, orders, items in total_rows
        }

    async def initiator_counts(self, store_code: str, first: date, last: date) -> dict[str, int]:
        """Cancelled items per ``cancel_return_initiator`` in the orders created from ``first`` to ``last``."""
        query = sa.select(_O.cancelled_by).where(
            _O.store_code == store_code,
            _O.created_day >= first,
            _O.created_day <= last,
            _O.has_canceled.is_(True),
            _O.cancelled_by.is_not(None),
        )
        totals: dict[str, int] = defaultdict(int)
        async with self._db.read() as conn:
            for (cancelled_by,) in await conn.execute(query):
                for initiator, count in _counts(cancelled_by).items():
                    totals[initiator] += count
        return dict(totals)


def _counts(value: object) -> Mapping[str, int]:
    if not isinstance(value, Mapping):
        return {}
    return {str(name): int(count) for name, count in value.items() if isinstance(count, int)}
