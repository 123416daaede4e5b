"""The app-wide pace of Lazada calls: at most N per second over any one-second window, and M at once."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

__all__ = ["SLACK", "Clock", "RateLimiter", "Sleep", "UnlimitedRateLimiter"]

SLACK = 1.05
"""Calls are spaced this much wider than 1/N seconds."""

Clock = Callable[[], float]
"""Monotonic seconds."""
Sleep = Callable[[float], Awaitable[None]]
"""Waits that many seconds."""


class RateLimiter:
    """Paces calls to at most ``calls_per_second`` in any one-second window; one instance per app.

    Use ``async with limiter:`` around each request (each retry too). Every client of the app shares the
    instance, since Lazada counts calls per app. With ``max_in_flight``, at most that many requests are
    out at once: set it to the HTTP pool's size, so requests wait here in a FIFO queue instead of in
    httpcore's pool, whose queue costs time quadratic in its length (a burst of hundreds of calls spent
    more CPU choosing connections than sending requests). ``clock`` and ``sleep`` are the time it paces
    on, injectable so tests need not wait.
    """

    def __init__(
        self,
        calls_per_second: float,
        *,
        max_in_flight: int | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not (calls_per_second > 0 and math.isfinite(calls_per_second)):
            raise ValueError(f"calls_per_second must be a positive finite number, not {calls_per_second!r}")
        if max_in_flight is not None and max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, not {max_in_flight!r}")
        self.calls_per_second = calls_per_second
        self.max_in_flight = max_in_flight
        self._in_flight = asyncio.Semaphore(max_in_flight) if max_in_flight is not None else None
        # Calls are spaced evenly, 1/N s apart: a bucket of N would allow a burst of N and then N more as it
        # drains (2N in one second). The 5% slack keeps call N+1 clear of the server's one-second window when
        # arrivals jitter: at 1%, a 50 ms round trip and two busy event loops packed 21 calls into one second
        # now and then (the bulk benchmark saw a cancel refused that way).
        self._interval = SLACK / calls_per_second
        self._next_slot = -math.inf
        self._clock = clock
        self._sleep = sleep

    async def acquire(self) -> None:
        """Wait until one more call fits within the rate."""
        # Each caller books the next free slot before waiting, so waiters go in arrival order.
        now = self._clock()
        slot = max(now, self._next_slot)
        self._next_slot = slot + self._interval
        if slot > now:
            await self._sleep(slot - now)

    async def pause(self, seconds: float) -> None:
        """Wait ``seconds`` on the limiter's time: how a client waits out a ban Lazada announced."""
        await self._sleep(seconds)

    async def __aenter__(self) -> None:
        """Wait for a free place among the calls in flight, then until one more call fits within the rate."""
        # The place first: a paced slot taken while still queueing for a place would bunch calls up later.
        if self._in_flight is not None:
            await self._in_flight.acquire()
        try:
            await self.acquire()
        except BaseException:
            if self._in_flight is not None:
                self._in_flight.release()
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        """Free the call's place in flight; the rate's capacity drains with time."""
        if self._in_flight is not None:
            self._in_flight.release()


class UnlimitedRateLimiter(RateLimiter):
    """A limiter that never paces, for tests; bans are still waited out with ``sleep``."""

    def __init__(self, *, sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(1.0, sleep=sleep)
        self.calls_per_second = math.inf

    async def acquire(self) -> None:
        """Never wait."""
