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


RETENTION = timedelta(days=35)


async def test_prune_forgets_claims_whose_lease_ended_long_ago_and_keeps_every_live_one(database: Database) -> None:
    claims = ClaimStore(database)
    long_ago = NOW - RETENTION - timedelta(days=5)
    # Stale: an outcome shown 40 days ago, and a read-back claim whose holder died then.
    await claims.claim("announce_reply", "CR-OLD/executed", "replica-a", now=long_ago, lease=LEASE)
    await claims.complete("announce_reply", "CR-OLD/executed", "replica-a")
    await claims.claim("recheck", "CR-OLD", "replica-a", now=long_ago, lease=LEASE)
    # Live: today's digest, done an hour ago (it must never post twice today); a job claimed 40 days ago whose
    # holder still holds; and one whose lease ended just inside the retention.
    await claims.claim("digest", KEY, "replica-a", now=NOW - timedelta(hours=1), lease=LEASE)
    await claims.complete("digest", KEY, "replica-a")
    await claims.claim("digest_sync", "main", "replica-a", now=long_ago, lease=RETENTION + timedelta(days=10))
    await claims.claim("token_announcement", "main:2026-10-28", "replica-b", now=NOW - RETENTION, lease=LEASE)

    removed = await claims.prune(before=NOW - RETENTION)

    assert removed == 2
    assert await claims.get("announce_reply", "CR-OLD/executed") is None
    assert await claims.get("recheck", "CR-OLD") is None
    assert not await claims.claim("digest", KEY, "replica-b", now=NOW, lease=LEASE), "today's digest stays done"
    assert not await claims.claim("digest_sync", "main", "replica-b", now=NOW, lease=LEASE), "still held"
    kept = await claims.get("token_announcement", "main:2026-10-28")
    assert kept is not None
    assert kept.status is ClaimStatus.CLAIMED


async def test_prune_keeps_the_newest_done_claim_of_each_series(database: Database) -> None:
    claims = ClaimStore(database)

    async def done(kind: str, key: str, days_ago: int) -> None:
        assert await claims.claim(kind, key, "replica-a", now=NOW - timedelta(days=days_ago), lease=LEASE)
        assert await claims.complete(kind, key, "replica-a")

    await done("digest", "main/2026-09-01", 90)
    await done("digest", "main/2026-09-02", 89)
    await done("digest", "other/2026-08-01", 120)
    await done("seller_performance", "main/2026-09-02", 89)
    # Claimed later than the newest done digest, but never done: it says nothing about when a digest ran.
    await claims.claim("digest", "main/2026-09-03", "replica-a", now=NOW - timedelta(days=88), lease=LEASE)

    removed = await claims.prune(before=NOW - RETENTION, keep_newest_done=["digest"])

    assert removed == 3
    assert [
        key
        for key in ("main/2026-09-01", "main/2026-09-02", "main/2026-09-03", "other/2026-08-01")
        if await claims.get("digest", key) is not None
    ] == ["main/2026-09-02", "other/2026-08-01"]
    assert await claims.get("seller_performance", "main/2026-09-02") is None
