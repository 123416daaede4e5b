"""One Lazada budget across replicas, and a cancel refused by the rate limit sent once more after the ban."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.domain import PackageChoice
from bot.slack.render import ids
from bot.store.models import OrderStatus, RequestStatus
from bot.workflow.service import RequestForm
from cancel_order_bot.demo.harness import Harness, MovableClock, running_bot
from cancel_order_bot.sandbox import ItemSpec, SandboxWorld
from cancel_order_bot.sandbox.faults import FaultKind
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import ALICE, BOB, CAROL, CREATE, request_cancel

LIMIT = 10
ORDERS_EACH = 4


def _refusals(world: SandboxWorld) -> int:
    return sum(1 for call in world.calls if call.code == "ApiCallLimit")


async def _submit(bot: Harness, order_id: int) -> str:
    draft = await bot.services.workflow.draft(None, str(order_id))
    form = RequestForm(
        store_code=draft.store_code,
        order_id=str(order_id),
        item_ids=tuple(draft.selected_ids),
        reason_id=draft.reasons[0].reason_id,
        justification="Out of stock at the supplier.",
        package_choice=PackageChoice.WHOLE_PACKAGE,
        requester_id=ALICE,
        channel_id=bot.channel,
    )
    return (await bot.services.workflow.submit(form)).id


@pytest.mark.postgres
async def test_two_replicas_share_one_lazada_budget(postgres_url: str) -> None:
    # The sandbox counts calls on real time, as Lazada does; both replicas are set to its limit.
    world = SandboxWorld(now=lambda: datetime.now(UTC))
    world.rate_limit = LIMIT
    orders = [world.add_order([ItemSpec(status="pending")]).order_id for _ in range(2 * ORDERS_EACH)]
    overrides = {"lazada_calls_per_second": LIMIT}
    async with running_bot(postgres_url, world=world, settings_overrides=overrides) as first:  # noqa: SIM117
        async with running_bot(postgres_url, world=world, slack=first.slack, settings_overrides=overrides) as second:
            replicas = (first, second)
            ids_ = await asyncio.gather(*(_submit(replicas[n % 2], o) for n, o in enumerate(orders)))
            outcomes = await asyncio.gather(
                *(replicas[n % 2].services.workflow.approve(i, BOB if n % 3 else CAROL) for n, i in enumerate(ids_))
            )
            statuses = [getattr(o, "status", None) for o in outcomes]

    assert _refusals(world) == 0, "two replicas together stayed within the one budget"
    assert statuses == [RequestStatus.EXECUTED] * len(orders)
    assert world.call_count(CREATE) == len(orders)


async def test_a_cancel_refused_by_the_rate_limit_is_sent_once_more_after_the_ban(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    world.faults.inject(FaultKind.API_CALL_LIMIT, path=CREATE)
    await bot.click(BOB, ids.REQUEST_APPROVE, request)

    settled = await bot.refreshed(request)
    assert settled.status is RequestStatus.EXECUTED
    assert world.call_count(CREATE, code="ApiCallLimit") == 1
    assert world.call_count(CREATE, code="0") == 1
    assert all(world.item(int(i)).status == "canceled" for i in settled.orders[0].item_ids)


async def test_a_cancel_refused_by_the_rate_limit_is_not_sent_again_once_the_items_moved_on(
    sqlite_url: str, world: SandboxWorld, clock: MovableClock, showcase: Showcase
) -> None:
    async with running_bot(sqlite_url, world=world, clock=clock) as bot:
        request = await request_cancel(bot, showcase.pending)
        item_ids = [int(i) for i in request.orders[0].item_ids]
        world.faults.inject(FaultKind.API_CALL_LIMIT, path=CREATE)
        await bot.click(BOB, ids.REQUEST_APPROVE, request, wait=False)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while world.call_count(CREATE) == 0:
            assert loop.time() < deadline
            await asyncio.sleep(0.01)
        # During the announced one-second ban, the items ship.
        for item_id in item_ids:
            world.set_item_status(item_id, "shipped")
        await bot.settle()

        settled = await bot.refreshed(request)
        assert settled.status is RequestStatus.FAILED
        assert settled.orders[0].status is OrderStatus.FAILED
        assert world.call_count(CREATE) == 1
