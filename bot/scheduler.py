"""The scheduler only wakes the bot up; the database decides who acts (scaleout.md §1–§2)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

if TYPE_CHECKING:
    from bot.metrics import Metrics

__all__ = ["Scheduler", "Tick", "create_scheduler", "run_safely"]

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


def create_scheduler(ticks: Sequence[Tick], metrics: Metrics | None = None) -> Scheduler:
    """A scheduler (start it inside the running loop) with one interval job per tick, counted in `metrics`."""
    return Scheduler(ticks, metrics)


class Scheduler:
    """An AsyncIOScheduler whose ticks in flight are let finish on `stop`, instead of being cancelled mid-way.

    APScheduler's own shutdown cancels every running job: a tick cancelled inside a database connect or between
    two writes leaves work half done (and an aiosqlite connection thread that keeps the process from exiting).
    Each run is therefore a task of its own, shielded from that cancellation and awaited by `stop`.
    """

    def __init__(self, ticks: Sequence[Tick], metrics: Metrics | None = None) -> None:
        self._metrics = metrics
        self._running: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.apscheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        )
        for tick in ticks:
            first = {"next_run_time": datetime.now(UTC)} if tick.at_start else {}
            self.apscheduler.add_job(
                self._run,
                IntervalTrigger(seconds=tick.seconds, jitter=min(5.0, tick.seconds / 10)),
                args=[tick],
                id=tick.name,
                name=tick.name,
                replace_existing=True,
                **first,
            )

    def start(self) -> None:
        """Start waking the ticks up (inside the running event loop)."""
        self.apscheduler.start()

    @property
    def running(self) -> int:
        """How many ticks are running now."""
        return len(self._running)

    async def _run(self, tick: Tick) -> None:
        task = asyncio.ensure_future(run_safely(tick, self._metrics))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # APScheduler's shutdown cancelled the job while its run goes on, shielded, and `stop` waits for it:
            # nothing failed, so nothing is reported (APScheduler would log the cancellation as an ERROR).

    async def stop(self, deadline: float) -> bool:
        """Start no more ticks; let those in flight finish for up to `deadline` seconds, then cancel what is left.

        True when every tick finished by itself.
        """
        self._stopping = True
        if self.apscheduler.running:
            self.apscheduler.shutdown(wait=False)
        if not self._running:
            return True
        log.info("ticks_finishing", running=sorted(t.get_name() for t in self._running))
        _, late = await asyncio.wait(set(self._running), timeout=deadline)
        for task in late:
            task.cancel()
        if late:
            log.warning("ticks_cancelled", count=len(late))
            await asyncio.gather(*late, return_exceptions=True)
        return not late
