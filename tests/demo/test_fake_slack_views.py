"""FakeSlack modals and App Home: trigger ids, views.open/push/update/publish."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from cancel_order_bot.demo import FakeSlack, ManualClock
from tests.demo.support import slack_error


def modal(title: str = "Cancel order", *, callback_id: str = "cancel.reason", **extra: Any) -> dict[str, Any]:
    """Return a minimal modal view."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": title},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": title}}],
        **extra,
    }


HOME = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Pending: 2"}}]}


async def test_views_open_with_fresh_trigger(slack: FakeSlack, client: AsyncWebClient, clock: ManualClock) -> None:
    trigger_id = slack.new_trigger_id("U0ALICE")
    clock.advance(2.9)

    response = await client.views_open(trigger_id=trigger_id, view=modal(private_metadata="order:123"))

    view = response["view"]
    assert view["id"].startswith("V")
    assert view["hash"]
    assert view["root_view_id"] == view["id"]
    assert view["private_metadata"] == "order:123"
    assert view["callback_id"] == "cancel.reason"
    assert view["state"] == {"values": {}}
    assert slack.view(view["id"]) == view


async def test_views_open_with_expired_trigger(slack: FakeSlack, client: AsyncWebClient, clock: ManualClock) -> None:
    trigger_id = slack.new_trigger_id("U0ALICE")
    clock.advance(3.1)

    assert await slack_error(client.views_open(trigger_id=trigger_id, view=modal())) == "expired_trigger_id"


async def test_views_open_trigger_is_single_use_and_must_be_issued(slack: FakeSlack, client: AsyncWebClient) -> None:
    trigger_id = slack.new_trigger_id()
    await client.views_open(trigger_id=trigger_id, view=modal())

    assert await slack_error(client.views_open(trigger_id=trigger_id, view=modal())) == "exchanged_trigger_id"
    assert await slack_error(client.views_open(trigger_id="1.2.abc", view=modal())) == "invalid_trigger_id"


async def test_views_open_rejects_a_home_view_or_too_many_blocks(slack: FakeSlack, client: AsyncWebClient) -> None:
    too_many = modal(blocks=[{"type": "divider"}] * 101)

    assert await slack_error(client.views_open(trigger_id=slack.new_trigger_id(), view=HOME)) == "invalid_arguments"
    assert await slack_error(client.views_open(trigger_id=slack.new_trigger_id(), view=too_many)) == "invalid_arguments"


async def test_views_update_by_id_and_external_id(slack: FakeSlack, client: AsyncWebClient) -> None:
    opened = (await client.views_open(trigger_id=slack.new_trigger_id(), view=modal(external_id="order-123")))["view"]

    by_id = (await client.views_update(view_id=opened["id"], view=modal("Loading done"), hash=opened["hash"]))["view"]
    by_external = (await client.views_update(external_id="order-123", view=modal("Again")))["view"]

    assert by_id["id"] == opened["id"]
    assert by_id["hash"] != opened["hash"]
    assert by_id["title"]["text"] == "Loading done"
    assert by_external["id"] == opened["id"]
    stored = slack.view(opened["id"])
    assert stored is not None
    assert stored["title"]["text"] == "Again"
    assert slack.last("views.update").params["view"]["title"]["text"] == "Again"


async def test_views_update_unknown_view_and_stale_hash(slack: FakeSlack, client: AsyncWebClient) -> None:
    opened = (await client.views_open(trigger_id=slack.new_trigger_id(), view=modal()))["view"]
    await client.views_update(view_id=opened["id"], view=modal("v2"))

    stale = client.views_update(view_id=opened["id"], view=modal("v3"), hash=opened["hash"])
    assert await slack_error(stale) == "hash_conflict"
    assert await slack_error(client.views_update(view_id="V0NOPE", view=modal())) == "not_found"
    assert await slack_error(client.views_update(external_id="nope", view=modal())) == "not_found"


async def test_views_push_stacks_up_to_three(slack: FakeSlack, client: AsyncWebClient) -> None:
    root = (await client.views_open(trigger_id=slack.new_trigger_id("U0BOB"), view=modal("root")))["view"]
    second = (await client.views_push(trigger_id=slack.new_trigger_id("U0BOB"), view=modal("2")))["view"]
    third = (await client.views_push(trigger_id=slack.new_trigger_id("U0BOB"), view=modal("3")))["view"]

    assert (second["root_view_id"], second["previous_view_id"]) == (root["id"], root["id"])
    assert third["previous_view_id"] == second["id"]
    fourth = client.views_push(trigger_id=slack.new_trigger_id("U0BOB"), view=modal("4"))
    assert await slack_error(fourth) == "push_limit_reached"


async def test_views_publish_stores_home_per_user(slack: FakeSlack, client: AsyncWebClient) -> None:
    first = (await client.views_publish(user_id="U0ALICE", view=HOME))["view"]
    updated_home = {**HOME, "blocks": [{"type": "divider"}]}
    second = (await client.views_publish(user_id="U0ALICE", view=updated_home))["view"]

    assert first["type"] == "home"
    assert second["id"] == first["id"]
    assert slack.home_view("U0ALICE") == second
    assert slack.home_view("U0BOB") is None
    stale = client.views_publish(user_id="U0ALICE", view=HOME, hash=first["hash"])
    assert await slack_error(stale) == "hash_conflict"
    assert await slack_error(client.views_publish(user_id="U0NOPE", view=HOME)) == "user_not_found"
