"""RequestStore contract, on every backend: round trips, compare-and-set transitions, approvals and audit rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from bot.domain import ItemAlreadyRequestedError
from bot.store import (
    ApproveResult,
    Database,
    OrderAnswers,
    OrderStatus,
    RequestNotFoundError,
    RequestStatus,
    RequestStore,
    StoreError,
)
from tests.store.factories import LEASE, NOW, TTL, new_request

BANGKOK = ZoneInfo("Asia/Bangkok")


async def _actions(store: RequestStore, request_id: str) -> list[str]:
    return [entry.action for entry in await store.audit_trail(request_id)]


async def test_create_get_round_trip_in_utc(store: RequestStore) -> None:
    local_now = NOW.astimezone(BANGKOK)
    new = new_request(orders=2, expires_at=(NOW + TTL).astimezone(BANGKOK))

    created = await store.create_request(new, now=local_now)
    fetched = await store.get_request(created.id)

    assert fetched == created
    assert re.fullmatch(r"CR-[2-9A-HJ-NP-Z]{5}", created.id)
    assert created.status is RequestStatus.PENDING
    assert (created.approval_count, created.required_approvals, created.attempts, created.version) == (0, 1, 0, 1)
    assert created.created_at == NOW
    assert created.created_at.tzinfo is UTC
    assert created.expires_at == NOW + TTL
    assert created.expires_at.tzinfo is UTC
    assert created.remind_at == NOW + TTL / 2
    assert created.message_ts is None
    assert created.reminded_at is None
    assert created.lease_until is None
    assert [order.order_id for order in created.orders] == ["1000", "1001"]
    assert created.orders[0].items == new.orders[0].items
    assert created.orders[0].items[0].paid_price == Decimal("12.50")
    assert created.orders[0].item_ids == ("001",)
    assert {order.status for order in created.orders} == {OrderStatus.PENDING}
    assert created.orders[0].validate_tip_type == "warning"
    assert created.approvals == ()
    assert created.model_dump(include={"store_code", "requester_id", "reason_id", "justification"}) == {
        "store_code": "main",
        "requester_id": "U_REQ",
        "reason_id": "10000021",
        "justification": "Supplier cannot deliver.",
    }
    trail = await store.audit_trail(created.id)
    assert [(e.action, e.actor, e.from_status, e.to_status) for e in trail] == [("requested", "U_REQ", None, "pending")]
    assert trail[0].occurred_at == NOW
    assert trail[0].occurred_at.tzinfo is UTC
    assert trail[0].details == {
        "store_code": "main",
        "orders": ["1000", "1001"],
        "reason_id": "10000021",
        "required_approvals": 1,
    }


async def test_get_unknown_request_is_none(store: RequestStore) -> None:
    assert await store.get_request("CR-NOPE2") is None


async def test_naive_datetimes_are_refused(store: RequestStore) -> None:
    naive = NOW.replace(tzinfo=None)
    with pytest.raises(ValueError, match="aware"):
        await store.create_request(new_request(), now=naive)
    created = await store.create_request(new_request(), now=NOW)

    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        await store.mark_reminded(created.id, naive)

    assert await _actions(store, created.id) == ["requested"]


def test_new_request_validates_its_shape() -> None:
    with pytest.raises(ValidationError, match="at most 50"):
        new_request(orders=51)
    with pytest.raises(ValidationError, match="timezone-aware"):
        new_request(expires_at=datetime(2026, 12, 1, 9, 0))
    with pytest.raises(ValidationError, match="required_approvals"):
        new_request(required_approvals=3)


async def test_create_retries_a_taken_id(database: Database) -> None:
    ids: Iterator[str] = iter(["CR-AAAAA", "CR-AAAAA", "CR-BBBBB"])
    store = RequestStore(database, new_id=lambda: next(ids))

    first = await store.create_request(new_request(), now=NOW)
    second = await store.create_request(new_request(first_order=2000), now=NOW)

    assert (first.id, second.id) == ("CR-AAAAA", "CR-BBBBB")
    assert await _actions(store, "CR-AAAAA") == ["requested"]


async def test_create_gives_up_when_no_id_is_free(database: Database) -> None:
    store = RequestStore(database, new_id=lambda: "CR-AAAAA")
    await store.create_request(new_request(), now=NOW)

    with pytest.raises(StoreError, match="no free request id"):
        await store.create_request(new_request(first_order=2000), now=NOW)


async def test_create_refuses_an_expiry_in_the_past(store: RequestStore) -> None:
    with pytest.raises(ValueError, match="expires_at"):
        await store.create_request(new_request(expires_at=NOW), now=NOW)


async def test_list_requests_filters_newest_first(store: RequestStore) -> None:
    a = await store.create_request(new_request(), now=NOW)
    b = await store.create_request(
        new_request(requester_id="U_OTHER", first_order=2000), now=NOW + timedelta(minutes=1)
    )
    c = await store.create_request(new_request(store_code="second"), now=NOW + timedelta(minutes=2))
    assert await store.transition(
        a.id, expected=RequestStatus.PENDING, to=RequestStatus.WITHDRAWN, actor="U_REQ", now=NOW
    )

    assert [r.id for r in await store.list_requests()] == [c.id, b.id, a.id]
    assert [r.id for r in await store.list_requests(status=RequestStatus.PENDING)] == [c.id, b.id]
    assert [r.id for r in await store.list_requests(status={RequestStatus.WITHDRAWN})] == [a.id]
    assert [r.id for r in await store.list_requests(requester_id="U_OTHER")] == [b.id]
    assert [r.id for r in await store.list_requests(store_code="second")] == [c.id]
    assert [r.id for r in await store.list_requests(created_since=NOW + timedelta(minutes=1))] == [c.id, b.id]
    assert [r.id for r in await store.list_requests(limit=1)] == [c.id]
    listed = await store.list_requests(status=RequestStatus.PENDING, store_code="main")
    assert listed == [await store.get_request(b.id)]


async def test_set_message_records_the_post(store: RequestStore) -> None:
    created = await store.create_request(new_request(), now=NOW)

    assert await store.set_message(created.id, "C_OTHER", "1700000000.000100", now=NOW)
    assert not await store.set_message("CR-NOPE2", "C_OTHER", "1.2", now=NOW)

    fetched = await store.get_request(created.id)
    assert fetched is not None
    assert (fetched.channel_id, fetched.message_ts, fetched.version) == ("C_OTHER", "1700000000.000100", 2)
    assert await _actions(store, created.id) == ["requested", "message_posted"]


async def test_reject_is_a_cas_with_one_audit_row(store: RequestStore) -> None:
    created = await store.create_request(new_request(), now=NOW)
    later = NOW + timedelta(minutes=3)

    moved = await store.transition(
        created.id,
        expected=RequestStatus.PENDING,
        to=RequestStatus.REJECTED,
        actor="U_BOSS",
        now=later,
        decision_note="Wrong store",
    )
    again = await store.transition(
        created.id, expected=RequestStatus.PENDING, to=RequestStatus.WITHDRAWN, actor="U_REQ", now=later
    )

    assert moved
    assert not again
    fetched = await store.get_request(created.id)
    assert fetched is not None
    assert fetched.status is RequestStatus.REJECTED
    assert (fetched.decided_by, fetched.decided_at, fetched.decision_note) == ("U_BOSS", later, "Wrong store")
    assert (fetched.version, fetched.updated_at) == (2, later)
    trail = await store.audit_trail(created.id)
    assert [(e.action, e.actor, e.from_status, e.to_status) for e in trail] == [
        ("requested", "U_REQ", None, "pending"),
        ("rejected", "U_BOSS", "pending", "rejected"),
    ]
    assert trail[1].details == {
        "decided_by": "U_BOSS",
        "decided_at": later.isoformat().replace("+00:00", "Z"),
        "decision_note": "Wrong store",
    }


async def test_transition_from_one_of_several_statuses(store: RequestStore) -> None:
    created = await store.create_request(new_request(), now=NOW)
    await store.approve(created.id, "U_BOSS", now=NOW, lease=LEASE)
    assert await store.transition(
        created.id,
        expected=RequestStatus.EXECUTING,
        to=RequestStatus.NEEDS_ATTENTION,
        actor="reconciler",
        now=NOW,
        details={"why": "timeout"},
    )

    moved = await store.transition(
        created.id,
        expected={RequestStatus.EXECUTING, RequestStatus.NEEDS_ATTENTION},
        to=RequestStatus.EXECUTED,
        actor="U_OPS",
        action="resolved_by_hand",
        now=NOW,
    )

    assert moved
    fetched = await store.get_request(created.id)
    assert fetched is not None
    assert (fetched.status, fetched.lease_until, fetched.decided_by) == (RequestStatus.EXECUTED, None, "U_BOSS")
    trail = await store.audit_trail(created.id)
    assert [(e.action, e.from_status, e.to_status) for e in trail[-2:]] == [
        ("needs_attention", "executing", "needs_attention"),
        ("resolved_by_hand", "needs_attention", "executed"),
    ]
    assert trail[-2].details == {"lease_until": None, "why": "timeout"}


async def test_failed_cas_changes_nothing_and_writes_no_audit(store: RequestStore) -> None:
    created = await store.create_request(new_request(), now=NOW)

    moved = await store.transition(
        created.id, expected=RequestStatus.EXECUTING, to=RequestStatus.FAILED, actor="bot", now=NOW
    )
    unknown = await store.transition(
        "CR-NOPE2", expected=RequestStatus.PENDING, to=RequestStatus.EXPIRED, actor="bot", now=NOW
    )

    assert not moved
    assert not unknown
    assert await store.get_request(created.id) == created
    assert await _actions(store, created.id) == ["requested"]
    assert await store.audit_trail("CR-NOPE2") == []


@pytest.mark.parametrize(
    ("expected", "to"),
    [
        (RequestStatus.PENDING, RequestStatus.EXECUTED),
        (RequestStatus.PENDING, RequestStatus.EXECUTING),
        (RequestStatus.EXECUTING, RequestStatus.REJECTED),
        (RequestStatus.EXECUTED, RequestStatus.FAILED),
        (RequestStatus.EXPIRED, RequestStatus.PENDING),
    ],
)
async def test_transition_refuses_moves_outside_the_state_machine(
    store: RequestStore, expected: RequestStatus, to: RequestStatus
) -> None:
    created = await store.create_request(new_request(), now=NOW)

    with pytest.raises(ValueError, match="cannot move"):
        await store.transition(created.id, expected=expected, to=to, actor="bot", now=NOW)

    assert await _actions(store, created.id) == ["requested"]


async def test_approve_with_one_required_executes(store: RequestStore) -> None:
    created = await store.create_request(new_request(), now=NOW)

    outcome = await store.approve(created.id, "U_BOSS", now=NOW, lease=LEASE)

    assert outcome.result is ApproveResult.EXECUTING
    assert outcome.must_execute
    request = outcome.request
    assert request.status is RequestStatus.EXECUTING
    assert (request.approval_count, request.attempts, request.version) == (1, 1, 2)
    assert (request.decided_by, request.decided_at, request.lease_until) == ("U_BOSS", NOW, NOW + LEASE)
    assert request.approver_ids == ("U_BOSS",)
    assert request.approvals[0].approved_at == NOW
    trail = await store.audit_trail(created.id)
    assert [(e.action, e.actor, e.from_status, e.to_status) for e in trail] == [
        ("requested", "U_REQ", None, "pending"),
        ("approved", "U_BOSS", "pending", "pending"),
        ("executing", "U_BOSS", "pending", "executing"),
    ]


async def test_approve_with_two_required_records_then_executes(store: RequestStore) -> None:
    created = await store.create_request(new_request(required_approvals=2), now=NOW)

    first = await store.approve(created.id, "U_A", now=NOW, lease=LEASE)
    repeat = await store.approve(created.id, "U_A", now=NOW, lease=LEASE)
    second = await store.approve(created.id, "U_B", now=NOW + timedelta(minutes=1), lease=LEASE)
    third = await store.approve(created.id, "U_C", now=NOW + timedelta(minutes=2), lease=LEASE)

    assert first.result is ApproveResult.RECORDED
    assert not first.must_execute
    assert (first.request.status, first.request.approval_count, first.request.required_approvals) == (
        RequestStatus.PENDING,
        1,
        2,
    )
    assert first.request.decided_by is None
    assert first.request.lease_until is None
    assert repeat.result is ApproveResult.ALREADY_APPROVED_BY_YOU
    assert repeat.request.approval_count == 1
    assert second.result is ApproveResult.EXECUTING
    assert (second.request.approval_count, second.request.decided_by) == (2, "U_B")
    assert second.request.approver_ids == ("U_A", "U_B")
    assert third.result is ApproveResult.ALREADY_DECIDED
    assert (third.request.status, third.request.decided_by) == (RequestStatus.EXECUTING, "U_B")
    assert third.request.approver_ids == ("U_A", "U_B")
    assert await _actions(store, created.id) == ["requested", "approved", "approved", "executing"]


async def test_self_approval_is_refused(store: RequestStore) -> None:
    created = await store.create_request(new_request(), now=NOW)

    outcome = await store.approve(created.id, "U_REQ", now=NOW, lease=LEASE)

    assert outcome.result is ApproveResult.SELF_APPROVAL
    assert outcome.request == created
    assert await _actions(store, created.id) == ["requested"]


async def test_approve_after_reject_is_already_decided(store: RequestStore) -> None:
    created = await store.create_request(new_request(), now=NOW)
    await store.transition(created.id, expected=RequestStatus.PENDING, to=RequestStatus.REJECTED, actor="U_X", now=NOW)

    outcome = await store.approve(created.id, "U_BOSS", now=NOW, lease=LEASE)

    assert outcome.result is ApproveResult.ALREADY_DECIDED
    assert (outcome.request.status, outcome.request.decided_by) == (RequestStatus.REJECTED, "U_X")
    assert outcome.request.approvals == ()


async def test_approve_after_expires_at_is_refused_in_the_same_update(store: RequestStore) -> None:
    created = await store.create_request(new_request(), now=NOW)

    outcome = await store.approve(created.id, "U_BOB", now=NOW + TTL, lease=LEASE)

    assert outcome.result is ApproveResult.EXPIRED
    assert (outcome.request.status, outcome.request.approval_count) == (RequestStatus.PENDING, 0)
    assert outcome.request.approver_ids == ()


async def test_no_decision_wins_after_expires_at_but_expiry_does(store: RequestStore) -> None:
    created = await store.create_request(new_request(), now=NOW)
    late = NOW + TTL + timedelta(seconds=1)

    for to in (RequestStatus.REJECTED, RequestStatus.WITHDRAWN):
        assert not await store.transition(created.id, expected=RequestStatus.PENDING, to=to, actor="U_BOB", now=late)
    assert not await store.transition(
        created.id, expected=RequestStatus.PENDING, to=RequestStatus.EXPIRED, actor="system", now=NOW
    )
    assert not await store.mark_reminded(created.id, late)
    assert await store.transition(
        created.id, expected=RequestStatus.PENDING, to=RequestStatus.EXPIRED, actor="system", now=late
    )


async def test_approve_unknown_request_raises(store: RequestStore) -> None:
    with pytest.raises(RequestNotFoundError, match="CR-NOPE2"):
        await store.approve("CR-NOPE2", "U_BOSS", now=NOW, lease=LEASE)


async def test_order_status_cas_with_audit(store: RequestStore) -> None:
    created = await store.create_request(new_request(orders=2), now=NOW)
    later = NOW + timedelta(seconds=30)

    started = await store.set_order_status(
        created.id, "1000", expected=OrderStatus.PENDING, to=OrderStatus.EXECUTING, now=NOW
    )
    done = await store.set_order_status(
        created.id,
        "1000",
        expected=OrderStatus.EXECUTING,
        to=OrderStatus.EXECUTED,
        now=later,
        actor="U_BOSS",
        answers=OrderAnswers(outcome_tip_content="Cancelled", outcome_tip_type="success", lazada_request_id="0b1234"),
    )
    lost = await store.set_order_status(
        created.id, "1000", expected=OrderStatus.EXECUTING, to=OrderStatus.FAILED, now=later
    )
    skipped = await store.set_order_status(
        created.id, "1001", expected={OrderStatus.PENDING, OrderStatus.EXECUTING}, to=OrderStatus.SKIPPED, now=later
    )

    assert (started, done, lost, skipped) == (True, True, False, True)
    fetched = await store.get_request(created.id)
    assert fetched is not None
    first, second = fetched.orders
    assert (first.status, first.outcome_tip_content, first.outcome_tip_type) == (
        OrderStatus.EXECUTED,
        "Cancelled",
        "success",
    )
    assert (first.lazada_request_id, first.updated_at, first.error) == ("0b1234", later, None)
    assert second.status is OrderStatus.SKIPPED
    assert fetched.status is RequestStatus.PENDING
    trail = await store.audit_trail(created.id)
    assert [(e.order_id, e.action, e.actor, e.from_status, e.to_status) for e in trail[1:]] == [
        ("1000", "order_executing", "system", "pending", "executing"),
        ("1000", "order_executed", "U_BOSS", "executing", "executed"),
        ("1001", "order_skipped", "system", "pending", "skipped"),
    ]
    assert trail[2].details == {
        "outcome_tip_content": "Cancelled",
        "outcome_tip_type": "success",
        "lazada_request_id": "0b1234",
    }


async def test_order_status_refuses_leaving_a_final_status(store: RequestStore) -> None:
    created = await store.create_request(new_request(), now=NOW)

    with pytest.raises(ValueError, match="cannot move"):
        await store.set_order_status(created.id, "1000", expected=OrderStatus.EXECUTED, to=OrderStatus.FAILED, now=NOW)
    with pytest.raises(ValueError, match="cannot move"):
        await store.set_order_status(
            created.id, "1000", expected=OrderStatus.EXECUTING, to=OrderStatus.PENDING, now=NOW
        )


async def test_stale_executing_is_taken_over_once(store: RequestStore) -> None:
    stale = await store.create_request(new_request(), now=NOW)
    fresh = await store.create_request(new_request(first_order=2000), now=NOW)
    await store.approve(stale.id, "U_BOSS", now=NOW, lease=LEASE)
    await store.approve(fresh.id, "U_BOSS", now=NOW + LEASE, lease=LEASE)
    later = NOW + LEASE + timedelta(seconds=1)

    taken = await store.claim_stale_executing(now=later, lease=LEASE, claimer="replica-a")
    again = await store.claim_stale_executing(now=later, lease=LEASE, claimer="replica-b")

    assert [r.id for r in taken] == [stale.id]
    assert again == []
    request = taken[0]
    assert (request.status, request.lease_until, request.attempts) == (RequestStatus.EXECUTING, later + LEASE, 2)
    trail = await store.audit_trail(stale.id)
    assert [(e.action, e.actor) for e in trail[-1:]] == [("taken_over", "replica-a")]


async def test_renew_lease_only_while_it_runs(store: RequestStore) -> None:
    created = await store.create_request(new_request(), now=NOW)
    pending_renewal = await store.renew_lease(created.id, now=NOW, lease=LEASE)
    await store.approve(created.id, "U_BOSS", now=NOW, lease=LEASE)

    renewed = await store.renew_lease(created.id, now=NOW + timedelta(minutes=4), lease=LEASE)
    expired = await store.renew_lease(created.id, now=NOW + timedelta(minutes=10), lease=LEASE)

    assert (pending_renewal, renewed, expired) == (False, True, False)
    fetched = await store.get_request(created.id)
    assert fetched is not None
    assert fetched.lease_until == NOW + timedelta(minutes=9)


async def test_reminder_due_at_half_time_and_marked_once(store: RequestStore) -> None:
    created = await store.create_request(new_request(), now=NOW)
    half = NOW + TTL / 2

    before = await store.due_for_reminder(now=half - timedelta(seconds=1))
    due = await store.due_for_reminder(now=half)
    marked = await store.mark_reminded(created.id, half)
    marked_again = await store.mark_reminded(created.id, half)
    after = await store.due_for_reminder(now=half + timedelta(minutes=1))

    assert before == []
    assert [r.id for r in due] == [created.id]
    assert (marked, marked_again) == (True, False)
    assert after == []
    fetched = await store.get_request(created.id)
    assert fetched is not None
    assert fetched.reminded_at == half
    assert await _actions(store, created.id) == ["requested", "reminded"]


async def test_no_reminder_for_decided_or_expired_requests(store: RequestStore) -> None:
    decided = await store.create_request(new_request(), now=NOW)
    await store.transition(
        decided.id, expected=RequestStatus.PENDING, to=RequestStatus.WITHDRAWN, actor="U_REQ", now=NOW
    )
    await store.create_request(new_request(), now=NOW)

    assert await store.due_for_reminder(now=NOW + TTL) == []
    assert not await store.mark_reminded(decided.id, NOW + TTL / 2)


async def test_expire_due_expires_each_once(store: RequestStore) -> None:
    due = await store.create_request(new_request(), now=NOW)
    later = await store.create_request(new_request(expires_at=NOW + 2 * TTL, first_order=2000), now=NOW)
    approved = await store.create_request(new_request(first_order=3000), now=NOW)
    await store.approve(approved.id, "U_BOSS", now=NOW, lease=LEASE)

    expired = await store.expire_due(now=NOW + TTL)
    again = await store.expire_due(now=NOW + TTL)

    assert [r.id for r in expired] == [due.id]
    assert again == []
    assert (expired[0].status, expired[0].decided_by, expired[0].decided_at) == (
        RequestStatus.EXPIRED,
        "system",
        NOW + TTL,
    )
    still_pending = await store.get_request(later.id)
    assert still_pending is not None
    assert still_pending.status is RequestStatus.PENDING
    trail = await store.audit_trail(due.id)
    assert [(e.action, e.actor, e.from_status, e.to_status) for e in trail[-1:]] == [
        ("expired", "system", "pending", "expired")
    ]


async def test_an_open_item_is_refused_with_its_request_until_that_request_settles(store: RequestStore) -> None:
    first = await store.create_request(new_request(), now=NOW)
    await store.set_message(first.id, "C_APPROVALS", "1700000000.000100", now=NOW)

    with pytest.raises(ItemAlreadyRequestedError) as refused:
        await store.create_request(new_request(orders=2, requester_id="U_OTHER"), now=NOW)
    assert (refused.value.request_id, refused.value.order_id, refused.value.item_id) == (first.id, "1000", "001")
    assert (refused.value.channel_id, refused.value.message_ts) == ("C_APPROVALS", "1700000000.000100")
    assert [r.id for r in await store.list_requests()] == [first.id]

    await store.approve(first.id, "U_BOSS", now=NOW, lease=LEASE)
    with pytest.raises(ItemAlreadyRequestedError):
        await store.create_request(new_request(), now=NOW)

    await store.transition(first.id, expected=RequestStatus.EXECUTING, to=RequestStatus.FAILED, actor="x", now=NOW)
    again = await store.create_request(new_request(), now=NOW)
    assert again.status is RequestStatus.PENDING
