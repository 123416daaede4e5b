"""Frozen records of the digest: figures over a window, the bot's own activity, the report and a sync's stats."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bot.buyer.models import BuyerRequestCounts
from bot.settings import Thresholds

__all__ = [
    "Activity",
    "ApproverCount",
    "DailyRate",
    "DayCounts",
    "DigestReport",
    "Figures",
    "Indicator",
    "IndicatorReading",
    "InitiatorCount",
    "NamedCount",
    "PostResult",
    "RateStatus",
    "SyncStats",
]

QUIET_CHANGE = 0.001
"""A rate that moved less than 0.1 percentage point since yesterday counts as unchanged for a quiet day."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RateStatus(StrEnum):
    """Where a rate stands against the store's thresholds."""

    OK = "ok"
    WARNING = "warning"
    OVER_LIMIT = "over_limit"

    @property
    def label(self) -> str:
        """The status in words."""
        return {"ok": "ok", "warning": "warning", "over_limit": "over the limit"}[self.value]


class DayCounts(_Frozen):
    """What the cache holds about the orders created on one store-local day."""

    day: date
    orders: int = 0
    ordered_items: int = 0
    cancelled_items: int = 0
    unread_orders: int = 0
    """Orders with a cancelled item whose items were not read yet: their cancellations are missing."""


class Figures(_Frozen):
    """Seller-fault cancelled items over ordered items, for the orders created from ``first_day`` to ``last_day``."""

    first_day: date
    last_day: date
    orders: int
    ordered_items: int
    cancelled_items: int
    unread_orders: int = 0

    @property
    def rate(self) -> float:
        """The rate as a fraction (0 when nothing was ordered)."""
        return self.cancelled_items / self.ordered_items if self.ordered_items else 0.0


class DailyRate(_Frozen):
    """The rate Lazada's window gave on one day (recomputed from the cache as it is now)."""

    day: date
    rate: float
    cancelled_items: int
    ordered_items: int


class NamedCount(_Frozen):
    """A count for one reason or one person."""

    name: str
    count: int


class InitiatorCount(_Frozen):
    """The window's cancelled items for one ``cancel_return_initiator``, and whether the estimate counts them."""

    initiator: str
    """Lazada's value; empty when Lazada named no initiator."""
    items: int
    seller_fault: bool


class Indicator(_Frozen):
    """One of Lazada's own indicators for the store (GetSellerPerformance), as the digest shows it."""

    type: str | None = None
    name: str
    score: str | None = None
    """As Lazada formats it (``formatted_score``), else the bare score."""
    target: str | None = None
    respected: bool | None = None
    score_value: float | None = None
    score_format: str | None = None


class IndicatorReading(_Frozen):
    """What GetSellerPerformance gave for a store on one day: its indicators, or why there are none."""

    read_at: datetime
    indicators: tuple[Indicator, ...] = ()
    error: str | None = None
    """Why the call failed, in a sentence for people; None when it answered."""


class ApproverCount(_Frozen):
    """What one approver decided in the period."""

    approver_id: str
    approved: int = 0
    rejected: int = 0


class Activity(_Frozen):
    """The bot's own requests and decisions for one store over a period (normally the last 24 hours)."""

    since: datetime
    until: datetime
    requests: int = 0
    approved: int = 0
    executed: int = 0
    rejected: int = 0
    withdrawn: int = 0
    expired: int = 0
    failed: int = 0
    needs_attention: int = 0
    pending: int = 0
    """Requests still waiting for approval now, whenever they were made."""
    pending_at_lazada: int = 0
    """Requests whose cancellation Lazada accepted but has not carried out yet, now."""
    by_reason: tuple[NamedCount, ...] = ()
    by_requester: tuple[NamedCount, ...] = ()
    by_approver: tuple[ApproverCount, ...] = ()

    @property
    def events(self) -> int:
        """How many requests and decisions happened in the period."""
        return (
            self.requests
            + self.approved
            + self.executed
            + self.rejected
            + self.withdrawn
            + self.expired
            + self.failed
            + self.needs_attention
        )


class DigestReport(_Frozen):
    """Everything one store's digest says, computed from the cache only."""

    store_code: str
    store_label: str
    timezone: str
    today: date
    generated_at: datetime
    synced_at: datetime | None
    thresholds: Thresholds
    window: Figures
    status: RateStatus
    yesterday: Figures | None = None
    week_ago: Figures | None = None
    pipeline: Figures
    projected: Figures
    projected_status: RateStatus
    daily: tuple[DailyRate, ...] = ()
    activity: Activity
    unreadable_orders: tuple[str, ...] = ()
    """Orders Lazada sent that the last syncs could not read: left out of the figures, named in the digest."""
    by_initiator: tuple[InitiatorCount, ...] = ()
    """The window's cancelled items per initiator, most first, so people can check the estimate."""
    seller_fault_initiators: tuple[str, ...] = ()
    """The initiators the store counts as seller fault (configuration)."""
    indicators: IndicatorReading | None = None
    """Lazada's own indicators for the day (GetSellerPerformance); None when they were not read."""
    cancellation_indicator: Indicator | None = None
    """The indicator about cancellations, when Lazada returned one."""
    cancellation_indicator_rate: float | None = None
    """That indicator's score as a fraction, when it can be told, to compare with the estimate."""
    buyer_requests: BuyerRequestCounts | None = None
    """Buyers' cancellation requests over the activity period: received, how they ended, items spared; None when
    the bot does not count them (a digest built without the buyer-request service)."""

    @property
    def buyer_events(self) -> int:
        """How many buyer requests were received or ended in the period."""
        counts = self.buyer_requests
        if counts is None:
            return 0
        return counts.received + counts.accepted + counts.refused + counts.decided_by_lazada + counts.answered_elsewhere

    @property
    def indicator_difference(self) -> float | None:
        """The estimate minus Lazada's own cancellation figure (a fraction), when both are known."""
        if self.cancellation_indicator_rate is None:
            return None
        return self.window.rate - self.cancellation_indicator_rate

    @property
    def indicators_problem(self) -> str | None:
        """One line when Lazada's indicators are missing: the call failed, answered none, or was not made."""
        reading = self.indicators
        if reading is None:
            return "Lazada's own indicators were not read today."
        if reading.error:
            return f"Lazada's own indicators could not be read: {reading.error}"
        if not reading.indicators:
            return "Lazada returned no indicators for this store today."
        return None

    @property
    def rate(self) -> float:
        """The estimated rate now."""
        return self.window.rate

    @property
    def change_vs_yesterday(self) -> float | None:
        """The rate now minus yesterday's (a fraction; positive is worse)."""
        return None if self.yesterday is None else self.window.rate - self.yesterday.rate

    @property
    def change_vs_week_ago(self) -> float | None:
        """The rate now minus the rate a week ago (a fraction; positive is worse)."""
        return None if self.week_ago is None else self.window.rate - self.week_ago.rate

    @property
    def complete(self) -> bool:
        """Whether every cancelled order in the window and the pipeline had its items read."""
        return self.window.unread_orders == 0 and self.pipeline.unread_orders == 0

    @property
    def quiet(self) -> bool:
        """A day with nothing to say: no bot activity nor buyer request, both statuses ok, the rate within 0.1 pp."""
        change = self.change_vs_yesterday
        return (
            self.activity.events == 0
            and self.buyer_events == 0
            and self.status is RateStatus.OK
            and self.projected_status is RateStatus.OK
            and change is not None
            and abs(change) < QUIET_CHANGE
        )

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON values, for ``cancel-order-bot digest --json``."""
        return {
            "store": self.store_code,
            "store_label": self.store_label,
            "estimate": True,
            "today": self.today.isoformat(),
            "timezone": self.timezone,
            "rate": self.window.rate,
            "cancelled_items": self.window.cancelled_items,
            "ordered_items": self.window.ordered_items,
            "orders": self.window.orders,
            "window_start": self.window.first_day.isoformat(),
            "window_end": self.window.last_day.isoformat(),
            "status": self.status.value,
            "rate_yesterday": None if self.yesterday is None else self.yesterday.rate,
            "rate_week_ago": None if self.week_ago is None else self.week_ago.rate,
            "change_vs_yesterday": self.change_vs_yesterday,
            "change_vs_week_ago": self.change_vs_week_ago,
            "pipeline_start": self.pipeline.first_day.isoformat(),
            "pipeline_end": self.pipeline.last_day.isoformat(),
            "pipeline_cancelled_items": self.pipeline.cancelled_items,
            "pipeline_ordered_items": self.pipeline.ordered_items,
            "projected_rate": self.projected.rate,
            "projected_status": self.projected_status.value,
            "thresholds": self.thresholds.model_dump(mode="json"),
            "complete": self.complete,
            "synced_at": None if self.synced_at is None else self.synced_at.isoformat(),
            "activity": self.activity.model_dump(mode="json"),
            "daily": [rate.model_dump(mode="json") for rate in self.daily],
            "by_initiator": [count.model_dump(mode="json") for count in self.by_initiator],
            "seller_fault_initiators": list(self.seller_fault_initiators),
            "indicators": [
                indicator.model_dump(mode="json")
                for indicator in (self.indicators.indicators if self.indicators is not None else ())
            ],
            "indicators_problem": self.indicators_problem,
            "cancellation_indicator": None
            if self.cancellation_indicator is None
            else {
                **self.cancellation_indicator.model_dump(mode="json"),
                "rate": self.cancellation_indicator_rate,
                "estimate_minus_lazada": self.indicator_difference,
            },
            "unreadable_orders": len(self.unreadable_orders),
            "unreadable_order_ids": list(self.unreadable_orders),
            "buyer_requests": None if self.buyer_requests is None else self.buyer_requests.model_dump(mode="json"),
        }


class SyncStats(_Frozen):
    """What one sync read from Lazada: calls per API path, orders listed and orders whose items were read."""

    store_code: str
    cold: bool
    started_at: datetime
    finished_at: datetime
    calls: dict[str, int] = Field(default_factory=dict)
    orders_listed: int = 0
    orders_item_reads: int = 0
    orders_pruned: int = 0
    unreadable_orders: tuple[str, ...] = ()
    """Orders Lazada sent that could not be read: skipped, counted and named in the digest."""

    @property
    def total_calls(self) -> int:
        """Every Lazada call the sync made."""
        return sum(self.calls.values())


class PostResult(_Frozen):
    """Where a digest was posted (or why not) and the id of its uploaded chart."""

    ok: bool
    channel: str
    ts: str | None = None
    file_id: str | None = None
    error: str | None = None
    reused: bool = False
    """True when an earlier attempt had already posted this digest and it was not posted again."""
