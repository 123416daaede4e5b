"""Races, on every backend: many callers at once through two `Database` objects, exactly one winner each time.

PostgreSQL is the backend that matters here: SQLite's single writer hides races that PostgreSQL exposes.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.domain import ItemAlreadyRequestedError
from bot.store import (
    ApproveResult,
    ClaimStore,
    Database,
    EventStore,
    OrderStatus,
    RequestStatus,
    RequestStore,
)
from tests.store.factories import LEASE, NOW, TTL, new_request

CALLERS = 20


@pytest.fixture
async def databases(database: Database, db_url: str) -> AsyncIterator[tuple[Database, Database]]:
    """Two independent `Database` objects (separate pools, like two replicas) on the same migrated database."""
    other = Database.from_url(db_url)
    try:
        yield database, other
    finally:
        await other.close()


def _stores(databases: tuple[Database, Database]) -> list[RequestStore]:
    return [RequestStore(databases[n % 2]) for n in range(CALLERS)]


async def test_concurrent_approvers_one_required_exactly_one_executes(
    databases: tuple[Database, Database],
) -> None:
    stores = _stores(databases)
    created = await stores[0].create_request(new_request(), now=NOW)

    outcomes = await asyncio.gather(
        *(store.approve(created.id, f"U_{n}", now=NOW, lease=LEASE) for n, store in enumerate(stores))
    )

    results = Counter(outcome.result for outcome in outcomes)
    assert results == {ApproveResult.EXECUTING: 1, ApproveResult.ALREADY_DECIDED: CALLERS - 1}
    winner = next(o for o in outcomes if o.result is ApproveResult.EXECUTING)
    final = await stores[0].get_request(created.id)
    assert final is not None
    assert (final.status, final.approval_count, final.attempts) == (RequestStatus.EXECUTING, 1, 1)
    assert final.approver_ids == (winner.request.decided_by,)
    actions = Counter(entry.action for entry in await stores[0].audit_trail(created.id))
    assert actions == {"requested": 1, "approved": 1, "executing": 1}


async def test_concurrent_approvers_two_required_exactly_one_executes(
    databases: tuple[Database, Database],
) -> None:
    stores = _stores(databases)
    created = await stores[0].create_request(new_request(required_approvals=2), now=NOW)

    outcomes = await asyncio.gather(
        *(store.approve(created.id, f"U_{n}", now=NOW, lease=LEASE) for n, store in enumerate(stores))
    )

    results = Counter(outcome.result for outcome in outcomes)
    assert results == {
        ApproveResult.RECORDED: 1,
        ApproveResult.EXECUTING: 1,
        ApproveResult.ALREADY_DECIDED: CALLERS - 2,
    }
    final = await stores[0].get_request(created.id)
    assert final is not None
    assert (final.status, final.approval_count) == (RequestStatus.EXECUTING, 2)
    assert len(set(final.approver_ids)) == 2
    assert final.decided_by in final.approver_ids
    actions = Counter(entry.action for entry in await stores[0].audit_trail(created.id))
    assert actions == {"requested": 1, "approved": 2, "executing": 1}


async def test_one_approver_clicking_many_times_counts_once(databases: tuple[Database, Database]) -> None:
    stores = _stores(databases)
    created = await stores[0].create_request(new_request(required_approvals=2), now=NOW)

    outcomes = await asyncio.gather(*(store.approve(created.id, "U_A", now=NOW, lease=LEASE) for store in stores))

    results = Counter(outcome.result for outcome in outcomes)
    assert results == {ApproveResult.RECORDED: 1, ApproveResult.ALREADY_APPROVED_BY_YOU: CALLERS - 1}
    final = await stores[0].get_request(created.id)
    assert final is not None
    assert (final.status, final.approval_count, final.approver_ids) == (RequestStatus.PENDING, 1, ("U_A",))


async def test_concurrent_decisions_exactly_one_wins(databases: tuple[Database, Database]) -> None:
    stores = _stores(databases)
    created = await stores[0].create_request(new_request(), now=NOW)
    approvers, rejecters = stores[::2], stores[1::2]

    approvals, rejections = await asyncio.gather(
        asyncio.gather(
            *(store.approve(created.id, f"U_A{n}", now=NOW, lease=LEASE) for n, store in enumerate(approvers))
        ),
        asyncio.gather(
            *(
                store.transition(
                    created.id, expected=RequestStatus.PENDING, to=RequestStatus.REJECTED, actor=f"U_R{n}", now=NOW
                )
                for n, store in enumerate(rejecters)
            )
        ),
    )

    executing = [outcome for outcome in approvals if outcome.result is ApproveResult.EXECUTING]
    assert len(executing) + rejections.count(True) == 1
    final = await stores[0].get_request(created.id)
    assert final is not None
    assert final.status is (RequestStatus.EXECUTING if executing else RequestStatus.REJECTED)
    trail = await stores[0].audit_trail(created.id)
    assert [entry.to_status for entry in trail if entry.from_status != entry.to_status] == ["pending", final.status]


async def test_concurrent_reconcilers_take_each_stale_request_once(databases: tuple[Database, Database]) -> None:
    stores = _stores(databases)
    ids = []
    for n in range(3):
        created = await stores[0].create_request(new_request(first_order=2000 + n), now=NOW)
        await stores[0].approve(created.id, "U_BOSS", now=NOW, lease=LEASE)
        ids.append(created.id)
    later = NOW + 2 * LEASE

    taken = await asyncio.gather(
        *(store.claim_stale_executing(now=later, lease=LEASE, claimer=f"replica-{n}") for n, store in enumerate(stores))
    )

    all_taken = [request.id for batch in taken for request in batch]
    assert sorted(all_taken) == sorted(ids)
    for request_id in ids:
        final = await stores[0].get_request(request_id)
        assert final is not None
        assert final.attempts == 2
        actions = [entry.action for entry in await stores[0].audit_trail(request_id)]
        assert actions.count("taken_over") == 1


async def test_concurrent_expiry_and_reminders_act_once(databases: tuple[Database, Database]) -> None:
    stores = _stores(databases)
    ids = [(await stores[0].create_request(new_request(first_order=2000 + n), now=NOW)).id for n in range(3)]
    half = NOW + TTL / 2

    reminded = await asyncio.gather(*(store.mark_reminded(ids[0], half) for store in stores))
    expired = await asyncio.gather(*(store.expire_due(now=NOW + TTL) for store in stores))

    assert reminded.count(True) == 1
    assert sorted(request.id for batch in expired for request in batch) == sorted(ids)


async def test_concurrent_event_claims_one_winner(databases: tuple[Database, Database]) -> None:
    events = [EventStore(databases[n % 2]) for n in range(CALLERS)]

    claimed = await asyncio.gather(*(store.claim_event("Ev0123ABC", NOW) for store in events))

    assert claimed.count(True) == 1


async def test_concurrent_job_claims_one_winner_then_one_takeover(databases: tuple[Database, Database]) -> None:
    claims = [ClaimStore(databases[n % 2]) for n in range(CALLERS)]
    key = "main/2026-11-30"

    first = await asyncio.gather(
        *(store.claim("digest", key, f"replica-{n}", now=NOW, lease=LEASE) for n, store in enumerate(claims))
    )
    after_lease = NOW + LEASE + LEASE
    takeover = await asyncio.gather(
        *(store.claim("digest", key, f"replica-{n}", now=after_lease, lease=LEASE) for n, store in enumerate(claims))
    )

    assert first.count(True) == 1
    assert takeover.count(True) == 1
    claim = await claims[0].get("digest", key)
    assert claim is not None
    assert claim.claimed_by == f"replica-{takeover.index(True)}"
    assert claim.lease_until == after_lease + LEASE


async def test_concurrent_submissions_of_one_item_make_exactly_one_request(
    databases: tuple[Database, Database],
) -> None:
    stores = [RequestStore(databases[n % 2]) for n in range(10)]
    # The same order written with and without a leading zero: one order, so one item.
    writings = ["100000000000002", "0100000000000002"]
    attempts = [
        new_request(requester_id=f"U_{n}").model_copy(
            update={"orders": (new_request().orders[0].model_copy(update={"order_id": writings[n % 2]}),)}
        )
        for n in range(10)
    ]

    outcomes = await asyncio.gather(
        *(store.create_request(new, now=NOW) for store, new in zip(stores, attempts, strict=True)),
        return_exceptions=True,
    )

    created = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, ItemAlreadyRequestedError)]
    assert len(created) == 1, outcomes
    assert len(refused) == 9, outcomes
    assert {r.request_id for r in refused} == {created[0].id}
    assert len(await stores[0].list_requests()) == 1


async def _pending_request(store: RequestStore, first_order: int) -> str:
    """A request moved to `cancel_pending` (its one order pending at Lazada), first read-back due at NOW."""
    created = await store.create_request(new_request(first_order=first_order), now=NOW)
    await store.approve(created.id, "U_BOSS", now=NOW, lease=LEASE)
    order_id = created.orders[0].order_id
    await store.set_order_status(created.id, order_id, expected=OrderStatus.PENDING, to=OrderStatus.EXECUTING, now=NOW)
    await store.set_order_status(
        created.id, order_id, expected=OrderStatus.EXECUTING, to=OrderStatus.CANCEL_PENDING, now=NOW
    )
    assert await store.transition(
        created.id,
        expected=RequestStatus.EXECUTING,
        to=RequestStatus.CANCEL_PENDING,
        actor="U_BOSS",
        now=NOW,
        recheck_at=NOW,
        rechecks=0,
    )
    return created.id


def _backoff(rechecks: int) -> timedelta:
    return timedelta(minutes=2**rechecks)


async def test_concurrent_read_backs_of_a_pending_cancellation_are_claimed_once_per_due_time(
    databases: tuple[Database, Database],
) -> None:
    stores = _stores(databases)
    ids = [await _pending_request(stores[0], 3000 + n) for n in range(3)]

    first = await asyncio.gather(*(store.claim_pending_rechecks(now=NOW, backoff=_backoff) for store in stores))
    again = await asyncio.gather(
        *(store.claim_pending_rechecks(now=NOW + timedelta(minutes=1), backoff=_backoff) for store in stores)
    )
    later = await asyncio.gather(
        *(store.claim_pending_rechecks(now=NOW + timedelta(minutes=2), backoff=_backoff) for store in stores)
    )

    assert sorted(r.id for batch in first for r in batch) == sorted(ids), "each due read-back by one replica"
    assert [r.id for batch in again for r in batch] == [], "not due again before its backoff"
    assert sorted(r.id for batch in later for r in batch) == sorted(ids)
    current = await stores[0].get_request(ids[0])
    assert current is not None
    assert (current.rechecks, current.recheck_at) == (2, NOW + timedelta(minutes=2) + _backoff(2))


async def test_concurrent_late_order_reply_claims_post_once(databases: tuple[Database, Database]) -> None:
    stores = _stores(databases)
    request_id = await _pending_request(stores[0], 3100)
    order_id = (await stores[0].get_request(request_id)).orders[0].order_id  # type: ignore[union-attr]
    assert await stores[0].set_order_status(
        request_id, order_id, expected=OrderStatus.CANCEL_PENDING, to=OrderStatus.EXECUTED, now=NOW, late=True
    )

    claims = await asyncio.gather(
        *(
            store.claim_order_reply(
                request_id, order_id, OrderStatus.EXECUTED, claimer=f"replica-{n}", now=NOW, lease=LEASE
            )
            for n, store in enumerate(stores)
        )
    )

    assert claims.count(True) == 1
    winner = f"replica-{claims.index(True)}"
    await stores[0].end_order_reply(request_id, order_id, OrderStatus.EXECUTED, claimer=winner, shown=True)
    assert (await stores[0].get_request(request_id)).orders[0].reply_due is None  # type: ignore[union-attr]
    retry = await stores[1].claim_order_reply(
        request_id, order_id, OrderStatus.EXECUTED, claimer="replica-x", now=NOW + 2 * LEASE, lease=LEASE
    )
    assert retry is False, "posted once, never again"
