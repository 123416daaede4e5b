"""Stored tokens and the in-memory token store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr, ValidationError

from bot.lazada.models import TokenGrant
from bot.lazada.tokens import MemoryTokenStore, StoredTokens, TokenStore

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_stored_tokens_from_grant_counts_lifetimes_from_now() -> None:
    grant = TokenGrant.model_validate(
        {
            "access_token": "access-1",
            "refresh_token": "refresh-1",
            "expires_in": "864000",
            "refresh_expires_in": 4320000,
            "country": "sg",
            "account": "seller@example.com",
            "country_user_info": [{"country": "sg", "seller_id": "1152180742"}],
        }
    )

    stored = StoredTokens.from_grant(grant, now=NOW)

    assert stored.access_expires_at == NOW + timedelta(days=10)
    assert stored.refresh_expires_at == NOW + timedelta(days=50)
    assert (stored.seller_id, stored.account, stored.country) == ("1152180742", "seller@example.com", "sg")
    assert "access-1" not in repr(stored)
    assert "refresh-1" not in repr(stored)


def test_stored_tokens_refuse_naive_expiry() -> None:
    with pytest.raises(ValidationError, match="access_expires_at"):
        StoredTokens(access_token=SecretStr("a"), access_expires_at=datetime(2026, 11, 20))


def test_stored_tokens_are_frozen() -> None:
    tokens = StoredTokens(access_token=SecretStr("a"))

    with pytest.raises(ValidationError, match="frozen"):
        tokens.country = "sg"  # type: ignore[misc]


async def test_memory_token_store_round_trip_and_successes() -> None:
    store: TokenStore = MemoryTokenStore()
    tokens = StoredTokens(access_token=SecretStr("a"), refresh_token=SecretStr("r"), country="sg")

    assert await store.load("SG-MAIN") is None
    await store.save("SG-MAIN", tokens)
    await store.record_success("SG-MAIN", NOW)

    assert await store.load("SG-MAIN") == tokens
    assert await store.load("MY-MAIN") is None
    assert isinstance(store, MemoryTokenStore)
    assert store.successes("SG-MAIN") == (NOW,)
    assert store.saves == 1
