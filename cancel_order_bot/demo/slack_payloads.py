"""Signed Slack requests (slash commands, block actions, view submissions, events) to dispatch to the app.

Each builder returns a :class:`SignedRequest` ``(body, headers)`` whose ``x-slack-signature`` is computed by
``slack_sdk.signature.SignatureVerifier`` over the exact body, so it can go straight into
``app.async_dispatch(request.bolt_request())`` or an HTTP POST to ``/slack/events``. :class:`Delivery` spoils the
signature or the timestamp, or adds Slack's retry headers, on purpose.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, TypedDict, Unpack

from pydantic import SecretStr
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from cancel_order_bot.demo.fake_slack.workspace import FakeWorkspace

__all__ = [
    "STALE_AFTER_SECONDS",
    "UNSET_RESPONSE_URL",
    "Action",
    "ChannelClick",
    "Delivery",
    "SignatureMode",
    "SignedRequest",
    "SlackRequests",
    "plain_text_input_value",
    "static_select_value",
]

Json = dict[str, Any]
SignatureMode = Literal["valid", "wrong", "missing"]

#: Slack rejects timestamps more than 5 minutes off; a stale request is dated this far back.
STALE_AFTER_SECONDS = 10 * 60
#: Where ``response_url`` points when the caller gives none: loopback, nothing listens, nothing leaves the host.
UNSET_RESPONSE_URL = "http://127.0.0.1:9/response/unset"

_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"


class SignedRequest(NamedTuple):
    """A raw request body and its headers (lower-case names), as Slack would send them."""

    body: str
    headers: dict[str, str]

    def bolt_request(self) -> AsyncBoltRequest:
        """Return the request as Bolt's ``AsyncBoltRequest``, ready for ``app.async_dispatch``."""
        headers: dict[str, str | Sequence[str]] = {name: [value] for name, value in self.headers.items()}
        return AsyncBoltRequest(body=self.body, headers=headers)


@dataclass(frozen=True)
class Delivery:
    """How a request arrives: its signature (valid, wrong, missing), a stale timestamp, Slack retry headers."""

    signature: SignatureMode = "valid"
    stale: bool = False
    retry_num: int | None = None
    retry_reason: str = "http_timeout"


_DEFAULT_DELIVERY = Delivery()


class ChannelClick(TypedDict, total=False):
    """The optional parts of a click in a channel: names, input state, trigger, response URL and how it arrives."""

    channel_name: str | None
    user_name: str | None
    state_values: Mapping[str, Mapping[str, Any]] | None
    trigger_id: str | None
    response_url: str | None
    delivery: Delivery


def _plain_text(text: str) -> Json:
    return {"type": "plain_text", "text": text, "emoji": True}


def static_select_value(value: str, text: str | None = None) -> Json:
    """Return a ``state.values`` entry for a static select with ``value`` chosen."""
    return {"type": "static_select", "selected_option": {"text": _plain_text(text or value), "value": value}}


def plain_text_input_value(value: str | None) -> Json:
    """Return a ``state.values`` entry for a plain-text input holding ``value``."""
    return {"type": "plain_text_input", "value": value}


@dataclass(frozen=True)
class Action:
    """One element of a block_actions payload's ``actions``."""

    action_id: str
    block_id: str
    value: str | None = None
    type: str = "button"
    text: str | None = None
    selected_option: tuple[str, str] | None = None
    selected_options: tuple[tuple[str, str], ...] | None = None

    @classmethod
    def checkboxes(cls, action_id: str, values: Sequence[str], *, block_id: str) -> Action:
        """Return a change of a checkbox group (or multi-select): the options now selected."""
        return cls(
            action_id=action_id,
            block_id=block_id,
            type="checkboxes",
            selected_options=tuple((value, value) for value in values),
        )

    @classmethod
    def button(cls, action_id: str, value: str, *, block_id: str, text: str | None = None) -> Action:
        """Return a button click."""
        return cls(action_id=action_id, block_id=block_id, value=value, type="button", text=text or action_id)

    @classmethod
    def static_select(cls, action_id: str, value: str, *, block_id: str, text: str | None = None) -> Action:
        """Return a static-select choice of option ``value`` (shown as ``text``)."""
        return cls(action_id=action_id, block_id=block_id, type="static_select", selected_option=(value, text or value))

    def to_payload(self, action_ts: str) -> Json:
        """Return the action as Slack sends it."""
        payload: Json = {"type": self.type, "action_id": self.action_id, "block_id": self.block_id}
        if self.value is not None:
            payload["value"] = self.value
        if self.text is not None:
            payload["text"] = _plain_text(self.text)
        if self.selected_option is not None:
            value, text = self.selected_option
            payload["selected_option"] = {"text": _plain_text(text), "value": value}
        if self.selected_options is not None:
            payload["selected_options"] = [
                {"text": _plain_text(text), "value": value} for value, text in self.selected_options
            ]
        payload["action_ts"] = action_ts
        return payload


class SlackRequests:
    """Builds signed Slack requests for one app installation (team, app id, signing secret, clock)."""

    def __init__(
        self,
        signing_secret: str | SecretStr,
        team_id: str = "T0TEAM",
        api_app_id: str = "A0APP",
        clock: Callable[[], float] = time.time,
        *,
        team_domain: str = "fake-seller-ops",
        bot_user_id: str = "U0BOT",
    ) -> None:
        """Sign with ``signing_secret``; date requests by ``clock`` (epoch seconds)."""
        self._secret = signing_secret if isinstance(signing_secret, SecretStr) else SecretStr(signing_secret)
        self.team_id = team_id
        self.api_app_id = api_app_id
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self._clock = clock
        self._counter = itertools.count(1)

    @classmethod
    def for_workspace(
        cls, signing_secret: str | SecretStr, workspace: FakeWorkspace, clock: Callable[[], float] = time.time
    ) -> SlackRequests:
        """Return a builder whose team, app and bot match a FakeSlack workspace."""
        return cls(
            signing_secret,
            workspace.team_id,
            workspace.app_id,
            clock,
            team_domain=workspace.domain,
            bot_user_id=workspace.bot_user_id,
        )

    def __repr__(self) -> str:
        """Show the installation, never the secret."""
        return f"SlackRequests(team_id={self.team_id!r}, api_app_id={self.api_app_id!r})"

    # ----- signing ------------------------------------------------------------------------------------------

    def sign(self, body: str, content_type: str, delivery: Delivery = _DEFAULT_DELIVERY) -> SignedRequest:
        """Return ``body`` with Slack's headers, signed (or spoiled) as ``delivery`` says."""
        now = int(self._clock())
        timestamp = str(now - STALE_AFTER_SECONDS if delivery.stale else now)
        headers = {"content-type": content_type, "x-slack-request-timestamp": timestamp}
        if delivery.signature != "missing":
            signature = SignatureVerifier(self._secret.get_secret_value()).generate_signature(
                timestamp=timestamp, body=body
            )
            if signature is None:
                raise ValueError("slack_sdk produced no signature")
            if delivery.signature == "wrong":
                signature = signature[:-1] + ("0" if signature[-1] != "0" else "1")
            headers["x-slack-signature"] = signature
        if delivery.retry_num is not None:
            headers["x-slack-retry-num"] = str(delivery.retry_num)
            headers["x-slack-retry-reason"] = delivery.retry_reason
        return SignedRequest(body=body, headers=headers)

    def _interactive(self, payload: Json, delivery: Delivery) -> SignedRequest:
        return self.sign(urllib.parse.urlencode({"payload": json.dumps(payload)}), _FORM, delivery)

    # ----- pieces -------------------------------------------------------------------------------------------

    def new_trigger_id(self) -> str:
        """Return a trigger id in Slack's format that no FakeSlack issued (views.open gets invalid_trigger_id)."""
        return f"{next(self._counter)}.{int(self._clock())}.{secrets.token_hex(16)}"

    def _action_ts(self) -> str:
        return f"{self._clock():.6f}"

    def _user(self, user_id: str, user_name: str | None) -> Json:
        name = user_name or user_id.lower()
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _team(self) -> Json:
        return {"id": self.team_id, "domain": self.team_domain}

    def _interaction_base(self, kind: str, user_id: str, user_name: str | None, trigger_id: str | None) -> Json:
        return {
            "type": kind,
            "user": self._user(user_id, user_name),
            "api_app_id": self.api_app_id,
            "token": "fake-verification-token",
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "trigger_id": trigger_id or self.new_trigger_id(),
        }

    # ----- builders -----------------------------------------------------------------------------------------

    def slash_command(
        self,
        command: str,
        text: str = "",
        *,
        user_id: str,
        channel_id: str,
        channel_name: str | None = None,
        user_name: str | None = None,
        trigger_id: str | None = None,
        response_url: str | None = None,
        delivery: Delivery = _DEFAULT_DELIVERY,
    ) -> SignedRequest:
        """Return a signed, form-encoded slash command invocation."""
        form = {
            "token": "fake-verification-token",
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name or channel_id.lower(),
            "user_id": user_id,
            "user_name": user_name or user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url or UNSET_RESPONSE_URL,
            "trigger_id": trigger_id or self.new_trigger_id(),
        }
        return self.sign(urllib.parse.urlencode(form), _FORM, delivery)

    def block_actions_from_message(
        self,
        actions: Sequence[Action],
        *,
        user_id: str,
        channel_id: str,
        message: Mapping[str, Any],
        **click: Unpack[ChannelClick],
    ) -> SignedRequest:
        """Return a signed block_actions from a channel message (``message`` as Slack stores it, with ``ts``)."""
        return self._channel_block_actions(actions, user_id, channel_id, str(message["ts"]), message, click)

    def block_actions_from_ephemeral(
        self,
        actions: Sequence[Action],
        *,
        user_id: str,
        channel_id: str,
        message_ts: str,
        **click: Unpack[ChannelClick],
    ) -> SignedRequest:
        """Return a signed block_actions from an ephemeral message: ``is_ephemeral`` and no ``message`` object."""
        return self._channel_block_actions(actions, user_id, channel_id, message_ts, None, click)

    def _channel_block_actions(
        self,
        actions: Sequence[Action],
        user_id: str,
        channel_id: str,
        message_ts: str,
        message: Mapping[str, Any] | None,
        click: ChannelClick,
    ) -> SignedRequest:
        action_ts = self._action_ts()
        payload = self._interaction_base("block_actions", user_id, click.get("user_name"), click.get("trigger_id"))
        container = {"type": "message", "message_ts": message_ts, "channel_id": channel_id}
        payload.update(
            container={**container, "is_ephemeral": message is None},
            channel={"id": channel_id, "name": click.get("channel_name") or channel_id.lower()},
            **({} if message is None else {"message": dict(message)}),
            state={"values": _values(click.get("state_values"))},
            response_url=click.get("response_url") or UNSET_RESPONSE_URL,
            actions=[a.to_payload(action_ts) for a in actions],
        )
        return self._interactive(payload, click.get("delivery", _DEFAULT_DELIVERY))

    def block_actions_from_view(
        self,
        actions: Sequence[Action],
        *,
        user_id: str,
        view: Mapping[str, Any],
        user_name: str | None = None,
        state_values: Mapping[str, Mapping[str, Any]] | None = None,
        trigger_id: str | None = None,
        delivery: Delivery = _DEFAULT_DELIVERY,
    ) -> SignedRequest:
        """Return a signed block_actions from a modal or the App Home: a ``view``, no channel or response_url."""
        action_ts = self._action_ts()
        payload = self._interaction_base("block_actions", user_id, user_name, trigger_id)
        payload.update(
            container={"type": "view", "view_id": view.get("id", "")},
            view=self._view(view, state_values),
            actions=[a.to_payload(action_ts) for a in actions],
        )
        return self._interactive(payload, delivery)

    def view_submission(
        self,
        view: Mapping[str, Any],
        *,
        user_id: str,
        values: Mapping[str, Mapping[str, Any]] | None = None,
        user_name: str | None = None,
        trigger_id: str | None = None,
        delivery: Delivery = _DEFAULT_DELIVERY,
    ) -> SignedRequest:
        """Return a signed view_submission of ``view`` (e.g. ``FakeSlack.view(id)``) with ``state.values``.

        ``view`` needs at least ``id`` and ``callback_id``; ``private_metadata``, ``hash`` and the rest are kept.
        """
        payload = self._interaction_base("view_submission", user_id, user_name, trigger_id)
        payload.update(view=self._view(view, values), response_urls=[])
        return self._interactive(payload, delivery)

    def _view(self, view: Mapping[str, Any], values: Mapping[str, Mapping[str, Any]] | None) -> Json:
        full: Json = {
            "type": "modal",
            "team_id": self.team_id,
            "blocks": [],
            "private_metadata": "",
            "callback_id": "",
            "hash": f"{int(self._clock())}.fakehash",
            "app_id": self.api_app_id,
            "bot_id": "",
            "external_id": "",
            "state": {"values": {}},
        }
        full.update(view)
        if values is not None:
            full["state"] = {"values": _values(values)}
        full.setdefault("root_view_id", full.get("id"))
        return full

    def event(
        self,
        event: Mapping[str, Any],
        *,
        event_id: str | None = None,
        event_time: int | None = None,
        delivery: Delivery = _DEFAULT_DELIVERY,
    ) -> SignedRequest:
        """Return a signed Events API ``event_callback`` (JSON) wrapping ``event``."""
        payload = {
            "token": "fake-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._counter):010d}",
            "event_time": event_time if event_time is not None else int(self._clock()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        return self.sign(json.dumps(payload), _JSON, delivery)

    def app_home_opened(
        self,
        user_id: str,
        *,
        tab: Literal["home", "messages"] = "home",
        channel: str | None = None,
        view: Mapping[str, Any] | None = None,
        event_id: str | None = None,
        delivery: Delivery = _DEFAULT_DELIVERY,
    ) -> SignedRequest:
        """Return a signed ``app_home_opened`` event for ``user_id`` (``view`` is present once Home was published)."""
        event: Json = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": channel or f"D{user_id.removeprefix('U').removeprefix('W')}",
            "tab": tab,
            "event_ts": self._action_ts(),
        }
        if view is not None:
            event["view"] = dict(view)
        return self.event(event, event_id=event_id, delivery=delivery)


def _values(values: Mapping[str, Mapping[str, Any]] | None) -> Json:
    return {block_id: dict(actions) for block_id, actions in (values or {}).items()}
