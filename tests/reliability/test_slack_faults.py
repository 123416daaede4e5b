"""Slack failing the bot: chat.update and views.update errors, 429s, expired triggers, deleted messages, removal.

Each fault has one defined outcome (who is told what, where) and the request survives it: the stored request and
its audit trail stay right, and Lazada is asked to cancel at most once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.slack.render import ids
from bot.store.models import CancelRequest, RequestStatus
from cancel_order_bot.demo.fake_slack import DEFAULT_SCOPES, TRIGGER_TTL_SECONDS, FakeSlack, FakeWorkspace, ManualClock
from cancel_order_bot.demo.harness import Harness, MovableClock, running_bot
from cancel_order_bot.demo.slack_payloads import Action
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.reliability.conftest import (
    ALICE,
    BOB,
    CREATE,
    assert_audit_consistent,
    assert_no_internals,
    readable,
    request_cancel,
    settle_later,
    shown,
)


def _told(bot: Harness, user: str) -> str:
    """Everything `user` was told privately: ephemerals, response_url answers and direct messages."""
    texts = [str(m.get("text", "")) + str(m.get("blocks", "")) for m in bot.slack.ephemerals(user)]
    dm = bot.slack.im_channel(user)
    if dm is not None:
        texts += [str(m.get("text", "")) + str(m.get("blocks", "")) for m in bot.slack.messages(dm)]
    return "\n".join(texts)


async def _survives(bot: Harness, request: CancelRequest, status: RequestStatus, *, cancels: int) -> CancelRequest:
    """The request is stored as `status`, consistent with its audit trail, and Lazada got `cancels` cancels."""
    current = await assert_audit_consistent(bot, request)
    assert current.status is status, current.decision_note
    assert bot.world.call_count(CREATE) == cancels
    assert_no_internals(shown(bot))
    return current


# -- chat.update --------------------------------------------------------------------------------------------------


async def test_card_that_could_not_be_updated_is_corrected_by_the_next_tick(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    bot.slack.fail("chat.update", "internal_error", times=2)
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    done = await _survives(bot, request, RequestStatus.EXECUTED, cancels=1)
    assert any("done" in t for t in bot.thread_texts(done)), "the requester is told in the thread at once"

    await settle_later(bot)
    assert ids.REQUEST_APPROVE not in bot.message_json(done), "the card still offers Approve on an executed request"
    assert "Cancelled on Lazada" in bot.message_json(done)
    assert world.call_count(CREATE) == 1


async def test_chat_update_failing_at_approval_still_executes_and_tells_the_requester(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    bot.slack.fail("chat.update", "internal_error", times=1)
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    done = await _survives(bot, request, RequestStatus.EXECUTED, cancels=1)
    assert "Cancelled on Lazada" in bot.message_json(done), "the outcome update after the failed one lands"
    assert ids.REQUEST_APPROVE not in bot.message_json(done)
    assert len(bot.thread_texts(done)) == 1


async def test_chat_update_failing_at_reject_still_rejects_and_tells_the_requester(
    bot: Harness, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    await bot.click(BOB, ids.REQUEST_REJECT, request)
    modal = bot.open_modal(BOB)
    bot.slack.fail("chat.update", "internal_error", times=1)
    values = {ids.REJECT_REASON_BLOCK: {ids.REJECT_REASON: {"value": "Customer changed their mind"}}}
    response = await bot.send(bot.payloads.view_submission(modal, user_id=BOB, values=values))
    await bot.settle()
    assert response.status_code == 200
    rejected = await _survives(bot, request, RequestStatus.REJECTED, cancels=0)
    assert any("rejected" in t for t in bot.thread_texts(rejected))


# -- views.update -------------------------------------------------------------------------------------------------


async def test_modal_that_cannot_be_filled_is_explained(bot: Harness, showcase: Showcase) -> None:
    bot.slack.fail("views.update", "internal_error", times=1)
    await bot.command(ALICE, str(showcase.pending))
    assert "run the command again" in _told(bot, ALICE).lower()


async def test_modal_that_cannot_be_filled_stores_nothing(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    bot.slack.fail("views.update", "internal_error", times=1)
    response = await bot.command(ALICE, str(showcase.pending))
    assert response.status_code == 200
    assert await bot.services.requests.list_requests(limit=10) == []
    assert world.call_count(CREATE) == 0
    assert_no_internals(shown(bot))


async def test_views_update_failing_after_submit_keeps_the_request_and_confirms_it(
    bot: Harness, showcase: Showcase
) -> None:
    await bot.command(ALICE, str(showcase.pending))
    modal = bot.open_modal(ALICE)
    bot.slack.fail("views.update", "internal_error", times=1)
    await bot.submit(
        ALICE,
        modal,
        item_ids=[str(i.order_item_id) for i in bot.world.order_items(showcase.pending)],
        reason_id="10000019",
    )
    request = await bot.request_for(str(showcase.pending))
    await _survives(bot, request, RequestStatus.PENDING, cancels=0)
    assert request.message_ts is not None, "the request was posted for approval"
    assert request.id in _told(bot, ALICE), "the requester gets the confirmation another way"


# -- 429 ----------------------------------------------------------------------------------------------------------


async def test_rate_limited_post_is_retried_after_retry_after(bot: Harness, showcase: Showcase) -> None:
    bot.slack.rate_limit("chat.postMessage", retry_after=1, times=1)
    request = await request_cancel(bot, showcase.pending)
    posted = await _survives(bot, request, RequestStatus.PENDING, cancels=0)
    assert posted.message_ts is not None
    attempts = bot.slack.calls_to("chat.postMessage")
    assert [c.status for c in attempts[:2]] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0, "the bot waited as Slack asked"


async def test_rate_limited_update_at_approval_is_retried(bot: Harness, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    bot.slack.rate_limit("chat.update", retry_after=1, times=1)
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    done = await _survives(bot, request, RequestStatus.EXECUTED, cancels=1)
    assert "Cancelled on Lazada" in bot.message_json(done)


async def test_rate_limited_response_url_falls_back_to_an_ephemeral(bot: Harness, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    bot.slack.rate_limit("response_url", retry_after=1, times=1)
    await bot.click(ALICE, ids.REQUEST_APPROVE, request)
    await _survives(bot, request, RequestStatus.PENDING, cancels=0)
    assert bot.slack.last("response_url").status == 429
    assert bot.slack.last("chat.postEphemeral").ok
    assert "can't approve your own request" in _told(bot, ALICE)


# -- trigger_id expiry --------------------------------------------------------------------------------------------


@pytest.fixture
async def slow_bot(
    sqlite_url: str, world: SandboxWorld, clock: MovableClock
) -> AsyncIterator[tuple[Harness, ManualClock]]:
    """A bot whose fake Slack runs on a clock the test moves, so trigger ids really expire."""
    slack_clock = ManualClock()
    async with (
        FakeSlack(clock=slack_clock) as slack,
        running_bot(sqlite_url, world=world, clock=clock, slack=slack) as h,
    ):
        yield h, slack_clock


async def test_expired_trigger_on_the_command_asks_to_run_it_again(
    slow_bot: tuple[Harness, ManualClock], showcase: Showcase
) -> None:
    bot, slack_clock = slow_bot
    trigger = bot.slack.new_trigger_id(ALICE)
    slack_clock.advance(TRIGGER_TTL_SECONDS + 1)
    signed = bot.payloads.slash_command(
        "/cancel-order",
        str(showcase.pending),
        user_id=ALICE,
        channel_id=bot.channel,
        trigger_id=trigger,
        response_url=bot.slack.new_response_url(channel=bot.channel, user=ALICE),
    )
    response = await bot.send(signed)
    await bot.settle()
    assert response.status_code == 200
    assert bot.slack.last("views.open").error == "expired_trigger_id"
    assert "run the command again" in _told(bot, ALICE)
    assert await bot.services.requests.list_requests(limit=10) == []
    assert_no_internals(shown(bot))


async def test_expired_trigger_on_reject_keeps_the_request_pending_and_says_so(
    slow_bot: tuple[Harness, ManualClock], showcase: Showcase
) -> None:
    bot, slack_clock = slow_bot
    request = await request_cancel(bot, showcase.pending)
    assert request.message_ts is not None
    message = bot.slack.message(request.channel_id, request.message_ts) or {}
    trigger = bot.slack.new_trigger_id(BOB)
    slack_clock.advance(TRIGGER_TTL_SECONDS + 1)
    click = bot.payloads.block_actions_from_message(
        [Action.button(ids.REQUEST_REJECT, ids.ButtonValue(request_id=request.id).pack(), block_id="actions")],
        user_id=BOB,
        channel_id=request.channel_id,
        message=message,
        trigger_id=trigger,
        response_url=bot.slack.new_response_url(channel=request.channel_id, user=BOB, message_ts=request.message_ts),
    )
    assert (await bot.send(click)).status_code == 200
    await bot.settle()
    await _survives(bot, request, RequestStatus.PENDING, cancels=0)
    assert "click Reject again" in _told(bot, BOB)
    assert ids.REQUEST_APPROVE in bot.message_json(request), "the card still offers its buttons"


# -- deleted message ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("decision", ["reject", "withdraw", "expire"])
async def test_deleted_approval_message_is_posted_again_with_the_decision(
    bot: Harness, showcase: Showcase, decision: str
) -> None:
    request = await request_cancel(bot, showcase.pending)
    assert request.message_ts is not None
    bot.slack.delete_message(request.channel_id, request.message_ts)
    if decision == "reject":
        await bot.click(BOB, ids.REQUEST_REJECT, request)
        values = {ids.REJECT_REASON_BLOCK: {ids.REJECT_REASON: {"value": "Not needed"}}}
        await bot.send(bot.payloads.view_submission(bot.open_modal(BOB), user_id=BOB, values=values))
        await bot.settle()
        status = RequestStatus.REJECTED
    elif decision == "withdraw":
        await bot.click(ALICE, ids.REQUEST_WITHDRAW, request)
        status = RequestStatus.WITHDRAWN
    else:
        bot.clock.advance(timedelta(hours=13))
        await bot.services.workflow.tick()
        status = RequestStatus.EXPIRED
    current = await _survives(bot, request, status, cancels=0)
    assert current.message_ts != request.message_ts, "a new card was posted"
    card = bot.message_json(current)
    assert ids.REQUEST_APPROVE not in card
    assert status.value in card.lower()


# -- removed from the channel -------------------------------------------------------------------------------------


@pytest.fixture
async def private_bot(sqlite_url: str, world: SandboxWorld, clock: MovableClock) -> AsyncIterator[Harness]:
    """A bot without chat:write.public, so leaving a channel really stops it posting there."""
    scopes = [s for s in DEFAULT_SCOPES if s != "chat:write.public"]
    workspace = FakeWorkspace.default().with_scopes(*scopes)
    async with running_bot(sqlite_url, world=world, clock=clock, workspace=workspace) as harness:
        yield harness


async def test_bot_removed_before_the_request_is_posted(private_bot: Harness, showcase: Showcase) -> None:
    bot = private_bot
    bot.slack.remove_bot_from(bot.channel)
    request = await request_cancel(bot, showcase.pending)
    await _survives(bot, request, RequestStatus.WITHDRAWN, cancels=0)
    assert "invite me" in readable(str(bot.open_modal(ALICE)))


async def test_bot_removed_before_approval_still_executes_and_tells_the_requester(
    private_bot: Harness, showcase: Showcase
) -> None:
    bot = private_bot
    request = await request_cancel(bot, showcase.pending)
    bot.slack.remove_bot_from(request.channel_id)
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    await _survives(bot, request, RequestStatus.EXECUTED, cancels=1)
    assert "cancelled on lazada" in _told(bot, ALICE).lower()


async def test_bot_removed_before_expiry_tells_the_requester(private_bot: Harness, showcase: Showcase) -> None:
    bot = private_bot
    request = await request_cancel(bot, showcase.pending)
    bot.slack.remove_bot_from(request.channel_id)
    bot.clock.advance(timedelta(hours=13))
    await bot.services.workflow.tick()
    await _survives(bot, request, RequestStatus.EXPIRED, cancels=0)
    assert "expired" in _told(bot, ALICE)


async def test_click_in_a_channel_the_bot_left_is_answered(private_bot: Harness, showcase: Showcase) -> None:
    bot = private_bot
    request = await request_cancel(bot, showcase.pending)
    bot.slack.remove_bot_from(request.channel_id)
    bot.slack.fail("response_url", "internal_error", times=1)
    await bot.click("U0DAVE", ids.REQUEST_APPROVE, request)
    await _survives(bot, request, RequestStatus.PENDING, cancels=0)
    assert bot.slack.last("chat.postEphemeral").error == "not_in_channel"
    dm = bot.slack.im_channel("U0DAVE")
    assert dm is not None, "with the channel closed, the answer goes by direct message"
    assert "Only an approver" in str(bot.slack.messages(dm))
