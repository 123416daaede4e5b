"""Cancellations pending at Lazada: the `cancel_pending` status of requests and orders, when a pending request is
read back next (`recheck_at`, `rechecks`), whether Lazada showed the order's items pending (`seen_pending`), and
the thread reply still due for an order that settled late (`reply_due`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-12
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_REQUEST = "'pending', 'executing', 'executed', 'failed', 'needs_attention', 'rejected', 'withdrawn', 'expired'"
_NEW_REQUEST = (
    "'pending', 'executing', 'executed', 'failed', 'needs_attention', 'cancel_pending', 'rejected', 'withdrawn', "
    "'expired'"
)
_OLD_ORDER = "'pending', 'executing', 'executed', 'failed', 'needs_attention', 'skipped'"
_NEW_ORDER = "'pending', 'executing', 'executed', 'failed', 'needs_attention', 'cancel_pending', 'skipped'"


def upgrade() -> None:
    """Allow `cancel_pending` and add the read-back schedule and the late reply columns."""
    with op.batch_alter_table("cancel_requests") as batch:
        batch.drop_constraint(op.f("ck_cancel_requests_status"), type_="check")
        batch.create_check_constraint(op.f("ck_cancel_requests_status"), f"status IN ({_NEW_REQUEST})")
        batch.add_column(sa.Column("recheck_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("rechecks", sa.Integer, nullable=False, server_default="0"))
        batch.create_index("ix_cancel_requests_status_recheck_at", ["status", "recheck_at"])
    with op.batch_alter_table("request_orders") as batch:
        batch.drop_constraint(op.f("ck_request_orders_status"), type_="check")
        batch.create_check_constraint(op.f("ck_request_orders_status"), f"status IN ({_NEW_ORDER})")
        batch.add_column(sa.Column("seen_pending", sa.Boolean, nullable=True))
        batch.add_column(sa.Column("reply_due", sa.String(20), nullable=True))


def downgrade() -> None:
    """Back to the old statuses: a cancellation still pending at Lazada becomes `needs_attention` for a person."""
    op.execute("UPDATE request_orders SET status = 'needs_attention' WHERE status = 'cancel_pending'")
    op.execute("UPDATE cancel_requests SET status = 'needs_attention' WHERE status = 'cancel_pending'")
    with op.batch_alter_table("request_orders") as batch:
        batch.drop_column("reply_due")
        batch.drop_column("seen_pending")
        batch.drop_constraint(op.f("ck_request_orders_status"), type_="check")
        batch.create_check_constraint(op.f("ck_request_orders_status"), f"status IN ({_OLD_ORDER})")
    with op.batch_alter_table("cancel_requests") as batch:
        batch.drop_index("ix_cancel_requests_status_recheck_at")
        batch.drop_column("rechecks")
        batch.drop_column("recheck_at")
        batch.drop_constraint(op.f("ck_cancel_requests_status"), type_="check")
        batch.create_check_constraint(op.f("ck_cancel_requests_status"), f"status IN ({_OLD_REQUEST})")
