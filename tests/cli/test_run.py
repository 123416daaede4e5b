"""`run` (Socket Mode) and `serve` stop at start, naming what is missing, before touching Slack."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse as SlackResponse

from cancel_order_bot.__main__ import main
from cancel_order_bot.cli.socket_mode import SocketModeLog, connected_line
from cancel_order_bot.demo.fake_slack import FakeSlack


@pytest.mark.parametrize(
    ("argv", "missing"),
    [
        (["run", "--sandbox"], "SLACK_BOT_TOKEN, SLACK_APP_TOKEN"),
        (["serve", "--sandbox"], "SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET"),
    ],
)
def test_missing_slack_tokens_are_named(
    argv: list[str], missing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    assert f"missing settings: {missing}" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [], "nothing was created before the check"


@pytest.mark.parametrize(
    ("bot_token", "app_token", "culprit"),
    [
        ("xoxb-revoked", "xapp-1-fake", "SLACK_BOT_TOKEN: Slack refused it (invalid_auth)"),
        (None, "xapp-revoked", "SLACK_APP_TOKEN: Slack refused it (invalid_auth)"),
    ],
    ids=["bot-token", "app-token"],
)
async def test_run_stops_with_one_line_when_slack_refuses_a_token(
    bot_token: str | None,
    app_token: str,
    culprit: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with FakeSlack() as slack:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("SLACK_API_URL", slack.api_url)
        monkeypatch.setenv("SLACK_BOT_TOKEN", bot_token or slack.bot_token)
        monkeypatch.setenv("SLACK_APP_TOKEN", app_token)
        monkeypatch.setenv("APPROVERS", "S0APPROVERS")
        code = await asyncio.to_thread(main, ["run", "--sandbox"])
    err = capsys.readouterr().err
    assert code == 2, "a setting to fix: exit 2, which the systemd unit does not restart"
    assert err.splitlines()[-1].startswith(f"cancel-order-bot: {culprit}")
    assert "Traceback" not in err
    assert app_token not in err


def _log_inside_except(log: SocketModeLog, exc: BaseException) -> None:
    try:
        raise exc
    except type(exc):
        log.exception("Failed to connect; Retrying...")


def _refused(error: str) -> SlackApiError:
    return SlackApiError(  # type: ignore[no-untyped-call]
        "refused",
        SlackResponse(
            client=None,
            http_verb="POST",
            api_url="",
            req_args={},
            data={"ok": False, "error": error},
            headers={},
            status_code=200,
        ),
    )


async def test_a_revoked_app_token_while_running_ends_the_bot_instead_of_retrying() -> None:
    fatal: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    _log_inside_except(SocketModeLog(fatal), _refused("token_revoked"))
    assert fatal.result() == "SLACK_APP_TOKEN: Slack refused it (token_revoked) while reconnecting; the bot stops"


async def test_a_dropped_connection_is_one_line_without_traceback(caplog: pytest.LogCaptureFixture) -> None:
    fatal: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    with caplog.at_level(logging.WARNING):
        _log_inside_except(SocketModeLog(fatal), ConnectionResetError("Connection reset by peer"))
    assert not fatal.done()
    (record,) = [r for r in caplog.records if "slack_connection_lost" in r.getMessage()]
    assert record.exc_info is None
    assert "ConnectionResetError: Connection reset by peer" in record.getMessage()


def test_the_connected_line_names_the_bot_and_workspace() -> None:
    identity = {"user": "cancel-order", "team": "Acme", "team_id": "T0ACME"}
    assert connected_line(identity) == "connected to Slack as @cancel-order in workspace Acme (T0ACME)"
