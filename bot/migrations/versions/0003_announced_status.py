"""Remember which status Slack last showed for each request, so an outcome lost to a crash is announced later.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add cancel_requests.announced_status."""
    with op.batch_alter_table("cancel_requests") as batch:
        batch.add_column(sa.Column("announced_status", sa.String(20), nullable=True))


def downgrade() -> None:
    """Drop cancel_requests.announced_status."""
    with op.batch_alter_table("cancel_requests") as batch:
        batch.drop_column("announced_status")
