"""Engine and transactions: one async code path for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

__all__ = ["BUSY_TIMEOUT_MS", "Database", "create_engine", "default_sqlite_url"]

BUSY_TIMEOUT_MS = 15_000
_READ_ONLY = "bot_store_read_only"
_SEARCH_PATH = "search_path"


def default_sqlite_url(path: str | os.PathLike[str]) -> str:
    """Return the aiosqlite URL of the SQLite file at `path`."""
    return URL.create("sqlite+aiosqlite", database=os.fspath(Path(path))).render_as_string()


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """Create the async engine for `url` (`sqlite+aiosqlite:///file` or `postgresql+asyncpg://…`).

    SQLite connections get WAL, a 15 s busy timeout and foreign keys, and every transaction opened with
    `Database.begin` starts with `BEGIN IMMEDIATE`, so a read-then-write transaction waits for the write
    lock up front instead of failing with "database is locked" half-way. A PostgreSQL URL may carry
    `?search_path=schema`, which is sent as a server setting (used by the tests to isolate a run).
    `options` go to `create_async_engine` (e.g. `poolclass`).
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, options)
    if backend == "postgresql":
        return _postgresql_engine(parsed, options)
    raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}: use sqlite+aiosqlite or postgresql")


def _sqlite_engine(url: URL, options: dict[str, Any]) -> AsyncEngine:
    if url.get_driver_name() != "aiosqlite":
        raise ValueError("SQLite URLs must use the async driver: sqlite+aiosqlite:///path/to/file.sqlite3")
    if url.database in (None, "", ":memory:"):
        raise ValueError("an in-memory SQLite database is not shared between connections; give a file path")
    engine = create_async_engine(url, **options)
    event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
    event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Take transaction control away from the driver, which would otherwise defer BEGIN and emit its own.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _on_sqlite_begin(conn: Connection) -> None:
    if conn.get_execution_options().get(_READ_ONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _postgresql_engine(url: URL, options: dict[str, Any]) -> AsyncEngine:
    if url.get_driver_name() != "asyncpg":
        raise ValueError("PostgreSQL URLs must use the async driver: postgresql+asyncpg://user@host/db")
    options = {"pool_pre_ping": True, **options}
    connect_args: dict[str, Any] = dict(options.pop("connect_args", {}))
    search_path = url.query.get(_SEARCH_PATH)
    if search_path is not None:
        value = search_path if isinstance(search_path, str) else ",".join(search_path)
        connect_args["server_settings"] = {**connect_args.get("server_settings", {}), "search_path": value}
        url = url.difference_update_query([_SEARCH_PATH])
    return create_async_engine(url, connect_args=connect_args, **options)


class Database:
    """An async engine with the two kinds of transaction the store uses: `begin()` to write, `read()` to read.

    Keep every transaction short and never hold one across an HTTP call: on SQLite a writer blocks all
    other writers.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> Self:
        """Create a `Database` for `url` (see `create_engine`)."""
        return cls(create_engine(url))

    @property
    def dialect_name(self) -> str:
        """`"sqlite"` or `"postgresql"`."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction, committed on success and rolled back on an exception (`BEGIN IMMEDIATE` on SQLite)."""
        async with self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction (plain deferred `BEGIN` on SQLite, `READ ONLY` on PostgreSQL)."""
        async with self.engine.connect() as conn:
            if self.dialect_name == "postgresql":
                await conn.execution_options(postgresql_readonly=True)
            else:
                await conn.execution_options(**{_READ_ONLY: True})
            async with conn.begin():
                yield conn

    async def ping(self) -> None:
        """Run `SELECT 1`; raises if the database cannot be reached."""
        async with self.read() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
