"""The one place that picks the dialect's `INSERT … ON CONFLICT` (Core has no dialect-neutral form)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["dialect_insert", "insert_ignore", "insert_or_update"]


def dialect_insert(conn: AsyncConnection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """The INSERT of `conn`'s dialect for `table`, the one with ON CONFLICT clauses."""
    # Each dialect's module is imported here, where it is already loaded: a process loads only its own dialect.
    name = conn.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    if name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect: {name}")


async def insert_ignore(
    conn: AsyncConnection, table: sa.Table, values: Mapping[str, Any], *, conflict: Sequence[str]
) -> bool:
    """Insert one row unless one with the same `conflict` columns exists; True if this call inserted it."""
    statement = dialect_insert(conn, table).values(dict(values)).on_conflict_do_nothing(index_elements=list(conflict))
    result = await conn.execute(statement)
    return result.rowcount == 1


async def insert_or_update(
    conn: AsyncConnection,
    table: sa.Table,
    values: Mapping[str, Any],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert one row, or update the `update` columns of the row with the same `conflict` columns."""
    statement = dialect_insert(conn, table).values(dict(values))
    statement = statement.on_conflict_do_update(
        index_elements=list(conflict), set_={name: statement.excluded[name] for name in update}
    )
    await conn.execute(statement)
