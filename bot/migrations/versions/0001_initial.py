"""The initial schema: cancel requests, their orders and approvals, the audit log, events, tokens and claims.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REQUEST_STATUSES = "'pending', 'executing', 'executed', 'failed', 'needs_attention', 'rejected', 'withdrawn', 'expired'"
ORDER_STATUSES = "'pending', 'executing', 'executed', 'failed', 'needs_attention', 'skipped'"


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    """Create every table."""
    op.create_table(
        "cancel_requests",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("store_code", sa.String(32), nullable=False),
        sa.Column("requester_id", sa.String(32), nullable=False),
        sa.Column("reason_id", sa.String(64), nullable=False),
        sa.Column("reason_name", sa.Text(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("zeroes_stock", sa.Boolean(), nullable=False),
        sa.Column("repack_first", sa.Boolean(), nullable=False),
        sa.Column("required_approvals", sa.Integer(), nullable=False),
        sa.Column("approval_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=False),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("remind_at", _utc(), nullable=False),
        sa.Column("reminded_at", _utc(), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", _utc(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("lease_until", _utc(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(f"status IN ({REQUEST_STATUSES})", name=op.f("ck_cancel_requests_status")),
        sa.CheckConstraint("required_approvals IN (1, 2)", name=op.f("ck_cancel_requests_required_approvals")),
        sa.CheckConstraint("approval_count >= 0", name=op.f("ck_cancel_requests_approval_count")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cancel_requests")),
    )
    for columns in (
        ["status", "expires_at"],
        ["status", "lease_until"],
        ["requester_id", "created_at"],
        ["store_code", "created_at"],
        ["created_at"],
    ):
        op.create_index(op.f(f"ix_cancel_requests_{'_'.join(columns)}"), "cancel_requests", columns)

    op.create_table(
        "request_orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(16), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("items", _json(), nullable=False),
        sa.Column("item_ids", _json(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("validate_tip_content", sa.Text(), nullable=True),
        sa.Column("validate_tip_type", sa.String(32), nullable=True),
        sa.Column("outcome_tip_content", sa.Text(), nullable=True),
        sa.Column("outcome_tip_type", sa.String(32), nullable=True),
        sa.Column("lazada_request_id", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.CheckConstraint(f"status IN ({ORDER_STATUSES})", name=op.f("ck_request_orders_status")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["cancel_requests.id"],
            name=op.f("fk_request_orders_request_id_cancel_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_orders")),
        sa.UniqueConstraint("request_id", "order_id", name=op.f("uq_request_orders_request_id_order_id")),
    )

    op.create_table(
        "request_approvals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(16), nullable=False),
        sa.Column("approver_id", sa.String(32), nullable=False),
        sa.Column("approved_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["cancel_requests.id"],
            name=op.f("fk_request_approvals_request_id_cancel_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_approvals")),
        sa.UniqueConstraint("request_id", "approver_id", name=op.f("uq_request_approvals_request_id_approver_id")),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("occurred_at", _utc(), nullable=False),
        sa.Column("request_id", sa.String(16), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=True),
        sa.Column("details", _json(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_request_id_id"), "audit_log", ["request_id", "id"])
    op.create_index(op.f("ix_audit_log_occurred_at"), "audit_log", ["occurred_at"])

    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("received_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_processed_events")),
    )
    op.create_index(op.f("ix_processed_events_received_at"), "processed_events", ["received_at"])

    op.create_table(
        "lazada_tokens",
        sa.Column("store_code", sa.String(32), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("access_expires_at", _utc(), nullable=True),
        sa.Column("refresh_expires_at", _utc(), nullable=True),
        sa.Column("seller_id", sa.String(64), nullable=True),
        sa.Column("account", sa.String(255), nullable=True),
        sa.Column("country", sa.String(8), nullable=True),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("last_success_at", _utc(), nullable=True),
        sa.Column("last_refresh_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("store_code", name=op.f("pk_lazada_tokens")),
    )

    op.create_table(
        "scheduler_claims",
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("claimed_by", sa.String(255), nullable=False),
        sa.Column("claimed_at", _utc(), nullable=False),
        sa.Column("lease_until", _utc(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", _json(), nullable=True),
        sa.CheckConstraint("status IN ('claimed', 'done')", name=op.f("ck_scheduler_claims_status")),
        sa.PrimaryKeyConstraint("kind", "key", name=op.f("pk_scheduler_claims")),
    )


def downgrade() -> None:
    """Drop every table (indexes go with them)."""
    for table in (
        "scheduler_claims",
        "lazada_tokens",
        "processed_events",
        "audit_log",
        "request_approvals",
        "request_orders",
        "cancel_requests",
    ):
        op.drop_table(table)
