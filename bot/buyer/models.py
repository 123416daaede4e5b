"""The words of buyer cancellation requests: a request as the bot stores it, its lines, its status and the counts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

__all__ = ["SETTLED_STATUSES", "BuyerRequest", "BuyerRequestCounts", "BuyerRequestLine", "BuyerRequestStatus"]


class BuyerRequestStatus(StrEnum):
    """Where a buyer's cancellation request is (product.md §5a).

    `open → deciding → accepted | refused | needs_attention`, and `open → decided_by_lazada | answered_elsewhere`
    when the tick finds Lazada closed it without the bot. `deciding` means a decision is being sent: the one click
    that won the conditional update holds it until Lazada's answer is read back.
    """

    OPEN = "open"
    DECIDING = "deciding"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    DECIDED_BY_LAZADA = "decided_by_lazada"
    ANSWERED_ELSEWHERE = "answered_elsewhere"
    NEEDS_ATTENTION = "needs_attention"

    @property
    def is_open(self) -> bool:
        """Whether the request still waits for a decision (only `open`; `deciding` already has one on its way)."""
        return self is BuyerRequestStatus.OPEN


SETTLED_STATUSES = frozenset(
    {
        BuyerRequestStatus.ACCEPTED,
        BuyerRequestStatus.REFUSED,
        BuyerRequestStatus.DECIDED_BY_LAZADA,
        BuyerRequestStatus.ANSWERED_ELSEWHERE,
        BuyerRequestStatus.NEEDS_ATTENTION,
    }
)
"""The statuses a card is stamped with (needs_attention too: its outcome is Lazada's to tell, and the card says so)."""


class BuyerRequestLine(BaseModel):
    """One line of a buyer's request: the order item it asks to cancel, with the buyer's reason and the refund."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reverse_order_line_id: str
    order_item_id: str
    item_name: str | None = None
    sku: str | None = None
    reason_code: str | None = None
    reason_text: str | None = None
    refund_amount: int | None = None
    """In the currency's minor units (except VND, whose amounts Lazada sends whole), as Lazada sends it."""


class BuyerRequest(BaseModel):
    """A buyer's cancellation request as stored: what Lazada said, and what the bot did with it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    store_code: str
    reverse_order_id: str
    order_id: str
    lines: tuple[BuyerRequestLine, ...]
    buyer_reason: str | None = None
    """The first line's `reason_text`, verbatim (escape it wherever it is shown)."""
    refund_total: int | None = None
    deadline: AwareDatetime | None = None
    """When Lazada decides by itself (the line's `sla`), in UTC; None when Lazada did not say."""
    status: BuyerRequestStatus
    first_seen_at: AwareDatetime
    updated_at: AwareDatetime
    decided_by: str | None = None
    """The Slack user who decided, or None when Lazada decided or someone answered outside Slack."""
    decided_at: AwareDatetime | None = None
    agreed: bool | None = None
    refusal_reason_code: str | None = None
    refusal_reason_text: str | None = None
    lazada_answer: str | None = None
    """What Lazada answered (its words, or its request id), for the card."""
    channel_id: str | None = None
    message_ts: str | None = None

    @property
    def key(self) -> str:
        """The request's key in button values and modal metadata: ``store:reverse_order_id``."""
        return f"{self.store_code}:{self.reverse_order_id}"

    @classmethod
    def parse_key(cls, key: str) -> tuple[str, str]:
        """The store code and reverse order id in a `key`; ValueError when it is not one."""
        store_code, sep, reverse_order_id = key.partition(":")
        if not sep or not store_code or not reverse_order_id or ":" in reverse_order_id:
            raise ValueError(f"not a buyer request key: {key!r}")
        return store_code, reverse_order_id

    @property
    def is_open(self) -> bool:
        """Whether it still waits for a decision."""
        return self.status.is_open

    @property
    def item_count(self) -> int:
        """How many order items the buyer asks to cancel."""
        return len(self.lines)

    def time_left(self, now: datetime) -> float | None:
        """Seconds until the deadline (negative once passed); None when there is no deadline."""
        return None if self.deadline is None else (self.deadline - now).total_seconds()


class BuyerRequestCounts(BaseModel):
    """A store's buyer requests over a period, for the digest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    received: int = 0
    accepted: int = 0
    refused: int = 0
    decided_by_lazada: int = 0
    answered_elsewhere: int = 0
    items_spared: int = 0
    """Items of accepted and decided-by-Lazada requests: cancellations that did not count against the seller."""
