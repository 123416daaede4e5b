"""Fixtures for end-to-end flow tests: the real app over HTTP, the Lazada sandbox and the fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.store.models import CancelRequest
from cancel_order_bot.demo.harness import Harness, MovableClock, running_bot
from cancel_order_bot.sandbox import CANCELLABLE_STATUSES as CANCELLABLE
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.showcase import SHOWCASE, Showcase, add_showcase_orders

CREATE = "/order/reverse/cancel/create"


@pytest.fixture
def clock() -> MovableClock:
    """A clock the test moves by hand, shared by the bot and the sandbox."""
    return MovableClock(datetime(2026, 11, 30, 3, 0, tzinfo=UTC))


@pytest.fixture
def world(clock: MovableClock) -> SandboxWorld:
    """A sandbox seller with the showcase orders."""
    world = SandboxWorld(now=clock)
    add_showcase_orders(world)
    return world


@pytest.fixture
def showcase() -> Showcase:
    """The showcase order ids."""
    return SHOWCASE


@pytest.fixture
async def bot(sqlite_url: str, world: SandboxWorld, clock: MovableClock) -> AsyncIterator[Harness]:
    """The whole bot on SQLite."""
    async with running_bot(sqlite_url, world=world, clock=clock) as harness:
        yield harness


ALICE, BOB, CAROL, DAVE = "U0ALICE", "U0BOB", "U0CAROL", "U0DAVE"
"""Alice and Dave request; Bob and Carol are approvers (user group S0APPROVERS); Dave is not an approver."""


async def request_cancel(
    bot: Harness,
    order_id: int,
    *,
    user: str = ALICE,
    item_ids: list[str] | None = None,
    reason_id: str = "10000019",
    package_choice: str | None = None,
    justification: str = "Customer asked us to; stock is gone.",
) -> CancelRequest:
    """Run the command, submit the modal, and return the stored request."""
    await bot.command(user, str(order_id))
    modal = bot.open_modal(user)
    if item_ids is None:
        item_ids = [str(i.order_item_id) for i in bot.world.order_items(order_id) if i.status in CANCELLABLE]
    await bot.submit(
        user,
        modal,
        item_ids=item_ids,
        reason_id=reason_id,
        package_choice=package_choice,
        justification=justification,
    )
    return await bot.request_for(str(order_id))


def told(bot: Harness, user: str) -> str:
    """Every ephemeral text ``user`` was shown, as one string."""
    return " ".join(str(m.get("text", "")) for m in bot.slack.ephemerals(user))


async def stored_count(bot: Harness) -> int:
    """How many requests the store holds."""
    return len(await bot.services.requests.list_requests(limit=100))
