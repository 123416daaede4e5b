"""Scheduler claims: exactly-once jobs (a store's digest for a date, a daily announcement) decided in the DB.

Every replica runs the same schedule; the one whose `claim` returns True does the job, then calls
`complete`. A claim whose holder died is taken over once its lease has run out; a `done` claim is never
taken again, so the row also remembers that today's job already ran. `prune` forgets claims whose lease
ended long ago, once no job can ask for them again.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.store.db import Database
from bot.store.models import Claim, ClaimStatus
from bot.store.tables import scheduler_claims
from bot.store.upsert import insert_ignore

__all__ = ["ClaimStore"]

_C = scheduler_claims.c


def _held(kind: str, key: str, claimer: str) -> sa.ColumnElement[bool]:
    """The claim on `(kind, key)` while `claimer` holds it (not done)."""
    return sa.and_(_C.kind == kind, _C.key == key, _C.claimed_by == claimer, _C.status == ClaimStatus.CLAIMED.value)


class ClaimStore:
    """Claims on `(kind, key)` jobs, e.g. `("digest", "main/2026-11-30")`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, kind: str, key: str, claimer: str, *, now: datetime, lease: timedelta) -> bool:
        """True if `claimer` now holds the job until `now + lease`: it was unclaimed, or its holder's lease ran out.

        False if another holder's lease is still running (even when that holder is `claimer` itself) or
        the job is done.
        """
        lease_until = now + lease
        async with self._db.begin() as conn:
            if await insert_ignore(
                conn,
                scheduler_claims,
                {
                    "kind": kind,
                    "key": key,
                    "claimed_by": claimer,
                    "claimed_at": now,
                    "lease_until": lease_until,
                    "status": ClaimStatus.CLAIMED.value,
                    "result": None,
                },
                conflict=["kind", "key"],
            ):
                return True
            result = await conn.execute(
                sa.update(scheduler_claims)
                .where(
                    _C.kind == kind,
                    _C.key == key,
                    _C.status == ClaimStatus.CLAIMED.value,
                    _C.lease_until < now,
                )
                .values(claimed_by=claimer, claimed_at=now, lease_until=lease_until)
            )
            return result.rowcount == 1

    async def renew(self, kind: str, key: str, claimer: str, *, now: datetime, lease: timedelta) -> bool:
        """Extend `claimer`'s running claim to `now + lease`; False if it ran out, was taken over or is done."""
        async with self._db.begin() as conn:
            updated = await conn.execute(
                sa.update(scheduler_claims)
                .where(_held(kind, key, claimer), _C.lease_until >= now)
                .values(lease_until=now + lease)
            )
        return updated.rowcount == 1

    async def complete(self, kind: str, key: str, claimer: str, result: Any = None) -> bool:
        """Mark the job `done` with a JSON `result`; False if `claimer` no longer holds it (it was taken over)."""
        async with self._db.begin() as conn:
            updated = await conn.execute(
                sa.update(scheduler_claims)
                .where(_held(kind, key, claimer))
                .values(status=ClaimStatus.DONE.value, result=result)
            )
        return updated.rowcount == 1

    async def release(self, kind: str, key: str, claimer: str) -> bool:
        """Give up a held claim so the next tick may try again at once; False if `claimer` does not hold it."""
        async with self._db.begin() as conn:
            deleted = await conn.execute(sa.delete(scheduler_claims).where(_held(kind, key, claimer)))
        return deleted.rowcount == 1

    async def prune(self, *, before: datetime, keep_newest_done: Collection[str] = ()) -> int:
        """Forget the claims whose lease ended before `before`; return how many.

        A held claim's lease has not ended, so it always stays; `before` must lie further back than any job can
        still ask for a claim (a day's job, a request's announcements), or a done job could run again. For each
        kind in `keep_newest_done`, whose keys read `series/…` (a digest's `store/date`), the newest done claim
        of each series stays whatever its age, so when that job last ran stays known.
        """
        stale: sa.ColumnElement[bool] = _C.lease_until < before
        async with self._db.begin() as conn:
            if keep_newest_done:
                done = await conn.execute(
                    sa.select(_C.kind, _C.key, _C.claimed_at).where(
                        _C.kind.in_(list(keep_newest_done)), _C.status == ClaimStatus.DONE.value
                    )
                )
                newest: dict[tuple[str, str], tuple[datetime, str]] = {}
                for kind, key, claimed_at in done:
                    series = (kind, key.partition("/")[0])
                    if series not in newest or claimed_at > newest[series][0]:
                        newest[series] = (claimed_at, key)
                for (kind, _), (_, key) in newest.items():
                    stale = sa.and_(stale, sa.not_(sa.and_(_C.kind == kind, _C.key == key)))
            result = await conn.execute(sa.delete(scheduler_claims).where(stale))
        return result.rowcount

    async def get(self, kind: str, key: str) -> Claim | None:
        """The claim on `(kind, key)`, or None if nobody has claimed it."""
        async with self._db.read() as conn:
            row = (await conn.execute(sa.select(scheduler_claims).where(_C.kind == kind, _C.key == key))).one_or_none()
        return None if row is None else Claim.model_validate(dict(row._mapping))
