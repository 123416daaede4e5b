"""Fixtures: a running FakeSlack on a manual clock and a real slack_sdk AsyncWebClient pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from cancel_order_bot.demo import FakeSlack, ManualClock

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@pytest.fixture
def clock() -> ManualClock:
    """Return a clock that moves only when a test advances it."""
    return ManualClock(START)


@pytest.fixture
async def slack(clock: ManualClock) -> AsyncIterator[FakeSlack]:
    """Run the default fake workspace for one test."""
    async with FakeSlack(clock=clock) as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    """Return slack_sdk's real async client, talking to the fake."""
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
