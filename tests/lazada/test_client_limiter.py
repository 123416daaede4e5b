"""The shared Lazada rate limiter: never more than N calls in any one-second window."""

from __future__ import annotations

import asyncio
import math

import pytest

from bot.lazada.limiter import RateLimiter, UnlimitedRateLimiter


async def test_rate_limiter_keeps_any_one_second_window_at_or_below_the_rate() -> None:
    limiter = RateLimiter(calls_per_second=20)
    loop = asyncio.get_running_loop()
    stamps: list[float] = []

    async def call() -> None:
        async with limiter:
            stamps.append(loop.time())

    await asyncio.gather(*(call() for _ in range(30)))

    stamps.sort()
    assert len(stamps) == 30
    for start in stamps:
        assert sum(1 for stamp in stamps if start <= stamp < start + 1.0) <= 20
    assert stamps[-1] - stamps[0] >= 29 / 20


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
