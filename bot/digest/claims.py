"""The daily digest's claim: which replica announces a store's digest for a day, decided in the database.

Every replica's tick may try; the one whose claim wins computes the digest and announces it. A claim whose holder
died is taken over after its lease; the new holder is told so, since the first holder may have posted just before
dying (the presenter then looks for that post before posting again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.store.claims import ClaimStore
from bot.store.models import ClaimStatus

__all__ = ["CLAIM_KIND", "ClaimOutcome", "DigestClaims", "claim_key"]

CLAIM_KIND = "digest"


def claim_key(store_code: str, day: object) -> str:
    """The claim of one store's digest for one local date, e.g. ``main/2026-11-30``."""
    return f"{store_code}/{day}"


@dataclass(frozen=True, slots=True)
class ClaimOutcome:
    """What a claim attempt found: ``won`` (this replica announces), and whether it took over a dead holder's claim."""

    won: bool
    taken_over: bool = False


class DigestClaims:
    """This replica's claims on daily digests; one instance per digest service."""

    def __init__(
        self,
        claims: ClaimStore,
        *,
        clock: Callable[[], datetime],
        replica_id: str,
        lease: timedelta = timedelta(minutes=15),
    ) -> None:
        self._claims = claims
        self._clock = clock
        self._replica_id = replica_id
        self._lease = lease

    async def claim(self, key: str) -> ClaimOutcome:
        """Try to become the one replica that announces the digest ``key``; a done digest is never claimed again."""
        existing = await self._claims.get(CLAIM_KIND, key)
        if existing is not None and existing.status is ClaimStatus.DONE:
            return ClaimOutcome(won=False)
        won = await self._claims.claim(CLAIM_KIND, key, self._replica_id, now=self._clock(), lease=self._lease)
        return ClaimOutcome(won=won, taken_over=won and existing is not None)

    @property
    def lease(self) -> timedelta:
        """How long a claim holds without renewal."""
        return self._lease

    async def renew(self, key: str) -> bool:
        """Extend this replica's claim on ``key`` by a lease; False once it ran out or another replica took it."""
        return await self._claims.renew(CLAIM_KIND, key, self._replica_id, now=self._clock(), lease=self._lease)

    async def complete(self, key: str, result: dict[str, Any]) -> bool:
        """Mark the digest ``key`` done with ``result``; False if another replica took the claim over meanwhile."""
        return await self._claims.complete(CLAIM_KIND, key, self._replica_id, result)

    async def release(self, key: str) -> None:
        """Give the claim back so the next tick tries again (nothing was posted)."""
        await self._claims.release(CLAIM_KIND, key, self._replica_id)
