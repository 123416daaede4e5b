"""Lazada tokens in the database: `DbTokenStore` implements `bot.lazada.tokens.TokenStore`.

Tokens are stored as plain text: protect the database like the `.env` file that would otherwise hold them.
They leave this module only inside `SecretStr`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict

from bot.lazada.tokens import StoredTokens
from bot.store.claims import ClaimStore
from bot.store.db import Database
from bot.store.tables import lazada_tokens
from bot.store.upsert import insert_or_update

__all__ = ["DbRefreshClaims", "DbTokenStore", "TokenRecord"]

_T = lazada_tokens.c
_TOKEN_COLUMNS = (
    "access_token",
    "refresh_token",
    "access_expires_at",
    "refresh_expires_at",
    "seller_id",
    "account",
    "country",
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TokenRecord(BaseModel):
    """A store's tokens with their health: when they were saved, last worked, and the last refresh error."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    store_code: str
    tokens: StoredTokens
    updated_at: datetime
    last_success_at: datetime | None
    last_refresh_error: str | None


def _tokens(row: Any) -> StoredTokens:
    return StoredTokens.model_validate({name: getattr(row, name) for name in _TOKEN_COLUMNS})


class DbTokenStore:
    """Each store's Lazada tokens in the `lazada_tokens` table, shared by every replica."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self._db = db
        self._clock = clock

    async def load(self, store_code: str) -> StoredTokens | None:
        """Return the store's tokens, or None when the store was never authorized."""
        async with self._db.read() as conn:
            row = (await conn.execute(sa.select(lazada_tokens).where(_T.store_code == store_code))).one_or_none()
        return None if row is None else _tokens(row)

    async def save(self, store_code: str, tokens: StoredTokens) -> None:
        """Replace the store's tokens (insert or update) and clear its last refresh error."""
        values: dict[str, Any] = {
            "store_code": store_code,
            "access_token": tokens.access_token.get_secret_value(),
            "refresh_token": None if tokens.refresh_token is None else tokens.refresh_token.get_secret_value(),
            "access_expires_at": tokens.access_expires_at,
            "refresh_expires_at": tokens.refresh_expires_at,
            "seller_id": tokens.seller_id,
            "account": tokens.account,
            "country": tokens.country,
            "updated_at": self._clock(),
            "last_refresh_error": None,
        }
        async with self._db.begin() as conn:
            await insert_or_update(
                conn,
                lazada_tokens,
                values,
                conflict=["store_code"],
                update=[*_TOKEN_COLUMNS, "updated_at", "last_refresh_error"],
            )

    async def record_success(self, store_code: str, at: datetime) -> None:
        """Note that a call with the store's token worked at `at` (nothing happens for an unknown store)."""
        async with self._db.begin() as conn:
            await conn.execute(sa.update(lazada_tokens).where(_T.store_code == store_code).values(last_success_at=at))

    async def record_refresh_error(self, store_code: str, message: str) -> None:
        """Keep why the last refresh failed, for `lazada status` and the alert; the message must hold no secret."""
        async with self._db.begin() as conn:
            await conn.execute(
                sa.update(lazada_tokens).where(_T.store_code == store_code).values(last_refresh_error=message)
            )

    async def list_tokens(self) -> list[TokenRecord]:
        """Every store's tokens and their health, by store code."""
        async with self._db.read() as conn:
            rows = await conn.execute(sa.select(lazada_tokens).order_by(_T.store_code))
            return [
                TokenRecord(
                    store_code=row.store_code,
                    tokens=_tokens(row),
                    updated_at=row.updated_at,
                    last_success_at=row.last_success_at,
                    last_refresh_error=row.last_refresh_error,
                )
                for row in rows
            ]


class DbRefreshClaims:
    """`RefreshClaims` in the database: a `token_refresh_now` claim per store, held for at most `lease`."""

    KIND = "token_refresh_now"

    def __init__(
        self,
        claims: ClaimStore,
        replica_id: str,
        *,
        clock: Callable[[], datetime] = _utcnow,
        lease: timedelta = timedelta(minutes=1),
    ) -> None:
        self._claims = claims
        self._replica_id = replica_id
        self._clock = clock
        self._lease = lease

    async def claim(self, store_code: str) -> bool:
        """True when this replica may refresh the store's token now (a dead holder's claim runs out with its lease)."""
        return await self._claims.claim(self.KIND, store_code, self._replica_id, now=self._clock(), lease=self._lease)

    async def release(self, store_code: str) -> None:
        """Let the next refresh of the store be claimed."""
        await self._claims.release(self.KIND, store_code, self._replica_id)
