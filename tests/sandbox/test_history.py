"""The seeded order history: determinism, realistic statuses and cancellation shares, size and speed."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from cancel_order_bot.sandbox import SandboxWorld, generate_history, sample_order_ids
from cancel_order_bot.sandbox.history import SLA_CANCEL_REASON
from tests.sandbox.support import ManualClock

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)  # 14:00 in Singapore
TODAY = date(2026, 11, 20)


def _world() -> SandboxWorld:
    return SandboxWorld(now=ManualClock(NOW))


@pytest.fixture(scope="module")
def big() -> SandboxWorld:
    world = _world()
    generate_history(world, seed=42, orders_per_day=300, days=60)
    return world


def test_history_is_deterministic_by_seed() -> None:
    first, second, other = _world(), _world(), _world()
    for world, seed in ((first, 1), (second, 1), (other, 2)):
        generate_history(world, seed=seed, orders_per_day=50, days=5, today=TODAY)

    def fingerprint(world: SandboxWorld) -> list[tuple[object, ...]]:
        return [
            (order.order_id, order.created_at, tuple((i.order_item_id, i.status, i.sku) for i in order.items))
            for order in world.orders_by_created()
        ]

    assert fingerprint(first) == fingerprint(second)
    assert [o.order_id for o in first.orders_by_created()] != [o.order_id for o in other.orders_by_created()]


def test_history_has_n_orders_a_day_in_the_store_time_zone() -> None:
    world = _world()
    summary = generate_history(world, seed=3, orders_per_day=40, days=7, today=TODAY)

    assert summary.orders == world.order_count == 280
    assert summary.first_day == TODAY - timedelta(days=6)
    days = Counter(order.created_at.astimezone(world.tz).date() for order in world.orders_by_created())
    assert days == {TODAY - timedelta(days=offset): 40 for offset in range(7)}
    assert all(order.created_at <= NOW for order in world.orders_by_created())
    created = [order.created_at for order in world.orders_by_created()]
    assert created == sorted(created)


def test_history_orders_have_one_to_three_items_and_consistent_fields(big: SandboxWorld) -> None:
    orders = big.orders_by_created()
    sizes = Counter(order.items_count for order in orders)
    assert set(sizes) == {1, 2, 3}
    assert sizes[1] > sizes[2] > sizes[3]
    repeated = sum(1 for order in orders if len({item.sku for item in order.items}) < order.items_count)
    assert repeated > 0  # identical units are separate items
    for order in orders[:2000]:
        assert order.updated_at >= order.created_at
        assert order.updated_at == max(item.updated_at for item in order.items)
        assert order.statuses == list(dict.fromkeys(item.status for item in order.items))
        for item in order.items:
            assert item.order_id == order.order_id
            if item.status in {"packed", "ready_to_ship", "shipped", "delivered"}:
                assert item.package_id is not None
            if item.status == "canceled":
                assert item.cancel_return_initiator is not None
                assert item.reason


def test_history_statuses_fit_the_orders_age(big: SandboxWorld) -> None:
    recent: Counter[str] = Counter()
    old: Counter[str] = Counter()
    for order in big.orders_by_created():
        age = NOW - order.created_at
        for item in order.items:
            if item.status == "canceled":
                continue
            if age < timedelta(hours=24):
                recent[item.status] += 1
            elif age > timedelta(days=10):
                old[item.status] += 1
    assert set(recent) <= {"pending", "packed", "ready_to_ship"}
    assert {"pending", "packed", "ready_to_ship"} <= set(recent)
    assert old["delivered"] / sum(old.values()) > 0.9
    assert not {"pending", "packed", "ready_to_ship"} & set(old)


def test_history_cancellation_shares_are_realistic(big: SandboxWorld) -> None:
    items = [item for order in big.orders_by_created() for item in order.items]
    by_initiator = Counter(item.cancel_return_initiator for item in items if item.status == "canceled")
    total = len(items)

    assert 0.01 <= by_initiator["cancellation-seller"] / total <= 0.03
    assert 0.02 <= by_initiator["cancellation-customer"] / total <= 0.07
    assert 0.002 <= by_initiator["cancellation-internal"] / total <= 0.015
    assert set(by_initiator) == {"cancellation-seller", "cancellation-customer", "cancellation-internal"}
    seller_reasons = {option.reason_name for option in big.reason_options()}
    assert all(item.reason in seller_reasons for item in items if item.cancel_return_initiator == "cancellation-seller")
    assert all(
        item.reason == SLA_CANCEL_REASON for item in items if item.cancel_return_initiator == "cancellation-internal"
    )
    partial = [o for o in big.orders_by_created() if "canceled" in o.statuses and len(o.statuses) > 1]
    assert len(partial) > 10


def test_history_sla_cancellations_are_only_past_the_deadline(big: SandboxWorld) -> None:
    for order in big.orders_by_created():
        if any(item.cancel_return_initiator == "cancellation-internal" for item in order.items):
            assert NOW - order.created_at >= timedelta(hours=48)


def test_history_summary_counts_cancelled_items() -> None:
    world = _world()
    summary = generate_history(world, seed=42, orders_per_day=300, days=60)
    items = [item for order in world.orders_by_created() for item in order.items]
    assert summary.items == len(items)
    counted = Counter(item.cancel_return_initiator for item in items if item.status == "canceled")
    assert dict(summary.cancelled_items_by_initiator) == dict(counted)


def test_history_refuses_bad_sizes() -> None:
    with pytest.raises(ValueError, match="days"):
        generate_history(_world(), seed=1, orders_per_day=10, days=0)


def test_history_twice_with_the_same_seed_collides() -> None:
    world = _world()
    generate_history(world, seed=1, orders_per_day=5, days=1)
    with pytest.raises(ValueError, match="already exists"):
        generate_history(world, seed=1, orders_per_day=5, days=1)


def test_sample_order_ids_gives_a_few_per_status(big: SandboxWorld) -> None:
    samples = sample_order_ids(big, per_status=2)
    for kind in ("pending", "packed", "ready_to_ship", "delivered", "canceled", "partially_canceled"):
        assert 1 <= len(samples[kind]) <= 2
    for order_id in samples["pending"]:
        assert big.order(order_id).statuses == ["pending"]
    for order_id in samples["packed_multi_item"]:
        packages = Counter(item.package_id for item in big.order(order_id).items if item.status == "packed")
        assert max(packages.values()) >= 2


def test_history_of_80000_orders_is_fast_and_queryable() -> None:
    world = _world()
    started = time.perf_counter()
    summary = generate_history(world, seed=9, orders_per_day=2286, days=35)
    elapsed = time.perf_counter() - started

    assert summary.orders == 80_010
    assert elapsed < 10
    day = datetime(2026, 11, 1, tzinfo=world.tz)
    started = time.perf_counter()
    total, page = world.find_orders(created_after=day, created_before=day + timedelta(days=1), limit=100)
    for offset in range(100, min(total, 2300), 100):
        world.find_orders(created_after=day, created_before=day + timedelta(days=1), offset=offset)
    assert time.perf_counter() - started < 2
    assert total == 2286
    assert len(page) == 100
