"""Frozen records the store takes and returns: requests, their orders and approvals, audit entries, claims.

The statuses and the item shape are the shared ones of `bot.domain`, re-exported here for the store's callers.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from bot.domain import ApprovalBasis, Item, OrderStatus, RequestStatus

__all__ = [
    "FINAL_REQUEST_STATUSES",
    "MAX_ORDERS_PER_REQUEST",
    "Approval",
    "ApproveOutcome",
    "ApproveResult",
    "AuditEntry",
    "CancelRequest",
    "Claim",
    "ClaimStatus",
    "Item",
    "NewOrder",
    "NewRequest",
    "OrderAnswers",
    "OrderStatus",
    "RequestOrder",
    "RequestStatus",
]

MAX_ORDERS_PER_REQUEST = 50


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must be timezone-aware")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


FINAL_REQUEST_STATUSES = frozenset(
    {
        RequestStatus.EXECUTED,
        RequestStatus.FAILED,
        RequestStatus.REJECTED,
        RequestStatus.WITHDRAWN,
        RequestStatus.EXPIRED,
    }
)
"""Statuses nothing moves out of (`needs_attention` is not final: a person or the reconciler settles it; nor is
`cancel_pending`, which the scheduler reads back until Lazada's items settle)."""


class ClaimStatus(StrEnum):
    """A scheduler claim is held (`claimed`, with a lease) or finished (`done`, never taken again)."""

    CLAIMED = "claimed"
    DONE = "done"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Record(BaseModel):
    """A record read from the database: frozen, and blind to columns it does not name."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class NewOrder(_Frozen):
    """One order of a new request: its items at request time and the ids of those to cancel."""

    order_id: str = Field(min_length=1)
    items: tuple[Item, ...] = Field(min_length=1)
    item_ids: tuple[str, ...] = Field(min_length=1)
    validate_tip_content: str | None = None
    validate_tip_type: str | None = None

    @model_validator(mode="after")
    def _item_ids_are_items(self) -> NewOrder:
        known = {item.order_item_id for item in self.items}
        unknown = [item_id for item_id in self.item_ids if item_id not in known]
        if unknown:
            raise ValueError(f"item_ids not among the order's items: {unknown}")
        if len(set(self.item_ids)) != len(self.item_ids):
            raise ValueError("item_ids repeat an item")
        return self


class NewRequest(_Frozen):
    """What `RequestStore.create_request` stores: a cancel request of 1 to 50 orders, not yet approved."""

    store_code: str = Field(min_length=1)
    requester_id: str = Field(min_length=1)
    reason_id: str = Field(min_length=1)
    reason_name: str
    justification: str = Field(min_length=1, max_length=500)
    zeroes_stock: bool = False
    repack_first: bool = False
    required_approvals: Literal[1, 2] = 1
    approval_basis: ApprovalBasis | None = None
    channel_id: str = Field(min_length=1)
    expires_at: AwareDatetime
    orders: tuple[NewOrder, ...] = Field(min_length=1, max_length=MAX_ORDERS_PER_REQUEST)

    @model_validator(mode="after")
    def _orders_are_distinct(self) -> NewRequest:
        order_ids = [order.order_id for order in self.orders]
        if len(set(order_ids)) != len(order_ids):
            raise ValueError("an order appears twice in the request")
        return self


class OrderAnswers(_Record):
    """What Lazada answered for one order (its tips and the cancel's request id) and the bot's error, if any.

    The stored order carries them all; an update (`RequestStore.set_order_status`) writes only those it sets.
    """

    validate_tip_content: str | None = None
    validate_tip_type: str | None = None
    outcome_tip_content: str | None = None
    outcome_tip_type: str | None = None
    lazada_request_id: str | None = None
    error: str | None = None
    seen_pending: bool | None = None
    """Whether Lazada's items showed `is_cancel_pending` when the order went `cancel_pending`."""


class RequestOrder(OrderAnswers):
    """One order of a stored request, with its execution status and Lazada's answers.

    `updated_at` is when the order last changed status (for a `cancel_pending` order: since when it is pending).
    """

    order_id: str
    items: tuple[Item, ...]
    item_ids: tuple[str, ...]
    status: OrderStatus
    updated_at: datetime
    reply_due: str | None = None
    """The status of a late settlement (after the request had run) whose own thread reply has not gone out yet."""


class Approval(_Record):
    """One person's approval of a request."""

    approver_id: str
    approved_at: datetime


class CancelRequest(_Record):
    """A stored cancel request with its orders (in request order) and approvals (oldest first); times in UTC."""

    id: str
    store_code: str
    requester_id: str
    reason_id: str
    reason_name: str
    justification: str
    zeroes_stock: bool
    repack_first: bool
    required_approvals: int
    approval_count: int
    status: RequestStatus
    channel_id: str
    message_ts: str | None
    expires_at: datetime
    remind_at: datetime
    reminded_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    lease_until: datetime | None
    attempts: int
    created_at: datetime
    updated_at: datetime
    version: int
    announced_status: str | None = None
    """The status whose thread reply went out; behind `status` after a crash or a Slack failure."""
    card_status: str | None = None
    """The status the approval message shows; behind `status` after a crash or a Slack failure."""
    approval_basis: ApprovalBasis | None = None
    recheck_at: datetime | None = None
    """For a `cancel_pending` request: when the scheduler reads its pending orders back next."""
    rechecks: int = 0
    """How many read-backs of a `cancel_pending` request were claimed (the backoff doubles with each)."""
    orders: tuple[RequestOrder, ...]
    approvals: tuple[Approval, ...]

    @property
    def approver_ids(self) -> tuple[str, ...]:
        """Who has approved so far, oldest first."""
        return tuple(approval.approver_id for approval in self.approvals)


class ApproveResult(StrEnum):
    """What an approve click did."""

    EXECUTING = "executing"
    """This click completed the approvals: the request is now `executing` and the caller must execute it."""
    RECORDED = "recorded"
    """The approval counted, more are needed (`request.approval_count` of `request.required_approvals`)."""
    ALREADY_DECIDED = "already_decided"
    """Nothing changed: the request is no longer pending (`request.status`, `request.decided_by`)."""
    ALREADY_APPROVED_BY_YOU = "already_approved_by_you"
    """Nothing changed: this person had already approved it."""
    SELF_APPROVAL = "self_approval"
    """Nothing changed: the requester may not approve their own request."""
    EXPIRED = "expired"
    """Nothing changed: the request's `expires_at` has passed (it is still `pending` until someone expires it)."""


class ApproveOutcome(_Frozen):
    """The result of `RequestStore.approve` and the request as it stands after it."""

    result: ApproveResult
    request: CancelRequest

    @property
    def must_execute(self) -> bool:
        """True only for the one click that moved the request to `executing`."""
        return self.result is ApproveResult.EXECUTING


class AuditEntry(_Record):
    """One append-only audit row: who did what to a request (or one of its orders), and when."""

    id: int
    occurred_at: datetime
    request_id: str
    order_id: str | None
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    details: dict[str, Any] | None


class Claim(_Record):
    """A scheduler claim: who holds the `(kind, key)` job, until when, and its result once done."""

    kind: str
    key: str
    claimed_by: str
    claimed_at: datetime
    lease_until: datetime
    status: ClaimStatus
    result: Any
