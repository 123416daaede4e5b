"""Deciding on a request: who may approve, double clicks and retries, reject with a reason, withdraw, expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.slack.render import ids
from bot.store.models import RequestStatus
from cancel_order_bot.demo.harness import Harness
from cancel_order_bot.demo.slack_payloads import Delivery
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import ALICE, BOB, CAROL, CREATE, DAVE, request_cancel, told


async def test_requester_cannot_approve_own_request(bot: Harness, world: SandboxWorld, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending, user=BOB)
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    assert (await bot.refreshed(request)).status is RequestStatus.PENDING
    assert "can't approve your own request" in told(bot, BOB)
    assert world.call_count(CREATE) == 0
    trail = await bot.services.requests.audit_trail(request.id)
    assert [e.action for e in trail] == ["requested", "message_posted"]


async def test_non_approver_cannot_approve(bot: Harness, world: SandboxWorld, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    await bot.click(DAVE, ids.REQUEST_APPROVE, request)
    assert (await bot.refreshed(request)).status is RequestStatus.PENDING
    assert "Only an approver" in told(bot, DAVE)
    assert world.call_count(CREATE) == 0


async def test_double_click_cancels_once_and_tells_the_second_click(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    await asyncio.gather(
        bot.click(BOB, ids.REQUEST_APPROVE, request, wait=False),
        bot.click(BOB, ids.REQUEST_APPROVE, request, wait=False),
        bot.click(CAROL, ids.REQUEST_APPROVE, request, wait=False),
    )
    await bot.settle()
    assert (await bot.refreshed(request)).status is RequestStatus.EXECUTED
    assert world.call_count(CREATE) == 1
    seen = told(bot, BOB) + told(bot, CAROL)
    assert "already approved by <@U0" in seen, "the winner is named with a working mention"
    assert "&lt;" not in seen


async def test_slack_retry_of_the_same_click_has_one_effect(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    await bot.click(BOB, ids.REQUEST_APPROVE, request, delivery=Delivery(retry_num=1))
    assert world.call_count(CREATE) == 1
    assert (await bot.refreshed(request)).status is RequestStatus.EXECUTED


async def test_reject_asks_for_a_reason_and_tells_the_requester(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    await bot.click(BOB, ids.REQUEST_REJECT, request)
    modal = bot.open_modal(BOB)
    assert modal["callback_id"] == ids.REJECT_MODAL

    empty = await bot.send(
        bot.payloads.view_submission(
            modal, user_id=BOB, values={ids.REJECT_REASON_BLOCK: {ids.REJECT_REASON: {"value": "  "}}}
        )
    )
    assert empty.json()["response_action"] == "errors"
    assert (await bot.refreshed(request)).status is RequestStatus.PENDING

    await bot.send(
        bot.payloads.view_submission(
            modal,
            user_id=BOB,
            values={ids.REJECT_REASON_BLOCK: {ids.REJECT_REASON: {"value": "Customer wants it after all"}}},
        )
    )
    await bot.settle()
    rejected = await bot.refreshed(request)
    assert rejected.status is RequestStatus.REJECTED
    assert rejected.decided_by == BOB
    assert rejected.decision_note == "Customer wants it after all"
    assert "Customer wants it after all" in " ".join(bot.thread_texts(rejected)) + bot.message_json(rejected)
    assert "Approve" not in bot.message_json(rejected)
    assert world.call_count(CREATE) == 0


async def test_non_approver_reject_is_refused_in_the_modal(bot: Harness, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    await bot.click(DAVE, ids.REQUEST_REJECT, request)
    view = bot.open_modal(DAVE)
    assert "Only an approver" in str(view["blocks"])
    assert (await bot.refreshed(request)).status is RequestStatus.PENDING


async def test_requester_withdraws_and_others_cannot(bot: Harness, world: SandboxWorld, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    await bot.click(BOB, ids.REQUEST_WITHDRAW, request)
    assert (await bot.refreshed(request)).status is RequestStatus.PENDING
    assert "Only the person who made the request" in told(bot, BOB)

    await bot.click(ALICE, ids.REQUEST_WITHDRAW, request)
    withdrawn = await bot.refreshed(request)
    assert withdrawn.status is RequestStatus.WITHDRAWN
    assert "Approve" not in bot.message_json(withdrawn)

    await bot.click(BOB, ids.REQUEST_APPROVE, withdrawn)
    assert "already withdrawn" in told(bot, BOB)
    assert world.call_count(CREATE) == 0


async def test_reminder_at_half_time_then_expiry(bot: Harness, world: SandboxWorld, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    bot.clock.advance(timedelta(hours=5))
    await bot.services.workflow.tick()
    assert bot.thread_texts(request) == []

    bot.clock.advance(timedelta(hours=1, minutes=1))
    await bot.services.workflow.tick()
    await bot.services.workflow.tick()
    replies = bot.thread_texts(request)
    assert len(replies) == 1, replies
    assert (await bot.refreshed(request)).reminded_at is not None

    bot.clock.advance(timedelta(hours=6))
    await bot.services.workflow.tick()
    expired = await bot.refreshed(request)
    assert expired.status is RequestStatus.EXPIRED
    assert "Approve" not in bot.message_json(expired)
    assert len(bot.thread_texts(expired)) == 2

    await bot.click(BOB, ids.REQUEST_APPROVE, expired)
    assert world.call_count(CREATE) == 0
    assert "expired" in told(bot, BOB)


async def test_approver_group_lookup_failure_is_explained(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    bot.services.approvers.forget()
    bot.slack.fail("usergroups.users.list", "ratelimited", times=5)
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    assert "couldn't check who may approve" in told(bot, BOB)
    assert (await bot.refreshed(request)).status is RequestStatus.PENDING
    assert world.call_count(CREATE) == 0
