"""Executing an approved request: re-validation, repack first, every Lazada fault during the cancel, recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.slack.render import ids
from bot.store.models import OrderStatus, RequestStatus
from cancel_order_bot.demo.harness import Harness
from cancel_order_bot.sandbox import FaultKind, SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import BOB, CREATE, request_cancel

REPACK = "/order/package/repack"
ITEMS = "/order/items/get"


async def test_order_changed_between_request_and_approval(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    (item,) = world.order_items(showcase.pending)
    world.set_item_status(item.order_item_id, "shipped")

    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    failed = await bot.refreshed(request)
    assert failed.status is RequestStatus.FAILED
    assert world.call_count(CREATE) == 0
    assert failed.orders[0].error is not None
    assert "now shipped" in failed.orders[0].error
    assert "now shipped" in bot.message_json(failed) + " ".join(bot.thread_texts(failed))


async def test_reason_no_longer_offered_stops_before_cancelling(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    world.faults.inject(FaultKind.TIP_ERROR, path="/order/reverse/cancel/validate", text="This order is locked.")
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    failed = await bot.refreshed(request)
    assert failed.status is RequestStatus.FAILED
    assert world.call_count(CREATE) == 0
    assert "This order is locked." in (failed.orders[0].error or "")


async def test_packed_siblings_repack_first_cancels_only_the_selected_item(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    mouse, cable, _case = world.order_items(showcase.packed)
    request = await request_cancel(
        bot, showcase.packed, item_ids=[str(mouse.order_item_id)], package_choice=ids.PackageChoice.REPACK_FIRST
    )
    assert request.repack_first
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    done = await bot.refreshed(request)
    assert done.status is RequestStatus.EXECUTED
    assert world.call_count(REPACK) == 1
    assert world.call_count(CREATE) == 1
    assert world.item(mouse.order_item_id).status == "canceled"
    assert world.item(cable.order_item_id).status != "canceled"


async def test_packed_siblings_whole_package_cancels_both(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    mouse, cable, case = world.order_items(showcase.packed)
    request = await request_cancel(
        bot, showcase.packed, item_ids=[str(mouse.order_item_id)], package_choice=ids.PackageChoice.WHOLE_PACKAGE
    )
    assert not request.repack_first
    assert "USB-C Cable" in bot.message_json(request)
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    assert (await bot.refreshed(request)).status is RequestStatus.EXECUTED
    assert world.call_count(REPACK) == 0
    assert world.item(cable.order_item_id).status == "canceled"
    assert world.item(case.order_item_id).status == "shipped"


# (fault, applied before the fault?, expected request status, words the person sees). ApiCallLimit is the one
# refusal after which the cancel is sent again: tests/flow/test_rate_budget.py.
FAULTS = [
    (FaultKind.TIMEOUT, False, RequestStatus.NEEDS_ATTENTION, "check Seller Center"),
    (FaultKind.TIMEOUT, True, RequestStatus.EXECUTED, "cancel"),
    (FaultKind.CONNECTION_RESET, False, RequestStatus.NEEDS_ATTENTION, "check Seller Center"),
    (FaultKind.CONNECTION_RESET, True, RequestStatus.EXECUTED, "cancel"),
    (FaultKind.HTTP_502, False, RequestStatus.NEEDS_ATTENTION, "check Seller Center"),
    (FaultKind.MALFORMED_JSON, True, RequestStatus.EXECUTED, "cancel"),
    (FaultKind.SERVICE_TIMEOUT, False, RequestStatus.NEEDS_ATTENTION, "check Seller Center"),
    (FaultKind.ILLEGAL_ACCESS_TOKEN, False, RequestStatus.FAILED, "Lazada refused"),
    (FaultKind.CAMPAIGN_DISABLED, False, RequestStatus.NEEDS_ATTENTION, "check Seller Center"),
    (FaultKind.TIP_ERROR, False, RequestStatus.FAILED, "Lazada refused"),
]


@pytest.mark.parametrize(("fault", "apply_first", "expected", "words"), FAULTS)
async def test_lazada_fault_during_the_cancel(
    bot: Harness,
    world: SandboxWorld,
    showcase: Showcase,
    fault: FaultKind,
    apply_first: bool,
    expected: RequestStatus,
    words: str,
) -> None:
    request = await request_cancel(bot, showcase.pending)
    world.faults.inject(fault, path=CREATE, apply_first=apply_first)
    await bot.click(BOB, ids.REQUEST_APPROVE, request)

    settled = await bot.refreshed(request)
    assert settled.status is expected
    assert world.call_count(CREATE) == 1, "InitReverseOrderCancel is sent exactly once"
    seen = bot.message_json(settled) + " ".join(bot.thread_texts(settled))
    assert words.lower() in seen.lower()
    assert "Traceback" not in seen
    if expected is RequestStatus.NEEDS_ATTENTION:
        assert "try again in a few minutes" not in seen, "an unknown outcome is checked first, never simply retried"
    trail = [e.action for e in await bot.services.requests.audit_trail(request.id)]
    assert trail[0] == "requested"
    assert expected.value in [e.to_status for e in await bot.services.requests.audit_trail(request.id)]

    # Later ticks never send the cancel again, whatever the outcome.
    bot.clock.advance(timedelta(hours=1))
    await bot.services.workflow.tick()
    assert world.call_count(CREATE) == 1


async def test_recheck_failure_stops_before_cancelling(bot: Harness, world: SandboxWorld, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    world.faults.inject(FaultKind.HTTP_502, path=ITEMS)
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    settled = await bot.refreshed(request)
    assert settled.status is RequestStatus.FAILED
    assert world.call_count(CREATE) == 0
    assert "Could not re-check" in (settled.orders[0].error or "")
    assert "Could not re-check" in bot.message_json(settled) + " ".join(bot.thread_texts(settled))


async def test_reconciler_settles_an_interrupted_execution_without_a_second_cancel(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    requests = bot.services.requests
    # A replica won the approval and sent the cancel, then died before storing the outcome.
    outcome = await requests.approve(request.id, BOB, now=bot.clock(), lease=timedelta(minutes=5))
    assert outcome.must_execute
    order_id = str(showcase.pending)
    assert await requests.set_order_status(
        request.id, order_id, expected=OrderStatus.PENDING, to=OrderStatus.EXECUTING, now=bot.clock()
    )
    (item,) = world.order_items(showcase.pending)
    world.set_item_status(item.order_item_id, "canceled", initiator="cancellation-seller")

    await bot.services.workflow.tick()
    assert (await bot.refreshed(request)).status is RequestStatus.EXECUTING, "the lease is still held"

    bot.clock.advance(timedelta(minutes=6))
    await bot.services.workflow.tick()
    settled = await bot.refreshed(request)
    assert settled.status is RequestStatus.EXECUTED
    assert world.call_count(CREATE) == 0
    assert "Approve" not in bot.message_json(settled)


async def test_reconciler_flags_an_unknown_outcome_for_a_person(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    requests = bot.services.requests
    await requests.approve(request.id, BOB, now=bot.clock(), lease=timedelta(minutes=5))
    await requests.set_order_status(
        request.id, str(showcase.pending), expected=OrderStatus.PENDING, to=OrderStatus.EXECUTING, now=bot.clock()
    )
    bot.clock.advance(timedelta(minutes=6))
    await bot.services.workflow.tick()
    settled = await bot.refreshed(request)
    assert settled.status is RequestStatus.NEEDS_ATTENTION
    assert world.call_count(CREATE) == 0
    assert any("Seller Center" in text for text in bot.thread_texts(settled))


async def test_reconciler_resumes_an_execution_that_never_reached_lazada(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    await bot.services.requests.approve(request.id, BOB, now=bot.clock(), lease=timedelta(minutes=5))
    bot.clock.advance(timedelta(minutes=6))
    await bot.services.workflow.tick()
    settled = await bot.refreshed(request)
    assert settled.status is RequestStatus.EXECUTED
    assert world.call_count(CREATE) == 1


async def test_an_outcome_stored_but_never_shown_is_announced_by_a_later_tick(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    # A replica approved and executed, then died before updating Slack.
    await bot.services.requests.approve(request.id, BOB, now=bot.clock(), lease=timedelta(minutes=5))
    settled = await bot.services.executor.execute(request.id, actor=BOB)
    assert settled.status is RequestStatus.EXECUTED
    assert "Approve" in bot.message_json(settled), "Slack still shows the old card"

    await bot.services.workflow.tick()
    assert "Approve" in bot.message_json(settled), "a just-settled request is left to the replica announcing it"

    bot.clock.advance(timedelta(minutes=2))
    await bot.services.workflow.tick()
    await bot.services.workflow.tick()
    shown = await bot.refreshed(request)
    assert shown.announced_status == "executed"
    assert "Approve" not in bot.message_json(shown)
    assert len(bot.thread_texts(shown)) == 1, "announced once, however many ticks"
    assert world.call_count(CREATE) == 1
