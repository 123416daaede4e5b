"""PostgreSQL is migrated as a deploy step (`db upgrade`); the SQLite default upgrades itself."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from bot.store.migrate import current_revision, head_revision
from cancel_order_bot.__main__ import main


def _env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("LAZADA_APP_KEY", "100100")
    monkeypatch.setenv("LAZADA_APP_SECRET", "sandbox-app-secret")


@pytest.mark.postgres
def test_postgres_needs_db_upgrade_first(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _env(monkeypatch, postgres_url)
    assert main(["--env-file", "/nonexistent", "lazada", "status"]) == 2
    assert "db upgrade" in capsys.readouterr().err

    assert main(["--env-file", "/nonexistent", "db", "upgrade"]) == 0
    assert main(["--env-file", "/nonexistent", "lazada", "status"]) == 0
    assert "main (sg): not authorized" in capsys.readouterr().out


async def test_sqlite_default_upgrades_itself(sqlite_url: str) -> None:
    from bot.services import open_services
    from bot.settings import Settings

    assert await current_revision(sqlite_url) is None
    async with open_services(
        Settings(_env_file=None, database_url=sqlite_url, lazada_app_key="k", lazada_app_secret=SecretStr("s"))
    ):
        pass
    assert await current_revision(sqlite_url) == head_revision()
