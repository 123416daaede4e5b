"""The scheduler only wakes the bot up; the database decides who acts (scaleout.md §1–§2)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

if TYPE_CHECKING:
    from bot.metrics import Metrics

__all__ = ["Tick", "create_scheduler", "run_safely"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Tick:
    """A job run on every replica every `seconds`; its work must be safe to run concurrently (claims, CAS)."""

    name: str
    run: Callable[[], Awaitable[None]]
    seconds: float = 60.0
    at_start: bool = False
    """Also run once as soon as the scheduler starts, not only after the first interval."""


async def run_safely(tick: Tick, metrics: Metrics | None = None) -> None:
    """Run one tick with its name on every log line it writes; log and count a failure, so the next tick happens."""
    with structlog.contextvars.bound_contextvars(job=tick.name):
        try:
            await tick.run()
        except Exception:
            if metrics is not None:
                metrics.tick_failures.labels(job=tick.name).inc()
            log.exception("tick_failed")


def create_scheduler(ticks: Sequence[Tick], metrics: Metrics | None = None) -> AsyncIOScheduler:
    """An AsyncIOScheduler (start it inside the running loop) with one interval job per tick, counted in `metrics`."""
    scheduler = AsyncIOScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    for tick in ticks:
        first = {"next_run_time": datetime.now(UTC)} if tick.at_start else {}
        scheduler.add_job(
            run_safely,
            IntervalTrigger(seconds=tick.seconds, jitter=min(5.0, tick.seconds / 10)),
            args=[tick, metrics],
            id=tick.name,
            name=tick.name,
            replace_existing=True,
            **first,
        )
    return scheduler
