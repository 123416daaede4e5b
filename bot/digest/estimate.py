"""The figures, as pure functions of per-day counts: rates over windows, statuses and projections."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, timedelta

from bot.digest.models import DailyRate, DayCounts, Figures, RateStatus
from bot.digest.window import DayRange, rate_window
from bot.settings import Thresholds
from bot.workflow.models import RateProjection

__all__ = ["daily_rates", "figures", "project", "rate_status", "seller_fault_items"]


def seller_fault_items(cancelled_by: Mapping[str, int], initiators: Collection[str]) -> int:
    """The cancelled items of one order whose ``cancel_return_initiator`` is in the seller-fault set."""
    return sum(count for initiator, count in cancelled_by.items() if initiator in initiators)


def figures(days: Mapping[date, DayCounts], span: DayRange) -> Figures:
    """Sum the counts of the days in ``span`` (days missing from ``days`` had no orders)."""
    within = [days[day] for day in span.each() if day in days]
    return Figures(
        first_day=span.first,
        last_day=span.last,
        orders=sum(d.orders for d in within),
        ordered_items=sum(d.ordered_items for d in within),
        cancelled_items=sum(d.cancelled_items for d in within),
        unread_orders=sum(d.unread_orders for d in within),
    )


def daily_rates(days: Mapping[date, DayCounts], last_day: date, count: int) -> tuple[DailyRate, ...]:
    """The rate Lazada's window gives on each of the ``count`` days up to ``last_day``, oldest first."""
    rates: list[DailyRate] = []
    for back in range(count - 1, -1, -1):
        day = last_day - timedelta(days=back)
        window = figures(days, rate_window(day))
        rates.append(
            DailyRate(
                day=day,
                rate=window.rate,
                cancelled_items=window.cancelled_items,
                ordered_items=window.ordered_items,
            )
        )
    return tuple(rates)


def rate_status(rate: float, cancelled_items: int, thresholds: Thresholds) -> RateStatus:
    """Over the limit at ``limit_rate`` with at least ``min_cancelled_items`` cancelled; warning from ``warning_rate``.

    A rate at the limit with fewer cancelled items than the minimum is a warning: Lazada's limit needs both.
    """
    if rate >= thresholds.limit_rate and cancelled_items >= thresholds.min_cancelled_items:
        return RateStatus.OVER_LIMIT
    if rate >= thresholds.warning_rate:
        return RateStatus.WARNING
    return RateStatus.OK


def project(window: Figures, extra_items: int, thresholds: Thresholds) -> RateProjection:
    """The rate now and as if ``extra_items`` more items, all cancelled for a seller reason, were in the window.

    Items the bot cancels belong to recent orders, which Lazada counts once they enter the window: they add
    to the ordered items as well as to the cancelled ones.
    """
    if extra_items < 0:
        raise ValueError("extra_items must not be negative")
    cancelled = window.cancelled_items + extra_items
    ordered = window.ordered_items + extra_items
    projected = cancelled / ordered if ordered else 0.0
    return RateProjection(
        rate=window.rate,
        projected_rate=projected,
        warning_rate=thresholds.warning_rate,
        limit_rate=thresholds.limit_rate,
        cancelled_items=window.cancelled_items,
        ordered_items=window.ordered_items,
        status=rate_status(window.rate, window.cancelled_items, thresholds).label,
        projected_status=rate_status(projected, cancelled, thresholds).label,
    )
