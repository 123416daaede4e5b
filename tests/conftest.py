"""Shared fixtures: `db_url` (an empty database) and `database` (a migrated one), on SQLite and PostgreSQL.

Both are parametrized over the two backends. SQLite is a file in the test's temporary directory. PostgreSQL
runs when `TEST_DATABASE_URL` is set (skipped otherwise, or failed when `REQUIRE_POSTGRES=1`), each test in
a fresh schema that is dropped afterwards, so parallel runs never see each other's rows.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import structlog
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bot.store import Database, create_engine, default_sqlite_url, upgrade_to_head

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _postgres_base_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    message = "PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        pytest.fail(f"REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set. {message}")
    pytest.skip(message)


async def _execute(url: str, statement: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The URL of an empty SQLite file."""
    return default_sqlite_url(tmp_path / "test.sqlite3")


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """The URL of an empty PostgreSQL schema of its own (`?search_path=`), dropped after the test."""
    base = _postgres_base_url()
    schema = f"t_{secrets.token_hex(8)}"
    await _execute(base, f'CREATE SCHEMA "{schema}"')
    try:
        yield make_url(base).update_query_dict({"search_path": schema}).render_as_string(hide_password=False)
    finally:
        await _execute(base, f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty database, once per backend."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    """A `Database` on `db_url`, migrated to the newest schema."""
    await upgrade_to_head(db_url)
    db = Database.from_url(db_url)
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Undo what an in-process CLI run does to logging (root handlers, logger levels, structlog's config)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in list(logging.root.manager.loggerDict)}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)
    for name in set(logging.root.manager.loggerDict) - set(levels):
        logging.getLogger(name).setLevel(logging.NOTSET)
    structlog.reset_defaults()
