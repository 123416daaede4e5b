"""One open request per item (the `open_items` claim table, filled for open requests), and why a request needs its
approvals (`cancel_requests.approval_basis`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    """Create open_items and claim the items of the requests open now (the oldest request keeps a shared item)."""
    with op.batch_alter_table("cancel_requests") as batch:
        batch.add_column(sa.Column("approval_basis", _json(), nullable=True))
    table = op.create_table(
        "open_items",
        sa.Column("store_code", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("item_id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["cancel_requests.id"], name="fk_open_items_request_id_cancel_requests"
        ),
        sa.PrimaryKeyConstraint("store_code", "order_id", "item_id", name="pk_open_items"),
    )
    op.create_index("ix_open_items_request_id", "open_items", ["request_id"])
    rows = op.get_bind().execute(
        sa.text(
            "SELECT r.id, r.store_code, o.order_id, o.item_ids FROM cancel_requests r "
            "JOIN request_orders o ON o.request_id = r.id "
            "WHERE r.status IN ('pending', 'executing') ORDER BY r.created_at, r.id"
        )
    )
    claims: dict[tuple[str, str, str], str] = {}
    for request_id, store_code, order_id, item_ids in rows:
        ids = json.loads(item_ids) if isinstance(item_ids, str) else item_ids
        for item_id in ids:
            claims.setdefault((store_code, order_id.lstrip("0") or "0", str(item_id)), request_id)
    if claims:
        op.bulk_insert(
            table,
            [
                {"store_code": store, "order_id": order, "item_id": item, "request_id": request_id}
                for (store, order, item), request_id in claims.items()
            ],
        )


def downgrade() -> None:
    """Drop open_items and cancel_requests.approval_basis."""
    op.drop_index("ix_open_items_request_id", table_name="open_items")
    op.drop_table("open_items")
    with op.batch_alter_table("cancel_requests") as batch:
        batch.drop_column("approval_basis")
