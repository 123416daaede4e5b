"""Buyer cancellation requests (issue 11): one row per Lazada reverse order the bot found or was shown.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-12
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = (
    "open",
    "deciding",
    "accepted",
    "refused",
    "decided_by_lazada",
    "answered_elsewhere",
    "needs_attention",
)


def upgrade() -> None:
    """Create buyer_requests and its indexes."""
    op.create_table(
        "buyer_requests",
        sa.Column("store_code", sa.String(32), nullable=False),
        sa.Column("reverse_order_id", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column(
            "lines",
            sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql"),
            nullable=False,
        ),
        sa.Column("buyer_reason", sa.Text, nullable=True),
        sa.Column("refund_total", sa.BigInteger, nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agreed", sa.Boolean, nullable=True),
        sa.Column("refusal_reason_code", sa.String(64), nullable=True),
        sa.Column("refusal_reason_text", sa.Text, nullable=True),
        sa.Column("lazada_answer", sa.Text, nullable=True),
        sa.Column("channel_id", sa.String(32), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminders", sa.Integer, nullable=False),
        sa.Column("card_status", sa.String(24), nullable=True),
        sa.Column("reply_status", sa.String(24), nullable=True),
        sa.CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in _STATUSES)})", name=op.f("ck_buyer_requests_status")
        ),
        sa.PrimaryKeyConstraint("store_code", "reverse_order_id", name=op.f("pk_buyer_requests")),
    )
    op.create_index(op.f("ix_buyer_requests_status_deadline"), "buyer_requests", ["status", "deadline"])
    op.create_index(op.f("ix_buyer_requests_store_code_order_id"), "buyer_requests", ["store_code", "order_id"])
    op.create_index(
        op.f("ix_buyer_requests_store_code_first_seen_at"), "buyer_requests", ["store_code", "first_seen_at"]
    )
    op.create_index(op.f("ix_buyer_requests_store_code_decided_at"), "buyer_requests", ["store_code", "decided_at"])


def downgrade() -> None:
    """Drop buyer_requests."""
    op.drop_table("buyer_requests")
