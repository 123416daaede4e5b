"""The schema: SQLAlchemy Core tables, with a naming convention so Alembic batch mode can find constraints."""

from __future__ import annotations

import sqlalchemy as sa

from bot.store.types import JSONValue, UTCDateTime

__all__ = [
    "BUYER_REQUEST_STATUSES",
    "NAMING_CONVENTION",
    "audit_log",
    "buyer_requests",
    "cancel_requests",
    "database_facts",
    "digest_orders",
    "digest_sync_state",
    "lazada_tokens",
    "metadata",
    "open_items",
    "processed_events",
    "request_approvals",
    "request_orders",
    "scheduler_claims",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

REQUEST_STATUSES = (
    "pending",
    "executing",
    "executed",
    "failed",
    "needs_attention",
    "cancel_pending",
    "rejected",
    "withdrawn",
    "expired",
)
ORDER_STATUSES = ("pending", "executing", "executed", "failed", "needs_attention", "cancel_pending", "skipped")
CLAIM_STATUSES = ("claimed", "done")
BUYER_REQUEST_STATUSES = (
    "open",
    "deciding",
    "accepted",
    "refused",
    "decided_by_lazada",
    "answered_elsewhere",
    "needs_attention",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

cancel_requests = sa.Table(
    "cancel_requests",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("store_code", sa.String(32), nullable=False),
    sa.Column("requester_id", sa.String(32), nullable=False),
    sa.Column("reason_id", sa.String(64), nullable=False),
    sa.Column("reason_name", sa.Text, nullable=False),
    sa.Column("justification", sa.Text, nullable=False),
    sa.Column("zeroes_stock", sa.Boolean, nullable=False),
    sa.Column("repack_first", sa.Boolean, nullable=False),
    sa.Column("required_approvals", sa.Integer, nullable=False),
    sa.Column("approval_count", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("channel_id", sa.String(32), nullable=False),
    sa.Column("message_ts", sa.String(32), nullable=True),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("remind_at", UTCDateTime, nullable=False),
    sa.Column("reminded_at", UTCDateTime, nullable=True),
    sa.Column("decided_by", sa.String(64), nullable=True),
    sa.Column("decided_at", UTCDateTime, nullable=True),
    sa.Column("decision_note", sa.Text, nullable=True),
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("announced_status", sa.String(20), nullable=True),
    sa.Column("card_status", sa.String(20), nullable=True),
    sa.Column("approval_basis", JSONValue, nullable=True),
    # A cancellation pending at Lazada (status cancel_pending): when its items are read back next, and how many
    # read-backs were claimed so far (the backoff doubles with each, up to a cap).
    sa.Column("recheck_at", UTCDateTime, nullable=True),
    sa.Column("rechecks", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint(_in("status", REQUEST_STATUSES), name="status"),
    sa.CheckConstraint("required_approvals IN (1, 2)", name="required_approvals"),
    sa.CheckConstraint("approval_count >= 0", name="approval_count"),
    sa.Index(None, "status", "expires_at"),
    sa.Index(None, "status", "lease_until"),
    sa.Index(None, "status", "recheck_at"),
    sa.Index(None, "requester_id", "created_at"),
    sa.Index(None, "store_code", "created_at"),
    sa.Index(None, "created_at"),
)

request_orders = sa.Table(
    "request_orders",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(16), sa.ForeignKey("cancel_requests.id"), nullable=False),
    sa.Column("order_id", sa.String(32), nullable=False),
    sa.Column("items", JSONValue, nullable=False),
    sa.Column("item_ids", JSONValue, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("validate_tip_content", sa.Text, nullable=True),
    sa.Column("validate_tip_type", sa.String(32), nullable=True),
    sa.Column("outcome_tip_content", sa.Text, nullable=True),
    sa.Column("outcome_tip_type", sa.String(32), nullable=True),
    sa.Column("lazada_request_id", sa.String(64), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    # Whether a read-back showed Lazada's `is_cancel_pending` on the items when the order went cancel_pending.
    sa.Column("seen_pending", sa.Boolean, nullable=True),
    # An order settled after its request had finished executing (from cancel_pending or needs_attention): the status
    # whose thread reply has not gone out yet; NULL once it has, or when the request's own reply covers it.
    sa.Column("reply_due", sa.String(20), nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("request_id", "order_id"),
    sa.CheckConstraint(_in("status", ORDER_STATUSES), name="status"),
)

request_approvals = sa.Table(
    "request_approvals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(16), sa.ForeignKey("cancel_requests.id"), nullable=False),
    sa.Column("approver_id", sa.String(32), nullable=False),
    sa.Column("approved_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("request_id", "approver_id"),
)

# The claim that makes "one open request per item" a fact of the database: a request inserts a row per item in the
# transaction that creates it (the primary key refuses a second), and deletes them in the one that settles it.
# `order_id` is the order number without leading zeros, so 0100 and 100 are the same order.
open_items = sa.Table(
    "open_items",
    metadata,
    sa.Column("store_code", sa.String(32), primary_key=True),
    sa.Column("order_id", sa.String(32), primary_key=True),
    sa.Column("item_id", sa.String(64), primary_key=True),
    sa.Column("request_id", sa.String(16), sa.ForeignKey("cancel_requests.id"), nullable=False),
    sa.Index(None, "request_id"),
)

# Append-only: no foreign key, so the trail outlives any future clean-up of the rows it describes.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("request_id", sa.String(16), nullable=False),
    sa.Column("order_id", sa.String(32), nullable=True),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("from_status", sa.String(20), nullable=True),
    sa.Column("to_status", sa.String(20), nullable=True),
    sa.Column("details", JSONValue, nullable=True),
    sa.Index(None, "request_id", "id"),
    sa.Index(None, "occurred_at"),
)

processed_events = sa.Table(
    "processed_events",
    metadata,
    sa.Column("event_id", sa.String(64), primary_key=True),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Index(None, "received_at"),
)

lazada_tokens = sa.Table(
    "lazada_tokens",
    metadata,
    sa.Column("store_code", sa.String(32), primary_key=True),
    sa.Column("access_token", sa.Text, nullable=False),
    sa.Column("refresh_token", sa.Text, nullable=True),
    sa.Column("access_expires_at", UTCDateTime, nullable=True),
    sa.Column("refresh_expires_at", UTCDateTime, nullable=True),
    sa.Column("seller_id", sa.String(64), nullable=True),
    sa.Column("account", sa.String(255), nullable=True),
    sa.Column("country", sa.String(8), nullable=True),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("last_success_at", UTCDateTime, nullable=True),
    sa.Column("last_refresh_error", sa.Text, nullable=True),
)

# Facts about the database itself, one row each: which Lazada it holds data from ("kind"), and the fingerprint of
# each store's token last taken from the settings ("seeded_token:<store>").
database_facts = sa.Table(
    "database_facts",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)

scheduler_claims = sa.Table(
    "scheduler_claims",
    metadata,
    sa.Column("kind", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("claimed_by", sa.String(255), nullable=False),
    sa.Column("claimed_at", UTCDateTime, nullable=False),
    sa.Column("lease_until", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("result", JSONValue, nullable=True),
    sa.CheckConstraint(_in("status", CLAIM_STATUSES), name="status"),
)

# The Lazada call budget shared by replicas (PostgreSQL): per bucket (app, or app and API), the time in epoch seconds
# before which no further call may start. Each call books a slot with one UPSERT … RETURNING (bot/store/budget.py).
lazada_rate_budget = sa.Table(
    "lazada_rate_budget",
    metadata,
    sa.Column("bucket", sa.String(255), primary_key=True),
    sa.Column("next_at", sa.Float(precision=53), nullable=False),
)

# The digest's cache of Lazada orders, one row per order (bot/digest). `cancelled_by` counts the order's cancelled
# items per `cancel_return_initiator` ('' when Lazada gives none); NULL until the items are read. `items_version` is
# the order's `updated_at` when its items were read, so a later change shows as a mismatch.
digest_orders = sa.Table(
    "digest_orders",
    metadata,
    sa.Column("store_code", sa.String(32), primary_key=True),
    sa.Column("order_id", sa.String(32), primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_day", sa.Date, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=True),
    sa.Column("items_count", sa.Integer, nullable=False),
    sa.Column("has_canceled", sa.Boolean, nullable=False),
    sa.Column("cancelled_by", JSONValue, nullable=True),
    sa.Column("items_version", UTCDateTime, nullable=True),
    sa.Column("synced_at", UTCDateTime, nullable=False),
    sa.Index(None, "store_code", "created_day"),
)

digest_sync_state = sa.Table(
    "digest_sync_state",
    metadata,
    sa.Column("store_code", sa.String(32), primary_key=True),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("covered_from", UTCDateTime, nullable=False),
    sa.Column("covered_until", UTCDateTime, nullable=False),
    sa.Column("updates_since", UTCDateTime, nullable=False),
    sa.Column("last_synced_at", UTCDateTime, nullable=False),
    sa.Column("last_cold_sync_at", UTCDateTime, nullable=True),
    sa.Column("unreadable_orders", JSONValue, nullable=True),
)

# Buyer cancellation requests (bot/buyer), one row per Lazada reverse order. `lines` is the JSON list of the request's
# lines (item, reason, refund). `status` moves only by conditional updates (bot/store/buyer.py); `lease_until` bounds
# how long a `deciding` row is held before the tick reads it back; `reminders` counts the reminders claimed (1: half
# time, 2: one hour before); `card_status` and `reply_status` are the statuses Slack shows on the card and in the
# thread, so a tick re-announces only what did not go out.
buyer_requests = sa.Table(
    "buyer_requests",
    metadata,
    sa.Column("store_code", sa.String(32), primary_key=True),
    sa.Column("reverse_order_id", sa.String(32), primary_key=True),
    sa.Column("order_id", sa.String(32), nullable=False),
    sa.Column("lines", JSONValue, nullable=False),
    sa.Column("buyer_reason", sa.Text, nullable=True),
    sa.Column("refund_total", sa.BigInteger, nullable=True),
    sa.Column("deadline", UTCDateTime, nullable=True),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("decided_by", sa.String(64), nullable=True),
    sa.Column("decided_at", UTCDateTime, nullable=True),
    sa.Column("agreed", sa.Boolean, nullable=True),
    sa.Column("refusal_reason_code", sa.String(64), nullable=True),
    sa.Column("refusal_reason_text", sa.Text, nullable=True),
    sa.Column("lazada_answer", sa.Text, nullable=True),
    sa.Column("channel_id", sa.String(32), nullable=True),
    sa.Column("message_ts", sa.String(32), nullable=True),
    sa.Column("lease_until", UTCDateTime, nullable=True),
    sa.Column("reminders", sa.Integer, nullable=False),
    sa.Column("card_status", sa.String(24), nullable=True),
    sa.Column("reply_status", sa.String(24), nullable=True),
    sa.CheckConstraint(_in("status", BUYER_REQUEST_STATUSES), name="status"),
    sa.Index(None, "status", "deadline"),
    sa.Index(None, "store_code", "order_id"),
    sa.Index(None, "store_code", "first_seen_at"),
    sa.Index(None, "store_code", "decided_at"),
)
