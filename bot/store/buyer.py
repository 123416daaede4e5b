"""Buyer cancellation requests in the database: insert-or-ignore, reads, and every change as one conditional update.

Rows are keyed by `(store_code, reverse_order_id)`. A new request is inserted once however many replicas find it
(`insert_new`); its status moves only by `UPDATE … WHERE status = :expected` whose row count says who won
(`start_deciding`, `settle`, `claim_stale_deciding`), so two clicks or two ticks never both act. The records are
plain mappings of the columns (`BuyerRow`): `bot.buyer` turns them into its models, since the store must not import
the domain packages that import it. No transaction is held across anything but SQL.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypedDict

import sqlalchemy as sa

from bot.store.db import Database
from bot.store.tables import buyer_requests
from bot.store.upsert import insert_ignore

__all__ = ["DECIDING", "OPEN", "BuyerRequestStore", "BuyerRow"]

_B = buyer_requests.c

OPEN = "open"
DECIDING = "deciding"


class BuyerRow(TypedDict):
    """One stored buyer request, column by column (`lines` is a list of JSON objects)."""

    store_code: str
    reverse_order_id: str
    order_id: str
    lines: list[dict[str, Any]]
    buyer_reason: str | None
    refund_total: int | None
    deadline: datetime | None
    status: str
    first_seen_at: datetime
    updated_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    agreed: bool | None
    refusal_reason_code: str | None
    refusal_reason_text: str | None
    lazada_answer: str | None
    channel_id: str | None
    message_ts: str | None
    lease_until: datetime | None
    reminders: int
    card_status: str | None
    reply_status: str | None


def _key(store_code: str, reverse_order_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(_B.store_code == store_code, _B.reverse_order_id == reverse_order_id)


def _row(row: sa.Row[Any]) -> BuyerRow:
    values: BuyerRow = dict(row._mapping)  # type: ignore[assignment]  # the table's columns are BuyerRow's keys
    return values


def _in_time(now: datetime) -> sa.ColumnElement[bool]:
    """Before the deadline (a request without one is always in time: Lazada did not say when it decides)."""
    return sa.or_(_B.deadline.is_(None), _B.deadline > now)


class BuyerRequestStore:
    """The `buyer_requests` table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert_new(self, values: Mapping[str, Any], *, now: datetime) -> bool:
        """Store a request first seen `now` as `open`, unless one with its key exists; True if this call stored it."""
        row = {
            "status": OPEN,
            "first_seen_at": now,
            "updated_at": now,
            "reminders": 0,
            **values,
        }
        async with self._db.begin() as conn:
            return await insert_ignore(conn, buyer_requests, row, conflict=["store_code", "reverse_order_id"])

    async def get(self, store_code: str, reverse_order_id: str) -> BuyerRow | None:
        """The request with this key, or None."""
        async with self._db.read() as conn:
            found = (await conn.execute(sa.select(buyer_requests).where(_key(store_code, reverse_order_id)))).first()
        return None if found is None else _row(found)

    async def select(
        self,
        *,
        statuses: Collection[str] | None = None,
        store_code: str | None = None,
        order_id: str | None = None,
        unposted: bool = False,
        limit: int | None = None,
    ) -> list[BuyerRow]:
        """Requests matching every filter given, soonest deadline first (those without one last), then oldest."""
        query = sa.select(buyer_requests)
        if statuses is not None:
            query = query.where(_B.status.in_(list(statuses)))
        if store_code is not None:
            query = query.where(_B.store_code == store_code)
        if order_id is not None:
            query = query.where(_B.order_id == order_id)
        if unposted:
            query = query.where(_B.message_ts.is_(None))
        query = query.order_by(_B.deadline.is_(None), _B.deadline, _B.first_seen_at, _B.reverse_order_id)
        if limit is not None:
            query = query.limit(limit)
        async with self._db.read() as conn:
            return [_row(r) for r in await conn.execute(query)]

    async def set_message(
        self, store_code: str, reverse_order_id: str, *, channel_id: str, ts: str, now: datetime
    ) -> bool:
        """Record where the card was posted; False if there is no such request."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                sa.update(buyer_requests)
                .where(_key(store_code, reverse_order_id))
                .values(channel_id=channel_id, message_ts=ts)
            )
        return result.rowcount == 1

    async def start_deciding(
        self,
        store_code: str,
        reverse_order_id: str,
        *,
        actor: str,
        agreed: bool,
        reason_code: str | None,
        reason_text: str | None,
        now: datetime,
        lease: timedelta,
    ) -> bool:
        """`open → deciding` before the deadline, for the one caller that wins; it then holds it until `now + lease`."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                sa.update(buyer_requests)
                .where(_key(store_code, reverse_order_id), _B.status == OPEN, _in_time(now))
                .values(
                    status=DECIDING,
                    decided_by=actor,
                    decided_at=now,
                    agreed=agreed,
                    refusal_reason_code=reason_code,
                    refusal_reason_text=reason_text,
                    lease_until=now + lease,
                    updated_at=now,
                )
            )
        return result.rowcount == 1

    async def settle(
        self,
        store_code: str,
        reverse_order_id: str,
        *,
        expected: str | Collection[str],
        to: str,
        now: datetime,
        holder_lease: datetime | None = None,
        **fields: Any,
    ) -> bool:
        """Move the request from an `expected` status to `to` with `fields`, clearing its lease; True if it moved.

        `holder_lease` fences a `deciding` row: only the holder whose lease it is (not one taken over since) moves it.
        """
        sources = [expected] if isinstance(expected, str) else list(expected)
        query = sa.update(buyer_requests).where(_key(store_code, reverse_order_id), _B.status.in_(sources))
        if holder_lease is not None:
            query = query.where(_B.lease_until == holder_lease)
        async with self._db.begin() as conn:
            result = await conn.execute(query.values(status=to, lease_until=None, updated_at=now, **fields))
        return result.rowcount == 1

    async def claim_stale_deciding(self, *, now: datetime, lease: timedelta) -> list[BuyerRow]:
        """Take over `deciding` requests whose lease ran out, one conditional update each; those this call won."""
        async with self._db.read() as conn:
            rows = await conn.execute(
                sa.select(_B.store_code, _B.reverse_order_id, _B.lease_until).where(
                    _B.status == DECIDING, sa.or_(_B.lease_until.is_(None), _B.lease_until < now)
                )
            )
            stale = [(r.store_code, r.reverse_order_id, r.lease_until) for r in rows]
        won: list[BuyerRow] = []
        for store_code, reverse_order_id, lease_until in stale:
            held = _B.lease_until.is_(None) if lease_until is None else _B.lease_until == lease_until
            async with self._db.begin() as conn:
                result = await conn.execute(
                    sa.update(buyer_requests)
                    .where(_key(store_code, reverse_order_id), _B.status == DECIDING, held)
                    .values(lease_until=now + lease)
                )
            if result.rowcount == 1 and (row := await self.get(store_code, reverse_order_id)) is not None:
                won.append(row)
        return won

    async def mark_reminded(self, store_code: str, reverse_order_id: str, *, stage: int, now: datetime) -> bool:
        """Claim reminder `stage` (1: half time, 2: one hour before) of an open request in time; True for one caller."""
        async with self._db.begin() as conn:
            result = await conn.execute(
                sa.update(buyer_requests)
                .where(
                    _key(store_code, reverse_order_id),
                    _B.status == OPEN,
                    _B.reminders < stage,
                    _B.deadline > now,
                )
                .values(reminders=stage)
            )
        return result.rowcount == 1

    async def mark_shown(self, store_code: str, reverse_order_id: str, status: str, *, part: str) -> bool:
        """Record that Slack shows `status` (`part`: "card" or "reply"), if the request is still in it."""
        column = {"card": "card_status", "reply": "reply_status"}[part]
        async with self._db.begin() as conn:
            result = await conn.execute(
                sa.update(buyer_requests)
                .where(_key(store_code, reverse_order_id), _B.status == status)
                .values({column: status})
            )
        return result.rowcount == 1

    async def unshown(self, statuses: Sequence[str], *, updated_before: datetime, limit: int = 20) -> list[BuyerRow]:
        """Posted requests in `statuses` whose card or thread reply does not show their status yet."""
        query = (
            sa.select(buyer_requests)
            .where(
                _B.status.in_(list(statuses)),
                _B.message_ts.is_not(None),
                sa.or_(
                    _B.card_status.is_(None),
                    _B.card_status != _B.status,
                    _B.reply_status.is_(None),
                    _B.reply_status != _B.status,
                ),
                _B.updated_at < updated_before,
            )
            .order_by(_B.updated_at)
            .limit(limit)
        )
        async with self._db.read() as conn:
            return [_row(r) for r in await conn.execute(query)]

    async def in_window(self, store_code: str, *, since: datetime, until: datetime) -> list[BuyerRow]:
        """The store's requests first seen or decided within `[since, until)`."""
        seen = sa.and_(_B.first_seen_at >= since, _B.first_seen_at < until)
        decided = sa.and_(_B.decided_at >= since, _B.decided_at < until)
        query = sa.select(buyer_requests).where(_B.store_code == store_code, sa.or_(seen, decided))
        async with self._db.read() as conn:
            return [_row(r) for r in await conn.execute(query)]
