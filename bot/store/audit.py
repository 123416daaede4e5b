"""The append-only audit log: rows are written only inside the transaction of the change they describe."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.models import AuditEntry
from bot.store.tables import audit_log

__all__ = ["SYSTEM_ACTOR", "read_trail", "write_audit"]

SYSTEM_ACTOR = "system"
"""The actor recorded for changes made by the bot itself (expiry, reminders) rather than by a person."""

_JSON = TypeAdapter(dict[str, Any])


async def write_audit(
    conn: AsyncConnection,
    *,
    request_id: str,
    actor: str,
    action: str,
    now: datetime,
    from_status: str | None = None,
    to_status: str | None = None,
    order_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Append one audit row on `conn`, inside the caller's transaction (datetimes in `details` become ISO text)."""
    await conn.execute(
        sa.insert(audit_log).values(
            occurred_at=now,
            request_id=request_id,
            order_id=order_id,
            actor=actor,
            action=action,
            from_status=None if from_status is None else str(from_status),
            to_status=None if to_status is None else str(to_status),
            details=_JSON.dump_python(dict(details), mode="json") if details else None,
        )
    )


async def read_trail(conn: AsyncConnection, request_id: str) -> list[AuditEntry]:
    """Every audit row of `request_id`, oldest first."""
    rows = await conn.execute(sa.select(audit_log).where(audit_log.c.request_id == request_id).order_by(audit_log.c.id))
    return [AuditEntry.model_validate(dict(row._mapping)) for row in rows]
