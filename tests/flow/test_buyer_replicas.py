"""Buyer requests across two replicas on PostgreSQL (SQLite's single writer would hide the races)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from bot.buyer.errors import BuyerRequestError
from bot.buyer.models import BuyerRequestStatus
from bot.lazada.client import REVERSE_DECIDE_PATH
from cancel_order_bot.demo.harness import MovableClock, running_bot
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.showcase import SHOWCASE
from tests.flow.conftest import BOB, CAROL

pytestmark = pytest.mark.postgres

OVERRIDES = {"approval_channel": "C0OPS"}


async def test_two_replicas_ticking_together_post_each_request_once(
    postgres_url: str, world: SandboxWorld, clock: MovableClock
) -> None:
    order = world.order_items(SHOWCASE.pending)
    world.request_buyer_cancel([order[0].order_item_id], answer_within=timedelta(hours=24))
    async with running_bot(postgres_url, world=world, clock=clock, settings_overrides=OVERRIDES) as first:  # noqa: SIM117
        async with running_bot(
            postgres_url, world=world, clock=clock, settings_overrides=OVERRIDES, slack=first.slack
        ) as second:
            await asyncio.gather(*(r.services.buyer.tick() for r in (first, second, first, second)))

            stored = await first.services.buyer.open_requests("main")
            assert sorted(r.order_id for r in stored) == sorted([str(SHOWCASE.pending), str(SHOWCASE.buyer_request)])
            assert all(r.message_ts is not None for r in stored)
            cards = [
                c
                for c in first.slack.calls_to("chat.postMessage")
                if "thread_ts" not in c.params and "Buyer asks to cancel" in json.dumps(c.params.get("blocks"))
            ]
            assert len(cards) == 2
            assert len(first.slack.messages("C0OPS")) == 2


async def test_twenty_simultaneous_accepts_on_two_replicas_send_one_decision(
    postgres_url: str, world: SandboxWorld, clock: MovableClock
) -> None:
    async with running_bot(postgres_url, world=world, clock=clock, settings_overrides=OVERRIDES) as first:  # noqa: SIM117
        async with running_bot(
            postgres_url, world=world, clock=clock, settings_overrides=OVERRIDES, slack=first.slack
        ) as second:
            await first.services.buyer.tick()
            [request] = await first.services.buyer.open_requests("main")

            outcomes = await asyncio.gather(
                *(
                    (first if n % 2 else second).services.buyer.decide(
                        request.key, actor=BOB if n % 3 else CAROL, agree=True
                    )
                    for n in range(20)
                ),
                return_exceptions=True,
            )

            won = [o for o in outcomes if not isinstance(o, BaseException)]
            refused = [o for o in outcomes if isinstance(o, BaseException)]
            assert len(won) == 1
            assert won[0].status is BuyerRequestStatus.ACCEPTED
            assert len(refused) == 19
            assert all(isinstance(o, BuyerRequestError) for o in refused)
            assert world.call_count(REVERSE_DECIDE_PATH) == 1
            settled = await second.services.buyer.get(request.key)
            assert settled.status is BuyerRequestStatus.ACCEPTED
            assert settled.message_ts is not None
            assert len(first.slack.thread("C0OPS", settled.message_ts)) == 1
