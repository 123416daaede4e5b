"""ClaimStore: an exactly-once job is claimed once, taken over only after its lease, and never after it is done."""

from __future__ import annotations

from datetime import timedelta

from bot.store import ClaimStatus, ClaimStore, Database
from tests.store.factories import LEASE, NOW

KEY = "main/2026-11-30"


async def test_claim_is_exclusive_while_the_lease_runs(database: Database) -> None:
    claims = ClaimStore(database)

    assert await claims.claim("digest", KEY, "replica-a", now=NOW, lease=LEASE)
    assert not await claims.claim("digest", KEY, "replica-b", now=NOW + LEASE - timedelta(seconds=1), lease=LEASE)
    assert not await claims.claim("digest", KEY, "replica-a", now=NOW + timedelta(seconds=1), lease=LEASE)
    assert await claims.claim("announce", KEY, "replica-b", now=NOW, lease=LEASE)
    assert await claims.claim("digest", "main/2026-12-01", "replica-b", now=NOW, lease=LEASE)

    claim = await claims.get("digest", KEY)
    assert claim is not None
    assert (claim.claimed_by, claim.claimed_at, claim.lease_until, claim.status, claim.result) == (
        "replica-a",
        NOW,
        NOW + LEASE,
        ClaimStatus.CLAIMED,
        None,
    )


async def test_stale_claim_is_taken_over_and_the_old_holder_cannot_complete(database: Database) -> None:
    claims = ClaimStore(database)
    await claims.claim("digest", KEY, "replica-a", now=NOW, lease=LEASE)
    later = NOW + LEASE + timedelta(seconds=1)

    taken = await claims.claim("digest", KEY, "replica-b", now=later, lease=LEASE)
    old_holder_completes = await claims.complete("digest", KEY, "replica-a", {"ts": "1.1"})
    new_holder_completes = await claims.complete("digest", KEY, "replica-b", {"ts": "2.2", "items": [1, 2]})

    assert (taken, old_holder_completes, new_holder_completes) == (True, False, True)
    claim = await claims.get("digest", KEY)
    assert claim is not None
    assert (claim.claimed_by, claim.claimed_at, claim.status) == ("replica-b", later, ClaimStatus.DONE)
    assert claim.result == {"ts": "2.2", "items": [1, 2]}


async def test_done_claim_is_never_taken_again(database: Database) -> None:
    claims = ClaimStore(database)
    await claims.claim("digest", KEY, "replica-a", now=NOW, lease=LEASE)
    await claims.complete("digest", KEY, "replica-a")

    assert not await claims.claim("digest", KEY, "replica-b", now=NOW + timedelta(days=1), lease=LEASE)
    assert not await claims.complete("digest", KEY, "replica-a")
    assert not await claims.release("digest", KEY, "replica-a")
    claim = await claims.get("digest", KEY)
    assert claim is not None
    assert (claim.status, claim.result) == (ClaimStatus.DONE, None)


async def test_released_claim_can_be_claimed_at_once(database: Database) -> None:
    claims = ClaimStore(database)
    await claims.claim("digest", KEY, "replica-a", now=NOW, lease=LEASE)

    assert not await claims.release("digest", KEY, "replica-b")
    assert await claims.release("digest", KEY, "replica-a")
    assert await claims.get("digest", KEY) is None
    assert await claims.claim("digest", KEY, "replica-b", now=NOW, lease=LEASE)


async def test_get_unknown_claim_is_none(database: Database) -> None:
    assert await ClaimStore(database).get("digest", KEY) is None
