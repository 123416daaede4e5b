"""`check` against a FakeSlack and the sandbox served on a free port: all green, then one failure of each kind."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from bot.settings import Settings
from bot.store import Database, DbTokenStore, default_sqlite_url, upgrade_to_head
from bot.store.facts import DatabaseKind, FactStore
from bot.store.migrate import current_revision, head_revision
from cancel_order_bot.cli.check import CheckResult, add_parser, find_manifest, manifest_bot_scopes, run
from cancel_order_bot.demo.fake_slack import FakeSlack, FakeWorkspace
from cancel_order_bot.sandbox import (
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_APP_KEY,
    SANDBOX_APP_SECRET,
    SANDBOX_REFRESH_TOKEN,
    SandboxServer,
    SandboxWorld,
)

ROOT = Path(__file__).resolve().parent.parent.parent
APP_TOKEN = FakeWorkspace.default().app_tokens[0]
MANIFEST_SCOPES = tuple(
    yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))["oauth_config"]["scopes"]["bot"]
)
ALL_NAMES = [
    "settings",
    "stores",
    "database",
    "slack auth",
    "slack app token",
    "slack scopes",
    "channel C0OPS",
    "channel C0DIGEST",
    "approver group S0APPROVERS",
    "approver U0CAROL",
    "lazada store main",
]


@dataclass
class Outcome:
    """What `check` printed and returned."""

    code: int
    out: str

    def line(self, name: str) -> str:
        """The line of the check called ``name`` (with its fix line when it failed)."""
        lines = self.out.splitlines()
        for index, line in enumerate(lines):
            if line[2:].startswith(f"{name}: "):
                fix = lines[index + 1] if index + 1 < len(lines) and lines[index + 1].startswith("    → ") else ""
                return f"{line}\n{fix}".rstrip()
        raise AssertionError(f"no {name!r} line in:\n{self.out}")

    def failed(self) -> list[str]:
        """The names of the failed checks."""
        return self._marked("✗ ")

    def warned(self) -> list[str]:
        """The names of the checks that passed with a warning."""
        return self._marked("⚠ ")

    def _marked(self, mark: str) -> list[str]:
        return [line[2:].split(": ", 1)[0] for line in self.out.splitlines() if line.startswith(mark)]


@dataclass
class Rig:
    """A FakeSlack, the served sandbox, a database file, and the settings that point at them."""

    slack: FakeSlack
    world: SandboxWorld
    base_url: str
    tmp_path: Path

    def settings(self, **overrides: Any) -> Settings:
        """Settings that pass every check, with ``overrides``."""
        values: dict[str, Any] = {
            "slack_bot_token": SecretStr(self.slack.bot_token),
            "slack_app_token": SecretStr(APP_TOKEN),
            "slack_api_url": self.slack.api_url,
            "lazada_app_key": SANDBOX_APP_KEY,
            "lazada_app_secret": SecretStr(SANDBOX_APP_SECRET),
            "lazada_api_url": self.base_url,
            "lazada_auth_url": self.base_url,
            "lazada_access_token": SecretStr(SANDBOX_ACCESS_TOKEN),
            "lazada_refresh_token": SecretStr(SANDBOX_REFRESH_TOKEN),
            "database_url": default_sqlite_url(self.tmp_path / "bot.sqlite3"),
            "approvers": ["S0APPROVERS", "U0CAROL"],
            "approval_channel": "C0OPS",
            "digest_channel": "C0DIGEST",
            **overrides,
        }
        return Settings(_env_file=None, **values)


Check = Callable[..., Awaitable[Outcome]]


@pytest.fixture
async def world_server() -> AsyncIterator[SandboxServer]:
    """The sandbox seller on the real clock, served on a free port."""
    async with SandboxServer(SandboxWorld(), port=0) as server:
        yield server


async def _rig(server: SandboxServer, tmp_path: Path, workspace: FakeWorkspace | None = None) -> AsyncIterator[Rig]:
    await upgrade_to_head(default_sqlite_url(tmp_path / "bot.sqlite3"))
    async with FakeSlack(workspace) as slack:
        yield Rig(slack=slack, world=server.world, base_url=server.base_url, tmp_path=tmp_path)


@pytest.fixture
async def rig(world_server: SandboxServer, tmp_path: Path) -> AsyncIterator[Rig]:
    """Everything `check` reaches, in working order."""
    async for value in _rig(world_server, tmp_path):
        yield value


@pytest.fixture
def check(capsys: pytest.CaptureFixture[str]) -> Check:
    """``await check(settings, *argv)`` runs `check` as the CLI does and returns an `Outcome`."""

    async def run_check(settings: Settings, *argv: str) -> Outcome:
        parser = argparse.ArgumentParser(prog="cancel-order-bot")
        add_parser(parser.add_subparsers(dest="command", required=True))
        capsys.readouterr()
        code = await run(parser.parse_args(["check", *argv]), settings)
        return Outcome(code=code, out=capsys.readouterr().out)

    return run_check


async def test_check_passes_when_everything_works(rig: Rig, check: Check) -> None:
    outcome = await check(rig.settings())
    assert outcome.failed() == []
    assert outcome.code == 0
    for name in ALL_NAMES:
        assert outcome.line(name).startswith("✓ ")
    assert outcome.out.splitlines()[-1] == f"all {len(ALL_NAMES)} checks passed"
    assert f"all {len(MANIFEST_SCOPES)} manifest scopes granted" in outcome.line("slack scopes")
    assert "#order-ops" in outcome.line("channel C0OPS")
    assert "approval channel of main" in outcome.line("channel C0OPS")
    assert "2 members" in outcome.line("approver group S0APPROVERS")
    assert "the token works; access token expires unknown" in outcome.line("lazada store main")
    assert rig.world.call_count("/orders/get", code="0") == 1, "one read-only call per store"
    assert rig.world.call_count("/order/reverse/cancel/create") == 0
    assert [c.method for c in rig.slack.calls if c.method.startswith("chat.")] == [], "check posts nothing"
    assert SANDBOX_ACCESS_TOKEN not in outcome.out
    assert SANDBOX_APP_SECRET not in outcome.out
    assert rig.slack.bot_token not in outcome.out


def _failing(outcome: Outcome, name: str, *words: str) -> str:
    assert outcome.code == 1
    assert name in outcome.failed()
    line = outcome.line(name)
    assert line.startswith(f"✗ {name}: ")
    assert "\n    → " in line, "every failure says what to do"
    for word in words:
        assert word in line
    assert outcome.out.splitlines()[-1].endswith("checks failed")
    return line


async def test_check_names_missing_settings(rig: Rig, check: Check) -> None:
    outcome = await check(rig.settings(slack_app_token=None))
    _failing(outcome, "settings", "SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)", ".env")
    assert outcome.failed() == ["settings"]


async def test_check_catches_a_token_in_the_wrong_setting(rig: Rig, check: Check) -> None:
    outcome = await check(rig.settings(slack_app_token=SecretStr("xoxb-wrong-place")))
    _failing(outcome, "settings", "SLACK_APP_TOKEN does not start with xapp-")
    assert "xoxb-wrong-place" not in outcome.out


async def test_check_says_when_the_two_slack_tokens_are_swapped(rig: Rig, check: Check) -> None:
    outcome = await check(
        rig.settings(slack_bot_token=SecretStr(APP_TOKEN), slack_app_token=SecretStr(rig.slack.bot_token))
    )
    _failing(outcome, "settings", "SLACK_BOT_TOKEN and SLACK_APP_TOKEN are swapped")
    assert [c.method for c in rig.slack.calls if c.method == "apps.connections.open"] == []


async def test_check_opens_a_socket_mode_connection_with_the_app_token(rig: Rig, check: Check) -> None:
    outcome = await check(rig.settings())
    assert outcome.line("slack app token").startswith("✓ slack app token: Socket Mode connections open")
    assert [c.method for c in rig.slack.calls].count("apps.connections.open") == 1


async def test_check_reports_a_revoked_app_token(rig: Rig, check: Check) -> None:
    outcome = await check(rig.settings(slack_app_token=SecretStr("xapp-1-revoked")))
    _failing(outcome, "slack app token", "invalid_auth", "SLACK_APP_TOKEN", "connections:write")
    assert outcome.failed() == ["slack app token"]
    assert "xapp-1-revoked" not in outcome.out


async def test_check_sandbox_passes_the_readme_sandbox_setup(rig: Rig, check: Check, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.sqlite3"
    outcome = await check(
        rig.settings(
            lazada_app_key=None,
            lazada_app_secret=None,
            lazada_access_token=None,
            lazada_refresh_token=None,
            lazada_api_url=None,
            digest_channel=None,
            database_url=default_sqlite_url(fresh),
        ),
        "--sandbox",
    )
    assert outcome.failed() == []
    assert outcome.code == 0
    assert outcome.warned() == ["stores", "database"]
    assert "Lazada is the built-in sandbox" in outcome.line("settings")
    assert outcome.line("lazada store main").startswith("✓ lazada store main: the token works")
    assert outcome.out.splitlines()[-1].endswith("checks passed, 2 with a warning")
    assert not fresh.exists(), "check never creates a database"


async def test_check_sandbox_describes_the_sandbox_database(rig: Rig, check: Check) -> None:
    outcome = await check(rig.settings(), "--sandbox")
    line = outcome.line("database")
    assert line.startswith(f"⚠ database: {default_sqlite_url(rig.tmp_path / 'bot.sandbox.sqlite3')} does not exist")
    assert "a `--sandbox` run would create it" in line
    assert not (rig.tmp_path / "bot.sandbox.sqlite3").exists(), "check never creates a database"

    postgres = "postgresql+asyncpg://bot@db.invalid/bot"
    outcome = await check(rig.settings(database_url=postgres), "--sandbox")
    _failing(outcome, "database", "SANDBOX_DATABASE_URL")
    assert "db.invalid" not in outcome.line("database"), "the real database is not the sandbox's"


async def _database_of_kind(path: Path, kind: DatabaseKind) -> str:
    url = default_sqlite_url(path)
    await upgrade_to_head(url)
    async with Database.from_url(url) as db:
        await FactStore(db).claim_kind(kind)
    return url


async def _kind_of(url: str) -> DatabaseKind | None:
    async with Database.from_url(url) as db:
        return await FactStore(db).kind()


async def test_check_refuses_a_database_of_the_other_kind_on_its_line(rig: Rig, check: Check) -> None:
    sandboxed = await _database_of_kind(rig.tmp_path / "sandboxed.sqlite3", DatabaseKind.SANDBOX)
    outcome = await check(rig.settings(database_url=sandboxed))
    line = _failing(
        outcome,
        "database",
        "the database holds Lazada sandbox data, not real Lazada data",
        "give the real bot a database of its own",
        "DATABASE_URL",
    )
    assert "SANDBOX_DATABASE_URL" not in line
    assert outcome.line("lazada store main").startswith("✗ lazada store main: not checked: the database")
    assert await _kind_of(sandboxed) is DatabaseKind.SANDBOX

    real = await _database_of_kind(rig.tmp_path / "real.sqlite3", DatabaseKind.LAZADA)
    outcome = await check(rig.settings(sandbox_database_url=real), "--sandbox")
    _failing(
        outcome,
        "database",
        "the database holds real Lazada data, not Lazada sandbox data",
        "give --sandbox runs a database of their own",
        "SANDBOX_DATABASE_URL",
    )
    assert await _kind_of(real) is DatabaseKind.LAZADA

    same = await check(rig.settings(database_url=real))
    assert same.line("database").startswith("✓ database: "), "a database of the run's own kind passes"


async def test_check_says_nothing_of_the_kind_before_the_schema_records_it(rig: Rig, check: Check) -> None:
    url = default_sqlite_url(rig.tmp_path / "old.sqlite3")
    await upgrade_to_head(url, "0004")
    outcome = await check(rig.settings(sandbox_database_url=url), "--sandbox")
    line = outcome.line("database")
    assert line.startswith("⚠ database: ")
    assert f"would upgrade 0004 → {head_revision()}" in line
    assert "holds" not in line
    assert await current_revision(url) == "0004", "check never migrates"


async def test_check_without_sandbox_needs_the_lazada_app(rig: Rig, check: Check) -> None:
    outcome = await check(rig.settings(lazada_app_key=None, lazada_app_secret=None))
    _failing(outcome, "settings", "LAZADA_APP_KEY, LAZADA_APP_SECRET")


async def test_check_finds_a_store_nobody_can_approve(rig: Rig, check: Check) -> None:
    outcome = await check(rig.settings(approvers=[]))
    _failing(outcome, "stores", "store main has no approvers", "APPROVERS")
    assert outcome.failed() == ["stores"]


async def test_check_warns_of_a_store_without_digest_channel(rig: Rig, check: Check) -> None:
    outcome = await check(rig.settings(digest_channel=None))
    assert outcome.code == 0
    assert outcome.warned() == ["stores"]
    assert outcome.line("stores") == (
        "⚠ stores: 1 store: main (sg); store main has no digest channel, so its daily digest is not posted\n"
        "    → set DIGEST_CHANNEL (a channel ID), or digest_channel per store"
    )


async def test_check_warns_of_a_store_without_approval_channel(rig: Rig, check: Check) -> None:
    outcome = await check(rig.settings(approval_channel=None))
    assert outcome.code == 0
    assert outcome.warned() == ["stores"]
    assert outcome.line("stores") == (
        "⚠ stores: 1 store: main (sg); store main has no approval channel, so buyers' cancellation requests are not "
        "looked for; main's requests are posted where /cancel-order runs\n"
        "    → set APPROVAL_CHANNEL (a channel ID), or approval_channel per store"
    )


async def test_check_reports_a_broken_stores_file(rig: Rig, check: Check) -> None:
    broken = rig.tmp_path / "stores.toml"
    broken.write_text("[[stores]]\ncode = 'Not A Code'\ncountry = 'sg'\n")
    outcome = await check(rig.settings(stores_file=broken))
    _failing(outcome, "stores", "STORES_FILE")


async def test_check_reports_an_unreachable_database(rig: Rig, check: Check) -> None:
    url = default_sqlite_url(rig.tmp_path / "no-such-folder" / "bot.sqlite3")
    outcome = await check(rig.settings(database_url=url))
    _failing(outcome, "database", "cannot reach", "DATABASE_URL")
    assert outcome.line("lazada store main").startswith("✗ lazada store main: not checked: the database")


@pytest.mark.postgres
async def test_check_asks_for_db_upgrade_on_an_old_postgres_schema(rig: Rig, check: Check, postgres_url: str) -> None:
    await upgrade_to_head(postgres_url, "0001")
    outcome = await check(rig.settings(database_url=postgres_url))
    line = _failing(outcome, "database", "schema at 0001", "cancel-order-bot db upgrade")
    assert f"it would upgrade 0001 → {head_revision()}" in line
    assert await current_revision(postgres_url) == "0001", "check never migrates"


async def test_check_never_creates_a_sqlite_database(rig: Rig, check: Check) -> None:
    path = rig.tmp_path / "new.sqlite3"
    outcome = await check(rig.settings(database_url=default_sqlite_url(path)))
    assert outcome.code == 0
    assert outcome.warned() == ["database"]
    assert "does not exist yet; `cancel-order-bot db upgrade` (or the bot at start) would create it" in (
        outcome.line("database")
    )
    assert outcome.line("lazada store main").startswith("✓ "), "the settings' token is checked all the same"
    assert not path.exists()


async def test_check_says_what_db_upgrade_would_do_to_an_old_sqlite_file(rig: Rig, check: Check) -> None:
    url = default_sqlite_url(rig.tmp_path / "old.sqlite3")
    await upgrade_to_head(url, "0002")
    outcome = await check(rig.settings(database_url=url))
    assert outcome.warned() == ["database"]
    assert f"would upgrade 0002 → {head_revision()}" in outcome.line("database")
    assert await current_revision(url) == "0002"


async def test_check_reports_a_revoked_bot_token(rig: Rig, check: Check) -> None:
    outcome = await check(rig.settings(slack_bot_token=SecretStr("xoxb-revoked")))
    _failing(outcome, "slack auth", "invalid_auth", "SLACK_BOT_TOKEN", "OAuth & Permissions")
    assert "slack scopes" not in outcome.out, "the other Slack checks need a working token"
    assert "xoxb-revoked" not in outcome.out


async def test_check_reports_unreachable_slack(rig: Rig, check: Check) -> None:
    outcome = await check(rig.settings(slack_api_url="http://127.0.0.1:9/api/"))
    _failing(outcome, "slack auth", "SLACK_API_URL")


async def test_check_lists_scopes_the_token_lacks(world_server: SandboxServer, tmp_path: Path, check: Check) -> None:
    workspace = FakeWorkspace.default()
    workspace = workspace.with_scopes(*(s for s in workspace.scopes if s not in {"usergroups:read", "files:write"}))
    async for rig in _rig(world_server, tmp_path, workspace):
        outcome = await check(rig.settings())
        _failing(outcome, "slack scopes", "lacks usergroups:read, files:write", "reinstall")
        _failing(outcome, "approver group S0APPROVERS", "missing_scope", "usergroups:read")


async def test_check_reads_the_scopes_from_the_manifest_it_is_given(rig: Rig, check: Check) -> None:
    manifest = rig.tmp_path / "manifest.yml"
    manifest.write_text("oauth_config:\n  scopes:\n    bot: [commands, chat:write, reactions:write]\n")
    outcome = await check(rig.settings(), "--manifest", str(manifest))
    _failing(outcome, "slack scopes", "lacks reactions:write")
    missing = await check(rig.settings(), "--manifest", str(rig.tmp_path / "nowhere.yml"))
    _failing(missing, "slack scopes", "manifest.yml was not found", "--manifest")


async def test_check_finds_a_channel_without_the_bot(rig: Rig, check: Check) -> None:
    rig.slack.remove_bot_from("C0OPS")
    outcome = await check(rig.settings())
    _failing(outcome, "channel C0OPS", "not a member of #order-ops", "/invite")
    assert outcome.failed() == ["channel C0OPS"]


@pytest.mark.parametrize(
    ("channel", "words"),
    [
        ("C0NOPE", ("channel_not_found", "invite the bot first")),
        ("#order-ops", ("is not a channel ID", "channel ID (C…)")),
        ("C0SECRET", ("channel_not_found",)),
    ],
)
async def test_check_finds_a_wrong_channel(rig: Rig, check: Check, channel: str, words: tuple[str, ...]) -> None:
    outcome = await check(rig.settings(digest_channel=channel))
    _failing(outcome, f"channel {channel}", "digest channel of main", *words)


async def test_check_finds_a_wrong_approver_group(rig: Rig, check: Check) -> None:
    outcome = await check(rig.settings(approvers=["S0NOPE", "U0NOBODY"]))
    _failing(outcome, "approver group S0NOPE", "no_such_subteam", "APPROVERS")
    _failing(outcome, "approver U0NOBODY", "user_not_found")


async def test_check_finds_an_empty_approver_group(world_server: SandboxServer, tmp_path: Path, check: Check) -> None:
    workspace = FakeWorkspace.default().with_usergroup("S0EMPTY", (), handle="nobody")
    async for rig in _rig(world_server, tmp_path, workspace):
        outcome = await check(rig.settings(approvers=["S0EMPTY"]))
        _failing(outcome, "approver group S0EMPTY", "no members")


async def test_check_finds_a_store_without_token(rig: Rig, check: Check) -> None:
    outcome = await check(rig.settings(lazada_access_token=None, lazada_refresh_token=None))
    _failing(outcome, "lazada store main", "no Lazada token", "cancel-order-bot lazada auth-url --store main")
    assert outcome.failed() == ["lazada store main"]
    assert rig.world.call_count("/orders/get") == 0


async def test_check_finds_a_token_lazada_refuses(rig: Rig, check: Check) -> None:
    rig.world.expire_access_token()
    rig.world.expire_refresh_token()
    outcome = await check(rig.settings())
    _failing(outcome, "lazada store main", "Lazada refused the token", "authorize the store again")


async def test_check_renews_an_expired_access_token_on_its_read(rig: Rig, check: Check) -> None:
    rig.world.expire_access_token()
    outcome = await check(rig.settings())
    assert outcome.line("lazada store main").startswith("✓ ")
    assert rig.world.call_count("/auth/token/refresh", code="0") == 1
    async with Database.from_url(rig.settings().database_url) as db:
        stored = await DbTokenStore(db).load("main")
    assert stored is not None
    assert stored.access_token.get_secret_value() == rig.world.access_token


async def test_check_reports_unreachable_lazada(rig: Rig, check: Check) -> None:
    outcome = await check(rig.settings(lazada_api_url="http://127.0.0.1:9/rest"))
    _failing(outcome, "lazada store main", "did not answer at http://127.0.0.1:9/rest", "LAZADA_API_URL")


def test_manifest_is_found_and_read_like_yaml() -> None:
    text = find_manifest()
    assert text is not None
    assert manifest_bot_scopes(text) == MANIFEST_SCOPES
    assert "usergroups:read" in MANIFEST_SCOPES


@pytest.mark.parametrize(
    "text",
    [
        "oauth_config:\n  scopes:\n    bot:\n      - commands\n      - 'chat:write'  # posting\n    user:\n      - x\n",
        'oauth_config:\n  scopes:\n    bot:\n    - commands\n    - "chat:write"\n    user: [x]\n',
        "# bot:\n#  - nope\noauth_config:\n  scopes:\n    bot: [commands, 'chat:write']\nsettings:\n  bot:\n    - y\n",
        "features:\n  bot_user:\n    display_name: x\noauth_config:\n  redirect_urls:\n    - https://x\n"
        "  scopes:\n    bot:\n      - commands\n      - chat:write\n",
    ],
)
def test_manifest_scopes_reader_agrees_with_yaml(text: str) -> None:
    assert manifest_bot_scopes(text) == tuple(yaml.safe_load(text)["oauth_config"]["scopes"]["bot"])


def test_check_result_prints_the_fix_under_a_failure() -> None:
    assert CheckResult("database", True, "fine", "unused").lines() == ["✓ database: fine"]
    assert CheckResult("database", False, "down", "start it").lines() == ["✗ database: down", "    → start it"]
