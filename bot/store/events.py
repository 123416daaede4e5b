"""Slack event de-duplication: the first delivery of an `event_id` claims it, retries find it taken."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from bot.store.db import Database
from bot.store.tables import processed_events
from bot.store.upsert import insert_ignore

__all__ = ["EventStore"]


class EventStore:
    """Processed Slack event ids, claimed with `INSERT … ON CONFLICT DO NOTHING`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim_event(self, event_id: str, now: datetime) -> bool:
        """True for the first caller with this `event_id` (process it), False for every later one (skip it)."""
        async with self._db.begin() as conn:
            return await insert_ignore(
                conn, processed_events, {"event_id": event_id, "received_at": now}, conflict=["event_id"]
            )

    async def prune(self, *, before: datetime) -> int:
        """Forget event ids received before `before` (Slack stops retrying within minutes); return how many."""
        async with self._db.begin() as conn:
            result = await conn.execute(sa.delete(processed_events).where(processed_events.c.received_at < before))
        return result.rowcount
