"""The whole bot in one process: the real app in HTTP mode, the Lazada sandbox and a fake Slack (tests, demo)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import SecretStr

from bot.buyer.models import BuyerRequest
from bot.http import create_http_app
from bot.lazada.client import RetryPolicy
from bot.services import Services, open_services
from bot.settings import Settings
from bot.slack.render import ids
from bot.store.models import CancelRequest
from cancel_order_bot.app import create_app
from cancel_order_bot.demo.fake_slack import FakeSlack, FakeWorkspace
from cancel_order_bot.demo.slack_payloads import Action, Delivery, SignedRequest, SlackRequests
from cancel_order_bot.sandbox import SandboxTransport, SandboxWorld
from cancel_order_bot.sandbox.target import sandbox_target

__all__ = ["Harness", "MovableClock", "running_bot"]

SIGNING_SECRET = "harness-signing-secret"  # noqa: S105 - a fake secret for the in-process Slack


class MovableClock:
    """A UTC clock that tests move forward by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        """The current time."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move time forward."""
        self._now += delta


@dataclass
class Harness:
    """A running bot with its two counterparts; helpers act as Slack would for a person."""

    services: Services
    slack: FakeSlack
    world: SandboxWorld
    payloads: SlackRequests
    http: httpx.AsyncClient
    clock: MovableClock
    channel: str = "C0OPS"

    async def send(self, signed: SignedRequest) -> httpx.Response:
        """POST a signed Slack request to /slack/events, as Slack does."""
        return await self.http.post("/slack/events", content=signed.body, headers=dict(signed.headers))

    async def settle(self, limit: float = 10.0) -> None:
        """Wait until the work the bot started after its acks has finished (at most `limit` seconds)."""
        loop_deadline = asyncio.get_running_loop().time() + limit
        current = asyncio.current_task()
        while True:
            pending = [t for t in asyncio.all_tasks() if t is not current and not t.done() and _is_bot_task(t)]
            remaining = loop_deadline - asyncio.get_running_loop().time()
            if not pending:
                # App Home tabs are refreshed in the background after the listener is done.
                if await self.services.home.idle(max(remaining, 0.0)):
                    return
                raise TimeoutError("App Home refreshes still running")
            if remaining <= 0:
                raise TimeoutError(f"{len(pending)} background task(s) still running")
            await asyncio.wait(pending, timeout=remaining)

    async def command(self, user: str, text: str, *, channel: str | None = None) -> httpx.Response:
        """Run `/cancel-order <text>` as `user` and wait for the bot to finish."""
        signed = self.payloads.slash_command(
            "/cancel-order",
            text,
            user_id=user,
            channel_id=channel or self.channel,
            trigger_id=self.slack.new_trigger_id(user),
            response_url=self.slack.new_response_url(channel=channel or self.channel, user=user),
        )
        response = await self.send(signed)
        await self.settle()
        return response

    def open_modal(self, user: str) -> dict[str, Any]:
        """The modal most recently opened for `user`, as Slack holds it now."""
        for call in reversed(self.slack.calls_to("views.open")):
            answer: dict[str, Any] = dict(call.response) if isinstance(call.response, dict) else {}
            view = answer.get("view")
            view_id = view.get("id") if isinstance(view, dict) else None
            if view_id:
                current = self.slack.view(view_id)
                if current is not None:
                    return current
        raise LookupError(f"no modal is open for {user}")

    async def submit(
        self,
        user: str,
        view: Mapping[str, Any],
        *,
        item_ids: Sequence[str] | None = None,
        reason_id: str | None = None,
        justification: str | None = "Customer asked us to; stock is gone.",
        package_choice: str | None = None,
        order_id: str | None = None,
    ) -> httpx.Response:
        """Submit the request modal with the given inputs and wait for the bot."""
        values: dict[str, dict[str, Any]] = {}
        if order_id is not None:
            values[ids.ORDER_ID_BLOCK] = {ids.MODAL_ORDER_ID: {"type": "plain_text_input", "value": order_id}}
        if item_ids is not None:
            values[ids.ITEMS_BLOCK] = {
                ids.MODAL_ITEMS: {"type": "checkboxes", "selected_options": [{"value": i} for i in item_ids]}
            }
        if reason_id is not None:
            values[ids.REASON_BLOCK] = {
                ids.MODAL_REASON: {"type": "static_select", "selected_option": {"value": reason_id}}
            }
        if package_choice is not None:
            values[ids.PACKAGE_CHOICE_BLOCK] = {
                ids.MODAL_PACKAGE_CHOICE: {"type": "radio_buttons", "selected_option": {"value": package_choice}}
            }
        if justification is not None:
            values[ids.JUSTIFICATION_BLOCK] = {
                ids.MODAL_JUSTIFICATION: {"type": "plain_text_input", "value": justification}
            }
        response = await self.send(self.payloads.view_submission(view, user_id=user, values=values))
        await self.settle()
        return response

    async def request_for(self, order_id: str) -> CancelRequest:
        """The newest stored request for an order."""
        for request in await self.services.requests.list_requests(limit=200):
            if any(o.order_id == order_id for o in request.orders):
                return request
        raise LookupError(f"no request for order {order_id}")

    async def click(
        self,
        user: str,
        action_id: str,
        request: CancelRequest,
        *,
        delivery: Delivery | None = None,
        wait: bool = True,
    ) -> httpx.Response:
        """Click a button on a request's approval message."""
        assert request.message_ts is not None, "the request was never posted"
        action = Action.button(action_id, ids.ButtonValue(request_id=request.id).pack(), block_id="actions")
        return await self._click_message(user, action, request.channel_id, request.message_ts, delivery, wait)

    async def buyer_request(self, order_id: int | str) -> BuyerRequest:
        """The stored buyer's cancellation request on an order (the newest, whatever its status)."""
        found = await self.services.buyer.store.select(order_id=str(order_id))
        if not found:
            raise LookupError(f"no buyer request stored for order {order_id}")
        newest = max(found, key=lambda r: r["first_seen_at"])
        return await self.services.buyer.get(f"{newest['store_code']}:{newest['reverse_order_id']}")

    async def click_buyer(
        self,
        user: str,
        action_id: str,
        request: BuyerRequest,
        *,
        delivery: Delivery | None = None,
        wait: bool = True,
    ) -> httpx.Response:
        """Click Accept (confirmed) or Refuse on a buyer request's card."""
        assert request.channel_id is not None, "the card was never posted"
        assert request.message_ts is not None, "the card was never posted"
        action = Action.button(action_id, request.key, block_id="buyer.actions")
        return await self._click_message(user, action, request.channel_id, request.message_ts, delivery, wait)

    async def _click_message(
        self, user: str, action: Action, channel: str, ts: str, delivery: Delivery | None, wait: bool
    ) -> httpx.Response:
        """Send `user`'s click of `action` on the message at `ts`, as Slack signs it; settle the bot's work."""
        message = self.slack.message(channel, ts) or {"ts": ts}
        signed = self.payloads.block_actions_from_message(
            [action],
            user_id=user,
            channel_id=channel,
            message=message,
            trigger_id=self.slack.new_trigger_id(user),
            response_url=self.slack.new_response_url(channel=channel, user=user, message_ts=ts),
            delivery=delivery or Delivery(),
        )
        response = await self.send(signed)
        if wait:
            await self.settle()
        return response

    async def refreshed(self, request: CancelRequest) -> CancelRequest:
        """The request as stored now."""
        current = await self.services.requests.get_request(request.id)
        assert current is not None
        return current

    def thread_texts(self, request: CancelRequest) -> list[str]:
        """The texts of the replies in a request's thread."""
        assert request.message_ts is not None
        return [str(m.get("text", "")) for m in self.slack.thread(request.channel_id, request.message_ts)]

    def message_json(self, request: CancelRequest) -> str:
        """The approval message as Slack holds it, as JSON text (for searching)."""
        assert request.message_ts is not None
        return json.dumps(self.slack.message(request.channel_id, request.message_ts), ensure_ascii=False)


def _is_bot_task(task: asyncio.Task[Any]) -> bool:
    """Tasks Bolt starts to run a listener after its ack (not the fake Slack's server tasks)."""
    return "run_ack_function_asynchronously" in (getattr(task.get_coro(), "__qualname__", "") or "")


@asynccontextmanager
async def running_bot(
    database_url: str,
    *,
    world: SandboxWorld | None = None,
    workspace: FakeWorkspace | None = None,
    approvers: Sequence[str] = ("S0APPROVERS",),
    clock: MovableClock | None = None,
    settings_overrides: Mapping[str, Any] | None = None,
    retry: RetryPolicy | None = None,
    slack: FakeSlack | None = None,
    lazada_rtt_ms: float = 0.0,
) -> AsyncIterator[Harness]:
    """Start the fake Slack, build the real services and app on the sandbox, and serve /slack/events in process.

    Pass the `slack` of another harness to run a second replica against the same Slack (and the same
    `database_url` and `world`). `lazada_rtt_ms` is the sandbox's round trip.
    """
    clock = clock or MovableClock()
    world = world or SandboxWorld(now=clock)
    async with AsyncExitStack() as stack:
        if slack is None:
            slack = await stack.enter_async_context(FakeSlack(workspace))
        settings = Settings(
            _env_file=None,
            slack_bot_token=SecretStr(slack.bot_token),
            slack_signing_secret=SecretStr(SIGNING_SECRET),
            slack_api_url=slack.api_url,
            database_url=database_url,
            **{
                # Explicit values win over the environment, so a developer's own settings don't leak in.
                "approvers": list(approvers),
                "lazada_calls_per_second": 1000,
                "stores_file": None,
                "store_code": "main",
                "approval_channel": None,
                "digest_channel": "C0DIGEST",
                "lazada_api_url": None,
                "lazada_country": "sg",
                **dict(settings_overrides or {}),
            },
        )
        # No slack_client: the services build production's own (from the settings above), retry handlers included.
        async with open_services(
            settings,
            lazada=sandbox_target(
                settings, world, database_url=database_url, transport=SandboxTransport(world, rtt_ms=lazada_rtt_ms)
            ),
            clock=clock,
            retry=retry or RetryPolicy.off(),
            migrate=True,
        ) as services:
            asgi = create_http_app(create_app(services), ping=services.db.ping, metrics=services.metrics)
            transport = httpx.ASGITransport(app=asgi)
            async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as http:
                harness = Harness(
                    services=services,
                    slack=slack,
                    world=world,
                    payloads=SlackRequests.for_workspace(SIGNING_SECRET, slack.workspace),
                    http=http,
                    clock=clock,
                )
                try:
                    yield harness
                finally:
                    await harness.settle()
