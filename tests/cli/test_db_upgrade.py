"""PostgreSQL is migrated as a deploy step (`db upgrade`); the SQLite default upgrades itself."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.store.migrate import current_revision, head_revision, upgrade_to_head
from cancel_order_bot.__main__ import main
from cancel_order_bot.cli.commands import describe_upgrade


def _env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LAZADA_APP_KEY", "100100")
    monkeypatch.setenv("LAZADA_APP_SECRET", "sandbox-app-secret")


@pytest.mark.postgres
def test_postgres_needs_db_upgrade_first(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _env(monkeypatch, postgres_url)
    monkeypatch.chdir(tmp_path)
    assert main(["lazada", "status"]) == 2
    assert "db upgrade" in capsys.readouterr().err

    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out == f"created the schema at {head_revision()}\n"
    assert main(["lazada", "status"]) == 0
    assert "main (sg): not authorized" in capsys.readouterr().out


async def test_db_upgrade_says_what_it_did(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    await upgrade_to_head(sqlite_url, "0003")
    assert await asyncio.to_thread(main, ["db", "upgrade"]) == 0
    assert capsys.readouterr().out == f"upgraded 0003 → {head_revision()}\n"
    assert await asyncio.to_thread(main, ["db", "upgrade"]) == 0
    assert capsys.readouterr().out == f"already at {head_revision()}\n"


def test_describe_upgrade_names_each_case() -> None:
    assert describe_upgrade(None, "0004") == "created the schema at 0004"
    assert describe_upgrade("0003", "0004") == "upgraded 0003 → 0004"
    assert describe_upgrade("0004", "0004") == "already at 0004"


async def test_sqlite_default_upgrades_itself(sqlite_url: str) -> None:
    from bot.services import open_services
    from bot.settings import Settings

    assert await current_revision(sqlite_url) is None
    async with open_services(
        Settings(_env_file=None, database_url=sqlite_url, lazada_app_key="k", lazada_app_secret=SecretStr("s"))
    ):
        pass
    assert await current_revision(sqlite_url) == head_revision()
