"""Races across replicas, on PostgreSQL (SQLite's single writer would hide them)."""

from __future__ import annotations

import asyncio

import pytest

from bot.slack.render import ids
from bot.store.models import RequestStatus
from cancel_order_bot.demo.harness import MovableClock, running_bot
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.showcase import SHOWCASE
from tests.flow.conftest import BOB, CAROL, CREATE, request_cancel

pytestmark = pytest.mark.postgres


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
