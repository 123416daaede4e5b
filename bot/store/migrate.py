"""Schema migrations run from code (no `alembic.ini`): `upgrade_to_head(url)` for the CLI and start-up.

Alembic (and Mako, which it loads) is imported only when a migration runs: a start on an up-to-date schema
reads the revision with one query and compares it with the newest migration's file name.
"""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from bot.store.db import create_engine

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["alembic_config", "current_revision", "head_revision", "upgrade_to_head"]

_MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Any fixed 64-bit number; replicas use the same one so only one of them migrates at a time.
_ADVISORY_LOCK_KEY = 7_304_381_295_114_720_041
_VERSION_TABLE = "alembic_version"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic `Config` for the bot's migrations, built in code; `url` is needed only by the Alembic CLI path."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration's revision id: each migration's file name starts with its revision (`0005_….py`)."""
    revisions = [path.name.split("_", 1)[0] for path in (_MIGRATIONS / "versions").glob("[0-9]*_*.py")]
    if not revisions:
        raise RuntimeError(f"no migrations found in {_MIGRATIONS}")
    return max(revisions)


async def upgrade_to_head(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision` (default: the newest); a no-op when it is there already.

    On PostgreSQL a session-level `pg_advisory_lock` is held on the migration connection, so replicas
    starting together migrate one after the other; on SQLite `BEGIN IMMEDIATE` serializes them.
    """
    if revision == "head" and await current_revision(url) == head_revision():
        return
    async with _sqlite_file_lock(url):
        await _upgrade_locked(url, revision)


@asynccontextmanager
async def _sqlite_file_lock(url: str) -> AsyncIterator[None]:
    """On a SQLite file, hold an exclusive lock on `<file>.migrate-lock` while migrating.

    Alembic reads the current revision and runs each migration in steps; SQLite's write lock alone does not
    keep two processes from both deciding to run the same step, so they queue on a file lock (one host only,
    which is all SQLite supports anyway).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        yield
        return
    lock_path = Path(parsed.database).with_name(Path(parsed.database).name + ".migrate-lock")
    with lock_path.open("a") as handle:
        await asyncio.to_thread(fcntl.flock, handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


async def _upgrade_locked(url: str, revision: str) -> None:
    # NullPool: the connection really closes at the end, so even a failed run cannot leave the lock held.
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            locked = conn.dialect.name == "postgresql"
            if locked:
                await conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": _ADVISORY_LOCK_KEY})
                await conn.commit()
            await conn.run_sync(_upgrade, revision)
            await conn.commit()
            if locked:
                await conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _ADVISORY_LOCK_KEY})
                await conn.commit()
    finally:
        await engine.dispose()


def _upgrade(connection: Connection, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at, or None if it was never migrated."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current)
    finally:
        await engine.dispose()


def _current(connection: Connection) -> str | None:
    # What Alembic's MigrationContext reads, without importing Alembic.
    if not sa.inspect(connection).has_table(_VERSION_TABLE):
        return None
    versions = connection.execute(sa.text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalars().all()  # noqa: S608
    return versions[0] if len(versions) == 1 else None
