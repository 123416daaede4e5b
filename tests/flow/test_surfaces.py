"""The rest of the surface: two approvers per store, SANDBOX marking, App Home, event dedupe, health endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.http import create_http_app
from bot.slack.render import ids
from bot.store.models import RequestStatus
from cancel_order_bot.app import create_app
from cancel_order_bot.demo.harness import Harness, MovableClock, running_bot
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import ALICE, BOB, CAROL, CREATE, request_cancel


@pytest.fixture
async def two_approver_bot(
    sqlite_url: str, world: SandboxWorld, clock: MovableClock, tmp_path: Path
) -> AsyncIterator[Harness]:
    """A bot whose only store requires two approvers, configured in a stores file."""
    stores = tmp_path / "stores.toml"
    stores.write_text('[[stores]]\ncode = "sg-main"\ncountry = "sg"\nrequired_approvals = 2\n', encoding="utf-8")
    async with running_bot(sqlite_url, world=world, clock=clock, settings_overrides={"stores_file": stores}) as bot:
        yield bot


async def test_two_approvers_required(two_approver_bot: Harness, world: SandboxWorld, showcase: Showcase) -> None:
    bot = two_approver_bot
    request = await request_cancel(bot, showcase.pending)
    assert request.required_approvals == 2
    assert "0 of 2" in bot.message_json(request) or "2 approvals" in bot.message_json(request)

    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    halfway = await bot.refreshed(request)
    assert halfway.status is RequestStatus.PENDING
    assert halfway.approval_count == 1
    assert "1 of 2" in bot.message_json(halfway)
    assert world.call_count(CREATE) == 0

    await bot.click(BOB, ids.REQUEST_APPROVE, halfway)
    assert (await bot.refreshed(request)).approval_count == 1
    assert "already approved" in " ".join(str(m.get("text", "")) for m in bot.slack.ephemerals(BOB))

    await bot.click(CAROL, ids.REQUEST_APPROVE, halfway)
    done = await bot.refreshed(request)
    assert done.status is RequestStatus.EXECUTED
    assert set(done.approver_ids) == {BOB, CAROL}
    assert world.call_count(CREATE) == 1


async def test_every_message_says_sandbox(bot: Harness, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    assert "SANDBOX" in bot.message_json(request)
    filled = [c for c in bot.slack.calls_to("views.update") if "Electric Kettle" in str(c.params)]
    assert filled
    assert "SANDBOX" in str(filled[0].params)


async def test_app_home_is_published_once_per_event(bot: Harness, showcase: Showcase) -> None:
    await request_cancel(bot, showcase.pending)
    before = len(bot.slack.calls_to("views.publish"))
    event = bot.payloads.app_home_opened(BOB, event_id="Ev1")
    assert (await bot.send(event)).status_code == 200
    await bot.settle()
    assert (await bot.send(event)).status_code == 200
    await bot.settle()
    assert len(bot.slack.calls_to("views.publish")) == before + 1
    home = bot.slack.home_view(BOB)
    assert home is not None
    assert str(showcase.pending) in str(home["blocks"])
    assert ids.REQUEST_APPROVE in str(home["blocks"])


async def test_health_readiness_and_metrics(bot: Harness) -> None:
    assert (await bot.http.get("/healthz")).text == "ok"
    assert (await bot.http.get("/readyz")).status_code == 200
    await bot.command(ALICE, "help")
    metrics = (await bot.http.get("/metrics")).text
    assert 'slack_http_requests_total{status="200"}' in metrics


async def test_readiness_fails_when_the_database_does_not_answer(bot: Harness) -> None:
    async def down() -> None:
        raise ConnectionRefusedError("database is down")

    asgi = create_http_app(create_app(bot.services), ping=down)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://bot.test") as http:
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert "database unavailable" in ready.text
        assert (await http.get("/healthz")).status_code == 200


async def test_every_slack_message_in_sandbox_mode_is_marked(bot: Harness, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    await bot.click(CAROL, ids.REQUEST_APPROVE, request)
    sent = [
        c
        for c in bot.slack.calls
        if c.method in {"chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "views.update"}
        or c.method == "response_url"
    ]
    assert len(sent) >= 6
    for call in sent:
        assert "SANDBOX" in str(call.params), call.method


async def test_app_home_follows_the_requests_that_concern_each_person(bot: Harness, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    alice_home = bot.slack.home_view(ALICE)
    carol_home = bot.slack.home_view(CAROL)
    assert alice_home is not None
    assert carol_home is not None
    assert request.id in str(alice_home["blocks"])
    assert ids.REQUEST_APPROVE in str(carol_home["blocks"]), "approvers see the pending request with its buttons"
    assert ids.REQUEST_APPROVE not in str(alice_home["blocks"]), "requesters cannot approve their own"

    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    carol_after = bot.slack.home_view(CAROL)
    assert carol_after is not None
    assert ids.REQUEST_APPROVE not in str(carol_after["blocks"]), "nothing is pending any more"
