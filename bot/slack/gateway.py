"""Sending to Slack: one place that calls the Web API for the workflow, logs failures and says what happened."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slack.render.text import HEADER_LIMIT, MESSAGE_BLOCK_LIMIT, VIEW_BLOCK_LIMIT, sandbox_banner, truncate

__all__ = ["Delivery", "Outgoing", "SlackGateway"]

log = structlog.get_logger(__name__)

_BANNER = sandbox_banner()
_SANDBOX_HEADER = " · SANDBOX"
_SANDBOX_TEXT = "[SANDBOX]"


class Outgoing(Protocol):
    """A message to send: the notification text and the blocks (the renderers' Message)."""

    @property
    def text(self) -> str:
        """The notification fallback text."""

    @property
    def blocks(self) -> Sequence[Block]:
        """The Block Kit blocks."""


@dataclass(frozen=True)
class Delivery:
    """What Slack answered: `ok` with the message ts / view id, or the error code."""

    ok: bool
    ts: str | None = None
    channel: str | None = None
    view_id: str | None = None
    error: str | None = None


def _error_of(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return str(exc.response.get("error") or "unknown_error")
    return type(exc).__name__


class SlackGateway:
    """Thin wrapper over AsyncWebClient: never raises for Slack-side failures, returns a Delivery instead.

    The one place the sandbox is told apart: with `sandbox=True` every message and view it sends (and every view
    handed back in an ack through `mark_view`) is marked SANDBOX, whatever rendered it, so the renderers never
    need to know. A header gets " · SANDBOX", a banner follows it (when the block limit leaves room), and the
    notification text starts with "[SANDBOX]".
    """

    def __init__(self, client: AsyncWebClient, *, sandbox: bool = False) -> None:
        self.client = client
        self.sandbox = sandbox

    def _text(self, text: str) -> str:
        return f"{_SANDBOX_TEXT} {text}" if self.sandbox and not text.startswith(_SANDBOX_TEXT) else text

    def _marked(self, blocks: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
        if not self.sandbox or _BANNER in json.dumps(blocks, ensure_ascii=False):
            return blocks
        marked = list(blocks)
        at = 0
        if marked and marked[0].get("type") == "header":
            header = dict(marked[0])
            text = dict(header.get("text") or {})
            title = str(text.get("text") or "")
            if not title.endswith(_SANDBOX_HEADER):
                text["text"] = truncate(title, HEADER_LIMIT - len(_SANDBOX_HEADER)) + _SANDBOX_HEADER
            header["text"] = text
            marked[0] = header
            at = 1
        if len(marked) < limit:
            banner = ContextBlock(elements=[MarkdownTextObject(text=f"🧪 {_BANNER}")])
            marked.insert(at, banner.to_dict())
        return marked

    def mark_view(self, view: View) -> dict[str, Any]:
        """The view as Slack gets it from this process (marked on the sandbox), for `ack(view=...)` too."""
        data = view.to_dict()
        data["blocks"] = self._marked(list(data.get("blocks", [])), VIEW_BLOCK_LIMIT)
        return data

    async def _call(self, method: str, **kwargs: Any) -> tuple[dict[str, Any] | None, str | None]:
        try:
            response = await self.client.api_call(method, json=kwargs)
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            error = _error_of(exc)
            log.warning("slack_call_failed", method=method, error=error, channel=kwargs.get("channel"))
            return None, error
        return dict(response.data) if isinstance(response.data, dict) else {}, None

    def _blocks(self, blocks: Sequence[Block]) -> list[dict[str, Any]]:
        return self._marked([b.to_dict() for b in blocks], MESSAGE_BLOCK_LIMIT)

    async def post(
        self,
        channel: str,
        message: Outgoing,
        *,
        thread_ts: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Delivery:
        """Post a message (a thread reply when `thread_ts` is given, with Slack message `metadata` when given)."""
        args: dict[str, Any] = {
            "channel": channel,
            "text": self._text(message.text),
            "blocks": self._blocks(message.blocks),
        }
        if thread_ts:
            args["thread_ts"] = thread_ts
        if metadata is not None:
            args["metadata"] = dict(metadata)
        data, error = await self._call("chat.postMessage", **args)
        if data is None:
            return Delivery(ok=False, error=error)
        return Delivery(ok=True, ts=data.get("ts"), channel=data.get("channel") or channel)

    async def update(self, channel: str, ts: str, message: Outgoing) -> Delivery:
        """Replace a message the bot posted."""
        data, error = await self._call(
            "chat.update", channel=channel, ts=ts, text=self._text(message.text), blocks=self._blocks(message.blocks)
        )
        if data is None:
            return Delivery(ok=False, error=error)
        return Delivery(ok=True, ts=ts, channel=channel)

    async def ephemeral(self, channel: str, user: str, message: Outgoing) -> Delivery:
        """Show a message to one person in a channel; falls back to a direct message when that fails."""
        data, error = await self._call(
            "chat.postEphemeral",
            channel=channel,
            user=user,
            text=self._text(message.text),
            blocks=self._blocks(message.blocks),
        )
        if data is not None:
            return Delivery(ok=True, ts=data.get("message_ts"), channel=channel)
        log.info("ephemeral_fallback_to_dm", channel=channel, error=error)
        return await self.direct(user, message)

    async def respond(self, response_url: str, message: Outgoing) -> Delivery:
        """Answer an interaction privately through its response_url (works wherever the person clicked)."""
        try:
            response = await AsyncWebhookClient(response_url).send(
                text=self._text(message.text),
                blocks=self._blocks(message.blocks),
                response_type="ephemeral",
                replace_original=False,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("respond_failed", error=type(exc).__name__)
            return Delivery(ok=False, error=type(exc).__name__)
        if response.status_code != 200:
            log.warning("respond_failed", status=response.status_code)
            return Delivery(ok=False, error=f"http_{response.status_code}")
        return Delivery(ok=True)

    async def direct(self, user: str, message: Outgoing) -> Delivery:
        """Send a direct message to a person."""
        data, error = await self._call("conversations.open", users=user)
        if data is None:
            return Delivery(ok=False, error=error)
        channel = (data.get("channel") or {}).get("id")
        if not channel:
            return Delivery(ok=False, error="no_dm_channel")
        return await self.post(channel, message)

    async def open_view(self, trigger_id: str, view: View) -> Delivery:
        """Open a modal; `expired_trigger_id` comes back as an error when the 3-second window passed."""
        data, error = await self._call("views.open", trigger_id=trigger_id, view=self.mark_view(view))
        if data is None:
            return Delivery(ok=False, error=error)
        return Delivery(ok=True, view_id=(data.get("view") or {}).get("id"))

    async def update_view(self, view_id: str, view: View) -> Delivery:
        """Replace an open modal's content."""
        data, error = await self._call("views.update", view_id=view_id, view=self.mark_view(view))
        if data is None:
            return Delivery(ok=False, error=error)
        return Delivery(ok=True, view_id=view_id)

    async def publish_home(self, user: str, view: View) -> Delivery:
        """Publish a person's App Home tab."""
        data, error = await self._call("views.publish", user_id=user, view=self.mark_view(view))
        if data is None:
            return Delivery(ok=False, error=error)
        return Delivery(ok=True)
