"""The scheduler only wakes the bot up; the database decides who acts (scaleout.md §1–§2)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

__all__ = ["Tick", "create_scheduler", "run_safely"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Tick:
    """A job run on every replica every `seconds`; its work must be safe to run concurrently (claims, CAS)."""

    name: str
    run: Callable[[], Awaitable[None]]
    seconds: float = 60.0


async def run_safely(tick: Tick) -> None:
    """Run one tick, logging any failure with its traceback so the next tick still happens."""
    try:
        await tick.run()
    except Exception:
        log.exception("tick_failed", job=tick.name)


def create_scheduler(ticks: Sequence[Tick]) -> AsyncIOScheduler:
    """An AsyncIOScheduler (start it inside the running loop) with one interval job per tick."""
    scheduler = AsyncIOScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    for tick in ticks:
        scheduler.add_job(
            run_safely,
            IntervalTrigger(seconds=tick.seconds, jitter=min(5.0, tick.seconds / 10)),
            args=[tick],
            id=tick.name,
            name=tick.name,
            replace_existing=True,
        )
    return scheduler
