"""No secret ever reaches a log line, a Slack message or a repr, whatever happens.

The whole bot runs with recognisable fake secrets (Slack bot token and signing secret, Lazada app secret, access and
refresh tokens) through a representative set of flows: the happy path, Lazada faults, a token refresh (and a refused
one), an unhandled error, and requests that get 401. Every `sign` and token the sandbox received, every token it
issued and every `x-slack-signature` sent are collected too. Then none of them may appear in what was written to the
log (the production logging setup, at DEBUG), in what the bot's own code handed to logging (before any scrubbing), in
anything the bot sent to Slack or answered on HTTP, in the audit trail, or in the services' repr.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from pydantic import SecretStr

from bot.http import create_http_app
from bot.lazada.client import RetryPolicy
from bot.logs import SecretScrubber, configure_logging
from bot.services import lazada_target, open_services
from bot.settings import Country, Settings
from bot.slack.render import ids
from bot.store import default_sqlite_url
from cancel_order_bot.app import create_app
from cancel_order_bot.demo.fake_slack import FakeSlack, FakeWorkspace
from cancel_order_bot.demo.harness import Harness, MovableClock
from cancel_order_bot.demo.slack_payloads import Delivery, SignedRequest, SlackRequests
from cancel_order_bot.sandbox import SANDBOX_BASE_URL, FaultKind, SandboxTransport, SandboxWorld
from cancel_order_bot.sandbox.showcase import SHOWCASE, add_showcase_orders
from tests.reliability.conftest import ALICE, BOB, CREATE, request_cancel

BOT_TOKEN = "xoxb-4242424242-RELIABILITY-bot-token-q7Zp"
SIGNING_SECRET = "RELIABILITY-signing-secret-5b2e8c1f9a"
APP_KEY = "104242"
APP_SECRET = "RELIABILITY-app-secret-Hk3Lw9Qx2Vb7"
ACCESS_TOKEN = "RELIABILITY-access-token-50000101a9e4c7"
REFRESH_TOKEN = "RELIABILITY-refresh-token-50000101f3d2b8"
CONFIGURED = (BOT_TOKEN, SIGNING_SECRET, APP_SECRET, ACCESS_TOKEN, REFRESH_TOKEN)


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes Lazada calls to the sandbox and keeps every secret on the wire: sign, tokens sent and issued."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.secrets: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Record the request's secrets, forward it, and record any tokens in the answer."""
        for name in ("sign", "access_token", "refresh_token", "code"):
            value = request.url.params.get(name)
            if value:
                self.secrets.add(value)
        response = await self.inner.handle_async_request(request)
        if "/auth/token/" not in request.url.path:
            return response
        body = await response.aread()
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if isinstance(answer, dict):
            self.secrets.update(str(answer[k]) for k in ("access_token", "refresh_token") if answer.get(k))
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)


@dataclass
class RecordingHarness(Harness):
    """The harness, also keeping every request it sent to the bot and every answer it got."""

    sent: list[SignedRequest] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)

    async def send(self, signed: SignedRequest) -> httpx.Response:
        """POST as Slack does, remembering the request and the answer."""
        self.sent.append(signed)
        response = await super().send(signed)
        self.answers.append(response.text)
        return response


@dataclass
class Captured:
    """What logging received: the written output, and what the bot's own code handed over before scrubbing."""

    output: io.StringIO = field(default_factory=io.StringIO)
    own_events: list[str] = field(default_factory=list)
    own_records: list[str] = field(default_factory=list)


class _OwnRecords(logging.Handler):
    """Keeps the unscrubbed message of every stdlib record from the bot's own modules."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        """Remember the record's full text (message and traceback) if it is ours."""
        if record.name.split(".")[0] in {"bot", "cancel_order_bot"}:
            self.into.append(
                record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
            )


@contextmanager
def captured_logs(settings: Settings) -> Iterator[Captured]:
    """Production logging (its scrubber knows the settings' secrets) at DEBUG into a buffer, plus raw capture."""
    captured = Captured()
    configure_logging(
        level="DEBUG", fmt="json", scrubber=SecretScrubber(settings.secret_values()), stream=captured.output
    )
    for name in ("httpx", "slack_bolt", "slack_sdk"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    for name in ("aiosqlite", "asyncio", "httpcore", "hpack", "alembic", "matplotlib", "PIL"):
        logging.getLogger(name).setLevel(logging.INFO)
    # SQLAlchemy logs statements with their parameters (the stored tokens) at INFO; it keeps itself at WARNING.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)

    def keep_raw(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        """Remember what our code logged before the scrubber sees it (tracebacks rendered in full)."""
        captured.own_events.append(repr(dict(event)) + _traceback(event.get("exc_info")))
        return event

    chain = structlog.get_config()["processors"]
    structlog.configure(processors=[keep_raw, *chain])
    raw = _OwnRecords(captured.own_records)
    logging.getLogger().handlers.insert(0, raw)
    try:
        yield captured
    finally:
        logging.getLogger().removeHandler(raw)


def _traceback(exc_info: object) -> str:
    if isinstance(exc_info, BaseException):
        return logging.Formatter().formatException((type(exc_info), exc_info, exc_info.__traceback__))
    return ""


@pytest.fixture
async def secret_bot(tmp_path: Path) -> AsyncIterator[tuple[RecordingHarness, RecordingTransport, Captured]]:
    """The real bot with recognisable secrets, not in sandbox mode: the sandbox is reached as a real store would be."""
    clock = MovableClock(datetime(2026, 11, 30, 3, 0, tzinfo=UTC))
    world = SandboxWorld(
        now=clock, app_key=APP_KEY, app_secret=APP_SECRET, access_token=ACCESS_TOKEN, refresh_token=REFRESH_TOKEN
    )
    add_showcase_orders(world)
    lazada = RecordingTransport(SandboxTransport(world))
    workspace = FakeWorkspace.default().with_tokens(BOT_TOKEN)
    async with FakeSlack(workspace) as slack:
        settings = Settings(
            _env_file=None,
            slack_bot_token=SecretStr(BOT_TOKEN),
            slack_signing_secret=SecretStr(SIGNING_SECRET),
            slack_api_url=slack.api_url,
            database_url=default_sqlite_url(tmp_path / "secrets.sqlite3"),
            lazada_app_key=APP_KEY,
            lazada_app_secret=SecretStr(APP_SECRET),
            lazada_access_token=SecretStr(ACCESS_TOKEN),
            lazada_refresh_token=SecretStr(REFRESH_TOKEN),
            lazada_api_url=SANDBOX_BASE_URL,
            lazada_auth_url=SANDBOX_BASE_URL,
            lazada_country=Country.SG,
            lazada_calls_per_second=1000,
            approvers=["S0APPROVERS"],
            store_code="main",
            stores_file=None,
            approval_channel=None,
            digest_channel="C0DIGEST",
        )
        with captured_logs(settings) as logs:
            async with open_services(
                settings,
                lazada=lazada_target(settings, transport=lazada),
                clock=clock,
                retry=RetryPolicy.off(),
                migrate=True,
            ) as services:
                asgi = create_http_app(create_app(services), ping=services.db.ping)
                async with httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=asgi), base_url="http://bot.test"
                ) as http:
                    harness = RecordingHarness(
                        services=services,
                        slack=slack,
                        world=world,
                        payloads=SlackRequests.for_workspace(SIGNING_SECRET, workspace),
                        http=http,
                        clock=clock,
                    )
                    try:
                        yield harness, lazada, logs
                    finally:
                        await harness.settle()


async def _run_the_flows(bot: RecordingHarness, world: SandboxWorld) -> None:
    """Happy path, faults, refreshes (one refused), an unhandled error, 401s."""
    done = await request_cancel(bot, SHOWCASE.pending)
    await bot.click(BOB, ids.REQUEST_APPROVE, done)

    world.faults.inject(FaultKind.TIMEOUT, path=CREATE)
    unknown = await request_cancel(bot, SHOWCASE.ready_to_ship)
    await bot.click(BOB, ids.REQUEST_APPROVE, unknown)

    for fault in (FaultKind.MALFORMED_JSON, FaultKind.HTTP_502, FaultKind.TIP_ERROR, FaultKind.ILLEGAL_ACCESS_TOKEN):
        world.faults.inject(fault, path="/order/items/get")
        await bot.command(ALICE, str(SHOWCASE.packed))
    world.expire_access_token()
    await bot.command(ALICE, str(SHOWCASE.shipped))
    await bot.services.token_keeper.tick()

    # An unhandled error (logged with its traceback): the process "crashes" right after the cancel; then the
    # reconciler takes the request over once its lease has run out.
    async def crash_after_the_cancel(point: str) -> None:
        if point == "after_cancel":
            raise RuntimeError("injected crash after the cancel")

    bot.services.executor.checkpoint = crash_after_the_cancel
    crashed = await request_cancel(bot, SHOWCASE.packed)
    await bot.click(BOB, ids.REQUEST_APPROVE, crashed)
    bot.services.executor.checkpoint = _no_crash
    bot.clock.advance(timedelta(minutes=10))
    await bot.services.workflow.tick()

    world.expire_access_token()
    world.expire_refresh_token()
    await bot.command(ALICE, str(SHOWCASE.packed))
    await bot.services.token_keeper.tick()

    for delivery in (Delivery(signature="wrong"), Delivery(signature="missing"), Delivery(stale=True)):
        assert (await bot.click(BOB, ids.REQUEST_APPROVE, done, delivery=delivery)).status_code == 401
        bad_command = bot.payloads.slash_command(
            "/cancel-order", "100000000000002", user_id=ALICE, channel_id=bot.channel, delivery=delivery
        )
        assert (await bot.send(bad_command)).status_code == 401
    await bot.settle()


async def _no_crash(point: str) -> None:
    return None


def _needles(bot: RecordingHarness, lazada: RecordingTransport) -> set[str]:
    signatures = {s.headers["x-slack-signature"] for s in bot.sent if "x-slack-signature" in s.headers}
    hexes = {s.removeprefix("v0=") for s in signatures}
    return {n.lower() for n in {*CONFIGURED, *lazada.secrets, *signatures, *hexes}}


def _leaks(haystack: str, needles: set[str]) -> list[str]:
    text = haystack.lower()
    return sorted(n for n in needles if n in text)


async def test_no_secret_reaches_logs_slack_http_answers_or_reprs(
    secret_bot: tuple[RecordingHarness, RecordingTransport, Captured],
) -> None:
    bot, lazada, logs = secret_bot
    await _run_the_flows(bot, bot.world)
    needles = _needles(bot, lazada)

    # The flows really used what is being looked for.
    assert any(len(n) == 64 for n in needles), "no Lazada sign was recorded"
    assert len([n for n in needles if n.startswith("v0=")]) >= 6, "too few Slack signatures were recorded"
    assert bot.world.call_count("/auth/token/refresh", code="0") >= 1, "no token refresh happened"
    assert bot.world.call_count(CREATE, code="0") >= 1, "the happy path did not cancel"
    written = logs.output.getvalue()
    assert "lazada.call" in written
    assert "HTTP Request" in written, "httpx request lines are written (their query must be gone)"
    assert "slack_request_refused" in written, "the 401 line is written (without the body or the signature)"
    assert "unhandled_error" in written

    assert _leaks(written, needles) == [], "a secret was written to the log"
    assert _leaks("\n".join(logs.own_events), needles) == [], "the bot's code handed a secret to structlog"
    assert _leaks("\n".join(logs.own_records), needles) == [], "the bot's code handed a secret to logging"
    slack_calls = json.dumps([(c.method, c.params, c.response, c.url) for c in bot.slack.calls], ensure_ascii=False)
    assert _leaks(slack_calls, needles) == [], "a secret was sent to Slack"
    assert _leaks("\n".join(bot.answers), needles) == [], "a secret was in an HTTP answer to Slack"
    metrics = (await bot.http.get("/metrics")).text + (await bot.http.get("/readyz")).text
    assert _leaks(metrics, needles) == []
    trails = [
        e.model_dump_json()
        for r in await bot.services.requests.list_requests(limit=50)
        for e in await bot.services.requests.audit_trail(r.id)
    ]
    assert trails
    assert _leaks("\n".join(trails), needles) == [], "a secret was written to the audit trail"
    reprs = repr(bot.services) + repr(bot.services.settings) + repr(bot.services.stores) + repr(lazada.inner)
    assert _leaks(reprs, needles) == [], "a secret is in a repr"
    for store in bot.services.stores:
        assert store.access_token is not None
        assert ACCESS_TOKEN not in str(store.model_dump())
