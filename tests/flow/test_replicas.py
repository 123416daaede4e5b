"""Races across replicas, on PostgreSQL (SQLite's single writer would hide them)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.slack.render import ids
from bot.store.models import RequestStatus
from cancel_order_bot.demo.harness import MovableClock, running_bot
from cancel_order_bot.sandbox import CancelMode, SandboxWorld
from cancel_order_bot.sandbox.showcase import SHOWCASE
from tests.flow.conftest import BOB, CAROL, CREATE, request_cancel

pytestmark = pytest.mark.postgres

ITEMS = "/order/items/get"


async def test_twenty_simultaneous_approvals_on_two_replicas_cancel_once(
    postgres_url: str, world: SandboxWorld, clock: MovableClock
) -> None:
    async with running_bot(postgres_url, world=world, clock=clock) as first:  # noqa: SIM117 - the second needs the first
        async with running_bot(postgres_url, world=world, clock=clock, slack=first.slack) as second:
            request = await request_cancel(first, SHOWCASE.pending)
            clicks = [
                (first if n % 2 else second).click(BOB if n % 3 else CAROL, ids.REQUEST_APPROVE, request, wait=False)
                for n in range(20)
            ]
            responses = await asyncio.gather(*clicks)
            assert {r.status_code for r in responses} == {200}
            await first.settle()
            await second.settle()

            settled = await first.refreshed(request)
            assert settled.status is RequestStatus.EXECUTED
            assert world.call_count(CREATE) == 1
            approvals = [e for e in await first.services.requests.audit_trail(request.id) if e.action == "approved"]
            assert len(approvals) == 1
            told = " ".join(str(m.get("text", "")) for u in (BOB, CAROL) for m in first.slack.ephemerals(u))
            assert told.count("already approved by") >= 1


async def test_two_replicas_re_announcing_one_outcome_post_it_once(
    postgres_url: str, world: SandboxWorld, clock: MovableClock
) -> None:
    async with running_bot(postgres_url, world=world, clock=clock) as first:  # noqa: SIM117 - the second needs the first
        async with running_bot(postgres_url, world=world, clock=clock, slack=first.slack) as second:
            request = await request_cancel(first, SHOWCASE.pending)
            # Rejected, but the replica that decided died before telling Slack: the outcome is stored, not shown.
            assert await first.services.requests.transition(
                request.id, expected=RequestStatus.PENDING, to=RequestStatus.REJECTED, actor=BOB, now=clock()
            )
            clock.advance(timedelta(minutes=2))
            updates_before = len(first.slack.calls_to("chat.update"))

            await asyncio.gather(*(replica.services.workflow.tick() for replica in (first, second, first, second)))

            rejected = await first.refreshed(request)
            assert (rejected.announced_status, rejected.card_status) == ("rejected", "rejected")
            assert len(first.thread_texts(rejected)) == 1, first.thread_texts(rejected)
            assert len(first.slack.calls_to("chat.update")) - updates_before == 1


async def test_two_replicas_reading_back_one_pending_cancellation_read_once_and_reply_once(
    postgres_url: str, world: SandboxWorld, clock: MovableClock
) -> None:
    async with running_bot(postgres_url, world=world, clock=clock) as first:  # noqa: SIM117 - the second needs the first
        async with running_bot(postgres_url, world=world, clock=clock, slack=first.slack) as second:
            world.cancel_modes[SHOWCASE.pending] = CancelMode.SLOW
            request = await request_cancel(first, SHOWCASE.pending)
            await first.click(BOB, ids.REQUEST_APPROVE, request)
            assert (await first.refreshed(request)).status is RequestStatus.CANCEL_PENDING
            reads = world.call_count(ITEMS)

            # Every minute both replicas tick twice at once: a due read-back is made by one of them only.
            for _ in range(8):
                clock.advance(timedelta(minutes=1))
                await asyncio.gather(*(r.services.workflow.tick() for r in (first, second, first, second)))
                await first.settle()
                await second.settle()

            done = await first.refreshed(request)
            assert done.status is RequestStatus.EXECUTED
            assert world.call_count(ITEMS) - reads == 3, "read back at 1, 3 and 7 minutes, once each"
            replies = first.thread_texts(done)
            assert sum("is done" in t for t in replies) == 1, replies
            assert sum("cancellation pending at Lazada" in t for t in replies) == 1, replies
            assert world.call_count(CREATE) == 1
