"""The app-wide pace of Lazada calls: at most N per second over any one-second window."""

from __future__ import annotations

import math
from types import TracebackType

from aiolimiter import AsyncLimiter

__all__ = ["RateLimiter", "UnlimitedRateLimiter"]


class RateLimiter:
    """Paces calls to at most ``calls_per_second`` in any one-second window; one instance per app.

    Use ``async with limiter:`` before each request (each retry too). Every client of the app shares the
    instance, since Lazada counts calls per app.
    """

    def __init__(self, calls_per_second: float) -> None:
        if not (calls_per_second > 0 and math.isfinite(calls_per_second)):
            raise ValueError(f"calls_per_second must be a positive finite number, not {calls_per_second!r}")
        self.calls_per_second = calls_per_second
        # A bucket of one that drains in 1/N s spaces calls evenly; AsyncLimiter(N, 1) would allow a burst of N
        # and then N more as the bucket drains (2N in one second). The 1% slack keeps call N+1 clear of the
        # server's one-second window when its clock and network jitter by a few milliseconds.
        self._limiter: AsyncLimiter | None = AsyncLimiter(max_rate=1, time_period=1.01 / calls_per_second)

    async def acquire(self) -> None:
        """Wait until one more call fits within the rate."""
        if self._limiter is not None:
            await self._limiter.acquire()

    async def __aenter__(self) -> None:
        """Wait until one more call fits within the rate."""
        await self.acquire()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Nothing to release: capacity drains with time."""
        return


class UnlimitedRateLimiter(RateLimiter):
    """A limiter that never waits, for tests."""

    def __init__(self) -> None:
        self.calls_per_second = math.inf
        self._limiter = None
