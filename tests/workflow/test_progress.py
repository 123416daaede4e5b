"""The progress throttle: at most one update per interval, the latest state never left unshown, a clean stop."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.workflow.progress import ProgressReporter


class _Time:
    """A monotonic clock that only moves when the reporter waits (or the test moves it)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def _idle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def _reporter(time: _Time, shown: list[float], interval: float = 1.0) -> ProgressReporter:
    async def show() -> None:
        shown.append(time.now)

    return ProgressReporter(show, interval=interval, clock=time, sleep=time.sleep)


async def test_the_first_update_waits_a_whole_interval_after_the_approval_was_shown() -> None:
    time, shown = _Time(), list[float]()
    reporter = _reporter(time, shown)
    time.now = 0.25
    reporter.changed()
    await _idle()
    assert shown == [1.0]
    assert time.waits == [0.75]
    await reporter.close()


async def test_a_burst_of_changes_within_an_interval_costs_one_update() -> None:
    time, shown = _Time(), list[float]()
    reporter = _reporter(time, shown)
    for _ in range(30):
        reporter.changed()
    await _idle()
    assert shown == [1.0]
    assert reporter.shown == 1
    await reporter.close()


async def test_a_change_after_a_quiet_interval_is_shown_at_once() -> None:
    time, shown = _Time(), list[float]()
    reporter = _reporter(time, shown)
    time.now = 5.0
    reporter.changed()
    await _idle()
    assert shown == [5.0]
    assert time.waits == []
    await reporter.close()


@pytest.mark.parametrize("interval", [0.5, 1.0, 2.0])
async def test_updates_are_at_least_an_interval_apart_and_the_last_change_is_shown(interval: float) -> None:
    time, shown = _Time(), list[float]()
    reporter = _reporter(time, shown, interval)
    for step in range(40):
        time.now += 0.13 * (step % 7)
        reporter.changed()
        await asyncio.sleep(0)
    last_change = time.now
    await _idle()
    assert len(shown) >= 3
    assert all(later - earlier >= interval for earlier, later in itertools.pairwise(shown))
    assert shown[-1] >= last_change, "the state after the last change reached Slack"
    await reporter.close()


async def test_close_drops_an_update_still_waiting_for_its_turn() -> None:
    shown: list[str] = []

    async def show() -> None:
        shown.append("shown")

    async def never(_: float) -> None:
        await asyncio.Event().wait()

    reporter = ProgressReporter(show, interval=1.0, clock=lambda: 0.0, sleep=never)
    reporter.changed()
    await _idle()
    await reporter.close()
    assert shown == []
    reporter.changed()
    await _idle()
    assert shown == [], "nothing after close"


async def test_close_lets_an_update_on_its_way_finish() -> None:
    release = asyncio.Event()
    shown: list[str] = []

    async def show() -> None:
        await release.wait()
        shown.append("shown")

    clock = iter([0.0, 5.0, 5.0, 5.0])
    reporter = ProgressReporter(show, interval=1.0, clock=lambda: next(clock, 5.0))
    reporter.changed()
    await _idle()
    closing = asyncio.create_task(reporter.close())
    await _idle()
    assert not closing.done(), "close waits for the Slack call in flight"
    release.set()
    await closing
    assert shown == ["shown"]


async def test_a_failed_update_is_logged_and_the_next_one_still_goes_out() -> None:
    time = _Time()
    calls: list[float] = []

    async def show() -> None:
        calls.append(time.now)
        if len(calls) == 1:
            raise RuntimeError("chat.update failed")

    reporter = ProgressReporter(show, interval=1.0, clock=time, sleep=time.sleep)
    reporter.changed()
    await _idle()
    reporter.changed()
    await _idle()
    assert calls == [1.0, 2.0]
    assert reporter.shown == 1
    await reporter.close()
