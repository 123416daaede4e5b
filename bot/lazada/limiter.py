"""The app-wide pace of Lazada calls: at most N per second over any one-second window, and M at once.

One process paces on its own; replicas share the pace through a ``RateBudget`` (the database's, on PostgreSQL),
so N replicas together still send N calls a second, not N times as many.

The pace is kept on the time calls are sent, but Lazada counts them when they arrive. A call that opens a
connection arrives two round trips (the TCP and TLS handshakes) later than one sent on a kept-alive connection,
so at the start of a burst, with every pool cold, calls sent 1.1 s apart reached the gateway less than a second
apart and the eleventh was refused. So each call learns from httpcore's ``trace`` extension whether it opened a
connection, and one that did, once answered, moves the budget's next free slot on by how much later than a warm
call it may have arrived (beyond the margin the spacing leaves): the call N places after it then still reaches
Lazada a second after it. For that to work the next slot must not be booked long before its time, so each process
books a bucket's slots one at a time.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

import structlog

__all__ = [
    "LATE",
    "SHARED_SLACK",
    "SLACK",
    "CallTrace",
    "Clock",
    "RateBudget",
    "RateLimiter",
    "Sleep",
    "UnlimitedRateLimiter",
]

SLACK = 1.05
"""Calls are spaced this much wider than 1/N seconds."""
SHARED_SLACK = 1.10
"""The spacing when replicas share a budget: a database round trip more between booking and sending."""
LATE = 0.02
"""A shared slot missed by more than this many seconds is left empty and another is booked."""
MAX_REBOOKINGS = 4
"""Bookings tried for one call before it goes out late anyway."""
PUSH_MEMORY = 10.0
"""Seconds for which a process remembers how far it moved a bucket's slots on (so it does not move them twice)."""
CONNECT_EVENTS = frozenset({"connection.connect_tcp.started", "connection.connect_unix_socket.started"})
"""httpcore's trace events that say a request is opening a new connection."""

Clock = Callable[[], float]
"""Monotonic seconds."""
Sleep = Callable[[float], Awaitable[None]]
"""Waits that many seconds."""

_log = structlog.get_logger(__name__)


class RateBudget(Protocol):
    """Call slots shared by every replica: each booking takes the next free slot of a bucket, atomically."""

    async def book(self, bucket: str, *, now: float, interval: float) -> float:
        """Take the bucket's next free slot at or after ``now`` and return its time; the next is ``interval`` later."""
        ...

    async def hold(self, bucket: str, *, until: float) -> None:
        """Let no slot of the bucket start before ``until`` (a ban Lazada announced applies to every replica)."""
        ...

    async def push(self, bucket: str, *, by: float) -> None:
        """Move the bucket's next free slot ``by`` seconds later (a call reached Lazada late: see the module)."""
        ...


class CallTrace:
    """httpcore's ``trace`` extension for one paced call: notes whether the call opened a connection."""

    def __init__(self) -> None:
        self.opened_connection = False

    async def __call__(self, event: str, info: dict[str, Any]) -> None:
        """Called by httpcore at each step of the request."""
        if event in CONNECT_EVENTS:
            self.opened_connection = True


class RateLimiter:
    """Paces calls to at most ``calls_per_second`` in any one-second window; one instance per app.

    Use ``async with limiter:`` around each request (each retry too). Every client of the app shares the
    instance, since Lazada counts calls per app. With ``max_in_flight``, at most that many requests are
    out at once: set it to the HTTP pool's size, so requests wait here in a FIFO queue instead of in
    httpcore's pool, whose queue costs time quadratic in its length (a burst of hundreds of calls spent
    more CPU choosing connections than sending requests). ``clock`` and ``sleep`` are the time it paces
    on, injectable so tests need not wait.

    ``bucket`` names what Lazada counts together: the app key, and the API path too with ``per_api``.
    With a ``budget`` the slots are booked there, so every replica's limiter paces one shared budget; its
    ``clock`` must then be wall time (seconds since the epoch), the one time replicas share.

    ``calling`` yields a ``CallTrace`` to pass as the request's ``trace`` extension: a call that opened a
    connection may have reached Lazada late, and moves the following slots on (see the module).
    """

    def __init__(
        self,
        calls_per_second: float,
        *,
        max_in_flight: int | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        bucket: str = "app",
        per_api: bool = False,
        budget: RateBudget | None = None,
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
        self._interval = (SHARED_SLACK if budget is not None else SLACK) / calls_per_second
        # How late a call may reach Lazada and still leave a second before the call N places after it.
        self._margin = calls_per_second * self._interval - 1.0
        self._next_slots: dict[str, float] = {}
        self._booking: dict[str, asyncio.Lock] = {}
        self._fastest: dict[str, float] = {}
        self._pushes: dict[str, deque[tuple[float, float]]] = {}
        self._clock = clock
        self._sleep = sleep
        self._bucket = bucket
        self._per_api = per_api
        self._budget = budget

    def _bucket_of(self, api: str) -> str:
        return f"{self._bucket}{api}" if self._per_api else self._bucket

    async def acquire(self, api: str = "") -> float:
        """Wait until one more call (to ``api``, when counted per API) fits within the rate; its slot's time."""
        # Callers book in arrival order, one at a time per bucket (the lock is FIFO), each once the slot before
        # has come: booked further ahead, the slots after a late call could no longer be moved (`_answered`).
        bucket = self._bucket_of(api)
        booking = self._booking.setdefault(bucket, asyncio.Lock())
        if self._budget is not None:
            return await self._shared_slot(bucket, booking)
        async with booking:
            now = self._clock()
            slot = max(now, self._next_slots.get(bucket, -math.inf))
            self._next_slots[bucket] = slot + self._interval
            if slot > now:
                await self._sleep(slot - now)
        return slot

    async def _shared_slot(self, bucket: str, booking: asyncio.Lock) -> float:
        """Book a slot of the shared budget and wait for it; a slot missed by more than LATE is left empty."""
        assert self._budget is not None
        slot = self._clock()
        for _ in range(MAX_REBOOKINGS):
            async with booking:
                slot = await self._budget.book(bucket, now=self._clock(), interval=self._interval)
                # Wait from when the booking came back (a database round trip later), not from before it.
                now = self._clock()
                if slot > now:
                    await self._sleep(slot - now)
                    now = self._clock()
            # Sent this late, the call would crowd the next replica's (a busy event loop, a slow booking): the
            # slot stays empty and another is booked, so the calls that reach Lazada stay 1/N s apart.
            if now - slot <= LATE:
                return slot
        return slot

    async def _answered(self, api: str, slot: float, sent: float, trace: CallTrace) -> None:
        """Learn from one answered call: the fastest answer per API, or how late a call that connected arrived."""
        done = self._clock()
        if not trace.opened_connection:
            self._fastest[api] = min(self._fastest.get(api, math.inf), done - sent)
            return
        # It reached Lazada at the latest when it was answered, and a warm call N places later at the earliest
        # one fastest answer after its slot; without a fastest answer yet, count the whole wait as late. Counted
        # up to a second: by then the calls it could crowd have gone, and a longer move would only stall.
        fastest = self._fastest.get(api, min(self._fastest.values(), default=0.0))
        bucket = self._bucket_of(api)
        pushes = self._pushes.setdefault(bucket, deque())
        while pushes and pushes[0][0] < done - PUSH_MEMORY:
            pushes.popleft()
        # Slots this process already moved on since this call's slot count (other replicas' moves are not known
        # here, so calls that connected together may move the slots on somewhat more than needed).
        late = min(done - slot - fastest, 1.0) - self._margin - sum(by for at, by in pushes if at >= slot)
        if late <= 0:
            return
        pushes.append((done, late))
        if self._budget is None:
            self._next_slots[bucket] = self._next_slots.get(bucket, -math.inf) + late
            return
        try:
            await self._budget.push(bucket, by=late)
        except Exception as exc:  # the call itself went through: its answer must not be lost to the budget
            _log.warning("lazada.rate_budget_push_failed", bucket=bucket, error=type(exc).__name__)

    async def pause(self, seconds: float, api: str = "") -> None:
        """Wait out a ban Lazada announced, on the limiter's time; with a budget, every replica waits it out."""
        if self._budget is not None:
            await self._budget.hold(self._bucket_of(api), until=self._clock() + seconds)
        await self._sleep(seconds)

    @asynccontextmanager
    async def calling(self, api: str = "") -> AsyncIterator[CallTrace]:
        """Hold a place among the calls in flight and a slot of the rate for one call to ``api``.

        Pass what it yields as the request's ``trace`` extension.
        """
        # The place first: a paced slot taken while still queueing for a place would bunch calls up later.
        if self._in_flight is not None:
            await self._in_flight.acquire()
        try:
            slot = await self.acquire(api)
            sent = self._clock()
            trace = CallTrace()
            # A call that failed on its way (no connection, no answer in time) teaches nothing about its arrival.
            yield trace
            await self._answered(api, slot, sent, trace)
        finally:
            if self._in_flight is not None:
                self._in_flight.release()

    async def __aenter__(self) -> None:
        """Wait for a free place among the calls in flight, then until one more call fits within the rate."""
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

    async def acquire(self, api: str = "") -> float:
        """Never wait."""
        return self._clock()
