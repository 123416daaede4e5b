"""SIGKILL the bot at each point of an execution, as a real process on PostgreSQL, restart it, and check the end.

The bot (``crash_bot.py``) serves ``/slack/events`` on a socket this test holds, so a restart answers on the
same address. The Lazada sandbox and the fake Slack run in this process. A person asks for a cancellation through
the bot, another approves it, and the process dies at the named point. The restarted process is then driven by
its scheduler tick. Its clock is moved past the 5-minute lease through a control endpoint rather than shortening
the lease: the lease is the production value, and the late announcer's 1-minute delay is passed the same way.

What each point must end as:

- ``after_claim``: nothing was sent to Lazada; the reconciler runs the execution from the start: ``executed``.
- ``before_cancel``: the order was marked ``executing`` (the recovery point) but InitReverseOrderCancel never
  left. The bot cannot tell "never sent" from "sent, lost on the way", and Lazada offers no idempotency key, so
  it must not send it again: ``needs_attention``, for a person to check Seller Center; no cancel at all.
- ``after_cancel``: Lazada cancelled but the outcome was not stored; reading the items back shows them
  cancelled: ``executed``, with exactly one cancel.
- ``after_outcome``: ``executed`` was stored but Slack never heard; the late announcer shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from bot.slack.render import ids
from bot.store import Database, upgrade_to_head
from bot.store.models import CancelRequest, OrderStatus, RequestStatus
from bot.store.requests import RequestStore
from cancel_order_bot.demo.fake_slack import FakeSlack
from cancel_order_bot.demo.slack_payloads import Action, SlackRequests
from cancel_order_bot.sandbox import (
    REASON_OPTIONS,
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_APP_KEY,
    SANDBOX_APP_SECRET,
    SANDBOX_REFRESH_TOKEN,
    ItemSpec,
    SandboxServer,
    SandboxWorld,
)

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(90)]

REPO = Path(__file__).resolve().parents[2]
SECRET = "crash-test-signing-secret"
CREATE = "/order/reverse/cancel/create"
ALICE, BOB = "U0ALICE", "U0BOB"
CHANNEL = "C0OPS"
KETTLE, MUG = "Crash Test Kettle", "Crash Test Mug"
REASON_ID = REASON_OPTIONS["sg"][0].reason_id
WAIT = 20.0
"""Seconds allowed for anything one process does (start, crash, settle); a hang fails instead of blocking."""

T = TypeVar("T")


@dataclass(frozen=True)
class Point:
    """A crash point: the state the database holds when the process dies, and how the request must end."""

    name: str
    crashed_with: tuple[RequestStatus, OrderStatus]
    cancels_at_crash: int
    status: RequestStatus
    cancels: int
    kettle: str
    trail: tuple[str, ...]
    stamp: str
    reply: str


_BEFORE = ("requested", "message_posted", "approved", "executing")
POINTS = [
    Point(
        name="after_claim",
        crashed_with=(RequestStatus.EXECUTING, OrderStatus.PENDING),
        cancels_at_crash=0,
        status=RequestStatus.EXECUTED,
        cancels=1,
        kettle="canceled",
        trail=(*_BEFORE, "taken_over", "order_executing", "order_executed", "executed"),
        stamp="*Cancelled on Lazada*",
        reply="is done: 1 item cancelled on Lazada",
    ),
    Point(
        name="before_cancel",
        crashed_with=(RequestStatus.EXECUTING, OrderStatus.EXECUTING),
        cancels_at_crash=0,
        status=RequestStatus.NEEDS_ATTENTION,
        cancels=0,
        kettle="pending",
        trail=(*_BEFORE, "order_executing", "taken_over", "order_needs_attention", "needs_attention"),
        stamp="*Needs attention:*",
        reply="needs a person",
    ),
    Point(
        name="after_cancel",
        crashed_with=(RequestStatus.EXECUTING, OrderStatus.EXECUTING),
        cancels_at_crash=1,
        status=RequestStatus.EXECUTED,
        cancels=1,
        kettle="canceled",
        trail=(*_BEFORE, "order_executing", "taken_over", "order_executed", "executed"),
        stamp="*Cancelled on Lazada*",
        reply="is done: 1 item cancelled on Lazada",
    ),
    Point(
        name="after_outcome",
        crashed_with=(RequestStatus.EXECUTED, OrderStatus.EXECUTED),
        cancels_at_crash=1,
        status=RequestStatus.EXECUTED,
        cancels=1,
        kettle="canceled",
        trail=(*_BEFORE, "order_executing", "order_executed", "executed"),
        stamp="*Cancelled on Lazada*",
        reply="is done: 1 item cancelled on Lazada",
    ),
]


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = WAIT) -> T:  # noqa: ASYNC109
    """Poll `probe` until it returns something other than None."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await probe()
        if found is not None:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"waited {timeout}s for {what}")
        await asyncio.sleep(0.05)


@dataclass
class BotProcess:
    """One run of ``crash_bot.py``; its output (logs and the crash note) is kept for the assertions."""

    process: asyncio.subprocess.Process
    http: httpx.AsyncClient
    lines: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, listener: socket.socket, env: Mapping[str, str], http: httpx.AsyncClient) -> BotProcess:
        """Start the bot on `listener` and wait until it is ready (its database reachable)."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.reliability.crash_bot",
            env={**env, "CRASH_BOT_FD": str(listener.fileno())},
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            pass_fds=(listener.fileno(),),
        )
        bot = cls(process=process, http=http)
        bot.reader = asyncio.create_task(bot._read())

        async def ready() -> bool | None:
            if process.returncode is not None:
                raise AssertionError(f"the bot exited with {process.returncode}:\n{bot.output}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get("/readyz", timeout=1.0)).status_code == 200:
                    return True
            return None

        await eventually(ready, "the bot to be ready")
        return bot

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.lines.append(line.decode(errors="replace"))

    @property
    def output(self) -> str:
        """Everything the process wrote so far."""
        return "".join(self.lines)

    async def exited(self) -> int:
        """Wait for the process to end by itself; its return code."""
        code = await asyncio.wait_for(self.process.wait(), timeout=WAIT)
        if self.reader is not None:
            await self.reader
        return code

    async def stop(self) -> int:
        """SIGTERM the process (if still running) and wait for it."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await self.exited()

    async def control(self, path: str, body: Mapping[str, Any] | None = None) -> None:
        """POST to one of crash_bot's test controls; it must succeed."""
        response = await self.http.post(f"/_crash/{path}", json=dict(body or {}), timeout=WAIT)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}\n{self.output}"

    async def tick(self) -> None:
        """Run one scheduler tick of the workflow in the bot."""
        await self.control("tick")

    async def advance(self, delta: timedelta) -> None:
        """Move the bot's clock forward."""
        await self.control("clock", {"advance_seconds": delta.total_seconds()})


@dataclass
class Scene:
    """Everything around the bot: Lazada, Slack, the database, and the socket the bot serves on."""

    world: SandboxWorld
    slack: FakeSlack
    requests: RequestStore
    listener: socket.socket
    http: httpx.AsyncClient
    env: dict[str, str]
    payloads: SlackRequests

    async def send(self, body: str, headers: Mapping[str, str]) -> httpx.Response:
        """POST a signed Slack request to the bot, as Slack does."""
        return await self.http.post("/slack/events", content=body, headers=dict(headers))

    async def request_through_the_bot(self, order_id: int, item_id: int) -> CancelRequest:
        """Alice runs the command and submits the modal; return the request once it is posted for approval."""
        command = self.payloads.slash_command(
            "/cancel-order",
            str(order_id),
            user_id=ALICE,
            channel_id=CHANNEL,
            trigger_id=self.slack.new_trigger_id(ALICE),
            response_url=self.slack.new_response_url(channel=CHANNEL, user=ALICE),
        )
        assert (await self.send(command.body, command.headers)).status_code == 200
        filled = await self.slack.wait_for("views.update", lambda call: KETTLE in str(call.params), timeout=WAIT)
        view = self.slack.view(str(filled.params["view_id"]))
        assert view is not None
        values: dict[str, dict[str, Any]] = {
            ids.ITEMS_BLOCK: {ids.MODAL_ITEMS: {"type": "checkboxes", "selected_options": [{"value": str(item_id)}]}},
            ids.REASON_BLOCK: {ids.MODAL_REASON: {"type": "static_select", "selected_option": {"value": REASON_ID}}},
            ids.JUSTIFICATION_BLOCK: {
                ids.MODAL_JUSTIFICATION: {"type": "plain_text_input", "value": "The kettle is out of stock."}
            },
        }
        submission = self.payloads.view_submission(view, user_id=ALICE, values=values)
        assert (await self.send(submission.body, submission.headers)).status_code == 200

        async def posted() -> CancelRequest | None:
            found = await self.requests.list_requests(requester_id=ALICE)
            return found[0] if found and found[0].message_ts else None

        return await eventually(posted, "the request to be posted for approval")

    async def approve(self, request: CancelRequest) -> None:
        """Bob clicks the Approve button of the approval message as Slack shows it."""
        assert request.message_ts is not None
        message = self.slack.message(request.channel_id, request.message_ts)
        assert message is not None
        block_id, value = next(
            (block["block_id"], element["value"])
            for block in message["blocks"]
            if block["type"] == "actions"
            for element in block["elements"]
            if element.get("action_id") == ids.REQUEST_APPROVE
        )
        click = self.payloads.block_actions_from_message(
            [Action.button(ids.REQUEST_APPROVE, value, block_id=block_id)],
            user_id=BOB,
            channel_id=request.channel_id,
            message=message,
            trigger_id=self.slack.new_trigger_id(BOB),
            response_url=self.slack.new_response_url(
                channel=request.channel_id, user=BOB, message_ts=request.message_ts
            ),
        )
        assert (await self.send(click.body, click.headers)).status_code == 200

    async def current(self, request: CancelRequest) -> CancelRequest:
        """The request as stored now."""
        found = await self.requests.get_request(request.id)
        assert found is not None
        return found

    def message(self, request: CancelRequest) -> dict[str, Any]:
        """The approval message as Slack shows it now."""
        assert request.message_ts is not None
        message = self.slack.message(request.channel_id, request.message_ts)
        assert message is not None
        return message

    def replies(self, request: CancelRequest) -> list[str]:
        """The replies under the approval message (text and blocks), as JSON text."""
        assert request.message_ts is not None
        thread = self.slack.thread(request.channel_id, request.message_ts)
        return [json.dumps(reply, ensure_ascii=False) for reply in thread]


@pytest.fixture
async def scene(postgres_url: str) -> AsyncIterator[Scene]:
    """A migrated PostgreSQL schema, the served sandbox, the fake Slack and a listening socket for the bot."""
    await upgrade_to_head(postgres_url)
    world = SandboxWorld(country="sg")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        port = listener.getsockname()[1]
        async with (
            SandboxServer(world, port=0) as sandbox,
            FakeSlack() as slack,
            Database.from_url(postgres_url) as db,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=WAIT) as http,
        ):
            env = {
                "PATH": os.environ.get("PATH", ""),
                "SLACK_API_URL": slack.api_url,
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_SIGNING_SECRET": SECRET,
                "DATABASE_URL": postgres_url,
                "LAZADA_API_URL": sandbox.base_url,
                "LAZADA_AUTH_URL": sandbox.base_url,
                "LAZADA_COUNTRY": "sg",
                "LAZADA_APP_KEY": SANDBOX_APP_KEY,
                "LAZADA_APP_SECRET": SANDBOX_APP_SECRET,
                "LAZADA_ACCESS_TOKEN": SANDBOX_ACCESS_TOKEN,
                "LAZADA_REFRESH_TOKEN": SANDBOX_REFRESH_TOKEN,
                "APPROVERS": "S0APPROVERS",
                "STORE_CODE": "main",
                "LOG_FORMAT": "console",
            }
            yield Scene(
                world=world,
                slack=slack,
                requests=RequestStore(db),
                listener=listener,
                http=http,
                env=env,
                payloads=SlackRequests.for_workspace(SECRET, slack.workspace),
            )


async def settle(bot: BotProcess, scene: Scene, request: CancelRequest) -> CancelRequest:
    """Tick until the request is settled and Slack shows it (a few ticks at most)."""
    for _ in range(5):
        await bot.tick()
        current = await scene.current(request)
        if current.status is not RequestStatus.EXECUTING and current.announced_status == current.status.value:
            return current
    raise AssertionError(f"not settled after 5 ticks: {current.status} shown as {current.announced_status}")


@pytest.mark.parametrize("point", POINTS, ids=[p.name for p in POINTS])
async def test_crash_at_each_point_loses_nothing_and_does_nothing_twice(scene: Scene, point: Point) -> None:
    world = scene.world
    order = world.add_order([ItemSpec(name=KETTLE, sku="KETTLE-1"), ItemSpec(name=MUG, sku="MUG-1")])
    kettle, mug = order.items

    crashing = await BotProcess.start(scene.listener, {**scene.env, "CRASH_AT": point.name}, scene.http)
    try:
        request = await scene.request_through_the_bot(order.order_id, kettle.order_item_id)
        assert request.status is RequestStatus.PENDING
        await scene.approve(request)
        code = await crashing.exited()
    finally:
        await crashing.stop()
    assert code == -signal.SIGKILL, crashing.output
    assert f"SIGKILL at {point.name}" in crashing.output

    # The process died exactly where it was told: the database holds that point's recovery state.
    crashed = await scene.current(request)
    assert (crashed.status, crashed.orders[0].status) == point.crashed_with
    assert crashed.announced_status is None
    assert world.call_count(CREATE) == point.cancels_at_crash
    assert "cancelling…" in json.dumps(scene.message(crashed), ensure_ascii=False)
    assert scene.replies(crashed) == []

    restarted = await BotProcess.start(scene.listener, scene.env, scene.http)
    try:
        # Right after the restart the lease is still held (and the outcome too fresh to announce): hands off.
        await restarted.tick()
        assert await scene.current(request) == crashed
        assert scene.replies(crashed) == []

        await restarted.advance(timedelta(minutes=6))
        settled = await settle(restarted, scene, request)
        trail = await scene.requests.audit_trail(request.id)
        replies = scene.replies(settled)

        # Later ticks, much later too, change nothing: no second cancel, no second reply.
        await restarted.tick()
        await restarted.advance(timedelta(hours=1))
        await restarted.tick()
        assert await scene.current(request) == settled
        assert await scene.requests.audit_trail(request.id) == trail
        assert scene.replies(settled) == replies
    finally:
        code = await restarted.stop()
    # uvicorn re-raises the SIGTERM it handled once it has shut down cleanly.
    assert code in {0, -signal.SIGTERM}, restarted.output
    assert "Application shutdown complete" in restarted.output

    assert settled.status is point.status
    assert world.call_count(CREATE) == point.cancels
    assert world.item(kettle.order_item_id).status == point.kettle
    assert world.item(mug.order_item_id).status == "pending", "an item not asked for is never touched"

    assert tuple(entry.action for entry in trail) == point.trail
    assert [entry.occurred_at for entry in trail] == sorted(entry.occurred_at for entry in trail)
    assert trail[-1].to_status == point.status.value

    message = scene.message(settled)
    shown = json.dumps(message, ensure_ascii=False)
    assert not [block for block in message["blocks"] if block["type"] == "actions"], "no buttons left"
    assert point.stamp in shown
    assert "cancelling…" not in shown
    assert len(replies) == 1, replies
    assert point.reply in replies[0]

    for output in (crashing.output, restarted.output):
        assert "Traceback" not in output
        assert SECRET not in output
        assert scene.slack.bot_token not in output
