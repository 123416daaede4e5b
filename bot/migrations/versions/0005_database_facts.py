"""Record which Lazada a database holds data from (real or the sandbox), so neither run reads the other's.

A database written before this revision whose stored token is the sandbox's published one was used by a
`--sandbox` run (the only way to get that token): it is marked as the sandbox's.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SANDBOX_ACCESS_TOKEN = "sandbox-access-token"  # noqa: S105 - the sandbox's published, fake token


def upgrade() -> None:
    """Create database_facts, and mark a database already holding the sandbox's token as the sandbox's."""
    facts = op.create_table(
        "database_facts",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_database_facts")),
    )
    tokens = sa.table("lazada_tokens", sa.column("access_token", sa.Text()))
    used_by_sandbox = op.get_bind().execute(
        sa.select(sa.func.count()).select_from(tokens).where(tokens.c.access_token == _SANDBOX_ACCESS_TOKEN)
    )
    if used_by_sandbox.scalar_one():
        op.bulk_insert(facts, [{"name": "kind", "value": "sandbox", "recorded_at": datetime.now(UTC)}])


def downgrade() -> None:
    """Drop database_facts."""
    op.drop_table("database_facts")
