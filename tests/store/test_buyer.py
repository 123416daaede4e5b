"""The buyer_requests table: stored once, decided once, reminded once, on SQLite and PostgreSQL (two pools at once)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.store import Database
from bot.store.buyer import DECIDING, OPEN, BuyerRequestStore

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
CALLERS = 20


def _new(reverse_order_id: str = "700001", *, deadline: datetime | None = NOW + timedelta(hours=24)) -> dict[str, Any]:
    return {
        "store_code": "main",
        "reverse_order_id": reverse_order_id,
        "order_id": "100000000000009",
        "lines": [{"reverse_order_line_id": "1", "order_item_id": "9001", "reason_text": "Changed my mind"}],
        "buyer_reason": "Changed my mind",
        "refund_total": 1250,
        "deadline": deadline,
    }


@pytest.fixture
async def stores(database: Database, db_url: str) -> AsyncIterator[list[BuyerRequestStore]]:
    """Twenty stores over two independent pools on one database, like callers on two replicas."""
    other = Database.from_url(db_url)
    try:
        yield [BuyerRequestStore(database if n % 2 else other) for n in range(CALLERS)]
    finally:
        await other.close()


async def test_a_request_found_by_many_callers_is_stored_once(stores: list[BuyerRequestStore]) -> None:
    stored = await asyncio.gather(*(s.insert_new(_new(), now=NOW) for s in stores))

    assert stored.count(True) == 1
    row = await stores[0].get("main", "700001")
    assert row is not None
    assert (row["status"], row["first_seen_at"], row["deadline"]) == (OPEN, NOW, NOW + timedelta(hours=24))
    assert row["lines"][0]["reason_text"] == "Changed my mind"


async def test_twenty_deciders_at_once_one_wins(stores: list[BuyerRequestStore]) -> None:
    await stores[0].insert_new(_new(), now=NOW)

    won = await asyncio.gather(
        *(
            s.start_deciding(
                "main",
                "700001",
                actor=f"U0{n:03d}",
                agreed=True,
                reason_code=None,
                reason_text=None,
                now=NOW,
                lease=LEASE,
            )
            for n, s in enumerate(stores)
        )
    )

    assert won.count(True) == 1
    row = await stores[0].get("main", "700001")
    assert row is not None
    assert row["status"] == DECIDING
    assert row["decided_by"] == f"U0{won.index(True):03d}"
    assert row["lease_until"] == NOW + LEASE


async def test_no_decision_at_or_after_the_deadline(stores: list[BuyerRequestStore]) -> None:
    store = stores[0]
    await store.insert_new(_new(deadline=NOW), now=NOW - timedelta(hours=1))

    assert not await store.start_deciding(
        "main", "700001", actor="U0BOB", agreed=True, reason_code=None, reason_text=None, now=NOW, lease=LEASE
    )
    row = await store.get("main", "700001")
    assert row is not None
    assert (row["status"], row["decided_by"]) == (OPEN, None)


async def test_settling_is_fenced_by_the_holders_lease(stores: list[BuyerRequestStore]) -> None:
    store = stores[0]
    await store.insert_new(_new(), now=NOW)
    await store.start_deciding(
        "main", "700001", actor="U0BOB", agreed=True, reason_code=None, reason_text=None, now=NOW, lease=LEASE
    )
    later = NOW + LEASE + timedelta(seconds=1)
    taken = await asyncio.gather(*(s.claim_stale_deciding(now=later, lease=LEASE) for s in stores))
    assert sum(len(t) for t in taken) == 1

    # The first holder's lease was taken over: its late answer no longer settles the request.
    assert not await store.settle(
        "main", "700001", expected=DECIDING, to="accepted", now=later, holder_lease=NOW + LEASE
    )
    assert await store.settle(
        "main", "700001", expected=DECIDING, to="needs_attention", now=later, holder_lease=later + LEASE
    )
    row = await store.get("main", "700001")
    assert row is not None
    assert (row["status"], row["lease_until"]) == ("needs_attention", None)


async def test_each_reminder_is_claimed_once_and_never_after_the_deadline(stores: list[BuyerRequestStore]) -> None:
    await stores[0].insert_new(_new(), now=NOW)
    half = NOW + timedelta(hours=12)

    firsts = await asyncio.gather(*(s.mark_reminded("main", "700001", stage=1, now=half) for s in stores))
    assert firsts.count(True) == 1
    assert not await stores[0].mark_reminded("main", "700001", stage=1, now=half)
    assert await stores[0].mark_reminded("main", "700001", stage=2, now=NOW + timedelta(hours=23))
    assert not await stores[0].mark_reminded("main", "700001", stage=2, now=NOW + timedelta(hours=23))
    await stores[0].insert_new(_new("700002"), now=NOW)
    assert not await stores[0].mark_reminded("main", "700002", stage=2, now=NOW + timedelta(hours=24))


async def test_open_requests_come_soonest_deadline_first(stores: list[BuyerRequestStore]) -> None:
    store = stores[0]
    await store.insert_new(_new("1", deadline=None), now=NOW)
    await store.insert_new(_new("2", deadline=NOW + timedelta(hours=5)), now=NOW)
    await store.insert_new(_new("3", deadline=NOW + timedelta(hours=2)), now=NOW)

    rows = await store.select(statuses=[OPEN], store_code="main")

    assert [r["reverse_order_id"] for r in rows] == ["3", "2", "1"]


async def test_what_slack_shows_is_tracked_per_part(stores: list[BuyerRequestStore]) -> None:
    store = stores[0]
    await store.insert_new(_new(), now=NOW)
    await store.set_message("main", "700001", channel_id="C0OPS", ts="1.000", now=NOW)
    await store.settle("main", "700001", expected=OPEN, to="answered_elsewhere", now=NOW)

    assert [r["reverse_order_id"] for r in await store.unshown(["answered_elsewhere"], updated_before=NOW + LEASE)] == [
        "700001"
    ]
    assert await store.mark_shown("main", "700001", "answered_elsewhere", part="card")
    assert await store.mark_shown("main", "700001", "answered_elsewhere", part="reply")
    assert await store.unshown(["answered_elsewhere"], updated_before=NOW + LEASE) == []
    assert not await store.mark_shown("main", "700001", "accepted", part="card")
