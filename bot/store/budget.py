"""The Lazada call budget in the database, so that every replica paces the same one (`bot.lazada.limiter`).

A bucket's row holds the time of its next free slot. Booking is one atomic UPSERT … RETURNING: the slot is
`max(next_at, now)` and the row moves on by one interval, so concurrent replicas get distinct, evenly spaced slots.
A call that reached Lazada late pushes the row on (one UPDATE), so every replica's later slots move with it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from bot.store.db import Database
from bot.store.tables import lazada_rate_budget

__all__ = ["DbRateBudget"]

_B = lazada_rate_budget.c


class DbRateBudget:
    """A `RateBudget` on PostgreSQL (SQLite runs one process, whose own limiter is enough)."""

    def __init__(self, db: Database) -> None:
        if db.dialect_name != "postgresql":
            raise ValueError(f"a shared rate budget needs PostgreSQL, not {db.dialect_name}")
        self._db = db

    async def book(self, bucket: str, *, now: float, interval: float) -> float:
        """Take the bucket's next free slot at or after `now` and return its time."""
        insert = postgresql.insert(lazada_rate_budget).values(bucket=bucket, next_at=now + interval)
        statement = insert.on_conflict_do_update(
            index_elements=[_B.bucket], set_={"next_at": sa.func.greatest(_B.next_at, now) + interval}
        ).returning(_B.next_at)
        async with self._db.begin() as conn:
            next_at = (await conn.execute(statement)).scalar_one()
        return float(next_at) - interval

    async def hold(self, bucket: str, *, until: float) -> None:
        """Let no slot of the bucket start before `until`."""
        insert = postgresql.insert(lazada_rate_budget).values(bucket=bucket, next_at=until)
        statement = insert.on_conflict_do_update(
            index_elements=[_B.bucket], set_={"next_at": sa.func.greatest(_B.next_at, until)}
        )
        async with self._db.begin() as conn:
            await conn.execute(statement)

    async def push(self, bucket: str, *, by: float) -> None:
        """Move the bucket's next free slot `by` seconds later."""
        statement = sa.update(lazada_rate_budget).where(_B.bucket == bucket).values(next_at=_B.next_at + by)
        async with self._db.begin() as conn:
            await conn.execute(statement)
