"""No traceback reaches a person: every command, given a bad setting or argument, prints one line naming it."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest

from cancel_order_bot.__main__ import main

# Every command that reads the settings, with arguments that would otherwise be valid.
SETTINGS_COMMANDS = [
    ["run"],
    ["serve", "--port", "3999"],
    ["order", "show", "100000000000001"],
    ["digest"],
    ["lazada", "auth-url"],
    ["lazada", "exchange", "0_100100_CODE"],
    ["lazada", "status"],
    ["check"],
    ["db", "upgrade"],
]
# The ones that open the database.
DATABASE_COMMANDS = [argv for argv in SETTINGS_COMMANDS if argv[:2] != ["lazada", "auth-url"]]

# (setting, value, what the message must contain)
BAD_SETTINGS = [
    ("DATABASE_URL", "postgresql://bot@db.example/bot", "use postgresql+asyncpg://"),
    ("DATABASE_URL", "sqlite:///bot.sqlite3", "sqlite+aiosqlite:///bot.sqlite3"),
    ("DATABASE_URL", "not a url", "DATABASE_URL"),
    ("LOG_LEVEL", "loud", "LOG_LEVEL"),
    ("LOG_FORMAT", "xml", "LOG_FORMAT"),
    ("APPROVERS", "bob", "APPROVERS"),
    ("WARNING_RATE", "0.09", "WARNING_RATE"),
    ("LAZADA_COUNTRY", "xx", "LAZADA_COUNTRY"),
    ("SECRETS_DIR", "/nonexistent/secrets", "SECRETS_DIR"),
]

# Databases that look right but cannot be used: (DATABASE_URL, what the message must contain)
UNUSABLE_DATABASES = [
    ("postgresql+asyncpg://nobody@127.0.0.1:1/bot", "DATABASE_URL"),
    ("sqlite+aiosqlite:///missing-folder/bot.sqlite3", "missing-folder"),
]

# (argv, what the message must contain), refused by argparse with its usage line.
BAD_ARGUMENTS = [
    (["sandbox", "--port", "99999"], "--port"),
    (["sandbox", "--port", "http"], "--port"),
    (["sandbox", "--days", "0"], "--days"),
    (["sandbox", "--orders-per-day", "-1"], "--orders-per-day"),
    (["sandbox", "--rtt-ms", "-5"], "--rtt-ms"),
    (["sandbox", "--rate-limit", "0"], "--rate-limit"),
    (["serve", "--port", "0"], "--port"),
    (["order", "show"], "ORDER_ID"),
    (["nonsense"], "nonsense"),
]


@pytest.fixture(autouse=True)
def _clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty folder (no .env) and the settings a first-time user would have for run and serve."""
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "STORES_FILE", "APPROVERS", "LOG_LEVEL", "SLACK_API_URL", "LAZADA_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "signing-secret")
    monkeypatch.setenv("LAZADA_APP_KEY", "100100")
    monkeypatch.setenv("LAZADA_APP_SECRET", "app-secret")
    monkeypatch.setenv("LAZADA_REDIRECT_URI", "https://example.com/callback")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusal
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _assert_one_clear_line(code: int, output: str, culprit: str) -> None:
    assert code != 0, output
    assert "Traceback" not in output
    assert culprit in output
    assert len(output.strip().splitlines()) <= 12, output


@pytest.mark.parametrize(("name", "value", "culprit"), BAD_SETTINGS, ids=[f"{n}={v}" for n, v, _ in BAD_SETTINGS])
@pytest.mark.parametrize("argv", SETTINGS_COMMANDS, ids=" ".join)
def test_a_bad_setting_is_named_by_every_command(
    argv: list[str],
    name: str,
    value: str,
    culprit: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(name, value)
    code, output = _run(argv, capsys)
    _assert_one_clear_line(code, output, culprit)
    assert code == 2
    assert output.count("\n") == 1, "one line"


@pytest.mark.parametrize(("url", "culprit"), UNUSABLE_DATABASES, ids=["unreachable", "missing-folder"])
@pytest.mark.parametrize("argv", DATABASE_COMMANDS, ids=" ".join)
def test_an_unusable_database_is_named_by_every_command(
    argv: list[str],
    url: str,
    culprit: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    code, output = _run(argv, capsys)
    _assert_one_clear_line(code, output, culprit)
    assert not (tmp_path / "missing-folder").exists()


@pytest.mark.parametrize(("argv", "culprit"), BAD_ARGUMENTS, ids=[" ".join(a) for a, _ in BAD_ARGUMENTS])
def test_a_bad_argument_is_refused_before_anything_runs(
    argv: list[str], culprit: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = _run(argv, capsys)
    _assert_one_clear_line(code, output, culprit)
    assert code == 2
    assert list(tmp_path.iterdir()) == []


def test_an_order_number_outside_the_rules_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _run(["order", "show", "--sandbox", "123"], capsys)
    _assert_one_clear_line(code, output, "`123` is not a Lazada order number (4 to 20 digits)")


def test_a_missing_env_file_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _run(["--env-file", "settings.env", "check"], capsys)
    _assert_one_clear_line(code, output, "--env-file: settings.env does not exist")


@pytest.mark.parametrize("argv", [["sandbox", "--days", "1"], ["serve"]], ids=" ".join)
def test_a_busy_port_is_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        code, output = _run([*argv, "--port", str(port)], capsys)
    _assert_one_clear_line(code, output, f"--port: port {port} on 127.0.0.1 is already in use")


def test_debug_adds_the_traceback(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///missing-folder/bot.sqlite3")
    code, output = _run(["--debug", "db", "upgrade"], capsys)
    assert code == 1
    assert "Traceback" in output
    assert output.rstrip().splitlines()[-1].startswith("cancel-order-bot: DATABASE_URL: the folder missing-folder")


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_pipe_ends_quietly(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdout", _ClosedPipe())
    code = main(["order", "show", "--sandbox", "--json", "100000000000001"])
    assert code == 1
    assert capsys.readouterr().err == ""


def test_demo_and_sandbox_ignore_a_broken_env_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://x@y/z\nLOG_LEVEL=loud\n", encoding="utf-8")
    assert _run(["check"], capsys)[0] == 2
    monkeypatch.setattr("cancel_order_bot.sandbox.serve_sandbox", _stop_at_once)
    code, output = _run(["sandbox", "--days", "1", "--port", "0"], capsys)
    assert code == 0, output
    assert "LAZADA_API_URL=http://127.0.0.1:0/rest" in output


async def _stop_at_once(world: object, *, on_started: object = None, **options: object) -> None:
    assert callable(on_started)
    on_started(f"http://{options['host']}:{options['port']}/rest")


def test_an_env_file_that_is_not_utf8_is_named_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_bytes(b"SLACK_BOT_TOKEN=xoxb-1\nAPPROVERS=S0\xff\n")
    code, output = _run(["check", "--sandbox"], capsys)
    assert code == 2
    assert output.strip().splitlines() == [
        "cancel-order-bot: .env: not UTF-8 text (byte 35 cannot be read); save it as UTF-8"
    ]


def test_order_show_names_the_lazada_url_it_could_not_reach(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "LAZADA_API_URL": "http://127.0.0.1:1/rest",
        "LAZADA_APP_KEY": "100100",
        "LAZADA_APP_SECRET": "secret",
        "LAZADA_ACCESS_TOKEN": "token",
    }.items():
        monkeypatch.setenv(name, value)
    code, output = _run(["order", "show", "100000000000001"], capsys)
    assert code == 1
    assert output.strip().splitlines()[-1] == (
        "cancel-order-bot: order 100000000000001: Lazada at http://127.0.0.1:1/rest could not be reached; "
        "check LAZADA_API_URL and the network"
    )
    assert "Traceback" not in output
