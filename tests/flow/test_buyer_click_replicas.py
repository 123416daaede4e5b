"""Buyer requests decided by clicks through the app on two replicas, on PostgreSQL (SQLite hides the races)."""

from __future__ import annotations

import asyncio

import pytest

from bot.buyer.models import BuyerRequestStatus
from bot.slack.render import buyer_forms as buyer_ids
from cancel_order_bot.demo.harness import MovableClock, running_bot
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.api import REVERSE_DECIDE_PATH
from cancel_order_bot.sandbox.showcase import SHOWCASE
from tests.flow.conftest import BOB, CAROL

pytestmark = pytest.mark.postgres

OPS = "C0OPS"


async def test_twenty_simultaneous_accept_clicks_on_two_replicas_send_one_decision(
    postgres_url: str, world: SandboxWorld, clock: MovableClock
) -> None:
    overrides = {"approval_channel": OPS}
    async with running_bot(postgres_url, world=world, clock=clock, settings_overrides=overrides) as first:  # noqa: SIM117
        async with running_bot(
            postgres_url, world=world, clock=clock, slack=first.slack, settings_overrides=overrides
        ) as second:
            await asyncio.gather(first.services.buyer.tick(), second.services.buyer.tick())
            await first.settle()
            request = await first.buyer_request(SHOWCASE.buyer_request)
            assert len(first.slack.messages(OPS)) == 1, "one card, however many replicas scan"

            clicks = [
                (first if n % 2 else second).click_buyer(
                    BOB if n % 3 else CAROL, buyer_ids.BUYER_ACCEPT, request, wait=False
                )
                for n in range(20)
            ]
            responses = await asyncio.gather(*clicks)
            assert {r.status_code for r in responses} == {200}
            await first.settle()
            await second.settle()

            assert world.call_count(REVERSE_DECIDE_PATH) == 1
            accepted = await first.buyer_request(SHOWCASE.buyer_request)
            assert accepted.status is BuyerRequestStatus.ACCEPTED
            assert accepted.decided_by in {BOB, CAROL}
            told = [str(m.get("text", "")) for u in (BOB, CAROL) for m in first.slack.ephemerals(u)]
            assert len(told) == 19, "every losing click is told, once"
            assert all("already" in t and "Nothing was sent" in t for t in told), told
            assert len(first.slack.thread(OPS, accepted.message_ts or "")) == 1, "one thread reply"
