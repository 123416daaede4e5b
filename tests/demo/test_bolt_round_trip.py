"""The builders' requests dispatched through a real Bolt AsyncApp whose client talks to the FakeSlack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from cancel_order_bot.demo import Action, Delivery, FakeSlack, SignedRequest, SlackRequests

SECRET = "round-trip-signing-secret"
MODAL = {
    "type": "modal",
    "callback_id": "cancel.reason",
    "title": {"type": "plain_text", "text": "Cancel order"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Why?"}}],
}


@pytest.fixture
async def real_time_slack(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSlack]:
    """Run a FakeSlack on the real clock, since Bolt verifies signatures against real time."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    async with FakeSlack() as fake:
        yield fake


def build_app(slack: FakeSlack, submissions: list[dict[str, Any]]) -> AsyncApp:
    """Return a small app: command opens a modal, approve updates the message, Home is published."""
    app = AsyncApp(
        client=AsyncWebClient(token=slack.bot_token, base_url=slack.api_url),
        signing_secret=SECRET,
        process_before_response=True,
    )

    async def on_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view={**MODAL, "private_metadata": body["text"]})

    async def on_approve(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        await client.chat_update(channel=body["channel"]["id"], ts=body["message"]["ts"], text="Approved")
        await respond(text="You approved it", response_type="ephemeral", replace_original=False)

    async def on_submit(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        submissions.append(body["view"])

    async def on_home(event: dict[str, Any], client: AsyncWebClient) -> None:
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": [{"type": "divider"}]})

    app.command("/cancel-order")(on_command)
    app.action("request.approve")(on_approve)
    app.view("cancel.reason")(on_submit)
    app.event("app_home_opened")(on_home)
    return app


async def dispatch(app: AsyncApp, request: SignedRequest) -> int:
    """Dispatch a signed request to the app and return the HTTP status Bolt answers with."""
    response = await app.async_dispatch(request.bolt_request())
    return response.status


async def test_command_opens_modal_and_submission_reaches_the_app(real_time_slack: FakeSlack) -> None:
    slack = real_time_slack
    submissions: list[dict[str, Any]] = []
    app = build_app(slack, submissions)
    r = SlackRequests.for_workspace(SECRET, slack.workspace)
    trigger_id = slack.new_trigger_id("U0ALICE")

    command = r.slash_command("/cancel-order", "123", user_id="U0ALICE", channel_id="C0OPS", trigger_id=trigger_id)
    assert await dispatch(app, command) == 200

    view = slack.view(slack.last("views.open").body["view"]["id"])
    assert view is not None
    assert view["private_metadata"] == "123"
    submit = r.view_submission(view, user_id="U0ALICE", values={"b": {"a": {"type": "plain_text_input", "value": "x"}}})
    assert await dispatch(app, submit) == 200
    assert submissions[0]["id"] == view["id"]
    assert submissions[0]["state"]["values"]["b"]["a"]["value"] == "x"


async def test_approve_click_updates_message_and_responds(real_time_slack: FakeSlack) -> None:
    slack = real_time_slack
    app = build_app(slack, [])
    r = SlackRequests.for_workspace(SECRET, slack.workspace)
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    posted = await client.chat_postMessage(channel="C0OPS", text="Approve cancelling 123?")
    message = slack.message("C0OPS", posted["ts"])
    assert message is not None
    response_url = slack.new_response_url(channel="C0OPS", user="U0BOB", message_ts=posted["ts"])

    click = r.block_actions_from_message(
        [Action.button("request.approve", "order:123", block_id="decision")],
        user_id="U0BOB",
        channel_id="C0OPS",
        message=message,
        response_url=response_url,
    )
    assert await dispatch(app, click) == 200

    updated = slack.message("C0OPS", posted["ts"])
    assert updated is not None
    assert updated["text"] == "Approved"
    assert [e["text"] for e in slack.ephemerals("U0BOB")] == ["You approved it"]


async def test_app_home_opened_publishes_and_bad_signatures_are_refused(real_time_slack: FakeSlack) -> None:
    slack = real_time_slack
    app = build_app(slack, [])
    r = SlackRequests.for_workspace(SECRET, slack.workspace)

    assert await dispatch(app, r.app_home_opened("U0CAROL", delivery=Delivery(signature="wrong"))) == 401
    assert await dispatch(app, r.app_home_opened("U0CAROL", delivery=Delivery(stale=True))) == 401
    assert slack.home_view("U0CAROL") is None
    assert await dispatch(app, r.app_home_opened("U0CAROL")) == 200
    home = slack.home_view("U0CAROL")
    assert home is not None
    assert home["type"] == "home"
