"""A store's token refreshed on demand by one replica only; the other adopts the winner's token (PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest

from cancel_order_bot.demo.harness import MovableClock, running_bot
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.showcase import SHOWCASE

pytestmark = pytest.mark.postgres

REFRESH = "/auth/token/refresh"


async def test_two_replicas_refresh_a_rejected_token_once(
    postgres_url: str, world: SandboxWorld, clock: MovableClock
) -> None:
    # A 50 ms round trip, as to a real gateway: a refresh takes longer than reading the token store.
    async with running_bot(postgres_url, world=world, clock=clock, lazada_rtt_ms=50) as first:  # noqa: SIM117
        async with running_bot(postgres_url, world=world, clock=clock, slack=first.slack, lazada_rtt_ms=50) as second:
            replicas = [first, second] * 3
            world.expire_access_token()
            orders = await asyncio.gather(
                *(r.services.clients["main"].get_order(order_id=SHOWCASE.pending) for r in replicas)
            )
            assert {o.order_id for o in orders} == {str(SHOWCASE.pending)}
            assert world.call_count(REFRESH) == 1, "one refresh for both replicas"
            stored = [await r.services.tokens.load("main") for r in (first, second)]
            assert all(s is not None for s in stored)
            assert {s.access_token.get_secret_value() for s in stored if s is not None} == {world.access_token}
