"""DbTokenStore: the database-backed `TokenStore` keeps each store's tokens and their health, secrets hidden."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from bot.lazada.tokens import StoredTokens, TokenStore
from bot.store import Database, DbTokenStore
from tests.store.factories import NOW

TOKENS = StoredTokens(
    access_token=SecretStr("access-secret-1"),
    refresh_token=SecretStr("refresh-secret-1"),
    access_expires_at=NOW + timedelta(days=7),
    refresh_expires_at=NOW + timedelta(days=30),
    seller_id="1000123",
    account="ops@example.com",
    country="sg",
)


def _clock() -> datetime:
    return NOW


async def test_save_then_load_round_trip(database: Database) -> None:
    store: TokenStore = DbTokenStore(database, clock=_clock)

    assert await store.load("main") is None
    await store.save("main", TOKENS)

    loaded = await store.load("main")
    assert loaded == TOKENS
    assert loaded is not None
    assert loaded.access_token.get_secret_value() == "access-secret-1"
    assert loaded.access_expires_at is not None
    assert loaded.access_expires_at.tzinfo is UTC


async def test_save_replaces_tokens_keeps_last_success_and_clears_the_error(database: Database) -> None:
    store = DbTokenStore(database, clock=_clock)
    await store.save("main", TOKENS)
    await store.record_success("main", NOW + timedelta(minutes=1))
    await store.record_refresh_error("main", "IllegalRefreshToken")
    refreshed = TOKENS.model_copy(update={"access_token": SecretStr("access-secret-2"), "refresh_token": None})

    await store.save("main", refreshed)

    assert await store.load("main") == refreshed
    [record] = await store.list_tokens()
    assert (record.store_code, record.updated_at) == ("main", NOW)
    assert (record.last_success_at, record.last_refresh_error) == (NOW + timedelta(minutes=1), None)


async def test_list_tokens_reports_health_without_showing_secrets(database: Database) -> None:
    store = DbTokenStore(database, clock=_clock)
    await store.save("second", TOKENS)
    await store.save("main", TOKENS)
    await store.record_refresh_error("second", "refresh token expired")
    await store.record_success("unknown", NOW)

    records = await store.list_tokens()

    assert [(r.store_code, r.last_success_at, r.last_refresh_error) for r in records] == [
        ("main", None, None),
        ("second", None, "refresh token expired"),
    ]
    assert "secret" not in repr(records)
