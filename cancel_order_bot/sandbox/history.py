"""A seeded order history for the sandbox: N orders a day over D days, with statuses that fit their age."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate
from types import MappingProxyType

from cancel_order_bot.sandbox.world import BUYER_CANCEL_REASONS, Item, Order, SandboxWorld

__all__ = [
    "BUYER_REASONS",
    "BUYER_REQUESTS_PER_DAY",
    "SLA_CANCEL_REASON",
    "BuyerRequestStream",
    "HistorySummary",
    "generate_history",
    "sample_order_ids",
    "start_buyer_requests",
]

CUSTOMER = "cancellation-customer"
SELLER = "cancellation-seller"
INTERNAL = "cancellation-internal"

BUYER_REASONS = (
    "Change of mind",
    "Found cheaper elsewhere",
    "Duplicate order",
    "Change of delivery address",
    "Delivery time is too long",
)
SLA_CANCEL_REASON = "Seller did not ship the order on time"

_FIRST_ORDER_ID = 500_000_000_000_000
_FIRST_ITEM_ID = 700_000_000_000_000
_HOUR_WEIGHTS = (2, 1, 1, 1, 1, 2, 3, 5, 6, 7, 8, 9, 10, 9, 8, 8, 8, 9, 10, 12, 13, 13, 10, 5)
_HOUR_CUM_WEIGHTS = tuple(accumulate(_HOUR_WEIGHTS))
# (hours since the order was placed, statuses, cumulative weights): what an uncancelled item looks like.
_STATUS_BY_AGE: tuple[tuple[float, tuple[str, ...], tuple[int, ...]], ...] = (
    (6, ("pending", "packed", "ready_to_ship"), (75, 95, 100)),
    (24, ("pending", "packed", "ready_to_ship"), (35, 65, 100)),
    (48, ("pending", "packed", "ready_to_ship", "shipped"), (5, 15, 50, 100)),
    (96, ("ready_to_ship", "shipped", "delivered"), (5, 60, 100)),
    (168, ("shipped", "delivered"), (20, 100)),
    (float("inf"), ("delivered", "returned", "failed_delivery", "lost_by_3pl"), (95, 97, 99, 100)),
)
# Hours after the order when an item typically reached the status (low, high).
_STATUS_DELAY_HOURS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "pending": (0, 0),
        "packed": (1, 6),
        "ready_to_ship": (2, 20),
        "shipped": (20, 48),
        "delivered": (48, 120),
        "returned": (120, 240),
        "failed_delivery": (72, 150),
        "lost_by_3pl": (72, 200),
    }
)
_NOUNS = ("T-Shirt", "Phone Case", "Water Bottle", "Backpack", "Desk Lamp", "Sneakers", "Mug", "Charger Cable")
_ADJECTIVES = ("Classic", "Eco", "Pro", "Mini", "Deluxe", "Sport", "Travel", "Smart")
_VARIATIONS = ("", "Color:Black", "Color:White", "Size:M", "Size:L", "Color:Blue")
_PRICES = tuple(Decimal(price) for price in ("4.90", "9.90", "12.50", "19.90", "29.00", "45.00", "89.00"))
_SHIPPING_FEES = tuple(Decimal(fee) for fee in ("0.00", "1.99", "2.99"))
_PAYMENT_METHODS = ("COD", "MIXEDCARD", "LAZADA_WALLET", "PAYPAL")


@dataclass(frozen=True, slots=True)
class _Product:
    sku: str
    name: str
    variation: str
    price: Decimal


@dataclass(frozen=True, slots=True)
class HistorySummary:
    """What ``generate_history`` added."""

    orders: int
    items: int
    first_day: date
    last_day: date
    cancelled_items_by_initiator: Mapping[str, int]


def _catalog(rng: random.Random, size: int = 64) -> list[_Product]:
    return [
        _Product(
            sku=f"SBX-{index:04d}",
            name=f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}",
            variation=rng.choice(_VARIATIONS),
            price=rng.choice(_PRICES),
        )
        for index in range(size)
    ]


def _day_times(rng: random.Random, start: datetime, span_seconds: int, count: int) -> list[int]:
    """Epoch seconds of ``count`` orders in a day, busier in the evening, sorted."""
    base = int(start.timestamp())
    moments = []
    for _ in range(count):
        if span_seconds >= 86_400:
            hour = rng.choices(range(24), cum_weights=_HOUR_CUM_WEIGHTS)[0]
            offset = hour * 3600 + rng.randrange(3600)
        else:
            offset = rng.randrange(max(span_seconds, 1))
        moments.append(base + offset)
    moments.sort()
    return moments


def _status_for_age(rng: random.Random, age_hours: float) -> str:
    for limit, statuses, cum_weights in _STATUS_BY_AGE:
        if age_hours < limit:
            return rng.choices(statuses, cum_weights=cum_weights)[0]
    raise AssertionError("the last age bucket is unbounded")


def _moment_after(rng: random.Random, created: int, now: int, low: float, high: float) -> int:
    return min(now, created + int(rng.uniform(low, high) * 3600))


def generate_history(
    world: SandboxWorld,
    *,
    seed: int,
    orders_per_day: int,
    days: int,
    today: date | None = None,
) -> HistorySummary:
    """Add ``orders_per_day`` orders for each of the ``days`` days up to ``today`` (store-local) to ``world``.

    The same seed gives the same orders, items and ids. Recent orders are pending, packed or ready to
    ship, older ones mostly shipped or delivered; about 3.5% of orders are cancelled by the buyer, 1.5%
    by the seller and, once past the shipping deadline, 0.8% by Lazada (``cancellation-internal``), and
    a few multi-item orders lose one item to a cancellation.
    """
    if orders_per_day < 0 or days < 1:
        raise ValueError("orders_per_day must be >= 0 and days >= 1")
    rng = random.Random(seed)  # noqa: S311 - reproducible fake data, not security
    catalog = _catalog(rng)
    for product in catalog:
        world.set_stock(product.sku, rng.randint(5, 500))
    seller_reasons = [option.reason_name for option in world.reason_options()]
    last_day = today if today is not None else world.today()
    first_day = last_day - timedelta(days=days - 1)
    now = int(world.now().timestamp())
    order_id = _FIRST_ORDER_ID + rng.randrange(10**12)
    item_id = _FIRST_ITEM_ID + rng.randrange(10**12)
    orders: list[Order] = []
    cancelled: Counter[str] = Counter()
    item_total = 0

    for day_index in range(days):
        day = first_day + timedelta(days=day_index)
        start = datetime.combine(day, time(0), tzinfo=world.tz)
        span = 86_400
        if start.timestamp() <= now < start.timestamp() + 86_400:
            span = now - int(start.timestamp())
        for created_epoch in _day_times(rng, start, span, orders_per_day):
            order_id += rng.randint(1, 97)
            created = datetime.fromtimestamp(created_epoch, UTC)
            age_hours = (now - created_epoch) / 3600
            base_status = _status_for_age(rng, age_hours)
            item_count = rng.choices((1, 2, 3), cum_weights=(70, 90, 100))[0]

            whole_cancel: str | None = None
            draw = rng.random()
            if draw < 0.035:
                whole_cancel = CUSTOMER
            elif draw < 0.050:
                whole_cancel = SELLER
            elif draw < 0.058 and age_hours >= 48:
                whole_cancel = INTERNAL
            partial_index = -1
            partial_initiator = CUSTOMER
            if whole_cancel is None and item_count > 1 and rng.random() < 0.06:
                partial_index = rng.randrange(item_count)
                partial_initiator = rng.choices((CUSTOMER, SELLER, INTERNAL), cum_weights=(50, 90, 100))[0]
                if partial_initiator == INTERNAL and age_hours < 48:
                    partial_initiator = CUSTOMER

            package_id = None
            if (whole_cancel is None) and base_status not in {"pending"}:
                package_id = world.new_package_id()
            low, high = _STATUS_DELAY_HOURS[base_status]
            base_updated = _moment_after(rng, created_epoch, now, low, high)

            items: list[Item] = []
            product = rng.choice(catalog)
            for index in range(item_count):
                if index > 0 and rng.random() >= 0.35:
                    product = rng.choice(catalog)
                initiator = whole_cancel if whole_cancel is not None else None
                if index == partial_index:
                    initiator = partial_initiator
                item_id += rng.randint(1, 13)
                if initiator is None:
                    status, package, reason, updated_epoch = base_status, package_id, None, base_updated
                else:
                    if initiator == INTERNAL:
                        updated_epoch = _moment_after(rng, created_epoch, now, 48, 72)
                        reason = SLA_CANCEL_REASON
                    else:
                        updated_epoch = _moment_after(rng, created_epoch, now, 0.2, 24)
                        reason = rng.choice(seller_reasons if initiator == SELLER else BUYER_REASONS)
                    status, package = "canceled", None
                    cancelled[initiator] += 1
                items.append(
                    Item(
                        order_item_id=item_id,
                        order_id=order_id,
                        status=status,
                        sku=product.sku,
                        name=product.name,
                        variation=product.variation,
                        price=product.price,
                        package_id=package,
                        created_at=created,
                        updated_at=created
                        if updated_epoch == created_epoch
                        else datetime.fromtimestamp(updated_epoch, UTC),
                        cancel_return_initiator=initiator,
                        reason=reason,
                    )
                )
            item_total += item_count
            orders.append(
                Order(
                    order_id=order_id,
                    order_number=order_id,
                    created_at=created,
                    updated_at=max(item.updated_at for item in items),
                    items=items,
                    payment_method=rng.choices(_PAYMENT_METHODS, cum_weights=(40, 75, 95, 100))[0],
                    shipping_fee=rng.choice(_SHIPPING_FEES),
                )
            )
    world.load_orders(orders)
    return HistorySummary(
        orders=len(orders),
        items=item_total,
        first_day=first_day,
        last_day=last_day,
        cancelled_items_by_initiator=MappingProxyType(dict(cancelled)),
    )


def sample_order_ids(world: SandboxWorld, *, per_status: int = 3) -> dict[str, tuple[int, ...]]:
    """Return up to ``per_status`` recent order ids per kind of order, for a person trying the sandbox.

    Keys are an item status (every item of the order has it), ``partially_canceled`` (some items
    cancelled, some not) and ``packed_multi_item`` (a package holding several packed items: cancelling
    one cancels the others unless repacked first).
    """
    samples: dict[str, list[int]] = {}

    def add(kind: str, order_id: int) -> None:
        bucket = samples.setdefault(kind, [])
        if len(bucket) < per_status:
            bucket.append(order_id)

    for order in reversed(world.orders_by_created()):
        statuses = order.statuses
        if len(statuses) == 1:
            add(statuses[0], order.order_id)
        elif "canceled" in statuses:
            add("partially_canceled", order.order_id)
        if order.items_count > 1 and "packed" in statuses:
            packed = Counter(item.package_id for item in order.items if item.status == "packed")
            if any(package and count > 1 for package, count in packed.items()):
                add("packed_multi_item", order.order_id)
    return {kind: tuple(ids) for kind, ids in sorted(samples.items())}


BUYER_REQUESTS_PER_DAY = 8.0
"""How often the sandbox's buyers ask to cancel, on average (about one every three hours)."""
_REQUESTABLE_STATUSES = frozenset({"packed", "ready_to_ship"})
_REQUESTABLE_AGE = timedelta(hours=72)
_MAX_CATCH_UP = 20


class BuyerRequestStream:
    """Buyers asking to cancel now and then, as the world's time passes (a ``SandboxWorld.tickers`` entry).

    Requests arrive at random (exponential gaps averaging ``per_day`` a day, from a seeded generator) on a
    recent order whose items are all packed or ready to ship and not already asked about; the deadline is
    24 to 48 hours after the request. After a long jump of the clock at most ``_MAX_CATCH_UP`` requests are
    made at once, and the stream goes on from the present.
    """

    def __init__(
        self,
        *,
        seed: int,
        per_day: float = BUYER_REQUESTS_PER_DAY,
        start: datetime,
        answer_within: tuple[timedelta, timedelta] = (timedelta(hours=24), timedelta(hours=48)),
    ) -> None:
        if per_day <= 0:
            raise ValueError("per_day must be positive")
        self._rng = random.Random(seed)  # noqa: S311 - reproducible fake data, not security
        self._rate = per_day / 86_400
        self._window = answer_within
        self.next_at = start + self._gap()
        self.opened: list[int] = []
        """The reverse order ids this stream opened, oldest first."""

    def _gap(self) -> timedelta:
        return timedelta(seconds=round(self._rng.expovariate(self._rate)))

    def __call__(self, world: SandboxWorld) -> None:
        """Make the requests due by the world's present."""
        now = world.now()
        made = 0
        while self.next_at <= now and made < _MAX_CATCH_UP:
            self._ask(world, self.next_at)
            self.next_at += self._gap()
            made += 1
        if self.next_at <= now:
            self.next_at = now + self._gap()

    def _ask(self, world: SandboxWorld, at: datetime) -> None:
        candidates = [
            order
            for order in world.orders_created_between(at - _REQUESTABLE_AGE, at)
            if all(item.status in _REQUESTABLE_STATUSES and item.is_cancellable for item in order.items)
            and not any(item.need_cancel_confirm for item in order.items)
        ]
        if not candidates:
            return
        order = self._rng.choice(candidates)
        low, high = self._window
        within = timedelta(minutes=round(self._rng.uniform(low.total_seconds(), high.total_seconds()) / 60))
        reverse_order_id = world.request_buyer_cancel(
            [item.order_item_id for item in order.items],
            answer_within=within,
            reason=self._rng.choice(BUYER_CANCEL_REASONS),
            requested_at=at,
        )
        self.opened.append(reverse_order_id)


def start_buyer_requests(
    world: SandboxWorld, *, seed: int, per_day: float = BUYER_REQUESTS_PER_DAY
) -> BuyerRequestStream:
    """Let buyers ask to cancel from now on in ``world`` (seeded: the same seed and clock give the same requests)."""
    stream = BuyerRequestStream(seed=seed, per_day=per_day, start=world.now())
    world.tickers.append(stream)
    return stream
