"""Reading Lazada into the digest's cache: a cold read of the whole history, then only what changed.

GetOrders lists every order with its ``items_count`` and ``statuses``; only orders with a ``canceled`` item need
GetMultipleOrderItems (50 per call) for ``cancel_return_initiator``. Pages of one listing are fetched at once once
the first page has told how many there are; a listing longer than Lazada's 5,000 offset cap is cut into shorter
time windows. Every call goes through the client, so the app-wide rate limiter paces them all.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

import structlog

from bot.digest.cache import DigestCache, ItemsRead, SyncState
from bot.digest.models import SyncStats
from bot.digest.window import CHART_DAYS, day_start, history_first_day, local_day
from bot.lazada.client import MAX_MULTIPLE_ORDER_IDS, MAX_ORDERS_LIMIT, MAX_ORDERS_OFFSET, LazadaClient
from bot.lazada.errors import LazadaBusinessError
from bot.lazada.models import OrderItems, OrdersPage
from bot.settings import StoreConfig

__all__ = ["ORDERS_PATH", "ORDER_ITEMS_PATH", "OrderSync", "Progress"]

ORDERS_PATH = "/orders/get"
ORDER_ITEMS_PATH = "/orders/items/get"
SPLIT_TARGET = 4000
"""Orders per time slice when a listing must be cut to stay under the offset cap (room for orders arriving)."""
_NOT_FOUND_CODES = frozenset({"39", "E039"})

Progress = Callable[[str, int, int], None]
"""Told ``(phase, done, total)`` as a sync goes: phase ``orders`` counts GetOrders pages, ``items`` batches."""

_T = TypeVar("_T")
_Keep = Callable[[OrdersPage], Awaitable[None]]

log = structlog.get_logger(__name__)


def _first_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_error(first) if isinstance(first, BaseExceptionGroup) else first


async def _all(awaitables: Iterable[Coroutine[Any, Any, _T]]) -> list[_T]:
    """Run concurrently; on the first failure cancel the rest and raise that failure itself."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(awaitable) for awaitable in awaitables]
    except BaseExceptionGroup as failed:
        raise _first_error(failed) from failed
    return [task.result() for task in tasks]


@dataclass(frozen=True, slots=True)
class _Listing:
    """One GetOrders query: created in ``[created_after, created_before]`` (whole seconds), maybe updated since."""

    created_after: datetime
    created_before: datetime
    update_after: datetime | None = None

    def split(self, parts: int) -> list[_Listing]:
        """Cut the creation range into ``parts`` consecutive ranges of whole seconds."""
        seconds = int((self.created_before - self.created_after).total_seconds()) + 1
        parts = min(parts, seconds)
        if parts < 2:
            raise LazadaBusinessError(
                f"more than {MAX_ORDERS_OFFSET} orders were created in the second {self.created_after.isoformat()}; "
                "Lazada's paging cannot reach past them",
                api_path=ORDERS_PATH,
            )
        starts = [self.created_after + timedelta(seconds=seconds * index // parts) for index in range(parts)]
        ends = [start - timedelta(seconds=1) for start in starts[1:]] + [self.created_before]
        return [replace(self, created_after=start, created_before=end) for start, end in zip(starts, ends, strict=True)]


class _Calls:
    """The Lazada calls of one sync: bounded in number at once, counted per API path, reported as progress."""

    def __init__(self, client: LazadaClient, *, concurrency: int, progress: Progress | None) -> None:
        self._client = client
        self._slots = asyncio.Semaphore(concurrency)
        self._progress = progress
        self.counts: Counter[str] = Counter()
        self._expected: Counter[str] = Counter()
        self._done: Counter[str] = Counter()

    def expect(self, phase: str, more: int) -> None:
        """Announce ``more`` calls of ``phase`` to come."""
        self._expected[phase] += more
        self._report(phase)

    def _report(self, phase: str) -> None:
        if self._progress is not None:
            self._progress(phase, self._done[phase], max(self._expected[phase], self._done[phase]))

    async def orders(self, listing: _Listing, offset: int) -> OrdersPage:
        """One GetOrders page of ``listing``, oldest first."""
        async with self._slots:
            self.counts[ORDERS_PATH] += 1
            page = await self._client.get_orders(
                created_after=listing.created_after,
                created_before=listing.created_before,
                update_after=listing.update_after,
                sort_by="created_at",
                sort_direction="ASC",
                limit=MAX_ORDERS_LIMIT,
                offset=offset,
            )
        self._done["orders"] += 1
        self._report("orders")
        return page

    async def items(self, order_ids: Sequence[str]) -> tuple[OrderItems, ...] | None:
        """GetMultipleOrderItems for up to 50 orders; None when Lazada finds none of them (error 39)."""
        async with self._slots:
            self.counts[ORDER_ITEMS_PATH] += 1
            try:
                found: tuple[OrderItems, ...] | None = await self._client.get_multiple_order_items(order_ids=order_ids)
            except LazadaBusinessError as exc:
                if exc.code not in _NOT_FOUND_CODES:
                    raise
                found = None
        self._done["items"] += 1
        self._report("items")
        return found


OrdersWaiting = Callable[[str, Sequence[str]], Awaitable[object]]
"""Told ``(store_code, order_ids)`` of listed orders that wait for the seller's answer to a buyer's cancellation
request (``need_cancel_confirm``): the buyer-request service stores and announces the requests it has not seen."""


class OrderSync:
    """Brings one store's cache up to date: cold the first time, then only new and changed orders."""

    def __init__(
        self,
        *,
        cache: DigestCache,
        clock: Callable[[], datetime],
        concurrency: int = 16,
        update_margin: timedelta = timedelta(minutes=10),
        chart_days: int = CHART_DAYS,
        orders_waiting: OrdersWaiting | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._cache = cache
        self._clock = clock
        self._concurrency = concurrency
        self._update_margin = update_margin
        self._chart_days = chart_days
        # Orders the sync lists anyway feed the buyer-request store too (issue 11).
        self._orders_waiting = orders_waiting

    async def sync(self, store: StoreConfig, client: LazadaClient, *, progress: Progress | None = None) -> SyncStats:
        """Read what the cache lacks for ``store`` and store it; the marks move only when everything was read."""
        started = self._clock()
        now = started.replace(microsecond=0)
        tz = store.tz
        first_day = history_first_day(local_day(now, tz), self._chart_days)
        horizon = day_start(first_day, tz)
        local_now = now.astimezone(tz)
        state = await self._cache.state(store.code)
        if state is not None and state.timezone != tz.key:
            log.info("digest.cache_reset", store_code=store.code, old_timezone=state.timezone, timezone=tz.key)
            await self._cache.forget(store.code)
            state = None
        cold = state is None or state.covered_until < horizon
        listings: list[_Listing] = []
        if state is None or cold:
            listings.append(_Listing(horizon, local_now))
        else:
            covered_from = state.covered_from.astimezone(tz)
            covered_until = state.covered_until.astimezone(tz)
            if covered_from > horizon:
                listings.append(_Listing(horizon, covered_from - timedelta(seconds=1)))
            listings.append(_Listing(covered_until, local_now))
            changed_from = max(horizon, covered_from)
            if changed_from <= covered_until:
                listings.append(_Listing(changed_from, covered_until, update_after=state.updates_since.astimezone(tz)))

        calls = _Calls(client, concurrency=self._concurrency, progress=progress)
        listed: set[str] = set()
        unreadable: set[str] = set()
        waiting: set[str] = set()

        async def keep(page: OrdersPage) -> None:
            # Each page is stored as it arrives: memory stays flat and a failed sync keeps what it read.
            # An order without a readable creation time belongs to no day: it is named, not counted.
            orders = [order for order in page.orders if order.created_at is not None]
            unreadable.update(page.unreadable)
            unreadable.update(order.order_id for order in page.orders if order.created_at is None)
            await self._cache.upsert_orders(store.code, orders, tz=tz, now=now)
            listed.update(order.order_id for order in orders)
            waiting.update(order.order_id for order in orders if order.need_cancel_confirm)

        calls.expect("orders", len(listings))
        await _all(self._list(calls, listing, keep) for listing in listings)

        pending = await self._cache.orders_needing_items(store.code, since=first_day)
        batches = [
            pending[start : start + MAX_MULTIPLE_ORDER_IDS] for start in range(0, len(pending), MAX_MULTIPLE_ORDER_IDS)
        ]
        calls.expect("items", len(batches))
        read = await _all(self._read_items(calls, store.code, batch, unreadable) for batch in batches)
        items_read = {order_id for batch in batches for order_id, _ in batch} - unreadable
        # Orders named before stay named until a listing or an item read succeeds for them; a cold sync lists all.
        earlier = set() if cold or state is None else set(state.unreadable_orders)
        still_unreadable = tuple(sorted((earlier - listed - items_read) | unreadable))
        if still_unreadable:
            log.warning("digest.unreadable_orders", store_code=store.code, orders=list(still_unreadable[:20]))

        pruned = await self._cache.prune(store.code, before=first_day)
        await self._cache.save_state(
            SyncState(
                store_code=store.code,
                timezone=tz.key,
                covered_from=horizon,
                covered_until=now,
                updates_since=now - self._update_margin,
                last_synced_at=now,
                last_cold_sync_at=now if cold else state.last_cold_sync_at if state else None,
                unreadable_orders=still_unreadable,
            )
        )
        await self._tell_waiting(store.code, waiting)
        stats = SyncStats(
            store_code=store.code,
            cold=cold,
            started_at=started,
            finished_at=self._clock(),
            calls=dict(calls.counts),
            orders_listed=len(listed),
            orders_item_reads=sum(read),
            orders_pruned=pruned,
            unreadable_orders=still_unreadable,
        )
        log.info(
            "digest.synced",
            store_code=store.code,
            cold=cold,
            calls=stats.calls,
            orders_listed=stats.orders_listed,
            orders_item_reads=stats.orders_item_reads,
        )
        return stats

    async def _list(self, calls: _Calls, listing: _Listing, keep: _Keep) -> None:
        """Every order of one listing: page 0, then all other pages at once, or shorter windows past 5,000."""
        first = await calls.orders(listing, 0)
        await keep(first)
        if len(first.orders) < MAX_ORDERS_LIMIT:
            return
        total = first.count_total
        if total <= MAX_ORDERS_OFFSET + MAX_ORDERS_LIMIT:
            offsets = range(MAX_ORDERS_LIMIT, total, MAX_ORDERS_LIMIT)
            calls.expect("orders", len(offsets))
            await _all(self._page(calls, listing, offset, keep) for offset in offsets)
            return
        parts = listing.split(math.ceil(total / SPLIT_TARGET))
        calls.expect("orders", len(parts))
        await _all(self._list(calls, part, keep) for part in parts)

    async def _tell_waiting(self, store_code: str, waiting: set[str]) -> None:
        """Hand orders waiting for the seller's answer to a buyer's request to the buyer-request service.

        Its failures never fail the sync: the digest lists the orders for the rate, and the scan finds the requests
        anyway.
        """
        if self._orders_waiting is None or not waiting:
            return
        try:
            await self._orders_waiting(store_code, sorted(waiting))
        except Exception:
            log.exception("buyer_request_note_failed", store_code=store_code, orders=len(waiting))

    @staticmethod
    async def _page(calls: _Calls, listing: _Listing, offset: int, keep: _Keep) -> None:
        page = await calls.orders(listing, offset)
        await keep(page)

    async def _read_items(
        self, calls: _Calls, store_code: str, batch: Sequence[tuple[str, datetime | None]], unreadable: set[str]
    ) -> int:
        """Read one batch's items and store each order's cancelled items per initiator; returns orders read.

        An order missing from the answer stays unread (the next sync tries again), unless Lazada found none of
        the batch: orders that no longer exist have nothing to count. An order whose items could not be read is
        added to ``unreadable`` and stays unread too.
        """
        versions = dict(batch)
        answers = await calls.items(list(versions))
        if answers is None:
            reads = [ItemsRead(order_id=order_id, cancelled_by={}, version=v) for order_id, v in versions.items()]
        else:
            reads = [
                ItemsRead(
                    order_id=answer.order_id,
                    cancelled_by=dict(
                        Counter(i.cancel_return_initiator or "" for i in answer.order_items if i.status == "canceled")
                    ),
                    version=versions[answer.order_id],
                )
                for answer in answers
                if answer.order_id in versions and answer.readable
            ]
            unreadable.update(answer.order_id for answer in answers if not answer.readable)
        await self._cache.save_items(store_code, reads)
        return len(reads)
