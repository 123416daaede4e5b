"""`lazada auth-url|exchange|status` against the sandbox's token endpoints, served over HTTP on a free port."""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import SecretStr

from bot.lazada.tokens import StoredTokens
from bot.services import open_services
from bot.settings import Settings
from bot.store import Database, DbTokenStore, default_sqlite_url
from cancel_order_bot.cli.lazada_auth import add_parser, authorize_url, consent_url, run
from cancel_order_bot.sandbox import (
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_APP_KEY,
    SANDBOX_APP_SECRET,
    SandboxServer,
    SandboxWorld,
)
from cancel_order_bot.sandbox.world import ACCESS_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME

REDIRECT_URI = "https://ops.example.com/lazada/callback"


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    """A sandbox seller on the real clock, served on a free port."""
    async with SandboxServer(SandboxWorld(), port=0) as served:
        yield served


@pytest.fixture
def world(server: SandboxServer) -> SandboxWorld:
    """The served sandbox's seller."""
    return server.world


def _settings(server: SandboxServer, tmp_path: Path, **overrides: Any) -> Settings:
    base_url = server.base_url
    values: dict[str, Any] = {
        "lazada_app_key": SANDBOX_APP_KEY,
        "lazada_app_secret": SecretStr(SANDBOX_APP_SECRET),
        "lazada_api_url": base_url,
        "lazada_auth_url": base_url,
        "lazada_redirect_uri": REDIRECT_URI,
        "database_url": default_sqlite_url(tmp_path / "bot.sqlite3"),
        "store_code": "main",
        "lazada_country": "sg",
        **overrides,
    }
    return Settings(_env_file=None, **values)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="cancel-order-bot")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["lazada", *argv])


async def _stored(settings: Settings, store_code: str = "main") -> StoredTokens | None:
    async with Database.from_url(settings.database_url) as db:
        return await DbTokenStore(db).load(store_code)


def test_authorize_url_sits_next_to_the_token_api() -> None:
    assert authorize_url("https://auth.lazada.com/rest") == "https://auth.lazada.com/oauth/authorize"
    assert authorize_url("https://auth.lazada.com/rest/") == "https://auth.lazada.com/oauth/authorize"
    assert authorize_url("http://127.0.0.1:8765/rest") == "http://127.0.0.1:8765/oauth/authorize"


def test_consent_url_is_lazadas_documented_shape() -> None:
    url = consent_url(auth_url="https://auth.lazada.com/rest", app_key="100100", redirect_uri=REDIRECT_URI, state="s1")
    assert url == (
        "https://auth.lazada.com/oauth/authorize?response_type=code&force_auth=true"
        "&redirect_uri=https%3A%2F%2Fops.example.com%2Flazada%2Fcallback&client_id=100100&state=s1"
    )


async def test_auth_url_prints_the_consent_address_and_its_state(
    server: SandboxServer, world: SandboxWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(server, tmp_path)
    assert await run(_args("auth-url", "--store", "main"), settings) == 0
    first = capsys.readouterr().out
    assert await run(_args("auth-url"), settings) == 0
    second = capsys.readouterr().out

    lines = first.splitlines()
    url = next(line for line in lines if line.startswith("http"))
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == authorize_url(server.base_url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    state = next(line for line in lines if line.startswith("state: ")).removeprefix("state: ")
    assert query == {
        "response_type": "code",
        "force_auth": "true",
        "redirect_uri": REDIRECT_URI,
        "client_id": SANDBOX_APP_KEY,
        "state": state,
    }
    assert len(state) >= 16
    assert "must carry exactly this state" in first
    assert "cancel-order-bot lazada exchange --store main CODE" in first
    assert "within 30 minutes" in first
    assert state not in second, "every consent address gets a new random state"
    assert SANDBOX_APP_SECRET not in first


async def test_auth_url_names_the_missing_redirect_uri(
    server: SandboxServer, world: SandboxWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await run(_args("auth-url"), _settings(server, tmp_path, lazada_redirect_uri=None))
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "LAZADA_REDIRECT_URI" in captured.err
    assert "App Console" in captured.err


async def test_auth_url_asks_which_store_when_several_are_configured(
    server: SandboxServer, world: SandboxWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stores = tmp_path / "stores.toml"
    stores.write_text('[[stores]]\ncode = "sg-main"\ncountry = "sg"\n\n[[stores]]\ncode = "th-main"\ncountry = "th"\n')
    settings = _settings(server, tmp_path, stores_file=stores)
    assert await run(_args("auth-url"), settings) == 2
    assert "pass --store with one of: sg-main, th-main" in capsys.readouterr().err
    assert await run(_args("auth-url", "--store", "nowhere"), settings) == 2
    assert "unknown store 'nowhere'" in capsys.readouterr().err
    assert await run(_args("auth-url", "--store", "th-main"), settings) == 0
    assert "Store th-main (th)" in capsys.readouterr().out


async def test_exchange_trades_the_code_for_tokens_and_stores_them(
    server: SandboxServer, world: SandboxWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(server, tmp_path)
    code = world.issue_auth_code()
    assert await run(_args("exchange", "--store", "main", code), settings) == 0
    out = capsys.readouterr().out

    tokens = await _stored(settings)
    assert tokens is not None
    assert tokens.access_token.get_secret_value() == world.access_token
    assert tokens.refresh_token is not None
    assert tokens.refresh_token.get_secret_value() == world.refresh_token
    assert tokens.seller_id == world.seller_id
    assert tokens.account == world.account
    assert tokens.access_expires_at is not None
    assert tokens.refresh_expires_at is not None
    lifetime = tokens.refresh_expires_at - tokens.access_expires_at
    assert abs(lifetime - (REFRESH_TOKEN_LIFETIME - ACCESS_TOKEN_LIFETIME)) < timedelta(seconds=5)
    assert world.call_count("/auth/token/create", code="0") == 1

    assert f"authorized seller {world.seller_id} ({world.account}), country sg" in out
    assert "access token  expires" in out
    assert "refresh token expires" in out
    assert world.access_token not in out
    assert world.refresh_token not in out
    assert code not in out


async def test_exchange_accepts_the_whole_returned_address(
    server: SandboxServer, world: SandboxWorld, tmp_path: Path
) -> None:
    settings = _settings(server, tmp_path)
    code = world.issue_auth_code()
    assert await run(_args("exchange", f"{REDIRECT_URI}?code={code}&state=abc"), settings) == 0
    tokens = await _stored(settings)
    assert tokens is not None
    assert tokens.access_token.get_secret_value() == world.access_token


async def test_exchange_refuses_a_used_code_and_keeps_the_tokens(
    server: SandboxServer, world: SandboxWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(server, tmp_path)
    code = world.issue_auth_code()
    assert await run(_args("exchange", code), settings) == 0
    first_token = world.access_token
    capsys.readouterr()

    assert await run(_args("exchange", code), settings) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "store main:" in captured.err
    assert "a code works once, within 30 minutes" in captured.err
    assert code not in captured.err
    tokens = await _stored(settings)
    assert tokens is not None
    assert tokens.access_token.get_secret_value() == first_token


async def test_exchange_warns_when_the_seller_is_in_another_country(
    server: SandboxServer, world: SandboxWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(server, tmp_path, lazada_country="th")
    assert await run(_args("exchange", world.issue_auth_code()), settings) == 0
    assert "authorized a seller in 'sg', but store main is configured for 'th'" in capsys.readouterr().err


async def test_status_shows_each_store_seller_expiry_and_last_success(
    server: SandboxServer, world: SandboxWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(server, tmp_path)
    assert await run(_args("status"), settings) == 0
    before = capsys.readouterr().out
    assert before.splitlines()[0] == "main (sg): not authorized"
    assert "cancel-order-bot lazada auth-url --store main" in before

    assert await run(_args("exchange", world.issue_auth_code()), settings) == 0
    assert await run(_args("status"), settings) == 0
    text = capsys.readouterr().out.split("main (sg): ok", 1)[1]
    assert f"seller         {world.seller_id} ({world.account}), country sg" in text
    assert "access token   expires" in text
    assert "(in 9 d)" in text or "(in 10 d)" in text
    assert "refresh token  expires" in text
    assert "(in 49 d)" in text or "(in 50 d)" in text
    assert "last success   never" in text

    async with open_services(settings) as services:
        page = await services.clients["main"].get_orders(created_after=services.clock() - timedelta(days=1))
        assert page.orders == ()
    assert await run(_args("status", "--json"), settings) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 1
    status = data[0]
    assert status["store"] == "main"
    assert status["configured"] is True
    assert status["country"] == "sg"
    assert status["health"] == "ok"
    assert status["seller_id"] == world.seller_id
    assert status["token_country"] == "sg"
    assert status["last_success_at"] is not None
    assert status["access_expires_at"] < status["refresh_expires_at"]
    assert status["last_refresh_error"] is None
    dumped = json.dumps(data)
    assert world.access_token not in dumped
    assert world.refresh_token not in dumped


async def test_status_shows_a_quick_start_token_and_tokens_of_removed_stores(
    server: SandboxServer, world: SandboxWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _settings(server, tmp_path, store_code="old")
    assert await run(_args("exchange", world.issue_auth_code()), old) == 0
    settings = _settings(server, tmp_path, lazada_access_token=SecretStr(SANDBOX_ACCESS_TOKEN))
    capsys.readouterr()
    assert await run(_args("status"), settings) == 0
    out = capsys.readouterr().out
    assert "main (sg): ok" in out
    assert "access token   expires unknown" in out
    assert "refresh token  none (the access token cannot be renewed)" in out
    assert "old (not configured any more): ok" in out
    assert SANDBOX_ACCESS_TOKEN not in out
