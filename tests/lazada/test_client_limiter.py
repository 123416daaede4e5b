"""The shared Lazada rate limiter: never more than N calls in any one-second window."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections.abc import Awaitable

import pytest

from bot.lazada.limiter import SLACK, RateLimiter, UnlimitedRateLimiter


class VirtualTime:
    """Time that passes only when every task waits: then it jumps to the earliest sleeper's wake-up."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), woken))
        await woken

    async def run(self, *calls: Awaitable[object]) -> None:
        """Run ``calls`` together, moving time forward whenever all of them are asleep."""
        tasks = [asyncio.ensure_future(call) for call in calls]
        while True:
            for _ in range(20):  # let every task that can run reach its next wait
                await asyncio.sleep(0)
            if all(task.done() for task in tasks):
                break
            when, _, woken = heapq.heappop(self._sleepers)
            self.now = max(self.now, when)
            woken.set_result(None)
        for task in tasks:
            task.result()


async def test_rate_limiter_keeps_any_one_second_window_at_or_below_the_rate() -> None:
    time = VirtualTime()
    limiter = RateLimiter(calls_per_second=20, clock=time.clock, sleep=time.sleep)
    stamps: list[float] = []

    async def call() -> None:
        async with limiter:
            stamps.append(time.now)

    await time.run(*(call() for _ in range(30)))

    stamps.sort()
    assert len(stamps) == 30
    for start in stamps:
        assert sum(1 for stamp in stamps if start <= stamp < start + 1.0) <= 20
    assert stamps[-1] - stamps[0] >= 29 / 20


async def test_rate_limiter_lets_calls_through_at_once_after_a_quiet_spell() -> None:
    time = VirtualTime()
    limiter = RateLimiter(calls_per_second=2, clock=time.clock, sleep=time.sleep)
    await time.run(limiter.acquire())
    time.now += 10.0
    started = time.now

    await time.run(limiter.acquire())

    assert time.now == started


async def test_rate_limiter_waits_on_real_time_by_default() -> None:
    limiter = RateLimiter(calls_per_second=400)
    loop = asyncio.get_running_loop()
    stamps: list[float] = []

    async def call() -> None:
        async with limiter:
            stamps.append(loop.time())

    await asyncio.gather(*(call() for _ in range(30)))

    # Calls may start late on a busy machine, never early.
    assert max(stamps) - min(stamps) >= 29 * SLACK / 400 * 0.99


async def test_rate_limiter_caps_the_calls_in_flight() -> None:
    time = VirtualTime()
    limiter = RateLimiter(calls_per_second=1000, max_in_flight=2, clock=time.clock, sleep=time.sleep)
    in_flight = peak = 0

    async def call() -> None:
        nonlocal in_flight, peak
        async with limiter:
            in_flight += 1
            peak = max(peak, in_flight)
            await time.sleep(1.0)
            in_flight -= 1

    await time.run(*(call() for _ in range(6)))

    assert peak == 2
    assert time.now >= 3.0


async def test_rate_limiter_pause_waits_on_the_limiters_time() -> None:
    time = VirtualTime()
    limiter = RateLimiter(calls_per_second=10, clock=time.clock, sleep=time.sleep)

    await time.run(limiter.pause(1.5))

    assert time.now == 1.5


async def test_rate_limiter_lets_the_first_call_through_at_once() -> None:
    limiter = RateLimiter(calls_per_second=2)
    loop = asyncio.get_running_loop()

    started = loop.time()
    await limiter.acquire()

    assert loop.time() - started < 0.05


@pytest.mark.parametrize("rate", [0, -1, math.inf, math.nan])
def test_rate_limiter_refuses_a_meaningless_rate(rate: float) -> None:
    with pytest.raises(ValueError, match="calls_per_second"):
        RateLimiter(calls_per_second=rate)


async def test_unlimited_rate_limiter_never_waits() -> None:
    limiter = UnlimitedRateLimiter()
    loop = asyncio.get_running_loop()

    started = loop.time()
    for _ in range(1000):
        async with limiter:
            pass

    assert loop.time() - started < 0.5
    assert isinstance(limiter, RateLimiter)
