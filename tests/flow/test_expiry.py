"""Expiry is a fact of the request, not of the scheduler: a decision after `expires_at` is refused without a tick."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.slack.render import ids
from bot.store.models import RequestStatus
from bot.workflow.errors import AlreadyDecidedError
from cancel_order_bot.demo.harness import Harness
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import BOB, CREATE, request_cancel


def _ephemeral_texts(bot: Harness, user: str) -> str:
    return " ".join(str(m.get("text", "")) for m in bot.slack.ephemerals(user))


async def test_approval_a_day_after_expiry_without_a_tick_is_refused_and_the_card_says_expired(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    bot.clock.advance(timedelta(hours=12) + timedelta(days=1))

    await bot.click(BOB, ids.REQUEST_APPROVE, request)

    current = await bot.refreshed(request)
    assert current.status is RequestStatus.EXPIRED
    assert current.approval_count == 0
    assert world.call_count(CREATE) == 0
    assert "expired" in _ephemeral_texts(bot, BOB)
    card = bot.message_json(current)
    assert "expired" in card
    assert "Approve" not in card
    assert any("expired" in text for text in bot.thread_texts(current))


async def test_rejection_after_expiry_without_a_tick_is_refused(bot: Harness, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    bot.clock.advance(timedelta(hours=12, seconds=1))

    with pytest.raises(AlreadyDecidedError, match="expired"):
        await bot.services.workflow.reject(request.id, BOB, "too late")

    current = await bot.refreshed(request)
    assert (current.status, current.decision_note) == (RequestStatus.EXPIRED, None)
    assert "Reject" not in bot.message_json(current)


async def test_no_reminder_once_expired_even_if_no_tick_ran_at_half_time(bot: Harness, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    bot.clock.advance(timedelta(hours=13))

    assert not await bot.services.requests.mark_reminded(request.id, bot.clock())
    assert (await bot.refreshed(request)).reminded_at is None
