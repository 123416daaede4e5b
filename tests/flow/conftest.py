"""Fixtures for end-to-end flow tests: the real app over HTTP, the Lazada sandbox and the fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.devtools.harness import Harness, MovableClock, running_bot
from bot.lazada.sandbox import SandboxWorld
from bot.lazada.sandbox.showcase import SHOWCASE, Showcase, add_showcase_orders

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
