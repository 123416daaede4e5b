"""Socket Mode's side of the fake: apps.connections.open takes an app-level token and hands out a live socket."""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient

from cancel_order_bot.demo import FakeSlack


@pytest.mark.parametrize(
    ("token", "error"),
    [("bot", "not_allowed_token_type"), ("xapp-1-someone-else", "invalid_auth")],
)
async def test_connections_open_refuses_a_bot_or_unknown_token(slack: FakeSlack, token: str, error: str) -> None:
    client = AsyncWebClient(base_url=slack.api_url)
    with pytest.raises(SlackApiError) as refused:
        await client.apps_connections_open(app_token=slack.bot_token if token == "bot" else token)
    assert refused.value.response["error"] == error


async def test_slack_sdk_socket_mode_client_connects_and_disconnects(slack: FakeSlack) -> None:
    web = AsyncWebClient(base_url=slack.api_url)
    socket = SocketModeClient(app_token=slack.app_token, web_client=web, auto_reconnect_enabled=False)
    await socket.connect()  # type: ignore[no-untyped-call]
    try:
        assert await socket.is_connected()
        assert slack.socket_connections == 1
        assert slack.last("apps.connections.open").ok
    finally:
        await socket.close()  # type: ignore[no-untyped-call]
    for _ in range(100):  # the server notices the close frame on its own task
        if slack.socket_connections == 0:
            break
        await asyncio.sleep(0.01)
    assert slack.socket_connections == 0
