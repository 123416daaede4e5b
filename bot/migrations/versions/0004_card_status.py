"""Remember which status the approval message shows, apart from the thread reply, so each is retried on its own.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add cancel_requests.card_status."""
    with op.batch_alter_table("cancel_requests") as batch:
        batch.add_column(sa.Column("card_status", sa.String(20), nullable=True))


def downgrade() -> None:
    """Drop cancel_requests.card_status."""
    with op.batch_alter_table("cancel_requests") as batch:
        batch.drop_column("card_status")
