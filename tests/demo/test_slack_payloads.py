"""SlackRequests: signatures that SignatureVerifier accepts (or rejects when told to) and realistic payloads."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest
from slack_sdk.signature import Clock, SignatureVerifier

from cancel_order_bot.demo import Action, Delivery, FakeWorkspace, ManualClock, SignedRequest, SlackRequests
from cancel_order_bot.demo.slack_payloads import plain_text_input_value, static_select_value

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_767_225_600.0


class FixedClock(Clock):
    """A verifier clock pinned to one moment (by default the builder's)."""

    def __init__(self, at: float = NOW) -> None:
        """Pin the clock at ``at`` epoch seconds."""
        self.at = at

    def now(self) -> float:
        """Return the pinned time."""
        return self.at


@pytest.fixture
def requests_() -> SlackRequests:
    """Return a builder for the default fake workspace, on a fixed clock."""
    return SlackRequests.for_workspace(SECRET, FakeWorkspace.default(), ManualClock(NOW))


def verifies(request: SignedRequest, secret: str = SECRET) -> bool:
    """Return whether Slack's own verifier accepts the request."""
    return SignatureVerifier(secret, clock=FixedClock()).is_valid_request(request.body, request.headers)


def form(request: SignedRequest) -> dict[str, str]:
    """Decode a form-encoded body."""
    return dict(urllib.parse.parse_qsl(request.body, keep_blank_values=True))


def interactive(request: SignedRequest) -> dict[str, Any]:
    """Decode an interactive ``payload=<json>`` body."""
    payload: dict[str, Any] = json.loads(form(request)["payload"])
    return payload


MESSAGE = {"type": "message", "ts": "1767225600.000100", "bot_id": "B0BOT", "text": "Approve?", "blocks": []}
VIEW = {
    "id": "V00000007",
    "type": "modal",
    "callback_id": "cancel.reason",
    "private_metadata": "order:123",
    "hash": "1.a",
}


def all_builders(r: SlackRequests, delivery: Delivery) -> list[SignedRequest]:
    """Return one request of each kind."""
    approve = Action.button("request.approve", "order:123", block_id="decision")
    return [
        r.slash_command("/cancel-order", "123", user_id="U0ALICE", channel_id="C0OPS", delivery=delivery),
        r.block_actions_from_message(
            [approve], user_id="U0BOB", channel_id="C0OPS", message=MESSAGE, delivery=delivery
        ),
        r.block_actions_from_ephemeral(
            [approve], user_id="U0BOB", channel_id="C0OPS", message_ts="1.000002", delivery=delivery
        ),
        r.block_actions_from_view([approve], user_id="U0BOB", view=VIEW, delivery=delivery),
        r.view_submission(VIEW, user_id="U0ALICE", delivery=delivery),
        r.app_home_opened("U0ALICE", delivery=delivery),
    ]


def test_every_builder_signs_verifiably(requests_: SlackRequests) -> None:
    built = all_builders(requests_, Delivery())

    assert all(verifies(request) for request in built)
    assert not any(verifies(request, secret="another-secret") for request in built)
    assert all(request.headers["x-slack-request-timestamp"] == str(int(NOW)) for request in built)


@pytest.mark.parametrize(
    "delivery", [Delivery(signature="wrong"), Delivery(signature="missing"), Delivery(stale=True)], ids=str
)
def test_spoiled_requests_fail_verification(requests_: SlackRequests, delivery: Delivery) -> None:
    built = all_builders(requests_, delivery)

    assert not any(verifies(request) for request in built)


def test_missing_signature_has_no_header_and_stale_is_signed_for_its_old_timestamp(requests_: SlackRequests) -> None:
    missing = requests_.app_home_opened("U0ALICE", delivery=Delivery(signature="missing"))
    stale = requests_.app_home_opened("U0ALICE", delivery=Delivery(stale=True))

    assert "x-slack-signature" not in missing.headers
    old = int(stale.headers["x-slack-request-timestamp"])
    assert old <= NOW - 5 * 60
    assert SignatureVerifier(SECRET, clock=FixedClock(old)).is_valid_request(stale.body, stale.headers)


def test_retry_headers(requests_: SlackRequests) -> None:
    retried = requests_.event({"type": "app_home_opened", "user": "U0ALICE"}, delivery=Delivery(retry_num=2))
    fresh = requests_.event({"type": "app_home_opened", "user": "U0ALICE"})

    assert (retried.headers["x-slack-retry-num"], retried.headers["x-slack-retry-reason"]) == ("2", "http_timeout")
    assert "x-slack-retry-num" not in fresh.headers
    assert verifies(retried)


def test_slash_command_fields(requests_: SlackRequests) -> None:
    request = requests_.slash_command(
        "/cancel-order", "123 456", user_id="U0ALICE", channel_id="C0OPS", trigger_id="9.9.t", response_url="http://r"
    )

    fields = form(request)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert fields["command"] == "/cancel-order"
    assert fields["text"] == "123 456"
    assert (fields["user_id"], fields["channel_id"], fields["team_id"]) == ("U0ALICE", "C0OPS", "T0TEAM")
    assert (fields["trigger_id"], fields["response_url"]) == ("9.9.t", "http://r")
    assert fields["api_app_id"] == "A0APP"


def test_block_actions_from_message_shape(requests_: SlackRequests) -> None:
    choose = Action.static_select("request.reason", "OUT_OF_STOCK", block_id="reason", text="Out of stock")
    request = requests_.block_actions_from_message(
        [choose],
        user_id="U0BOB",
        channel_id="C0OPS",
        message=MESSAGE,
        state_values={"reason": {"request.reason": static_select_value("OUT_OF_STOCK", "Out of stock")}},
    )

    payload = interactive(request)
    assert payload["type"] == "block_actions"
    assert payload["container"] == {
        "type": "message",
        "message_ts": MESSAGE["ts"],
        "channel_id": "C0OPS",
        "is_ephemeral": False,
    }
    assert payload["channel"]["id"] == "C0OPS"
    assert payload["message"] == MESSAGE
    assert payload["user"]["id"] == "U0BOB"
    (action,) = payload["actions"]
    assert action["selected_option"]["value"] == "OUT_OF_STOCK"
    assert action["action_id"] == "request.reason"
    chosen = payload["state"]["values"]["reason"]["request.reason"]["selected_option"]["value"]
    assert chosen == "OUT_OF_STOCK"
    assert payload["response_url"].startswith("http://127.0.0.1")


def test_block_actions_from_ephemeral_and_view_shapes(requests_: SlackRequests) -> None:
    click = Action.button("request.approve", "order:123", block_id="decision")
    ephemeral = interactive(
        requests_.block_actions_from_ephemeral([click], user_id="U0BOB", channel_id="C0OPS", message_ts="1.000002")
    )
    from_view = interactive(requests_.block_actions_from_view([click], user_id="U0BOB", view=VIEW))

    assert ephemeral["container"]["is_ephemeral"] is True
    assert "message" not in ephemeral
    assert ephemeral["actions"][0]["value"] == "order:123"
    assert from_view["container"] == {"type": "view", "view_id": VIEW["id"]}
    assert from_view["view"]["private_metadata"] == "order:123"
    assert "channel" not in from_view
    assert "response_url" not in from_view


def test_view_submission_shape(requests_: SlackRequests) -> None:
    values = {"note": {"note.input": plain_text_input_value("customer asked")}}
    payload = interactive(requests_.view_submission(VIEW, user_id="U0ALICE", values=values, trigger_id="1.2.t"))

    assert payload["type"] == "view_submission"
    view = payload["view"]
    assert (view["id"], view["callback_id"], view["private_metadata"]) == (VIEW["id"], "cancel.reason", "order:123")
    assert view["state"]["values"]["note"]["note.input"]["value"] == "customer asked"
    assert payload["trigger_id"] == "1.2.t"


def test_event_callback_shape(requests_: SlackRequests) -> None:
    request = requests_.app_home_opened("U0ALICE", event_id="Ev123")

    body = json.loads(request.body)
    assert request.headers["content-type"] == "application/json"
    assert (body["type"], body["event_id"], body["team_id"], body["api_app_id"]) == (
        "event_callback",
        "Ev123",
        "T0TEAM",
        "A0APP",
    )
    assert body["event"]["type"] == "app_home_opened"
    assert body["event"]["user"] == "U0ALICE"
    assert body["event"]["tab"] == "home"
    assert body["authorizations"][0]["user_id"] == "U0BOT"


def test_secret_not_in_repr(requests_: SlackRequests) -> None:
    assert SECRET not in repr(requests_)
    assert SECRET not in str(vars(requests_))
