"""The sandbox tests' shared rig: a manual clock, a world on it, and signed calls over its in-process transport."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from cancel_order_bot.sandbox import SANDBOX_BASE_URL, SandboxTransport, SandboxWorld
from tests.sandbox.support import ManualClock, SandboxCaller


@pytest.fixture
def clock() -> ManualClock:
    """The sandbox's time, moved only by the test."""
    return ManualClock()


@pytest.fixture
def world(clock: ManualClock) -> SandboxWorld:
    """An empty sandbox seller on the test's clock."""
    return SandboxWorld(now=clock)


@pytest.fixture
async def http(world: SandboxWorld) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client whose requests the sandbox answers in-process."""
    async with httpx.AsyncClient(transport=SandboxTransport(world), base_url=SANDBOX_BASE_URL) as client:
        yield client


@pytest.fixture
def caller(http: httpx.AsyncClient, world: SandboxWorld) -> SandboxCaller:
    """Signed calls to the sandbox, as a Lazada app makes them."""
    return SandboxCaller(http, world)
