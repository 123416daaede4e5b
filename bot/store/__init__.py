"""The database layer: one async SQLAlchemy code path for SQLite and PostgreSQL, with Alembic migrations.

Build a `Database` from a URL, run `upgrade_to_head(url)` once, then pass the `Database` to the stores:
`RequestStore` (cancel requests, approvals, the audit trail), `EventStore` (Slack event de-duplication),
`ClaimStore` (exactly-once scheduled jobs) and `DbTokenStore` (Lazada tokens).
"""

from __future__ import annotations

from bot.store import models
from bot.store.audit import SYSTEM_ACTOR
from bot.store.claims import ClaimStore
from bot.store.db import Database, create_engine, default_sqlite_url
from bot.store.errors import RequestNotFoundError, StoreError
from bot.store.events import EventStore
from bot.store.migrate import upgrade_to_head
from bot.store.models import *  # noqa: F403 (every record, as `models.__all__` lists it)
from bot.store.requests import RequestFields, RequestStore
from bot.store.tokens import DbTokenStore, TokenRecord

__all__ = [
    "SYSTEM_ACTOR",
    "ClaimStore",
    "Database",
    "DbTokenStore",
    "EventStore",
    "RequestFields",
    "RequestNotFoundError",
    "RequestStore",
    "StoreError",
    "TokenRecord",
    "create_engine",
    "default_sqlite_url",
    "upgrade_to_head",
]
# The records are re-exported as their module lists them, so a new record is one line there, not two.
__all__ += models.__all__
