"""Share the Lazada call budget between replicas: one row per bucket holding its next free slot.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create lazada_rate_budget."""
    op.create_table(
        "lazada_rate_budget",
        sa.Column("bucket", sa.String(255), primary_key=True),
        sa.Column("next_at", sa.Float(precision=53), nullable=False),
    )


def downgrade() -> None:
    """Drop lazada_rate_budget."""
    op.drop_table("lazada_rate_budget")
