"""Facts about the database itself: which Lazada its data comes from, and which settings token it last took."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa

from bot.store.db import Database
from bot.store.errors import StoreError
from bot.store.tables import database_facts
from bot.store.upsert import insert_ignore, insert_or_update

__all__ = ["DatabaseKind", "DatabaseKindError", "FactStore", "token_fingerprint"]

_F = database_facts.c
_KIND = "kind"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DatabaseKind(StrEnum):
    """Where a database's data comes from: the real Lazada or the sandbox."""

    LAZADA = "lazada"
    SANDBOX = "sandbox"


class DatabaseKindError(StoreError):
    """The database already holds the other kind of data."""

    def __init__(self, *, holds: DatabaseKind, wanted: DatabaseKind) -> None:
        super().__init__(f"the database holds {_WORDS[holds]}, not {_WORDS[wanted]}")
        self.holds = holds
        self.wanted = wanted


_WORDS = {DatabaseKind.LAZADA: "real Lazada data", DatabaseKind.SANDBOX: "Lazada sandbox data"}


def token_fingerprint(token: str) -> str:
    """A SHA-256 of a token: enough to recognise it again without keeping a second copy."""
    return hashlib.sha256(token.encode()).hexdigest()


class FactStore:
    """The `database_facts` table: one named value per fact, shared by every replica."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self._db = db
        self._clock = clock

    async def claim_kind(self, kind: DatabaseKind) -> None:
        """Record `kind` on first use; raise `DatabaseKindError` if the database holds the other kind's data."""
        async with self._db.begin() as conn:
            await insert_ignore(
                conn, database_facts, {"name": _KIND, "value": kind, "recorded_at": self._clock()}, conflict=["name"]
            )
            holds = (await conn.execute(sa.select(_F.value).where(_F.name == _KIND))).scalar_one()
        if holds != kind:
            raise DatabaseKindError(holds=DatabaseKind(holds), wanted=kind)

    async def kind(self) -> DatabaseKind | None:
        """The kind of data the database holds, or None before its first run claimed one; reads, never writes."""
        value = await self.get(_KIND)
        return DatabaseKind(value) if value is not None else None

    async def get(self, name: str) -> str | None:
        """The value of fact `name`, or None when it was never recorded."""
        async with self._db.read() as conn:
            value: str | None = (await conn.execute(sa.select(_F.value).where(_F.name == name))).scalar_one_or_none()
        return value

    async def put(self, name: str, value: str) -> None:
        """Record fact `name`, replacing an earlier value."""
        async with self._db.begin() as conn:
            await insert_or_update(
                conn,
                database_facts,
                {"name": name, "value": value, "recorded_at": self._clock()},
                conflict=["name"],
                update=["value", "recorded_at"],
            )
