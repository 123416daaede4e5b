"""Leases and late successes: the reconciler records a cancellation Lazada carried out late, and an executor that
lost its lease sends nothing more."""

from __future__ import annotations

from datetime import timedelta

from bot.slack.render import ids
from bot.store.models import OrderStatus, RequestStatus
from cancel_order_bot.demo.harness import Harness
from cancel_order_bot.sandbox import FaultKind, ItemSpec, SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import ALICE, BOB, CREATE, request_cancel


async def test_reconciler_moves_a_late_success_from_needs_attention_to_executed(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    world.faults.inject(FaultKind.TIMEOUT, path=CREATE, apply_first=False)
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    unclear = await bot.refreshed(request)
    assert unclear.status is RequestStatus.NEEDS_ATTENTION

    # Lazada carries the cancellation out after the bot stopped waiting for it.
    order = unclear.orders[0]
    items = world.items_for_cancel(int(order.order_id), [int(i) for i in order.item_ids])
    world.cancel_items(items, world.reason_by_id(unclear.reason_id))
    bot.clock.advance(timedelta(minutes=10))
    await bot.services.workflow.tick()
    await bot.services.workflow.tick()

    settled = await bot.refreshed(request)
    assert settled.status is RequestStatus.EXECUTED
    assert settled.orders[0].status is OrderStatus.EXECUTED
    assert world.call_count(CREATE) == 1, "a read-back only: the cancel is never sent again"
    replies = bot.thread_texts(settled)
    assert sum("is done" in text for text in replies) == 1, replies
    assert "Cancelled on Lazada" in bot.message_json(settled)


async def test_an_executor_that_lost_its_lease_sends_no_further_cancel(bot: Harness, world: SandboxWorld) -> None:
    created = world.now() - timedelta(hours=1)
    orders = [world.add_order([ItemSpec(sku=f"SKU-{n}")], created_at=created).order_id for n in range(2)]
    await bot.command(ALICE, " ".join(str(o) for o in orders))
    await bot.submit(ALICE, bot.open_modal(ALICE), reason_id="10000019")
    (request,) = await bot.services.requests.list_requests()
    executor = bot.services.workflow.executor
    executor.concurrency = 1  # one order after the other, so the takeover falls between them
    requests = bot.services.requests

    async def taken_over_while_cancelling(point: str) -> None:
        if point == "before_cancel":
            # This execution stalls past its lease; another replica's reconciler takes the request over.
            later = bot.clock() + 2 * bot.services.workflow.lease
            assert await requests.claim_stale_executing(now=later, lease=timedelta(hours=1), claimer="replica-2")

    executor.checkpoint = taken_over_while_cancelling
    await bot.click(BOB, ids.REQUEST_APPROVE, request)

    assert world.call_count(CREATE) == 1, "the second order waits for the reconciler that holds the lease now"
    current = await bot.refreshed(request)
    assert current.status is RequestStatus.EXECUTING
    assert sorted(o.status for o in current.orders) == [OrderStatus.EXECUTED, OrderStatus.PENDING]

    # The new holder's lease runs out too (say it crashed): the next reconciler finishes the request.
    executor.checkpoint = _nothing
    bot.clock.advance(timedelta(hours=2))
    await bot.services.workflow.tick()
    finished = await bot.refreshed(request)
    assert finished.status is RequestStatus.EXECUTED
    assert world.call_count(CREATE) == 2


async def _nothing(point: str) -> None:
    return None
