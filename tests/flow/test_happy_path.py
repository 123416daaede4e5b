"""A request from the command to the cancelled items, through the real app in HTTP mode."""

from __future__ import annotations

from bot.slack.render import ids
from bot.store.models import RequestStatus
from cancel_order_bot.demo.harness import Harness
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import CREATE

ALICE, BOB = "U0ALICE", "U0BOB"


async def test_request_then_approval_cancels_the_items(bot: Harness, world: SandboxWorld, showcase: Showcase) -> None:
    response = await bot.command(ALICE, str(showcase.pending))
    assert response.status_code == 200
    modal = bot.open_modal(ALICE)
    assert modal["callback_id"] == ids.REQUEST_MODAL
    assert "Electric Kettle" in str(modal["blocks"])
    item_ids = [str(i.order_item_id) for i in world.order_items(showcase.pending)]

    await bot.submit(ALICE, modal, item_ids=item_ids, reason_id="10000019")
    request = await bot.request_for(str(showcase.pending))
    assert request.status is RequestStatus.PENDING
    assert request.message_ts is not None
    assert "Approve" in bot.message_json(request)
    assert bot.slack.calls_to("chat.postEphemeral")

    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    done = await bot.refreshed(request)
    assert done.status is RequestStatus.EXECUTED
    assert world.call_count(CREATE) == 1
    assert all(i.status == "canceled" for i in world.order_items(showcase.pending))
    assert "Approve" not in bot.message_json(done)
    assert bot.thread_texts(done)
