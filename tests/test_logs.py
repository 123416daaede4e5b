"""Log lines cannot be forged, the format follows the terminal, lines carry the replica and job, Sentry is optional."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest
import structlog
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.logs import configure_logging, configure_logging_for, escape_controls, init_error_reporting, resolve_format
from bot.metrics import Metrics
from bot.scheduler import Tick, run_safely
from bot.services import open_services
from bot.settings import Settings, SettingsError
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.target import sandbox_target

FORGERY = "\nFAKE event=admin"

log = structlog.get_logger("bot.test")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _console() -> io.StringIO:
    stream = io.StringIO()
    configure_logging(level="DEBUG", fmt="console", stream=stream)
    return stream


def test_a_value_with_a_newline_cannot_start_a_line_of_its_own() -> None:
    stream = _console()
    log.info("order_show_failed", note=FORGERY, event_like="a\r\x1b[2Kb\x00\x85\u2028c")
    logging.getLogger("somelib").warning("from a library%s", FORGERY)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert not any(line.startswith("FAKE") for line in lines)
    # Newer structlog quotes a value holding a space, the declared minimum does not: the escape is what counts.
    assert re.search(r"note='?\\nFAKE event=admin'? ", lines[0]), lines[0]
    assert "event_like=a\\r\\x1b[2Kb\\x00\\x85\\u2028c " in lines[0]
    assert "\x1b" not in stream.getvalue()
    assert "from a library\\nFAKE event=admin" in lines[1]


def test_a_traceback_keeps_its_lines_but_each_is_marked_as_a_continuation() -> None:
    stream = _console()
    try:
        raise ValueError("bad" + FORGERY)
    except ValueError:
        log.exception("tick_failed")
    first, *rest = stream.getvalue().splitlines()
    assert "tick_failed" in first
    assert rest, "the traceback is written"
    assert all(line.startswith("  | ") for line in rest), rest
    assert any("Traceback" in line for line in rest)


def test_json_lines_escape_by_themselves() -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", fmt="json", stream=stream)
    log.info("x", note=FORGERY)
    (line,) = stream.getvalue().splitlines()
    assert json.loads(line)["note"] == FORGERY


def test_escape_controls_leaves_ordinary_text_alone() -> None:
    assert escape_controls("Électric kettle · 1.7 L ✓") == "Électric kettle · 1.7 L ✓"
    assert escape_controls("a\tb\nc\rd\x1b\x7f") == "a\\tb\\nc\\rd\\x1b\\x7f"


def test_auto_format_is_console_on_a_terminal_and_json_elsewhere() -> None:
    assert resolve_format("auto", _Terminal()) == "console"
    assert resolve_format("auto", io.StringIO()) == "json"
    assert resolve_format("console", io.StringIO()) == "console"
    assert Settings(_env_file=None).log_format == "auto"
    piped = io.StringIO()
    configure_logging(fmt="auto", stream=piped)
    log.info("started")
    assert json.loads(piped.getvalue())["event"] == "started"


async def test_bolts_refusal_line_does_not_carry_the_unsigned_body() -> None:
    stream = _console()
    app = AsyncApp(signing_secret="bolt-secret", token="xoxb-unused", raise_error_for_unhandled_request=False)
    body = '{"type":"event_callback","note":"UNSIGNED-PAYLOAD"}'
    request = AsyncBoltRequest(
        body=body, headers={"x-slack-request-timestamp": "1", "x-slack-signature": "v0=1", "content-type": "json"}
    )
    response = await app.async_dispatch(request)
    assert response.status == 401
    written = stream.getvalue()
    assert "Invalid request signature detected" in written, "Bolt still says what it refused"
    assert "UNSIGNED-PAYLOAD" not in written


async def test_every_line_carries_the_replica_and_a_tick_its_job(tmp_path: Path) -> None:
    stream = io.StringIO()
    configure_logging(level="INFO", fmt="json", stream=stream)
    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    metrics = Metrics()

    async def failing() -> None:
        log.info("digest.sync_started")
        raise RuntimeError("Lazada went away")

    lazada = sandbox_target(settings, SandboxWorld(), database_url=settings.database_url)
    async with open_services(settings, lazada=lazada, metrics=metrics) as services:
        log.info("bot_started")
        await run_safely(Tick("digest", failing), metrics)
        logging.getLogger("somelib").warning("from a library")
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    mine = [e for e in events if e["event"] in {"bot_started", "digest.sync_started", "tick_failed", "from a library"}]
    assert len(mine) == 4
    assert {e["replica"] for e in mine} == {services.replica_id}
    assert [e.get("job") for e in mine] == [None, "digest", "digest", None]
    assert metrics.registry.get_sample_value("cancel_order_bot_scheduler_tick_failures_total", {"job": "digest"}) == 1


def _settings(dsn: str | None) -> Settings:
    return Settings(_env_file=None, sentry_dsn=SecretStr(dsn) if dsn else None)


def test_sentry_starts_only_with_a_dsn_and_never_sends_locals(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    fake = types.ModuleType("sentry_sdk")
    fake.init = lambda **options: calls.append(options)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentry_sdk", fake)
    scrubber = configure_logging(stream=io.StringIO())
    assert init_error_reporting(_settings(None), scrubber) is False
    assert calls == []
    dsn = "https://public@o1.ingest.sentry.io/2"
    configure_logging_for(_settings(dsn))
    (options,) = calls
    assert options["dsn"] == dsn
    assert options["include_local_variables"] is False
    assert options["send_default_pii"] is False
    event = {"message": "refresh failed with xoxb-1-leaked-token", "extra": {"access_token": "abc123456"}}
    assert "leaked" not in json.dumps(options["before_send"](event, {}))
    assert "abc123456" not in json.dumps(options["before_send"](event, {}))


def test_sentry_without_its_package_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # the import fails as if it were not installed
    with pytest.raises(SettingsError) as raised:
        configure_logging_for(_settings("https://public@o1.ingest.sentry.io/2"))
    message = str(raised.value)
    assert "\n" not in message
    assert "SENTRY_DSN" in message
    assert "cancel-order-bot[sentry]" in message
