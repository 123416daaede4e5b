"""FakeSlack response_url: what respond() payloads do to messages and ephemerals, and the 5-use limit."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from cancel_order_bot.demo import FakeSlack, ManualClock
from cancel_order_bot.demo.fake_slack import RESPONSE_URL


async def test_replace_original_updates_the_message(slack: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0OPS", text="Approve?", blocks=[{"type": "divider"}])
    url = slack.new_response_url(channel="C0OPS", user="U0BOB", message_ts=posted["ts"])

    response = await AsyncWebhookClient(url).send(text="Approved by bob", replace_original=True)

    assert response.status_code == 200
    stored = slack.message("C0OPS", posted["ts"])
    assert stored is not None
    assert stored["text"] == "Approved by bob"
    assert "blocks" not in stored
    call = slack.last(RESPONSE_URL)
    assert call.url == url
    assert call.params == {"text": "Approved by bob", "replace_original": True}


async def test_delete_original_removes_the_message(slack: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0OPS", text="Approve?")
    url = slack.new_response_url(channel="C0OPS", user="U0BOB", message_ts=posted["ts"])

    await AsyncWebhookClient(url).send_dict({"delete_original": True})

    assert slack.message("C0OPS", posted["ts"]) is None


async def test_in_channel_posts_and_default_is_ephemeral(slack: FakeSlack) -> None:
    url = slack.new_response_url(channel="C0OPS", user="U0ALICE")
    webhook = AsyncWebhookClient(url)

    await webhook.send(text="Working on it", response_type="ephemeral", replace_original=False)
    await webhook.send(text="Order 123 cancelled", response_type="in_channel", replace_original=False)

    assert [(e["channel"], e["text"]) for e in slack.ephemerals("U0ALICE")] == [("C0OPS", "Working on it")]
    (message,) = slack.messages("C0OPS")
    assert (message["text"], message["bot_id"]) == ("Order 123 cancelled", "B0BOT")


async def test_replace_original_on_an_ephemeral(slack: FakeSlack, client: AsyncWebClient) -> None:
    shown = await client.chat_postEphemeral(channel="C0OPS", user="U0ALICE", text="Pick a reason")
    url = slack.new_response_url(channel="C0OPS", user="U0ALICE", message_ts=shown["message_ts"])

    await AsyncWebhookClient(url).send(text="Request sent", replace_original=True)

    assert [e["text"] for e in slack.ephemerals("U0ALICE")] == ["Request sent"]


async def test_response_url_works_five_times_only(slack: FakeSlack) -> None:
    webhook = AsyncWebhookClient(slack.new_response_url(channel="C0OPS", user="U0ALICE"))

    statuses = [(await webhook.send(text=str(i))).status_code for i in range(6)]

    assert statuses == [200, 200, 200, 200, 200, 404]
    assert slack.last(RESPONSE_URL).error == "used_url"
    assert len(slack.ephemerals("U0ALICE")) == 5


async def test_response_url_expires_after_30_minutes(slack: FakeSlack, clock: ManualClock) -> None:
    webhook = AsyncWebhookClient(slack.new_response_url(channel="C0OPS", user="U0ALICE"))
    clock.advance(30 * 60 + 1)

    response = await webhook.send(text="late")

    assert (response.status_code, response.body) == (404, "expired_url")
    assert slack.ephemerals("U0ALICE") == []


async def test_in_channel_reply_into_a_thread(slack: FakeSlack, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel="C0OPS", text="Approve?")
    webhook = AsyncWebhookClient(slack.new_response_url(channel="C0OPS", user="U0BOB", message_ts=parent["ts"]))

    threaded = await webhook.send_dict({"text": "Cancelled", "response_type": "in_channel", "thread_ts": parent["ts"]})
    lost = await webhook.send_dict({"text": "Nowhere", "response_type": "in_channel", "thread_ts": "1.000001"})

    assert threaded.status_code == 200
    assert [m["text"] for m in slack.thread("C0OPS", parent["ts"])] == ["Cancelled"]
    assert (lost.status_code, lost.body) == (400, "thread_not_found")
