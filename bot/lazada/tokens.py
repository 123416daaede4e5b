"""Per-store Lazada tokens: the stored record, the store contract, and an in-memory store."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, SecretStr

from bot.lazada.models import TokenGrant

__all__ = ["MemoryTokenStore", "StoredTokens", "TokenStore"]


class StoredTokens(BaseModel):
    """A store's tokens and what Lazada said about them; expiry times are aware datetimes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    access_token: SecretStr
    refresh_token: SecretStr | None = None
    access_expires_at: AwareDatetime | None = None
    refresh_expires_at: AwareDatetime | None = None
    seller_id: str | None = None
    account: str | None = None
    country: str | None = None

    @classmethod
    def from_grant(cls, grant: TokenGrant, *, now: datetime) -> StoredTokens:
        """Build the record to store from a token answer received at ``now``."""
        return cls(
            access_token=grant.access_token,
            refresh_token=grant.refresh_token,
            access_expires_at=grant.access_expires_at(now),
            refresh_expires_at=grant.refresh_expires_at(now),
            seller_id=grant.seller_id,
            account=grant.account,
            country=grant.country,
        )


class TokenStore(Protocol):
    """Where the client keeps each store's tokens (memory in tests, the database in the app)."""

    async def load(self, store_code: str) -> StoredTokens | None:
        """Return the store's tokens, or ``None`` when the store was never authorized."""
        ...

    async def save(self, store_code: str, tokens: StoredTokens) -> None:
        """Replace the store's tokens."""
        ...

    async def record_success(self, store_code: str, at: datetime) -> None:
        """Note that a call with the store's token worked at ``at`` (the client calls this at most once a minute)."""
        ...


class MemoryTokenStore:
    """A ``TokenStore`` kept in this object's memory, for tests and one-off scripts."""

    def __init__(self, initial: dict[str, StoredTokens] | None = None) -> None:
        self._tokens: dict[str, StoredTokens] = dict(initial or {})
        self._successes: dict[str, list[datetime]] = {}
        self.saves = 0

    async def load(self, store_code: str) -> StoredTokens | None:
        """Return the store's tokens, or ``None`` when the store was never authorized."""
        return self._tokens.get(store_code)

    async def save(self, store_code: str, tokens: StoredTokens) -> None:
        """Replace the store's tokens."""
        self._tokens[store_code] = tokens
        self.saves += 1

    async def record_success(self, store_code: str, at: datetime) -> None:
        """Note that a call with the store's token worked at ``at``."""
        self._successes.setdefault(store_code, []).append(at)

    def successes(self, store_code: str) -> tuple[datetime, ...]:
        """Every time ``record_success`` was called for the store, oldest first."""
        return tuple(self._successes.get(store_code, ()))
