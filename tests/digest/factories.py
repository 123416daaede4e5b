"""Reports built by hand, for the renderer and chart tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.digest.models import Activity, ApproverCount, DailyRate, DigestReport, Figures, NamedCount, RateStatus
from bot.settings import Thresholds

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
HOSTILE = "<!channel> @here *bold* _it_ ~s~ `code` <http://evil.example|click> &amp; > quote <@U999>"


def span(first: int, last: int, ordered: int, cancelled: int, **extra: Any) -> Figures:
    """Figures for days ``TODAY - first`` to ``TODAY - last``."""
    return Figures(
        first_day=TODAY - timedelta(days=first),
        last_day=TODAY - timedelta(days=last),
        orders=ordered // 2,
        ordered_items=ordered,
        cancelled_items=cancelled,
        **extra,
    )


def activity(**overrides: Any) -> Activity:
    """The bot's last 24 hours with a little of everything."""
    values: dict[str, Any] = {
        "since": NOW - timedelta(hours=24),
        "until": NOW,
        "requests": 3,
        "approved": 2,
        "executed": 2,
        "rejected": 1,
        "pending": 1,
        "by_reason": (NamedCount(name="Out of Stock", count=2), NamedCount(name="Sourcing Delay", count=1)),
        "by_requester": (NamedCount(name="U0ALICE", count=3),),
        "by_approver": (ApproverCount(approver_id="U0BOB", approved=2, rejected=1),),
        **overrides,
    }
    return Activity(**values)


def report(**overrides: Any) -> DigestReport:
    """A store at 2.5% (warning) going to 4% once the pipeline is counted."""
    values: dict[str, Any] = {
        "store_code": "th-main",
        "store_label": "Thai Main",
        "timezone": "Asia/Bangkok",
        "today": TODAY,
        "generated_at": NOW,
        "synced_at": NOW - timedelta(minutes=1),
        "thresholds": Thresholds(warning_rate=0.02, limit_rate=0.05, min_cancelled_items=10),
        "window": span(35, 8, 1000, 25),
        "status": RateStatus.WARNING,
        "yesterday": span(36, 9, 1000, 20),
        "week_ago": span(42, 15, 1000, 30),
        "pipeline": span(7, 1, 250, 15),
        "projected": span(28, 1, 1000, 40),
        "projected_status": RateStatus.WARNING,
        "daily": tuple(
            DailyRate(
                day=TODAY - timedelta(days=29 - n), rate=0.01 + n / 2000, cancelled_items=10 + n, ordered_items=1000
            )
            for n in range(30)
        ),
        "activity": activity(),
        **overrides,
    }
    return DigestReport(**values)
