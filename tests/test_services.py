"""The services' wiring: which Lazada token wins at start."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from bot.lazada.tokens import StoredTokens
from bot.services import open_services
from bot.settings import Settings
from bot.store import default_sqlite_url


def _settings(database: Path, access_token: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=default_sqlite_url(database),
        lazada_app_key="100100",
        lazada_app_secret=SecretStr("app-secret"),
        lazada_access_token=SecretStr(access_token),
        store_code="main",
        stores_file=None,
    )


async def _token_at_start(database: Path, access_token: str) -> str:
    async with open_services(_settings(database, access_token)) as services:
        stored = await services.tokens.load("main")
    assert stored is not None
    return stored.access_token.get_secret_value()


async def test_a_token_given_in_the_settings_wins_over_an_older_stored_one(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    assert await _token_at_start(database, "token-a") == "token-a"
    async with open_services(_settings(database, "token-a")) as services:
        await services.tokens.save("main", StoredTokens(access_token=SecretStr("token-a-refreshed")))

    assert await _token_at_start(database, "token-a") == "token-a-refreshed", "the refreshed one is newer"
    assert await _token_at_start(database, "token-b") == "token-b", "a new token in the settings is newer"
    assert await _token_at_start(database, "token-b") == "token-b"
