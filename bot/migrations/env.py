"""Alembic environment: migrate the connection `bot.store.migrate` hands over, or the configured URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from bot.store.db import create_engine
from bot.store.tables import metadata


def run_on(connection: Connection) -> None:
    """Run the pending migrations on a synchronous connection (inside `AsyncConnection.run_sync`).

    On SQLite, foreign keys are off while the migrations run: batch mode changes a table (a CHECK constraint, say)
    by copying it to a new one and dropping the old, which a referenced table with rows cannot survive with them on.
    The pragma only takes effect outside a transaction, so it is set on the driver's connection before Alembic's
    begins and set back after it ends, and every foreign key is checked before the migration's transaction commits.
    """
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _sqlite_foreign_keys(connection, on=False)
    try:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {broken[:5]}")
        if sqlite:
            # Committed here rather than by the caller, so the connection leaves with its foreign keys on again.
            connection.commit()
    finally:
        if sqlite:
            if connection.in_transaction():
                connection.rollback()
            _sqlite_foreign_keys(connection, on=True)


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    """Switch SQLite's foreign keys on or off on the driver's connection (a no-op inside a transaction)."""
    if connection.in_transaction():
        raise RuntimeError("SQLite migrations must start outside a transaction (foreign keys cannot be switched)")
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


async def run_on_url(url: str) -> None:
    """Open the database at `url` and migrate it."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def run_offline(url: str) -> None:
    """Emit the migration SQL instead of running it (`alembic upgrade --sql`)."""
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    """Dispatch on how Alembic was invoked."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no database: pass a connection in Config.attributes or set sqlalchemy.url")
    if context.is_offline_mode():
        run_offline(url)
    else:
        asyncio.run(run_on_url(url))


main()
