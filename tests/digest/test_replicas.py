"""Several replicas, each with its own engine, ticking in the same minute post one digest (PostgreSQL and SQLite)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest.claims import CLAIM_KIND
from bot.digest.service import DigestService
from bot.store import ClaimStatus, ClaimStore, Database
from cancel_order_bot.demo import FakeSlack
from cancel_order_bot.sandbox import SandboxWorld
from tests.digest.conftest import ServiceFactory, local, store_config
from tests.digest.test_poster import add_history
from tests.sandbox.support import ManualClock

REPLICAS = 4


async def test_replicas_ticking_in_the_same_minute_post_one_digest(
    world: SandboxWorld, make_service: ServiceFactory, slack: FakeSlack, clock: ManualClock, db_url: str
) -> None:
    add_history(world)
    clock.current = local(2026, 11, 20, 9, 0, 30)
    async with AsyncExitStack() as stack:
        services = await _replicas(stack, make_service, slack, db_url, count=REPLICAS)
        await asyncio.gather(*(service.tick() for service in services))
        await asyncio.gather(*(service.tick() for service in services))

    posted = [call for call in slack.calls if call.method == "chat.postMessage"]
    assert len(posted) == 1
    assert len(slack.uploaded_files) == 1
    claim = await ClaimStore(make_service.database).get(CLAIM_KIND, "th-main/2026-11-20")
    assert claim is not None
    assert claim.status is ClaimStatus.DONE
    # One sync only: the 350 orders were listed once, in four pages.
    offsets = sorted(int(call.params["offset"]) for call in world.calls if call.path == "/orders/get")
    assert offsets == [0, 100, 200, 300]


async def test_two_replicas_post_each_stores_digest_once_a_day(
    world: SandboxWorld, make_service: ServiceFactory, slack: FakeSlack, clock: ManualClock, db_url: str
) -> None:
    add_history(world)
    stores = [store_config(), store_config(code="th-second", name="Thai Second", digest_channel="C0OPS")]
    clock.current = local(2026, 11, 20, 9, 0, 30)
    async with AsyncExitStack() as stack:
        replicas = await _replicas(stack, make_service, slack, db_url, stores=stores)
        for _ in range(2):
            await asyncio.gather(*(replica.tick() for replica in replicas))
        clock.current = local(2026, 11, 21, 9, 5)
        for _ in range(2):
            await asyncio.gather(*(replica.tick() for replica in replicas))

    posted = [call.params["channel"] for call in slack.calls if call.method == "chat.postMessage"]
    assert sorted(posted) == ["C0DIGEST", "C0DIGEST", "C0OPS", "C0OPS"]
    assert len(slack.uploaded_files) == 4
    claims = ClaimStore(make_service.database)
    for key in ("th-main/2026-11-20", "th-second/2026-11-20", "th-main/2026-11-21", "th-second/2026-11-21"):
        claim = await claims.get(CLAIM_KIND, key)
        assert claim is not None, key
        assert claim.status is ClaimStatus.DONE, key


async def _replicas(
    stack: AsyncExitStack,
    make_service: ServiceFactory,
    slack: FakeSlack,
    db_url: str,
    *,
    count: int = 2,
    **options: Any,
) -> list[DigestService]:
    """`count` digest services, each with its own engine on the same database, like replicas."""
    replicas = []
    for index in range(count):
        database = await stack.enter_async_context(Database.from_url(db_url))
        replicas.append(
            make_service(
                slack_client=AsyncWebClient(token=slack.bot_token, base_url=slack.api_url),
                replica_id=f"replica-{index}",
                database=database,
                **options,
            )
        )
    return replicas


def _slow_sync(service: DigestService, gate: asyncio.Event) -> None:
    """Make the replica's sync last until `gate` opens (a long first sync of a big store)."""
    sync = service.sync

    async def slow(store: Any, **kwargs: Any) -> Any:
        await gate.wait()
        return await sync(store, **kwargs)

    service.sync = slow  # type: ignore[method-assign]


@pytest.mark.parametrize(
    ("renew_every", "advances"),
    [
        # A sync of 30 minutes, twice the 15-minute lease: renewed as it goes, the claim stays this replica's.
        pytest.param(0.01, [10, 10, 10], id="renewed-while-syncing"),
        # A replica that stalls without renewing (its event loop blocked) loses the claim and must not post.
        pytest.param(3600, [20], id="lost-while-syncing"),
    ],
)
async def test_a_long_sync_leaves_one_post_whether_it_keeps_or_loses_its_claim(
    world: SandboxWorld,
    make_service: ServiceFactory,
    slack: FakeSlack,
    clock: ManualClock,
    db_url: str,
    renew_every: float,
    advances: list[int],
) -> None:
    add_history(world)
    clock.current = local(2026, 11, 20, 9, 0, 30)
    async with AsyncExitStack() as stack:
        slow, other = await _replicas(stack, make_service, slack, db_url, claim_renew_every=renew_every)
        gate = asyncio.Event()
        _slow_sync(slow, gate)
        first = asyncio.create_task(slow.tick())
        for minutes in advances:
            await asyncio.sleep(0.1)
            clock.current += timedelta(minutes=minutes)
            await asyncio.sleep(0.1)
            await other.tick()
        gate.set()
        await first

    posted = [call for call in slack.calls if call.method == "chat.postMessage"]
    assert len(posted) == 1
