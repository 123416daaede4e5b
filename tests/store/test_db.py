"""Engine set-up: URLs, SQLite's WAL + busy timeout + BEGIN IMMEDIATE, read-only reads, ping, UTC columns."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store import Database, create_engine, default_sqlite_url, upgrade_to_head
from bot.store.tables import processed_events

WRITERS = 6


def test_default_sqlite_url_points_at_the_file(tmp_path: Path) -> None:
    path = tmp_path / "dir with space" / "bot.sqlite3"

    url = make_url(default_sqlite_url(path))

    assert (url.drivername, url.database) == ("sqlite+aiosqlite", str(path))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///bot.sqlite3", "sqlite\\+aiosqlite"),
        ("sqlite+aiosqlite://", "in-memory"),
        ("sqlite+aiosqlite:///:memory:", "in-memory"),
        ("postgresql://postgres@localhost/test", "postgresql\\+asyncpg"),
        ("mysql+aiomysql://root@localhost/test", "unsupported"),
    ],
)
def test_create_engine_refuses_urls_it_cannot_serve(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_engine(url)


async def test_ping(database: Database) -> None:
    await database.ping()


async def test_ping_raises_when_the_database_is_unreachable() -> None:
    # A closed loopback port: no server needed. (A failing SQLite open is not used here: aiosqlite's worker
    # thread then reports to the event loop after the test has closed it.)
    db = Database.from_url("postgresql+asyncpg://postgres@127.0.0.1:1/test")
    try:
        with pytest.raises(OSError, match="Connect call failed"):
            await db.ping()
    finally:
        await db.close()


async def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(sqlite_url: str) -> None:
    async with Database.from_url(sqlite_url) as db, db.begin() as conn:
        pragmas = [
            (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar_one()
            for name in ("journal_mode", "busy_timeout", "foreign_keys")
        ]

    assert pragmas == ["wal", 15000, 1]


async def _counter_db(url: str) -> None:
    async with Database.from_url(url) as db, db.begin() as conn:
        await conn.exec_driver_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
        await conn.exec_driver_sql("INSERT INTO counter VALUES (0)")


async def _increment(db: Database) -> None:
    async with db.begin() as conn:
        n = (await conn.exec_driver_sql("SELECT n FROM counter")).scalar_one()
        await asyncio.sleep(0.02)
        await conn.exec_driver_sql(f"UPDATE counter SET n = {n + 1}")


async def test_sqlite_concurrent_read_then_write_transactions_wait_their_turn(sqlite_url: str) -> None:
    await _counter_db(sqlite_url)
    async with Database.from_url(sqlite_url) as first, Database.from_url(sqlite_url) as second:
        await asyncio.gather(*(_increment((first, second)[n % 2]) for n in range(WRITERS)))

        async with first.read() as conn:
            assert (await conn.exec_driver_sql("SELECT n FROM counter")).scalar_one() == WRITERS


def _deferred_sqlite_engine(url: str) -> Database:
    """What `create_engine` would be with a deferred `BEGIN`: the control that shows the test above can fail."""
    engine = create_async_engine(url)

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    return Database(engine)


async def test_sqlite_deferred_begin_would_fail_with_database_locked(sqlite_url: str) -> None:
    await _counter_db(sqlite_url)
    first, second = _deferred_sqlite_engine(sqlite_url), _deferred_sqlite_engine(sqlite_url)
    try:
        results = await asyncio.gather(
            *(_increment((first, second)[n % 2]) for n in range(WRITERS)), return_exceptions=True
        )
    finally:
        await first.close()
        await second.close()

    failures = [r for r in results if isinstance(r, OperationalError)]
    assert failures
    assert all("database is locked" in str(failure) for failure in failures)


async def test_sqlite_read_transactions_do_not_wait_for_a_writer(sqlite_url: str) -> None:
    await _counter_db(sqlite_url)
    async with Database.from_url(sqlite_url) as db, db.begin() as writer:
        await writer.exec_driver_sql("UPDATE counter SET n = 5")
        async with db.read() as reader:
            seen = (await reader.exec_driver_sql("SELECT n FROM counter")).scalar_one()

    assert seen == 0


async def test_postgres_read_transactions_are_read_only(postgres_url: str) -> None:
    await upgrade_to_head(postgres_url)
    async with Database.from_url(postgres_url) as db:
        with pytest.raises(DBAPIError, match="read-only"):
            async with db.read() as conn:
                await conn.execute(sa.insert(processed_events).values(event_id="E1", received_at=datetime.now(UTC)))
        async with db.begin() as conn:
            await conn.execute(sa.insert(processed_events).values(event_id="E1", received_at=datetime.now(UTC)))


async def test_postgres_search_path_in_the_url_selects_the_schema(postgres_url: str) -> None:
    async with Database.from_url(postgres_url) as db, db.read() as conn:
        schema = (await conn.execute(sa.text("SELECT current_schema()"))).scalar_one()

    assert schema == make_url(postgres_url).query["search_path"]


async def test_timestamps_come_back_as_the_same_instant_in_utc(database: Database) -> None:
    plus_seven = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=timezone(timedelta(hours=7)))
    async with database.begin() as conn:
        await conn.execute(sa.insert(processed_events).values(event_id="E1", received_at=plus_seven))
    async with database.read() as conn:
        stored = (await conn.execute(sa.select(processed_events.c.received_at))).scalar_one()
        cutoff = datetime(2026, 3, 28, 18, 31, tzinfo=UTC)
        query = sa.select(sa.func.count()).where(processed_events.c.received_at < cutoff)
        earlier = (await conn.execute(query)).scalar_one()

    assert stored == plus_seven
    assert stored.tzinfo is UTC
    assert stored.isoformat() == "2026-03-28T18:30:15.123456+00:00"
    assert earlier == 1
