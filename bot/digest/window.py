"""Store-local days and the windows of Lazada's metric: D-35..D-8 counted, D-7..D-1 still in the pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "CHART_DAYS",
    "PIPELINE_DAYS",
    "WINDOW_FIRST_OFFSET",
    "WINDOW_LAST_OFFSET",
    "DayRange",
    "day_bounds",
    "day_start",
    "history_first_day",
    "local_day",
    "pipeline_window",
    "projected_window",
    "rate_window",
    "scheduled_at",
]

WINDOW_FIRST_OFFSET = 35
"""Lazada counts orders created from day D-35 ..."""
WINDOW_LAST_OFFSET = 8
"""... to day D-8 (store-local days), so orders still in fulfilment are left out."""
PIPELINE_DAYS = WINDOW_LAST_OFFSET - 1
"""Days D-7..D-1: orders Lazada will count over the next week."""
CHART_DAYS = 30
"""The chart shows the rate of each of the last 30 days."""


@dataclass(frozen=True, slots=True)
class DayRange:
    """Store-local days from ``first`` to ``last``, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"a day range cannot end ({self.last}) before it starts ({self.first})")

    @property
    def days(self) -> int:
        """How many days the range holds."""
        return (self.last - self.first).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    def each(self) -> list[date]:
        """Every day of the range, oldest first."""
        return [self.first + timedelta(days=offset) for offset in range(self.days)]


def rate_window(today: date) -> DayRange:
    """The orders Lazada's rate shown on ``today`` counts: created D-35 to D-8."""
    return DayRange(today - timedelta(days=WINDOW_FIRST_OFFSET), today - timedelta(days=WINDOW_LAST_OFFSET))


def pipeline_window(today: date) -> DayRange:
    """Orders of the last 7 days (D-7 to D-1): Lazada counts them over the coming week, not yet."""
    return DayRange(today - timedelta(days=PIPELINE_DAYS), today - timedelta(days=1))


def projected_window(today: date) -> DayRange:
    """The window of a week from now (D-28 to D-1): the rate once the pipeline is counted, if nothing else changes."""
    return rate_window(today + timedelta(days=PIPELINE_DAYS))


def history_first_day(today: date, chart_days: int = CHART_DAYS) -> date:
    """The oldest creation day the cache needs: the window of the chart's first day."""
    if chart_days < 8:
        raise ValueError("the chart needs at least 8 days, to show the change against a week ago")
    return rate_window(today - timedelta(days=chart_days - 1)).first


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    """The store-local date of an aware moment."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(tz).date()


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight starting ``day``, as an aware datetime in the store's zone."""
    return datetime.combine(day, time(0), tzinfo=tz)


def day_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The first and last whole second of the local days ``first``..``last`` (Lazada's bounds are inclusive)."""
    start = day_start(first, tz)
    end = day_start(last + timedelta(days=1), tz).astimezone(UTC) - timedelta(seconds=1)
    return start, end.astimezone(tz)


def scheduled_at(day: date, at: time, tz: ZoneInfo) -> datetime:
    """When the digest of ``day`` is due: local time ``at`` on that day, in UTC."""
    return datetime.combine(day, at.replace(tzinfo=None), tzinfo=tz).astimezone(UTC)
