"""`run` (Socket Mode) and `serve` stop at start, naming what is missing, before touching Slack."""

from __future__ import annotations

from pathlib import Path

import pytest

from cancel_order_bot.__main__ import main


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
