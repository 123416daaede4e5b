"""Store-local days and windows: D-35..D-8 counted, D-7..D-1 pipeline, bounds at local midnight."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.digest.window import (
    DayRange,
    day_bounds,
    history_first_day,
    local_day,
    pipeline_window,
    projected_window,
    rate_window,
    scheduled_at,
)

D = date(2026, 12, 11)
BANGKOK = ZoneInfo("Asia/Bangkok")
BERLIN = ZoneInfo("Europe/Berlin")


def test_rate_window_matches_lazadas_example() -> None:
    # Lazada SG: the rate shown on 11 Dec 2020 covers orders created 6 Nov to 3 Dec 2020.
    window = rate_window(date(2020, 12, 11))

    assert (window.first, window.last) == (date(2020, 11, 6), date(2020, 12, 3))
    assert window.days == 28


def test_pipeline_and_projection_follow_the_window() -> None:
    assert pipeline_window(D) == DayRange(date(2026, 12, 4), date(2026, 12, 10))
    assert projected_window(D) == DayRange(date(2026, 11, 13), date(2026, 12, 10))
    assert pipeline_window(D).first == rate_window(D).last + timedelta(days=1)


def test_history_reaches_the_window_of_the_charts_first_day() -> None:
    assert history_first_day(D, 30) == rate_window(date(2026, 11, 12)).first
    with pytest.raises(ValueError, match="at least 8"):
        history_first_day(D, 7)


def test_day_bounds_are_local_midnight_and_the_last_second() -> None:
    start, end = day_bounds(date(2026, 11, 12), date(2026, 11, 12), BANGKOK)

    assert start.isoformat() == "2026-11-12T00:00:00+07:00"
    assert end.isoformat() == "2026-11-12T23:59:59+07:00"


def test_day_bounds_across_a_daylight_saving_change() -> None:
    start, end = day_bounds(date(2026, 3, 29), date(2026, 3, 29), BERLIN)

    assert (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() == 23 * 3600 - 1
    assert end.isoformat() == "2026-03-29T23:59:59+02:00"


def test_local_day_and_schedule_use_the_store_zone() -> None:
    moment = datetime(2026, 11, 19, 17, 0, tzinfo=UTC)

    assert local_day(moment, BANGKOK) == date(2026, 11, 20)
    assert scheduled_at(date(2026, 11, 20), time(9, 0), BANGKOK) == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        local_day(datetime(2026, 11, 19, 17, 0), BANGKOK)


def test_day_range_rejects_a_backwards_range_and_lists_days() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        DayRange(date(2026, 1, 2), date(2026, 1, 1))
    assert DayRange(date(2026, 1, 30), date(2026, 2, 1)).each() == [
        date(2026, 1, 30),
        date(2026, 1, 31),
        date(2026, 2, 1),
    ]
    assert date(2026, 1, 31) in DayRange(date(2026, 1, 30), date(2026, 2, 1))
