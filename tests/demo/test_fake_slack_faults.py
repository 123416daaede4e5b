"""FakeSlack auth, injected failures, rate limits, delays, the call log and log hygiene."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from cancel_order_bot.demo import FakeSlack, FakeWorkspace, ManualClock
from tests.demo.support import slack_error


async def test_unknown_token_is_invalid_auth(slack: FakeSlack) -> None:
    stranger = AsyncWebClient(token="xoxb-someone-else", base_url=slack.api_url)

    assert await slack_error(stranger.auth_test()) == "invalid_auth"
    assert await slack_error(stranger.chat_postMessage(channel="C0OPS", text="x")) == "invalid_auth"
    assert slack.messages("C0OPS") == []


async def test_missing_token_is_not_authed(slack: FakeSlack) -> None:
    assert await slack_error(AsyncWebClient(base_url=slack.api_url).auth_test()) == "not_authed"


async def test_configured_tokens_are_accepted(clock: ManualClock) -> None:
    async with FakeSlack(FakeWorkspace.default().with_tokens("xoxb-one", "xoxb-two"), clock=clock) as slack:
        assert (await AsyncWebClient(token="xoxb-two", base_url=slack.api_url).auth_test())["user_id"] == "U0BOT"
        assert (
            await slack_error(AsyncWebClient(token="xoxb-fake", base_url=slack.api_url).auth_test()) == "invalid_auth"
        )


async def test_unknown_method(slack: FakeSlack, client: AsyncWebClient) -> None:
    assert await slack_error(client.api_call("chat.teleport")) == "unknown_method"


async def test_scopes_header_on_every_answer(slack: FakeSlack, client: AsyncWebClient) -> None:
    ok = await client.auth_test()
    with pytest.raises(SlackApiError) as caught:
        await client.chat_update(channel="C0OPS", ts="1.000001", text="x")

    assert ok.headers["x-oauth-scopes"] == ",".join(slack.workspace.scopes)
    assert caught.value.response.headers["x-oauth-scopes"] == ",".join(slack.workspace.scopes)


async def test_fail_injects_errors_then_recovers(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.fail("chat.postMessage", error="channel_is_archived", times=2)

    assert await slack_error(client.chat_postMessage(channel="C0OPS", text="1")) == "channel_is_archived"
    assert await slack_error(client.chat_postMessage(channel="C0OPS", text="2")) == "channel_is_archived"
    assert (await client.chat_postMessage(channel="C0OPS", text="3"))["ok"]
    assert [m["text"] for m in slack.messages("C0OPS")] == ["3"]
    assert [c.error for c in slack.calls_to("chat.postMessage")] == ["channel_is_archived", "channel_is_archived", None]


async def test_rate_limit_without_retry_handler_raises_429(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.rate_limit("usergroups.users.list", retry_after=7)

    with pytest.raises(SlackApiError) as caught:
        await client.usergroups_users_list(usergroup="S0APPROVERS")

    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "7"
    assert caught.value.response["error"] == "ratelimited"
    assert (await client.usergroups_users_list(usergroup="S0APPROVERS"))["ok"]


async def test_rate_limit_honoured_by_retry_handler(slack: FakeSlack) -> None:
    client = AsyncWebClient(
        token=slack.bot_token,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack.rate_limit("chat.postMessage", retry_after=1)
    started = time.monotonic()

    response = await client.chat_postMessage(channel="C0OPS", text="after the wait")

    assert time.monotonic() - started >= 1.0
    assert response["ok"]
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200]
    assert len(slack.messages("C0OPS")) == 1


async def test_delay_and_wait_for_background_work(slack: FakeSlack, client: AsyncWebClient) -> None:
    slack.delay("chat.update", 0.2)
    posted = await client.chat_postMessage(channel="C0OPS", text="pending")
    background = asyncio.create_task(client.chat_update(channel="C0OPS", ts=posted["ts"], text="approved"))

    call = await slack.wait_for("chat.update", lambda c: c.params["ts"] == posted["ts"], timeout=5)

    assert call.ok
    assert call.params["text"] == "approved"
    stored = slack.message("C0OPS", posted["ts"])
    assert stored is not None
    assert stored["text"] == "approved"
    await background


async def test_wait_for_finds_earlier_calls_and_times_out(slack: FakeSlack, client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel="C0OPS", text="early")

    found = await slack.wait_for("chat.postMessage", timeout=0.1)
    assert found.params["text"] == "early"
    with pytest.raises(TimeoutError, match=r"chat\.postMessage"):
        await slack.wait_for("chat.postMessage", timeout=0.1, since=len(slack.calls))
    with pytest.raises(LookupError):
        slack.last("views.open")


async def test_remove_bot_from_private_channel(clock: ManualClock) -> None:
    workspace = FakeWorkspace.default().with_channel("C0PRIV", "private-ops", members=("U0ALICE",), is_private=True)
    async with FakeSlack(workspace, clock=clock) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        assert (await client.chat_postMessage(channel="C0PRIV", text="x"))["ok"]
        slack.remove_bot_from("C0PRIV")
        assert await slack_error(client.chat_postMessage(channel="C0PRIV", text="x")) == "channel_not_found"
        slack.add_bot_to("C0PRIV")
        assert (await client.chat_postMessage(channel="C0PRIV", text="x"))["ok"]


async def test_secrets_stay_out_of_logs_calls_and_repr(slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    secret_token = "xoxb-secret-token-value"
    caplog.set_level(logging.DEBUG)
    client = AsyncWebClient(token=secret_token, base_url=slack.api_url)

    await slack_error(client.auth_test())
    await slack_error(client.api_call("auth.test", data={"token": secret_token}))

    server_side = [r.getMessage() for r in caplog.records if r.name.startswith(("cancel_order_bot.demo", "aiohttp"))]
    assert any("auth.test" in message for message in server_side)
    assert all(secret_token not in message for message in server_side)
    assert all(secret_token not in repr(call) for call in slack.calls)
    assert slack.bot_token not in repr(slack)
    assert slack.bot_token not in repr(slack.workspace)
