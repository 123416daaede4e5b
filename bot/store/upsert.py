"""The one place that picks the dialect's `INSERT … ON CONFLICT` (Core has no dialect-neutral form)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["insert_ignore", "insert_or_update"]


def _insert(conn: AsyncConnection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    name = conn.dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect: {name}")


async def insert_ignore(
    conn: AsyncConnection, table: sa.Table, values: Mapping[str, Any], *, conflict: Sequence[str]
) -> bool:
    """Insert one row unless one with the same `conflict` columns exists; True if this call inserted it."""
    statement = _insert(conn, table).values(dict(values)).on_conflict_do_nothing(index_elements=list(conflict))
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
    statement = _insert(conn, table).values(dict(values))
    statement = statement.on_conflict_do_update(
        index_elements=list(conflict), set_={name: statement.excluded[name] for name in update}
    )
    await conn.execute(statement)
