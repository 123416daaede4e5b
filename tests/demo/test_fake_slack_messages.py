"""FakeSlack messaging, conversations and people methods, driven through slack_sdk's AsyncWebClient."""

from __future__ import annotations

import json

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from cancel_order_bot.demo import FakeSlack, FakeWorkspace, ManualClock
from tests.demo.support import slack_error

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "Cancel order *123*?"}}


async def test_post_message_stores_message_and_returns_slack_shape(slack: FakeSlack, client: AsyncWebClient) -> None:
    metadata = {"event_type": "cancel_requested", "event_payload": {"order_id": "123"}}
    response = await client.chat_postMessage(channel="C0OPS", text="Cancel 123?", blocks=[SECTION], metadata=metadata)

    assert response["ok"] is True
    assert response["channel"] == "C0OPS"
    message = response["message"]
    assert message["ts"] == response["ts"]
    assert message["bot_id"] == "B0BOT"
    assert message["user"] == "U0BOT"
    assert message["blocks"] == [SECTION]
    assert message["metadata"] == metadata
    assert slack.messages("C0OPS") == [message]
    assert slack.message("C0OPS", response["ts"]) == message


async def test_post_message_ts_strictly_increases_on_a_frozen_clock(client: AsyncWebClient) -> None:
    stamps = [(await client.chat_postMessage(channel="C0OPS", text=str(i)))["ts"] for i in range(5)]

    assert [float(ts) for ts in stamps] == sorted({float(ts) for ts in stamps})
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)


async def test_post_message_ts_follows_the_clock(slack: FakeSlack, client: AsyncWebClient, clock: ManualClock) -> None:
    first = (await client.chat_postMessage(channel="C0OPS", text="a"))["ts"]
    clock.advance(60)
    second = (await client.chat_postMessage(channel="C0OPS", text="b"))["ts"]

    assert float(second) - float(first) == pytest.approx(60, abs=0.01)


async def test_post_message_form_encoded_with_token_param_records_decoded_blocks(slack: FakeSlack) -> None:
    form = {"channel": "C0OPS", "text": "form", "blocks": json.dumps([SECTION]), "token": slack.bot_token}
    await AsyncWebClient(base_url=slack.api_url).api_call("chat.postMessage", data=form)

    call = slack.last("chat.postMessage")
    assert call.ok
    assert call.params["blocks"] == [SECTION]
    assert "token" not in call.params


@pytest.mark.parametrize(
    ("channel", "error"),
    [("C0NOPE", "channel_not_found"), ("C0SECRET", "channel_not_found"), ("", "channel_not_found")],
)
async def test_post_message_to_unreachable_channel_fails(client: AsyncWebClient, channel: str, error: str) -> None:
    assert await slack_error(client.chat_postMessage(channel=channel, text="x")) == error


async def test_post_message_public_channel_without_bot_needs_chat_write_public(clock: ManualClock) -> None:
    narrow = FakeWorkspace.default().with_scopes("chat:write")
    async with FakeSlack(narrow, clock=clock) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        assert await slack_error(client.chat_postMessage(channel="C0RANDOM", text="x")) == "not_in_channel"
    async with FakeSlack(clock=clock) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        assert (await client.chat_postMessage(channel="C0RANDOM", text="x"))["ok"]


async def test_post_message_by_channel_name_and_user_id(slack: FakeSlack, client: AsyncWebClient) -> None:
    by_name = await client.chat_postMessage(channel="#order-ops", text="x")
    to_user = await client.chat_postMessage(channel="U0ALICE", text="dm")

    assert by_name["channel"] == "C0OPS"
    assert to_user["channel"].startswith("D")
    assert slack.im_channel("U0ALICE") == to_user["channel"]
    assert slack.messages(to_user["channel"])[0]["text"] == "dm"


async def test_post_message_without_content_fails_no_text(client: AsyncWebClient) -> None:
    with pytest.warns(UserWarning, match="text"):
        error = await slack_error(client.chat_postMessage(channel="C0OPS"))
    assert error == "no_text"


async def test_post_message_over_50_blocks_fails_invalid_blocks(client: AsyncWebClient) -> None:
    error = await slack_error(client.chat_postMessage(channel="C0OPS", text="x", blocks=[SECTION] * 51))
    assert error == "invalid_blocks"


async def test_thread_reply_recorded_under_parent(slack: FakeSlack, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel="C0OPS", text="request")
    reply = await client.chat_postMessage(channel="C0OPS", text="done", thread_ts=parent["ts"])

    assert reply["message"]["thread_ts"] == parent["ts"]
    assert [m["text"] for m in slack.thread("C0OPS", parent["ts"])] == ["done"]
    assert [m["text"] for m in slack.messages("C0OPS")] == ["request"]
    stored_parent = slack.message("C0OPS", parent["ts"])
    assert stored_parent is not None
    assert stored_parent["reply_count"] == 1
    assert stored_parent["latest_reply"] == reply["ts"]
    replies = await client.conversations_replies(channel="C0OPS", ts=parent["ts"])
    assert [m["text"] for m in replies["messages"]] == ["request", "done"]


async def test_thread_reply_to_unknown_parent_fails(client: AsyncWebClient) -> None:
    error = await slack_error(client.chat_postMessage(channel="C0OPS", text="x", thread_ts="1.000001"))
    assert error == "thread_not_found"


async def test_update_replaces_text_and_keeps_blocks_unless_given(slack: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0OPS", text="pending", blocks=[SECTION])
    text_only = await client.chat_update(channel="C0OPS", ts=posted["ts"], text="approved")

    assert text_only["ts"] == posted["ts"]
    assert text_only["text"] == "approved"
    assert text_only["message"]["blocks"] == [SECTION]
    assert "edited" in text_only["message"]

    await client.chat_update(channel="C0OPS", ts=posted["ts"], text="cleared", blocks=[])
    stored = slack.message("C0OPS", posted["ts"])
    assert stored is not None
    assert stored["text"] == "cleared"
    assert "blocks" not in stored


async def test_update_errors(slack: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0OPS", text="mine")
    human_ts = slack.add_user_message("C0OPS", "U0ALICE", "not yours")

    assert await slack_error(client.chat_update(channel="C0OPS", ts="1.000001", text="x")) == "message_not_found"
    assert await slack_error(client.chat_update(channel="C0OPS", ts=human_ts, text="x")) == "cant_update_message"
    assert await slack_error(client.chat_update(channel="C0NOPE", ts=posted["ts"], text="x")) == "channel_not_found"

    slack.delete_message("C0OPS", posted["ts"])
    assert slack.message("C0OPS", posted["ts"]) is None
    assert await slack_error(client.chat_update(channel="C0OPS", ts=posted["ts"], text="x")) == "message_not_found"


async def test_delete_only_own_messages(slack: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0OPS", text="mine")
    human_ts = slack.add_user_message("C0OPS", "U0ALICE", "theirs")

    deleted = await client.chat_delete(channel="C0OPS", ts=posted["ts"])

    assert deleted["ts"] == posted["ts"]
    assert [m["text"] for m in slack.messages("C0OPS")] == ["theirs"]
    assert await slack_error(client.chat_delete(channel="C0OPS", ts=human_ts)) == "cant_delete_message"


async def test_post_ephemeral_to_member(slack: FakeSlack, client: AsyncWebClient) -> None:
    response = await client.chat_postEphemeral(channel="C0OPS", user="U0ALICE", text="only you", blocks=[SECTION])

    assert response["ok"]
    ephemerals = slack.ephemerals("U0ALICE")
    assert ephemerals == [
        {
            "channel": "C0OPS",
            "user": "U0ALICE",
            "message_ts": response["message_ts"],
            "text": "only you",
            "blocks": [SECTION],
        }
    ]
    assert slack.messages("C0OPS") == []
    error = await slack_error(client.chat_update(channel="C0OPS", ts=response["message_ts"], text="x"))
    assert error == "message_not_found"


async def test_post_ephemeral_to_non_member_fails(client: AsyncWebClient) -> None:
    error = await slack_error(client.chat_postEphemeral(channel="C0OPS", user="U0DAVE", text="x"))
    assert error == "user_not_in_channel"


async def test_conversations_open_returns_one_im_per_user(slack: FakeSlack, client: AsyncWebClient) -> None:
    first = await client.conversations_open(users="U0BOB")
    again = await client.conversations_open(users=["U0BOB"], return_im=True)
    group = await client.conversations_open(users=["U0BOB", "U0CAROL"])

    assert first["channel"]["id"].startswith("D")
    assert again["already_open"] is True
    assert again["channel"] == {**again["channel"], "id": first["channel"]["id"], "is_im": True, "user": "U0BOB"}
    assert group["channel"]["id"].startswith("G")
    assert await slack_error(client.conversations_open(users="U0NOPE")) == "user_not_found"


async def test_conversations_info_and_members(client: AsyncWebClient) -> None:
    info = await client.conversations_info(channel="C0OPS", include_num_members=True)
    members = await client.conversations_members(channel="C0OPS")
    outside = await client.conversations_info(channel="C0RANDOM")

    assert info["channel"]["name"] == "order-ops"
    assert info["channel"]["is_member"] is True
    assert info["channel"]["num_members"] == 4
    assert members["members"] == ["U0ALICE", "U0BOB", "U0CAROL", "U0BOT"]
    assert outside["channel"]["is_member"] is False
    assert await slack_error(client.conversations_info(channel="C0SECRET")) == "channel_not_found"
    assert await slack_error(client.conversations_history(channel="C0RANDOM")) == "not_in_channel"


async def test_history_includes_metadata_only_when_asked(client: AsyncWebClient) -> None:
    metadata = {"event_type": "cancel_requested", "event_payload": {"order_id": "9"}}
    await client.chat_postMessage(channel="C0OPS", text="old")
    await client.chat_postMessage(channel="C0OPS", text="new", metadata=metadata)

    plain = await client.conversations_history(channel="C0OPS")
    full = await client.conversations_history(channel="C0OPS", include_all_metadata=True)

    assert [m["text"] for m in plain["messages"]] == ["new", "old"]
    assert all("metadata" not in m for m in plain["messages"])
    assert full["messages"][0]["metadata"] == metadata


async def test_history_pages_with_cursor(client: AsyncWebClient) -> None:
    for i in range(5):
        await client.chat_postMessage(channel="C0OPS", text=str(i))

    first = await client.conversations_history(channel="C0OPS", limit=2)
    second = await client.conversations_history(
        channel="C0OPS", limit=10, cursor=first["response_metadata"]["next_cursor"]
    )

    assert [m["text"] for m in first["messages"]] == ["4", "3"]
    assert first["has_more"] is True
    assert [m["text"] for m in second["messages"]] == ["2", "1", "0"]
    assert second["has_more"] is False


async def test_users_info(client: AsyncWebClient) -> None:
    user = (await client.users_info(user="U0BOB"))["user"]

    assert (user["id"], user["name"], user["real_name"], user["tz"]) == ("U0BOB", "bob", "Bob Santos", "Asia/Manila")
    assert user["tz_offset"] == 8 * 3600
    assert user["is_bot"] is False
    assert (await client.users_info(user="U0BOT"))["user"]["is_bot"] is True
    assert await slack_error(client.users_info(user="U0NOPE")) == "user_not_found"


async def test_usergroups_users_list(client: AsyncWebClient) -> None:
    response = await client.usergroups_users_list(usergroup="S0APPROVERS")

    assert response["users"] == ["U0BOB", "U0CAROL"]
    assert await slack_error(client.usergroups_users_list(usergroup="S0NOPE")) == "no_such_subteam"


async def test_custom_workspace_and_missing_scope(clock: ManualClock) -> None:
    workspace = (
        FakeWorkspace()
        .with_user("U1", "erin")
        .with_usergroup("S1", ("U1",))
        .with_channel("C1", "ops", members=("U1",))
        .with_scopes("chat:write")
    )
    async with FakeSlack(workspace, clock=clock) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        assert (await client.chat_postMessage(channel="C1", text="x"))["ok"]
        with pytest.raises(SlackApiError) as caught:
            await client.usergroups_users_list(usergroup="S1")
    assert caught.value.response["error"] == "missing_scope"
    assert caught.value.response["needed"] == "usergroups:read"
    assert caught.value.response.headers["x-oauth-scopes"] == "chat:write"
