"""Decoding the buyer-request payloads: Accept and Refuse wherever clicked, and the refusal form's submission."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.payloads import BuyerClick, BuyerRefusal, FormErrors, FormExpired, decode
from bot.slack.render import buyer_forms as forms
from bot.slack.render.ids import ModalMetadata

KEY = "main:400000000000001"
STORES = ("main",)


def _click(action_id: str, value: object, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U0BOB"},
        "trigger_id": "1.2.abc",
        "actions": [{"action_id": action_id, "block_id": "b", "value": value, "type": "button"}],
    }
    body.update(extra)
    return body


def test_a_click_on_the_card_carries_the_key_channel_and_message() -> None:
    body = _click(
        forms.BUYER_ACCEPT,
        KEY,
        container={"type": "message", "message_ts": "1.000100", "channel_id": "C0OPS"},
        channel={"id": "C0OPS"},
        response_url="https://hooks.slack.test/r",
    )
    decoded = decode(body, STORES)
    assert decoded["click"] is None
    assert decoded["buyer_click"] == BuyerClick(
        key=KEY,
        user_id="U0BOB",
        channel_id="C0OPS",
        message_ts="1.000100",
        trigger_id="1.2.abc",
        response_url="https://hooks.slack.test/r",
    )


def test_a_click_in_the_request_form_knows_its_modal_and_where_the_command_ran() -> None:
    form = ModalMetadata(store_code="main", order_id="100000000000006", channel_id="C0OPS", requester_id="U0BOB")
    view = {"id": "V1", "type": "modal", "private_metadata": form.pack()}
    decoded = decode(_click(forms.BUYER_ACCEPT, KEY, container={"type": "view", "view_id": "V1"}, view=view), STORES)
    click = decoded["buyer_click"]
    assert isinstance(click, BuyerClick)
    assert click.view_id == "V1"
    assert click.form == form
    assert click.channel_id is None


def test_a_click_on_app_home_has_no_modal_to_answer_in() -> None:
    view = {"id": "VHOME", "type": "home", "private_metadata": ""}
    decoded = decode(_click(forms.BUYER_REFUSE, KEY, container={"type": "view", "view_id": "VHOME"}, view=view), STORES)
    click = decoded["buyer_click"]
    assert isinstance(click, BuyerClick)
    assert click.view_id is None
    assert click.form is None


@pytest.mark.parametrize(
    "value", [None, "", "main", "main:", ":1", "main:1:2", "MAIN:1", "main:1 or 1=1", "garbage", "x" * 200]
)
def test_a_malformed_key_decodes_to_a_click_without_a_key(value: object) -> None:
    # Still a click someone made: it reaches the listener with no key, so the person is told (nothing else happens).
    click = decode(_click(forms.BUYER_ACCEPT, value), STORES)["buyer_click"]
    assert isinstance(click, BuyerClick)
    assert (click.key, click.user_id) == ("", "U0BOB")


def test_a_payload_slack_never_sends_decodes_to_nothing() -> None:
    # A button value is always a string in Slack's payload: anything else is not a click to answer.
    assert decode(_click(forms.BUYER_ACCEPT, 42), STORES)["buyer_click"] is None


def _submission(metadata: object, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "user": {"id": "U0CAROL"},
        "view": {
            "id": "V2",
            "callback_id": forms.BUYER_REFUSE_FORM,
            "private_metadata": metadata,
            "state": {"values": values},
        },
    }


def _reason(value: str | None) -> dict[str, Any]:
    option = {"value": value} if value is not None else None
    return {forms.BUYER_REASON_BLOCK: {forms.BUYER_REASON: {"type": "static_select", "selected_option": option}}}


def test_a_refusal_with_a_reason_decodes_to_the_refusal() -> None:
    decoded = decode(_submission(KEY, _reason("1000202")), STORES)
    assert decoded["submission"] == BuyerRefusal(key=KEY, user_id="U0CAROL", reason_code="1000202", view_id="V2")


@pytest.mark.parametrize("reason", [None, "", "10002 02", "<!here>"])
def test_a_refusal_without_a_usable_reason_is_asked_for_inline(reason: str | None) -> None:
    decoded = decode(_submission(KEY, _reason(reason)), STORES)
    assert decoded["submission"] == FormErrors({"reason": "Pick one of Lazada's reasons for refusing."})


@pytest.mark.parametrize("metadata", ["", "not a key", '{"k":"reject","request_id":"CR-1"}', None])
def test_a_refusal_form_with_foreign_metadata_is_expired(metadata: object) -> None:
    assert isinstance(decode(_submission(metadata, _reason("1000202")), STORES)["submission"], FormExpired)
