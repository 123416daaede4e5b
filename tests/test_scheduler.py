"""The scheduler lets ticks in flight finish on stop, instead of cancelling them half-way as APScheduler does."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.scheduler import Tick, create_scheduler


async def test_stop_lets_a_tick_in_flight_finish_before_it_returns(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    flags: list[str] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        flags.append("started")
        started.set()
        await release.wait()
        await asyncio.sleep(0.05)  # the database write after the awaited call
        flags.append("finished")

    scheduler = create_scheduler([Tick("slow", slow, seconds=3600.0, at_start=True)])
    scheduler.start()
    await asyncio.wait_for(started.wait(), timeout=5)

    stopping = asyncio.ensure_future(scheduler.stop(deadline=5.0))
    await asyncio.sleep(0.05)
    assert not stopping.done(), "stop waits for the tick in flight"
    release.set()

    assert await stopping is True
    assert flags == ["started", "finished"], "the tick ran to its end, not cancelled by APScheduler's shutdown"
    assert scheduler.running == 0
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], "a tick let finish is no failure: APScheduler must not log its cancelled job as one"


async def test_a_tick_past_the_deadline_is_cancelled_and_stop_says_so() -> None:
    flags: list[str] = []
    started = asyncio.Event()

    async def stuck() -> None:
        flags.append("started")
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            flags.append("cancelled")
            raise

    scheduler = create_scheduler([Tick("stuck", stuck, seconds=3600.0, at_start=True)])
    scheduler.start()
    await asyncio.wait_for(started.wait(), timeout=5)

    assert await scheduler.stop(deadline=0.1) is False
    assert flags == ["started", "cancelled"]
    assert scheduler.running == 0


async def test_stop_before_start_or_with_nothing_running_returns_at_once() -> None:
    scheduler = create_scheduler([Tick("idle", lambda: asyncio.sleep(0), seconds=3600.0)])
    assert await scheduler.stop(deadline=5.0) is True
