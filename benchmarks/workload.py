"""People using the bot, played against bots served over HTTP: commands, requests, approvals, rejects, App Home.

The fake Slack and the sandbox live in the driver's process (their load is light here); the bots are child
processes reached over loopback. Every request sent is timed to its HTTP answer and counted.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks.stack import payloads
from bot.slack.render import ids
from cancel_order_bot.demo.fake_slack import FakeSlack
from cancel_order_bot.demo.fake_slack.server import Call
from cancel_order_bot.demo.slack_payloads import Action, SignedRequest, SlackRequests
from cancel_order_bot.sandbox import CANCELLABLE_STATUSES, SandboxWorld

__all__ = ["PostedRequest", "SlackDriver"]

REQUESTER = "U0ALICE"
APPROVER = "U0BOB"
SECOND_APPROVER = "U0CAROL"
CHANNEL = "C0OPS"
WAIT = 30.0


@dataclass(frozen=True)
class PostedRequest:
    """A request the bot posted for approval."""

    request_id: str
    order_id: str
    channel: str
    ts: str


@dataclass
class SlackDriver:
    """Sends what Slack would send for people's clicks to the bots (round robin), and waits for the effects."""

    slack: FakeSlack
    world: SandboxWorld
    bots: Sequence[str]
    http: httpx.AsyncClient
    requests: SlackRequests = field(default_factory=payloads)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def sent(self) -> int:
        """How many requests were sent."""
        return len(self.latencies) + len(self.errors)

    async def post(self, signed: SignedRequest, *, bot: int | None = None) -> httpx.Response | None:
        """Send one signed request to a bot (the next in turn unless given); None when it failed."""
        index = bot if bot is not None else next(self._turn) % len(self.bots)
        started = time.perf_counter()
        try:
            response = await self.http.post(
                f"{self.bots[index]}/slack/events", content=signed.body, headers=dict(signed.headers)
            )
        except httpx.HTTPError as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
            return None
        if response.status_code != 200:
            self.errors.append(f"HTTP {response.status_code}: {response.text[:200]}")
            return None
        self.latencies.append(time.perf_counter() - started)
        return response

    async def _wait(self, method: str, since: int, test: Any) -> Call:
        return await self.slack.wait_for(method, test, timeout=WAIT, since=since)

    async def open_request_modal(self, order_id: str, user: str = REQUESTER) -> dict[str, Any] | None:
        """`/cancel-order <order>`: the modal once the bot has filled it with the reasons."""
        trigger = self.slack.new_trigger_id(user)
        since = len(self.slack.calls)
        signed = self.requests.slash_command(
            "/cancel-order",
            order_id,
            user_id=user,
            channel_id=CHANNEL,
            trigger_id=trigger,
            response_url=self.slack.new_response_url(channel=CHANNEL, user=user),
        )
        if await self.post(signed) is None:
            return None
        opened = await self._wait("views.open", since, lambda c: c.params.get("trigger_id") == trigger)
        view_id = opened.body["view"]["id"]
        await self._wait("views.update", since, lambda c: c.params.get("view_id") == view_id)
        return self.slack.view(view_id)

    async def submit_request(self, view: dict[str, Any], order_id: str, user: str = REQUESTER) -> PostedRequest | None:
        """Submit the modal with every cancellable item and the first reason; the posted approval message."""
        items = [
            str(i.order_item_id) for i in self.world.order_items(int(order_id)) if i.status in CANCELLABLE_STATUSES
        ]
        reason = self.world.reason_options()[0].reason_id
        values: dict[str, dict[str, Any]] = {
            ids.ITEMS_BLOCK: {
                ids.MODAL_ITEMS: {"type": "checkboxes", "selected_options": [{"value": i} for i in items]}
            },
            ids.REASON_BLOCK: {ids.MODAL_REASON: {"type": "static_select", "selected_option": {"value": reason}}},
            ids.JUSTIFICATION_BLOCK: {
                ids.MODAL_JUSTIFICATION: {"type": "plain_text_input", "value": "Out of stock at the warehouse."}
            },
        }
        since = len(self.slack.calls)
        if await self.post(self.requests.view_submission(view, user_id=user, values=values)) is None:
            return None
        posted = await self._wait(
            "chat.postMessage", since, lambda c: order_id in json.dumps(c.params) and _request_id(c) is not None
        )
        request_id = _request_id(posted)
        assert request_id is not None
        return PostedRequest(
            request_id=request_id, order_id=order_id, channel=posted.body["channel"], ts=posted.body["ts"]
        )

    def _click(self, action_id: str, request: PostedRequest, user: str) -> SignedRequest:
        message = self.slack.message(request.channel, request.ts) or {"ts": request.ts}
        action = Action.button(action_id, ids.ButtonValue(request_id=request.request_id).pack(), block_id="actions")
        return self.requests.block_actions_from_message(
            [action],
            user_id=user,
            channel_id=request.channel,
            message=message,
            trigger_id=self.slack.new_trigger_id(user),
            response_url=self.slack.new_response_url(channel=request.channel, user=user, message_ts=request.ts),
        )

    async def approve(self, request: PostedRequest, *, double: bool = False) -> None:
        """Click Approve; with ``double``, a second approver clicks at the same moment on another replica."""
        clicks = [self.post(self._click(ids.REQUEST_APPROVE, request, APPROVER), bot=0)]
        if double:
            clicks.append(self.post(self._click(ids.REQUEST_APPROVE, request, SECOND_APPROVER), bot=len(self.bots) - 1))
        await asyncio.gather(*clicks)

    async def reject(self, request: PostedRequest, user: str = SECOND_APPROVER) -> None:
        """Click Reject and give a reason in the modal that opens."""
        since = len(self.slack.calls)
        signed = self._click(ids.REQUEST_REJECT, request, user)
        trigger = json.loads(_payload(signed))["trigger_id"]
        if await self.post(signed) is None:
            return
        opened = await self._wait("views.open", since, lambda c: c.params.get("trigger_id") == trigger)
        view = opened.body["view"]
        values = {ids.REJECT_REASON_BLOCK: {ids.REJECT_REASON: {"type": "plain_text_input", "value": "Found stock"}}}
        await self.post(self.requests.view_submission(view, user_id=user, values=values))

    async def open_home(self, user: str) -> None:
        """Open the App Home tab."""
        await self.post(self.requests.app_home_opened(user))


def _payload(signed: SignedRequest) -> str:
    from urllib.parse import parse_qs

    return parse_qs(signed.body)["payload"][0]


def _request_id(call: Call) -> str | None:
    """The request id in the Approve button of a posted approval message."""
    blocks = call.params.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    for block in blocks or []:
        for element in block.get("elements", []) if isinstance(block, dict) else []:
            if isinstance(element, dict) and element.get("action_id") == ids.REQUEST_APPROVE:
                try:
                    return ids.ButtonValue.unpack(element.get("value")).request_id
                except ValueError:
                    return None
    return None
