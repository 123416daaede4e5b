"""Bulk requests: one request for many orders, listed apart when they can't go, progress, partial failure, recovery."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from bot.slack.render import ids
from bot.store.models import CancelRequest, OrderStatus, RequestStatus
from cancel_order_bot.demo.harness import Harness, MovableClock, running_bot
from cancel_order_bot.sandbox import FaultKind, ItemSpec, SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import ALICE, BOB, CREATE

VALIDATE = "/order/reverse/cancel/validate"
PROGRESS = re.compile(r"(\d+)/(\d+) cancelled")


def _orders(world: SandboxWorld, count: int, *, status: str = "pending", items: int = 1) -> list[int]:
    """`count` new orders of `items` items each, all in `status`."""
    created = world.now() - timedelta(hours=1)
    return [
        world.add_order(
            [ItemSpec(status=status, sku=f"SKU-{n}-{i}", name=f"Bulk item {n}.{i}") for i in range(items)],
            created_at=created,
        ).order_id
        for n in range(count)
    ]


def _modal_text(bot: Harness) -> str:
    return json.dumps(bot.open_modal(ALICE), ensure_ascii=False)


def _creates_per_order(world: SandboxWorld) -> Counter[str]:
    return Counter(c.params.get("order_id", "") for c in world.calls if c.path == CREATE)


async def _stored(bot: Harness) -> list[CancelRequest]:
    return await bot.services.requests.list_requests(limit=50)


async def _bulk_request(bot: Harness, order_ids: list[int], *, reason_id: str = "10000019") -> CancelRequest:
    await bot.command(ALICE, " ".join(str(o) for o in order_ids))
    modal = bot.open_modal(ALICE)
    assert modal["callback_id"] == ids.BULK_MODAL
    await bot.submit(ALICE, modal, reason_id=reason_id)
    (request,) = await _stored(bot)
    return request


def _thread(bot: Harness, request: CancelRequest) -> str:
    """The replies in the request's thread, blocks included, as JSON text."""
    assert request.message_ts is not None
    return json.dumps(bot.slack.thread(request.channel_id, request.message_ts), ensure_ascii=False)


def _thread_messages(bot: Harness, request: CancelRequest) -> list[dict[str, Any]]:
    assert request.message_ts is not None
    return list(bot.slack.thread(request.channel_id, request.message_ts))


def _updates(bot: Harness, request: CancelRequest) -> list[str]:
    """The texts of every chat.update of the request's approval message, oldest first."""
    return [
        json.dumps(c.params.get("blocks"), ensure_ascii=False)
        for c in bot.slack.calls_to("chat.update")
        if c.params.get("ts") == request.message_ts
    ]


async def test_several_orders_make_one_request_and_one_approval_cancels_them_all(
    bot: Harness, world: SandboxWorld
) -> None:
    order_ids = _orders(world, 5, items=2)
    await bot.command(ALICE, " ".join(str(o) for o in order_ids))
    modal = bot.open_modal(ALICE)
    assert modal["callback_id"] == ids.BULK_MODAL
    text = _modal_text(bot)
    assert "One request for *5 orders* (10 items)" in text
    assert all(str(o) in text for o in order_ids)
    assert len(modal["blocks"]) <= 100

    await bot.submit(ALICE, modal, reason_id="10000019")
    (request,) = await _stored(bot)
    assert [o.order_id for o in request.orders] == [str(o) for o in order_ids]
    assert all(len(o.item_ids) == 2 for o in request.orders)
    assert len(bot.slack.calls_to("chat.postMessage")) == 1, "one message for the whole request"
    assert "5 orders" in bot.message_json(request)

    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    done = await bot.refreshed(request)
    assert done.status is RequestStatus.EXECUTED
    assert all(o.status is OrderStatus.EXECUTED for o in done.orders)
    assert _creates_per_order(world) == Counter({str(o): 1 for o in order_ids})
    assert all(i.status == "canceled" for o in order_ids for i in world.order_items(o))
    trail = await bot.services.requests.audit_trail(request.id)
    executed = [e.order_id or "" for e in trail if e.action == "order_executed"]
    assert sorted(executed) == sorted(str(o) for o in order_ids), "each order keeps its own audit rows"
    assert "5/5 cancelled" in bot.message_json(done)
    assert "Approve" not in bot.message_json(done)
    assert "5/5 orders cancelled" in _thread(bot, done)


async def test_orders_that_cannot_be_cancelled_are_listed_apart_with_why(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    fine = _orders(world, 2)
    await bot.command(ALICE, f"{fine[0]} {showcase.shipped} 999999999 {fine[1]}")
    text = _modal_text(bot)
    assert "One request for *2 orders*" in text
    assert "Left out (2)" in text
    assert f"*{showcase.shipped}* — Nothing in it can be cancelled: its items are shipped." in text
    assert "*999999999* —" in text
    assert "does not know this order" in text

    await bot.submit(ALICE, bot.open_modal(ALICE), reason_id="10000019")
    (request,) = await _stored(bot)
    assert [o.order_id for o in request.orders] == [str(o) for o in fine]


async def test_an_order_lazada_refuses_is_left_out(bot: Harness, world: SandboxWorld) -> None:
    order_ids = _orders(world, 3)
    world.faults.inject(FaultKind.TIP_ERROR, path=VALIDATE, text="This order is locked by a campaign.")
    await bot.command(ALICE, " ".join(str(o) for o in order_ids))
    text = _modal_text(bot)
    assert "One request for *2 orders*" in text
    assert "Lazada refuses to cancel it: This order is locked by a campaign." in text


async def test_nothing_to_submit_when_no_order_can_be_cancelled(bot: Harness, showcase: Showcase) -> None:
    await bot.command(ALICE, f"{showcase.shipped} 999999999")
    modal = bot.open_modal(ALICE)
    assert not modal.get("submit")
    assert "None of these orders can be cancelled" in _modal_text(bot)
    assert await _stored(bot) == []


async def test_a_list_pasted_into_the_prompt_opens_the_bulk_modal(bot: Harness, world: SandboxWorld) -> None:
    order_ids = _orders(world, 3)
    await bot.command(ALICE, "")
    prompt = bot.open_modal(ALICE)
    pasted = f"{order_ids[0]}\n{order_ids[1]}, {order_ids[2]}"
    response = await bot.submit(ALICE, prompt, order_id=pasted, justification=None)
    assert response.json()["response_action"] == "update"
    modal = bot.open_modal(ALICE)
    assert modal["callback_id"] == ids.BULK_MODAL
    assert "One request for *3 orders*" in _modal_text(bot)


async def test_too_many_orders_in_the_prompt_are_refused_inline(bot: Harness) -> None:
    await bot.command(ALICE, "")
    prompt = bot.open_modal(ALICE)
    pasted = " ".join(str(100000 + n) for n in range(51))
    response = await bot.submit(ALICE, prompt, order_id=pasted, justification=None)
    assert response.json()["response_action"] == "errors"
    assert "At most 50 orders" in response.json()["errors"][ids.ORDER_ID_BLOCK]


async def test_a_bulk_form_slack_would_not_show_is_explained(bot: Harness, world: SandboxWorld) -> None:
    bot.slack.fail("views.update", "internal_error", times=1)
    await bot.command(ALICE, " ".join(str(o) for o in _orders(world, 2)))
    told = json.dumps(bot.slack.ephemerals(ALICE), ensure_ascii=False)
    assert "Please run the command again" in told
    assert await _stored(bot) == []


async def test_bulk_form_asks_for_reason_and_justification_inline(bot: Harness, world: SandboxWorld) -> None:
    await bot.command(ALICE, " ".join(str(o) for o in _orders(world, 2)))
    response = await bot.submit(ALICE, bot.open_modal(ALICE), reason_id=None, justification="  ")
    assert response.json()["response_action"] == "errors"
    assert set(response.json()["errors"]) == {ids.REASON_BLOCK, ids.JUSTIFICATION_BLOCK}
    assert await _stored(bot) == []


async def test_an_order_changed_before_submit_stops_the_submit_and_says_which(
    bot: Harness, world: SandboxWorld
) -> None:
    order_ids = _orders(world, 3)
    await bot.command(ALICE, " ".join(str(o) for o in order_ids))
    modal = bot.open_modal(ALICE)
    (item,) = world.order_items(order_ids[1])
    world.set_item_status(item.order_item_id, "shipped")

    await bot.submit(ALICE, modal, reason_id="10000019")
    assert await _stored(bot) == []
    text = _modal_text(bot)
    assert "Nothing was submitted" in text
    assert f"{order_ids[1]}: Nothing in it can be cancelled" in text
    assert f"/cancel-order {order_ids[0]} {order_ids[2]}" in text


async def test_partial_failure_keeps_each_orders_outcome(bot: Harness, world: SandboxWorld) -> None:
    order_ids = _orders(world, 4)
    request = await _bulk_request(bot, order_ids)
    (shipped,) = world.order_items(order_ids[1])
    world.set_item_status(shipped.order_item_id, "shipped")
    world.faults.inject(FaultKind.API_CALL_LIMIT, path=CREATE)

    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    done = await bot.refreshed(request)
    by_order = {o.order_id: o for o in done.orders}
    assert by_order[str(order_ids[1])].status is OrderStatus.FAILED
    assert "now shipped" in (by_order[str(order_ids[1])].error or "")
    statuses = Counter(o.status for o in done.orders)
    # The cancel refused by the rate limit never reached the API: it was sent once more after the ban.
    assert statuses == Counter({OrderStatus.EXECUTED: 3, OrderStatus.FAILED: 1})
    assert done.status is RequestStatus.EXECUTED, "some orders were cancelled"
    assert sum(_creates_per_order(world).values()) == 4
    assert world.call_count(CREATE, code="ApiCallLimit") == 1
    assert _creates_per_order(world)[str(order_ids[1])] == 0
    message = bot.message_json(done)
    assert "3/4 cancelled, 1 failed" in message
    assert "now shipped" in message
    assert "3/4 orders cancelled, 1 failed" in _thread(bot, done)
    trail = await bot.services.requests.audit_trail(request.id)
    assert Counter(e.action for e in trail if e.order_id) == Counter(
        {"order_failed": 1, "order_executing": 3, "order_executed": 3}
    )


async def test_progress_is_held_back_within_a_second_and_the_final_table_always_goes_out(
    bot: Harness, world: SandboxWorld
) -> None:
    order_ids = _orders(world, 6)
    request = await _bulk_request(bot, order_ids)
    workflow = bot.services.workflow
    workflow.monotonic = lambda: 100.0  # time stands still: no second passes during the execution

    async def never(_: float) -> None:
        await asyncio.Event().wait()

    workflow.sleep = never
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    done = await bot.refreshed(request)
    assert done.status is RequestStatus.EXECUTED
    updates = _updates(bot, request)
    assert len(updates) == 2, "the approval stamp and the final table, nothing in between"
    assert "cancelling" in updates[0]
    assert "6/6 cancelled" in updates[-1]


async def test_progress_shows_how_far_the_request_got_at_most_once_a_second(bot: Harness, world: SandboxWorld) -> None:
    order_ids = _orders(world, 6)
    request = await _bulk_request(bot, order_ids)
    workflow = bot.services.workflow
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds
        await asyncio.sleep(0)

    workflow.monotonic = lambda: now[0]
    workflow.sleep = sleep
    workflow.executor.concurrency = 1  # one order after another, so progress has something to show
    try:
        await bot.click(BOB, ids.REQUEST_APPROVE, request)
    finally:
        workflow.executor.concurrency = 8
    done = await bot.refreshed(request)
    assert done.status is RequestStatus.EXECUTED
    updates = _updates(bot, request)
    progress = updates[1:-1]
    assert progress, "progress was shown while cancelling"
    assert all("cancelling" in u for u in progress), "progress updates show the request still running"
    counts = [int(m.group(1)) for u in progress if (m := PROGRESS.search(u))]
    assert len(counts) == len(progress)
    assert counts == sorted(counts), "progress never goes backwards"
    assert any(0 < c < 6 for c in counts), "a state part-way through was shown"
    # Time only passes in the throttle's own waits: n updates need n whole seconds of waiting.
    assert len(progress) <= sum(slept)
    assert all(s <= 1.0 for s in slept)
    assert "6/6 cancelled" in updates[-1]


async def test_reconciler_settles_a_crashed_bulk_execution_per_order(bot: Harness, world: SandboxWorld) -> None:
    order_ids = _orders(world, 5)
    request = await _bulk_request(bot, order_ids)
    requests = bot.services.requests
    clock = bot.clock
    # A replica won the approval and got part-way, then died: orders 0 and 1 were sent (0 went through on
    # Lazada, 1 did not or we cannot tell), order 2 was sent and its outcome stored, orders 3 and 4 never left.
    outcome = await requests.approve(request.id, BOB, now=clock(), lease=timedelta(minutes=5))
    assert outcome.must_execute
    ids_ = [str(o) for o in order_ids]
    for order_id in ids_[:3]:
        assert await requests.set_order_status(
            request.id, order_id, expected=OrderStatus.PENDING, to=OrderStatus.EXECUTING, now=clock()
        )
    (sent_ok,) = world.order_items(order_ids[0])
    world.set_item_status(sent_ok.order_item_id, "canceled", initiator="cancellation-seller")
    (stored,) = world.order_items(order_ids[2])
    world.set_item_status(stored.order_item_id, "canceled", initiator="cancellation-seller")
    assert await requests.set_order_status(
        request.id, ids_[2], expected=OrderStatus.EXECUTING, to=OrderStatus.EXECUTED, now=clock()
    )

    await bot.services.workflow.tick()
    assert (await bot.refreshed(request)).status is RequestStatus.EXECUTING, "the lease is still held"
    assert world.call_count(CREATE) == 0

    clock.advance(timedelta(minutes=6))
    await bot.services.workflow.tick()
    settled = await bot.refreshed(request)
    by_order = {o.order_id: o.status for o in settled.orders}
    assert by_order == {
        ids_[0]: OrderStatus.EXECUTED,
        ids_[1]: OrderStatus.NEEDS_ATTENTION,
        ids_[2]: OrderStatus.EXECUTED,
        ids_[3]: OrderStatus.EXECUTED,
        ids_[4]: OrderStatus.EXECUTED,
    }
    assert settled.status is RequestStatus.NEEDS_ATTENTION
    assert _creates_per_order(world) == Counter({ids_[3]: 1, ids_[4]: 1}), "only the orders never sent are sent"
    (unclear,) = world.order_items(order_ids[1])
    assert unclear.status == "pending", "the unclear order is left for a person, not cancelled again"
    assert ids_[1] in _thread(bot, settled)

    clock.advance(timedelta(hours=1))
    await bot.services.workflow.tick()
    await bot.services.workflow.tick()
    assert _creates_per_order(world) == Counter({ids_[3]: 1, ids_[4]: 1}), "nothing is ever sent twice"
    assert len(bot.thread_texts(settled)) == 1


def _blocks(message: dict[str, Any]) -> list[Any]:
    blocks = message.get("blocks")
    return blocks if isinstance(blocks, list) else []


async def test_fifty_orders_fit_the_modal_and_the_message(bot: Harness, world: SandboxWorld) -> None:
    order_ids = _orders(world, 50, items=3)
    request = await _bulk_request(bot, order_ids)
    assert len(request.orders) == 50
    assert request.message_ts is not None
    message = bot.slack.message(request.channel_id, request.message_ts)
    assert message is not None
    assert len(_blocks(message)) <= 50
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    done = await bot.refreshed(request)
    assert done.status is RequestStatus.EXECUTED
    assert world.call_count(CREATE) == 50
    final = bot.slack.message(done.channel_id, request.message_ts)
    assert final is not None
    assert len(_blocks(final)) <= 50
    assert "50/50 cancelled" in bot.message_json(done)


@pytest.mark.postgres
async def test_two_replicas_reconciling_a_crashed_bulk_request_send_each_order_once(
    postgres_url: str, world: SandboxWorld, clock: MovableClock
) -> None:
    async with running_bot(postgres_url, world=world, clock=clock) as first:  # noqa: SIM117 - the second needs the first
        async with running_bot(postgres_url, world=world, clock=clock, slack=first.slack) as second:
            order_ids = [str(o) for o in _orders(world, 8)]
            request = await _bulk_request(first, [int(o) for o in order_ids])
            requests = first.services.requests
            await requests.approve(request.id, BOB, now=clock(), lease=timedelta(minutes=5))
            for order_id in order_ids[:2]:
                await requests.set_order_status(
                    request.id, order_id, expected=OrderStatus.PENDING, to=OrderStatus.EXECUTING, now=clock()
                )
            clock.advance(timedelta(minutes=6))

            await asyncio.gather(first.services.workflow.tick(), second.services.workflow.tick())
            await asyncio.gather(first.services.workflow.tick(), second.services.workflow.tick())

            settled = await first.refreshed(request)
            assert _creates_per_order(world) == Counter(dict.fromkeys(order_ids[2:], 1))
            statuses = {o.order_id: o.status for o in settled.orders}
            assert [statuses[o] for o in order_ids[:2]] == [OrderStatus.NEEDS_ATTENTION] * 2
            assert all(statuses[o] is OrderStatus.EXECUTED for o in order_ids[2:])
            assert settled.status is RequestStatus.NEEDS_ATTENTION
            taken = [e for e in await requests.audit_trail(request.id) if e.action == "taken_over"]
            assert len(taken) == 1, "one replica took the request over"
            assert len(_thread_messages(first, settled)) == 1, "announced once"


async def test_reasons_that_differ_per_order_group_the_bulk_request(bot: Harness, world: SandboxWorld) -> None:
    """Issue 10 point 10: the sandbox's reasons differ per order, so the grouping runs on real answers."""
    narrow, other, wide = _orders(world, 3)
    world.order_reasons[narrow] = ("Out of Stock",)
    world.order_reasons[other] = ("Sourcing Delay",)
    await bot.command(ALICE, f"{narrow} {other} {wide}")
    text = _modal_text(bot)
    assert "One request for *1 order*" in text
    assert "offers it no reason in common with order" in text
    request = await _bulk_request_from_open_modal(bot)
    assert [o.order_id for o in request.orders] == [str(wide)]


async def _bulk_request_from_open_modal(bot: Harness) -> CancelRequest:
    await bot.submit(ALICE, bot.open_modal(ALICE), reason_id="10000019")
    (request,) = await _stored(bot)
    return request
