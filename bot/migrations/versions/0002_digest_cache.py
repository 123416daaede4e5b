"""The digest's cache: Lazada orders per store (items and seller-fault cancellations) and each store's sync marks.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    """Create the digest cache tables."""
    op.create_table(
        "digest_orders",
        sa.Column("store_code", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_day", sa.Date(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=True),
        sa.Column("items_count", sa.Integer(), nullable=False),
        sa.Column("has_canceled", sa.Boolean(), nullable=False),
        sa.Column("cancelled_by", _json(), nullable=True),
        sa.Column("items_version", _utc(), nullable=True),
        sa.Column("synced_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("store_code", "order_id", name=op.f("pk_digest_orders")),
    )
    op.create_index(op.f("ix_digest_orders_store_code_created_day"), "digest_orders", ["store_code", "created_day"])

    op.create_table(
        "digest_sync_state",
        sa.Column("store_code", sa.String(32), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("covered_from", _utc(), nullable=False),
        sa.Column("covered_until", _utc(), nullable=False),
        sa.Column("updates_since", _utc(), nullable=False),
        sa.Column("last_synced_at", _utc(), nullable=False),
        sa.Column("last_cold_sync_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("store_code", name=op.f("pk_digest_sync_state")),
    )


def downgrade() -> None:
    """Drop the digest cache tables (the index goes with its table)."""
    op.drop_table("digest_sync_state")
    op.drop_table("digest_orders")
