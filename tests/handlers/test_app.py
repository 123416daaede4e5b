"""The composition root builds the Bolt app quietly: no warning about a `token` that Bolt read from the environment."""

from __future__ import annotations

import logging

import pytest

from cancel_order_bot.app import create_app
from cancel_order_bot.demo.harness import Harness


def test_create_app_logs_no_token_and_client_warning(
    bot: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-fake")
    with caplog.at_level(logging.DEBUG):
        create_app(bot.services)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_other_bolt_warnings_still_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        logging.getLogger("slack_bolt.AsyncApp").warning("something Bolt wants said")
    assert [r.getMessage() for r in caplog.records] == ["something Bolt wants said"]
