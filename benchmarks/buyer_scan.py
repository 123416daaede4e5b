"""What looking for buyer cancellation requests costs: Lazada calls per store per hour, against the API's minimum.

The real bot (`running_bot`: the services, the app, the fake Slack) runs its buyer-request tick every
`BUYER_REQUEST_SCAN_SECONDS` (300) over two simulated hours on the sandbox, once with no open request and once with
100 open, each counted by the sandbox per API path. The minimum is what the API allows: every scan must read
GetReverseOrdersForSeller's pages, ``max(1, ceil(open / page_size))`` of them at the documented page size of 10, so
``12 × pages`` an hour at one scan every 5 minutes; the first hour also reads the new requests' items (for the
names on the cards) in ``ceil(new / 50)`` GetMultipleOrderItems calls. The card posts go to the fake Slack, not to
Lazada.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from benchmarks.report import BenchResult, Figure, Goal
from benchmarks.stack import BenchContext
from bot.lazada.client import MAX_MULTIPLE_ORDER_IDS, REVERSE_PAGE_SIZE
from cancel_order_bot.demo.harness import MovableClock, running_bot
from cancel_order_bot.sandbox import ItemSpec, SandboxWorld

__all__ = ["run"]

SCAN_SECONDS = 300.0
HOUR = timedelta(hours=1)


def _world(clock: MovableClock, open_requests: int) -> SandboxWorld:
    """A seller with `open_requests` buyer requests open for the next two days (one packed item each)."""
    world = SandboxWorld(now=clock)
    for _ in range(open_requests):
        order = world.add_order([ItemSpec(status="packed", name="Mug", sku="MUG-1")])
        world.request_buyer_cancel([order.items[0].order_item_id], answer_within=timedelta(days=2))
    return world


def minimum_per_hour(open_requests: int, *, new: int = 0, scan_seconds: float = SCAN_SECONDS) -> int:
    """The fewest Lazada calls an hour of scans can make: every page each scan, plus the new requests' items once."""
    scans = math.ceil(3600 / scan_seconds)
    pages = max(1, math.ceil(open_requests / REVERSE_PAGE_SIZE))
    return scans * pages + math.ceil(new / MAX_MULTIPLE_ORDER_IDS)


async def _hours(ctx: BenchContext, open_requests: int) -> tuple[int, int, Counter[str], int]:
    """Lazada calls in the first and the second hour of scans, the second hour's calls by API, and cards posted."""
    clock = MovableClock(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))
    world = _world(clock, open_requests)
    database = ctx.sqlite_url(f"buyer_scan_{open_requests}")
    overrides = {"approval_channel": "C0OPS", "buyer_request_scan_seconds": SCAN_SECONDS}
    async with running_bot(database, world=world, clock=clock, settings_overrides=overrides) as bot:
        per_hour: list[int] = []
        second_hour: Counter[str] = Counter()
        for _ in range(2):
            before = Counter(world.call_counts())
            end = clock() + HOUR
            while clock() < end:
                await bot.services.buyer.tick()
                clock.advance(timedelta(seconds=SCAN_SECONDS))
            delta = Counter(world.call_counts())
            delta.subtract(before)
            per_hour.append(sum(delta.values()))
            second_hour = +delta
        cards = len(bot.slack.messages("C0OPS"))
    return per_hour[0], per_hour[1], second_hour, cards


async def run(ctx: BenchContext) -> BenchResult:
    """Two hours of scans with 0 and with 100 open requests; calls per hour against the minimum."""
    started = time.perf_counter()
    figures: list[Figure] = []
    setup = [
        f"one store, the buyer-request tick every {SCAN_SECONDS:.0f} s over two simulated hours (MovableClock), "
        f"the real services and app with the fake Slack, the sandbox in process; GetReverseOrdersForSeller page "
        f"size {REVERSE_PAGE_SIZE} (the documented default), GetMultipleOrderItems {MAX_MULTIPLE_ORDER_IDS} orders "
        "a call",
    ]
    sizes = (0, ctx.scale(100, 20))
    for open_requests in sizes:
        first, second, by_api, cards = await _hours(ctx, open_requests)
        steady = minimum_per_hour(open_requests)
        first_minimum = minimum_per_hour(open_requests, new=open_requests)
        figures.append(
            Figure(
                label=f"{open_requests} open, calls in an hour (steady)",
                measured=second,
                bound=steady,
                unit="calls",
                bound_label="API minimum (pages × scans)",
                goal=Goal(op="<=", target=1.0),
            )
        )
        figures.append(
            Figure(
                label=f"{open_requests} open, calls in the first hour",
                measured=first,
                bound=first_minimum,
                unit="calls",
                bound_label="API minimum (+ items of new requests)",
                goal=Goal(op="<=", target=1.0),
            )
        )
        calls = ", ".join(f"{path} {count}" for path, count in sorted(by_api.items())) or "none"
        setup.append(f"{open_requests} open requests: steady hour's calls by API: {calls}; cards posted: {cards}")
    return BenchResult(
        name="buyer_scan",
        title="Buyer request scan",
        figures=tuple(figures),
        setup=tuple(setup),
        notes=(
            "The scan reads every page of open CANCEL requests at each scan, as the API allows no cheaper way to learn "
            "that a request closed: a decided or withdrawn request simply leaves the list, and only then is it read "
            "back (one GetReverseOrdersForSeller by id). A card is never a reason to call Lazada.",
        ),
        seconds=time.perf_counter() - started,
    )
