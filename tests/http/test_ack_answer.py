"""/slack/events answers as soon as a listener acks, with the ack's own body, while the work after it goes on."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlencode

import httpx
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.http import create_http_app
from cancel_order_bot.demo.fake_slack import FakeSlack
from tests.http.conftest import SECRET, signed_headers

ERRORS = {"justification": "Say why, in at least ten characters."}


async def _ping() -> None:
    return None


def _app(slack: FakeSlack, done: list[str], work_seconds: float, finished: asyncio.Event | None = None) -> AsyncApp:
    finished = finished or asyncio.Event()
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    app = AsyncApp(client=client, signing_secret=SECRET, process_before_response=False)

    async def on_submit(ack: AsyncAck) -> None:
        await ack(response_action="errors", errors=ERRORS)
        await asyncio.sleep(work_seconds)
        done.append("submit")
        finished.set()

    async def on_command(ack: AsyncAck) -> None:
        await asyncio.sleep(0.05)  # a listener that works before it acks is answered when it acks
        await ack(text="on it")
        done.append("command")

    async def on_failing_submit(ack: AsyncAck) -> None:
        await ack(response_action="errors", errors=ERRORS)
        raise RuntimeError("the work after the ack failed")

    app.view("request_form")(on_submit)
    app.view("failing_form")(on_failing_submit)
    app.command("/cancel-order")(on_command)
    return app


def _signed_form(fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    body = urlencode(fields).encode()
    return body, {**signed_headers(body), "content-type": "application/x-www-form-urlencoded"}


async def test_a_view_submission_gets_its_errors_at_ack_time_not_after_the_work() -> None:
    done: list[str] = []
    finished = asyncio.Event()
    payload = {
        "type": "view_submission",
        "user": {"id": "U1"},
        "view": {"type": "modal", "callback_id": "request_form"},
    }
    body, headers = _signed_form({"payload": json.dumps(payload)})
    async with FakeSlack() as slack:
        asgi = create_http_app(_app(slack, done, work_seconds=1.0, finished=finished), ping=_ping)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://bot") as client:
            started = time.perf_counter()
            response = await client.post("/slack/events", content=body, headers=headers)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200
            assert response.json() == {"response_action": "errors", "errors": ERRORS}
            assert elapsed < 0.9
            assert done == []  # the listener's work after its ack was still running
            await asyncio.wait_for(finished.wait(), 5)
    assert done == ["submit"]


async def test_a_command_acked_after_some_work_gets_that_ack_and_a_forged_one_401() -> None:
    done: list[str] = []
    body, headers = _signed_form({"command": "/cancel-order", "text": "1234", "user_id": "U1", "team_id": "T1"})
    async with FakeSlack() as slack:
        asgi = create_http_app(_app(slack, done, work_seconds=0.0), ping=_ping)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://bot") as client:
            response = await client.post("/slack/events", content=body, headers=headers)
            assert (response.status_code, response.text) == (200, "on it")
            forged = await client.post("/slack/events", content=body, headers={**headers, "x-slack-signature": "v0=00"})
            assert forged.status_code == 401
    assert done == ["command"]


async def test_an_ack_stands_when_the_work_after_it_fails_at_once() -> None:
    """Bolt forgets an ack whose listener raises before its 10 ms poll saw it, and would answer after 3 s."""
    payload = {
        "type": "view_submission",
        "user": {"id": "U1"},
        "view": {"type": "modal", "callback_id": "failing_form"},
    }
    body, headers = _signed_form({"payload": json.dumps(payload)})
    async with FakeSlack() as slack:
        asgi = create_http_app(_app(slack, [], work_seconds=0.0), ping=_ping)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://bot") as client:
            started = time.perf_counter()
            response = await client.post("/slack/events", content=body, headers=headers)
            assert time.perf_counter() - started < 2.0
    assert response.status_code == 200
    assert response.json() == {"response_action": "errors", "errors": ERRORS}
