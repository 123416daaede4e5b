"""Showing an executing request's progress in Slack without flooding it: at most one update per interval."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog

__all__ = ["ProgressReporter"]

log = structlog.get_logger(__name__)


class ProgressReporter:
    """Calls `show` when progress is made, at most once per `interval` seconds, and never leaves the latest unshown.

    `changed()` says that something progressed. The first update waits a whole interval after the reporter is
    made (the approval itself was just shown); later changes within an interval are folded into one update at its
    end, so a burst of finished orders costs one Slack call. `close()` stops it: an update already on its way
    finishes, one still waiting is dropped, since the caller then shows the final state itself.
    `clock` (monotonic seconds) and `sleep` are injectable so tests need not wait.
    """

    def __init__(
        self,
        show: Callable[[], Awaitable[None]],
        *,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._show = show
        self._interval = interval
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._dirty = False
        self._closed = False
        self._sending = False
        self._task: asyncio.Task[None] | None = None
        self.shown = 0

    def changed(self) -> None:
        """Something progressed: show it now if the interval has passed, else at its end."""
        if self._closed:
            return
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while self._dirty and not self._closed:
            wait = self._last + self._interval - self._clock()
            if wait > 0:
                await self._sleep(wait)
                continue
            self._dirty = False
            self._last = self._clock()
            self._sending = True
            try:
                await self._show()
                self.shown += 1
            except Exception:
                # Progress is a courtesy: the final state is shown by the caller whatever happens here.
                log.exception("progress_update_failed")
            finally:
                self._sending = False

    async def close(self) -> None:
        """Stop: let an update on its way finish, drop one still waiting for its turn."""
        self._closed = True
        task = self._task
        if task is None:
            return
        if not self._sending:
            task.cancel()
        # gather returns the task's own cancellation as a result, yet lets a cancellation of close() itself through.
        await asyncio.gather(task, return_exceptions=True)
