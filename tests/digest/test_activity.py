"""The bot's own last 24 hours, counted from the stored requests, approvals and audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.digest.activity import ActivityReader
from bot.digest.models import ApproverCount, NamedCount
from bot.slack.render.digest import render_digest
from bot.store import Database, Item, NewOrder, NewRequest, OrderStatus, RequestStatus, RequestStore
from tests.digest.factories import report
from tests.render.factories import check_message, walk_texts

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def new_request(requester: str, reason: str, *, store: str = "th-main", order_id: str = "1001") -> NewRequest:
    """A one-item request."""
    item = Item(
        order_item_id=f"{order_id}1",
        name="Mug",
        sku="MUG",
        status="pending",
        paid_price=Decimal("9.90"),
        currency="THB",
    )
    return NewRequest(
        store_code=store,
        requester_id=requester,
        reason_id="1",
        reason_name=reason,
        justification="Supplier is out.",
        channel_id="C0OPS",
        expires_at=NOW + timedelta(hours=12),
        orders=(NewOrder(order_id=order_id, items=(item,), item_ids=(item.order_item_id,)),),
    )


async def test_activity_counts_each_outcome_by_reason_requester_and_approver(database: Database) -> None:
    store = RequestStore(database)
    hour = timedelta(hours=1)
    old_request = new_request("U0ALICE", "Out of Stock", order_id="1000").model_copy(
        update={"expires_at": NOW - 20 * hour}
    )
    old = await store.create_request(old_request, now=NOW - timedelta(hours=30))
    executed = await store.create_request(new_request("U0ALICE", "Out of Stock"), now=NOW - 5 * hour)
    rejected = await store.create_request(new_request("U0DAVE", "Sourcing Delay", order_id="1002"), now=NOW - 4 * hour)
    withdrawn = await store.create_request(
        new_request("U0ALICE", "Sourcing Delay", order_id="1003"), now=NOW - 3 * hour
    )
    pending = await store.create_request(new_request("U0DAVE", "Out of Stock", order_id="1004"), now=NOW - 2 * hour)
    await store.create_request(new_request("U0ALICE", "Out of Stock", store="sg-main"), now=NOW - hour)

    await store.approve(executed.id, "U0BOB", now=NOW - 4 * hour, lease=LEASE)
    # An order's own move reuses the word "executed"; it must not count as a second executed request.
    await store.set_order_status(
        executed.id, "1001", expected=OrderStatus.PENDING, to=OrderStatus.EXECUTED, now=NOW - 4 * hour
    )
    await store.transition(
        executed.id, expected=RequestStatus.EXECUTING, to=RequestStatus.EXECUTED, actor="system", now=NOW - 4 * hour
    )
    await store.transition(
        rejected.id, expected=RequestStatus.PENDING, to=RequestStatus.REJECTED, actor="U0CAROL", now=NOW - 3 * hour
    )
    await store.transition(
        withdrawn.id, expected=RequestStatus.PENDING, to=RequestStatus.WITHDRAWN, actor="U0ALICE", now=NOW - hour
    )
    await store.transition(
        old.id, expected=RequestStatus.PENDING, to=RequestStatus.EXPIRED, actor="system", now=NOW - 20 * hour
    )

    activity = await ActivityReader(database).read("th-main", since=NOW - timedelta(hours=24), until=NOW)

    assert (activity.requests, activity.approved, activity.executed) == (4, 1, 1)
    assert (activity.rejected, activity.withdrawn, activity.expired, activity.failed) == (1, 1, 1, 0)
    assert activity.pending == 1
    assert pending.status is RequestStatus.PENDING
    assert activity.by_reason == (NamedCount(name="Out of Stock", count=2), NamedCount(name="Sourcing Delay", count=2))
    assert activity.by_requester == (NamedCount(name="U0ALICE", count=2), NamedCount(name="U0DAVE", count=2))
    assert activity.by_approver == (
        ApproverCount(approver_id="U0BOB", approved=1),
        ApproverCount(approver_id="U0CAROL", rejected=1),
    )
    assert activity.events == 4 + 1 + 1 + 1 + 1 + 1


async def test_activity_of_a_quiet_store_is_empty(database: Database) -> None:
    activity = await ActivityReader(database).read("th-main", since=NOW - timedelta(hours=24), until=NOW)

    assert activity.events == 0
    assert activity.pending == 0
    assert activity.by_reason == ()


async def test_activity_counts_cancellations_pending_at_lazada_now_and_the_digest_says_so(database: Database) -> None:
    store = RequestStore(database)
    waiting = await store.create_request(new_request("U0ALICE", "Out of Stock"), now=NOW - timedelta(hours=2))
    await store.approve(waiting.id, "U0BOB", now=NOW - timedelta(hours=2), lease=LEASE)
    await store.set_order_status(
        waiting.id, "1001", expected=OrderStatus.PENDING, to=OrderStatus.CANCEL_PENDING, now=NOW - timedelta(hours=2)
    )
    assert await store.transition(
        waiting.id,
        expected=RequestStatus.EXECUTING,
        to=RequestStatus.CANCEL_PENDING,
        actor="U0BOB",
        now=NOW - timedelta(hours=2),
    )

    activity = await ActivityReader(database).read("th-main", since=NOW - timedelta(hours=24), until=NOW)

    assert (activity.approved, activity.executed, activity.pending, activity.pending_at_lazada) == (1, 0, 0, 1)
    text = "\n".join(t for _, t in walk_texts(check_message(render_digest(report(activity=activity)))))
    assert "1 cancellation pending at Lazada" in text
