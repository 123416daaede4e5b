"""Helpers shared by the devtools tests."""

from __future__ import annotations

from collections.abc import Awaitable

import pytest
from slack_sdk.errors import SlackApiError


async def slack_error(call: Awaitable[object]) -> str:
    """Await a client call expected to fail with a Slack API error and return Slack's error code."""
    with pytest.raises(SlackApiError) as caught:
        await call
    return str(caught.value.response["error"])
