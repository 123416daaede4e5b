"""Column types that behave the same on SQLite and PostgreSQL: UTC timestamps and JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["JSONValue", "UTCDateTime"]


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC and always read back as an aware UTC `datetime`.

    SQLite has no timezone type and silently drops the offset, so values are converted to UTC on the way in
    and given `UTC` on the way out. Naive datetimes are refused: their meaning depends on the machine.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC; refuse a naive one."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to what SQLite returns naive; normalize PostgreSQL's aware value to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONValue(TypeDecorator[Any]):
    """JSON (`JSONB` on PostgreSQL); Python `None` is stored as SQL NULL, not as JSON `null`."""

    impl = JSON(none_as_null=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Pick JSONB on PostgreSQL."""
        if dialect.name == "postgresql":
            # Imported here: a process on SQLite never loads the PostgreSQL dialect (loaded already on PostgreSQL).
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB(none_as_null=True))
        return dialect.type_descriptor(JSON(none_as_null=True))
