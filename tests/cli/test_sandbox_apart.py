"""The sandbox never touches real data: sandbox runs keep a database of their own, and each kind refuses the other's."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.store import create_engine
from cancel_order_bot.__main__ import main
from cancel_order_bot.demo.fake_slack import FakeSlack
from cancel_order_bot.sandbox import SANDBOX_APP_KEY, SANDBOX_APP_SECRET, SandboxServer, SandboxWorld, generate_history
from cancel_order_bot.sandbox.showcase import SHOWCASE
from tests.cli.socket_mode import run_until_started

REAL_TOKEN = "50000601a2b3c4d5e6real-test-token"
REAL_REFRESH = "50001601a2b3c4d5e6real-test-refresh"
SHOWCASE_IDS = {str(SHOWCASE.packed), str(SHOWCASE.pending), str(SHOWCASE.ready_to_ship), str(SHOWCASE.shipped)}


async def _rows(path: Path, query: str) -> list[tuple[object, ...]]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(sa.text(query))]
    finally:
        await engine.dispose()


async def _cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_readme_step_6_then_step_7_the_real_run_sees_none_of_the_sandboxs_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith(("SLACK_", "LAZADA_", "DATABASE_", "SANDBOX_", "STORES_"))]:
        monkeypatch.delenv(name)
    env_file = tmp_path / ".env"
    async with FakeSlack() as slack:
        env_file.write_text(
            f"SLACK_BOT_TOKEN={slack.bot_token}\nSLACK_APP_TOKEN={slack.app_token}\nSLACK_API_URL={slack.api_url}\n"
            "APPROVERS=S0APPROVERS\nAPPROVAL_CHANNEL=C0OPS\nLAZADA_CALLS_PER_SECOND=1000\n"
        )
        # README step 6: `run --sandbox` with that `.env` beside it.
        await run_until_started(
            [sys.executable, "-m", "cancel_order_bot", "run", "--sandbox"],
            env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
            cwd=tmp_path,
        )
    assert await _cli("digest", "--sandbox", "--json") == 0
    assert await _cli("order", "show", "--sandbox", str(SHOWCASE.pending)) == 0
    sandbox_db = tmp_path / "cancel-order-bot.sandbox.sqlite3"
    real_db = tmp_path / "cancel-order-bot.sqlite3"
    assert not real_db.exists(), "the sandbox wrote nothing into the real database"
    assert await _rows(sandbox_db, "SELECT access_token FROM lazada_tokens") == [("sandbox-access-token",)]
    sandbox_orders = {str(order_id) for (order_id,) in await _rows(sandbox_db, "SELECT order_id FROM digest_orders")}
    assert len(sandbox_orders) > 1000
    capsys.readouterr()

    # Step 7: the real Lazada, played by a second sandbox served over HTTP, with a token of its own.
    real = SandboxWorld(access_token=REAL_TOKEN, refresh_token=REAL_REFRESH, seller_id="2000000002")
    generate_history(real, seed=7, orders_per_day=3, days=45)
    async with SandboxServer(real, port=0) as server:
        with env_file.open("a") as env:
            env.write(
                f"LAZADA_APP_KEY={SANDBOX_APP_KEY}\nLAZADA_APP_SECRET={SANDBOX_APP_SECRET}\n"
                f"LAZADA_API_URL={server.base_url}\nLAZADA_AUTH_URL={server.base_url}\n"
                f"LAZADA_ACCESS_TOKEN={REAL_TOKEN}\nLAZADA_REFRESH_TOKEN={REAL_REFRESH}\n"
            )
        assert await _cli("lazada", "status") == 0
        status = capsys.readouterr().out
        assert await _cli("digest", "--json") == 0
        report = json.loads(capsys.readouterr().out)

    assert "main (sg): ok" in status
    assert "token in use   the one in the settings, saved now" in status
    assert await _rows(real_db, "SELECT access_token FROM lazada_tokens") == [(REAL_TOKEN,)]
    assert await _rows(real_db, "SELECT name, value FROM database_facts WHERE name = 'kind'") == [("kind", "lazada")]
    real_orders = {str(order_id) for (order_id,) in await _rows(real_db, "SELECT order_id FROM digest_orders")}
    assert real_orders, "the real digest read the real Lazada"
    assert all(real.has_order(int(order_id)) for order_id in real_orders)
    assert not real_orders & SHOWCASE_IDS
    assert report["orders"] <= len(real_orders) < len(sandbox_orders)


def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith(("LAZADA_", "DATABASE_", "SANDBOX_", "STORES_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("LAZADA_APP_KEY", SANDBOX_APP_KEY)
    monkeypatch.setenv("LAZADA_APP_SECRET", SANDBOX_APP_SECRET)


def test_sandbox_database_sits_beside_the_real_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _env(monkeypatch, tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bot.db'}")
    (tmp_path / "data").mkdir()

    assert main(["order", "show", "--sandbox", str(SHOWCASE.pending)]) == 0

    assert sorted(p.name for p in (tmp_path / "data").iterdir() if p.suffix == ".db") == ["bot.sandbox.db"]


@pytest.mark.parametrize(
    ("first", "then", "message"),
    [
        (
            ["order", "show", "--sandbox", str(SHOWCASE.pending)],
            ["lazada", "status"],
            "DATABASE_URL: the database holds Lazada sandbox data, not real Lazada data (a --sandbox run wrote it; "
            "give the real bot a database of its own)",
        ),
        (
            ["lazada", "status"],
            ["order", "show", "--sandbox", str(SHOWCASE.pending)],
            "SANDBOX_DATABASE_URL: the database holds real Lazada data, not Lazada sandbox data (give --sandbox runs "
            "a database of their own)",
        ),
    ],
)
def test_each_kind_of_run_refuses_the_others_database_in_one_line(
    first: list[str],
    then: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _env(monkeypatch, tmp_path)
    shared = f"sqlite+aiosqlite:///{tmp_path / 'shared.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", shared)
    monkeypatch.setenv("SANDBOX_DATABASE_URL", shared)
    assert main([*first]) == 0
    capsys.readouterr()

    assert main([*then]) == 2

    assert capsys.readouterr().err == f"cancel-order-bot: {message}\n"


def test_sandbox_beside_postgresql_needs_its_own_database_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _env(monkeypatch, tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://bot@db.invalid/bot")

    assert main(["order", "show", "--sandbox", str(SHOWCASE.pending)]) == 2

    assert "SANDBOX_DATABASE_URL" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
