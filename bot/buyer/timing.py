"""How a buyer request's deadline is written wherever it is shown (its card, reminders, forms, App Home,
`order show`, refusals): one format for the store's time and one for the time left, so they never disagree.

The store's time names the zone by its IANA key (``Mon 30 Nov 11:00 (Asia/Singapore)``): abbreviations such as
``+08`` or ``PST`` (Manila) are ambiguous. The time left counts down to the minute under a day, in days and hours
above (``in 3 h 20 min``, ``in 1 d 23 h``).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

__all__ = ["store_time", "time_left"]


def store_time(moment: datetime, tz: ZoneInfo | None) -> str:
    """`moment` in the store's time with its zone: ``Mon 30 Nov 11:00 (Asia/Singapore)``."""
    zone = tz or ZoneInfo("UTC")
    local = moment.astimezone(zone)
    return f"{local:%a %d %b %H:%M} ({zone.key})"


def time_left(deadline: datetime, now: datetime) -> str:
    """The time left in words: ``in 3 h 20 min``, ``in 45 min``, ``in 2 d 4 h``; ``passed`` after."""
    seconds = int((deadline - now).total_seconds())
    if seconds <= 0:
        return "passed"
    minutes = seconds // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"in {days} d {hours} h" if hours else f"in {days} d"
    if hours:
        return f"in {hours} h {minutes} min" if minutes else f"in {hours} h"
    return f"in {max(minutes, 1)} min"
