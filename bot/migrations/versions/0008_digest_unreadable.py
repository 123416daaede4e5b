"""Remember the orders Lazada sent but the digest could not read, so the digest can name them until they are read.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add digest_sync_state.unreadable_orders (a JSON list of order ids; null means none)."""
    with op.batch_alter_table("digest_sync_state") as batch:
        batch.add_column(
            sa.Column(
                "unreadable_orders",
                sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql"),
                nullable=True,
            )
        )


def downgrade() -> None:
    """Drop digest_sync_state.unreadable_orders."""
    with op.batch_alter_table("digest_sync_state") as batch:
        batch.drop_column("unreadable_orders")
