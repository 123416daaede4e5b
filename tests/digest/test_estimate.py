"""Pure figures: sums over days, the status against thresholds, and the projection of a cancellation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.digest.estimate import daily_rates, figures, project, rate_status, seller_fault_items
from bot.digest.models import DayCounts, RateStatus
from bot.digest.window import DayRange
from bot.settings import Thresholds

T = Thresholds(warning_rate=0.03, limit_rate=0.05, min_cancelled_items=10)
D = date(2026, 11, 20)


def test_seller_fault_items_counts_only_the_configured_initiators() -> None:
    counts = {"cancellation-seller": 2, "cancellation-internal": 1, "cancellation-customer": 5, "": 1}

    assert seller_fault_items(counts, {"cancellation-seller", "cancellation-internal"}) == 3
    assert seller_fault_items(counts, {"cancellation-seller"}) == 2


def test_figures_sum_the_days_of_the_span_only() -> None:
    days = {
        D - timedelta(days=n): DayCounts(day=D - timedelta(days=n), orders=1, ordered_items=10, cancelled_items=n)
        for n in range(5)
    }

    result = figures(days, DayRange(D - timedelta(days=3), D - timedelta(days=1)))

    assert (result.orders, result.ordered_items, result.cancelled_items) == (3, 30, 6)
    assert result.rate == 0.2


def test_an_empty_window_has_rate_zero() -> None:
    assert figures({}, DayRange(D, D)).rate == 0.0


@pytest.mark.parametrize(
    ("rate", "cancelled", "status"),
    [
        (0.029, 100, RateStatus.OK),
        (0.03, 100, RateStatus.WARNING),
        (0.049, 100, RateStatus.WARNING),
        (0.05, 10, RateStatus.OVER_LIMIT),
        (0.50, 9, RateStatus.WARNING),
    ],
)
def test_status_needs_both_the_rate_and_the_minimum_count_for_the_limit(
    rate: float, cancelled: int, status: RateStatus
) -> None:
    assert rate_status(rate, cancelled, T) is status


def test_projection_adds_cancelled_and_ordered_items() -> None:
    window = figures({D: DayCounts(day=D, orders=50, ordered_items=100, cancelled_items=2)}, DayRange(D, D))

    projection = project(window, 3, T)

    assert projection.rate == 0.02
    assert projection.projected_rate == 5 / 103
    assert (projection.status, projection.projected_status) == ("ok", "warning")
    assert project(window, 0, T).projected_rate == 0.02
    with pytest.raises(ValueError, match="negative"):
        project(window, -1, T)


def test_projection_of_an_empty_window() -> None:
    projection = project(figures({}, DayRange(D, D)), 2, T)

    assert (projection.rate, projection.projected_rate) == (0.0, 1.0)


def test_daily_rates_slide_the_window_one_day_at_a_time() -> None:
    days = {D - timedelta(days=8): DayCounts(day=D - timedelta(days=8), orders=1, ordered_items=4, cancelled_items=1)}

    rates = daily_rates(days, D, 3)

    assert [r.day for r in rates] == [D - timedelta(days=2), D - timedelta(days=1), D]
    # Day D-8 is in D's window only (D-1's ends at D-9).
    assert [r.rate for r in rates] == [0.0, 0.0, 0.25]
