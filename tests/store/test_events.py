"""EventStore: the first delivery of a Slack event id wins, retries lose, old ids can be forgotten."""

from __future__ import annotations

from datetime import timedelta

from bot.store import Database, EventStore
from tests.store.factories import NOW


async def test_claim_event_once(database: Database) -> None:
    events = EventStore(database)

    assert await events.claim_event("Ev01", NOW)
    assert not await events.claim_event("Ev01", NOW + timedelta(minutes=1))
    assert await events.claim_event("Ev02", NOW)


async def test_prune_forgets_only_old_events(database: Database) -> None:
    events = EventStore(database)
    await events.claim_event("Ev-old", NOW - timedelta(days=2))
    await events.claim_event("Ev-new", NOW)

    removed = await events.prune(before=NOW - timedelta(days=1))

    assert removed == 1
    assert await events.claim_event("Ev-old", NOW)
    assert not await events.claim_event("Ev-new", NOW)
