"""Outcomes that follow Lazada's items (issue 10 points 2-4), through the real app, the sandbox and the fake Slack.

A cancel Lazada applied but answered with its reference error tip ends executed with the tip on the card; one it did
not apply ends failed; one it accepted but has not carried out is shown "cancellation pending at Lazada" and read back
by the scheduler until it settles or 24 hours pass. None of them is ever sent twice.
"""

from __future__ import annotations

from datetime import timedelta

from bot.slack.render import ids
from bot.store.models import OrderStatus, RequestStatus
from cancel_order_bot.demo.harness import Harness, MovableClock, running_bot
from cancel_order_bot.sandbox import REFERENCE_ERROR_TIP, CancelMode, FaultKind, ItemSpec, SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import ALICE, BOB, CREATE, request_cancel

ITEMS = "/order/items/get"
REPACK = "/order/package/repack"
PENDING_WORDS = "cancellation pending at Lazada"


async def _ticks(bot: Harness, *, every: timedelta, times: int) -> None:
    for _ in range(times):
        bot.clock.advance(every)
        await bot.services.workflow.tick()
        await bot.settle()


async def test_a_cancel_lazada_applied_but_answered_with_an_error_tip_ends_executed_with_the_tip(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    world.cancel_modes[showcase.pending] = CancelMode.APPLIED_WITH_ERROR_TIP

    await bot.click(BOB, ids.REQUEST_APPROVE, request)

    done = await bot.refreshed(request)
    assert done.status is RequestStatus.EXECUTED
    assert (done.orders[0].outcome_tip_content, done.orders[0].outcome_tip_type) == (REFERENCE_ERROR_TIP, "error")
    card = bot.message_json(done)
    assert "Cancelled on Lazada" in card
    assert REFERENCE_ERROR_TIP in card, "Lazada's own words are on the card"
    assert "yet its items show the cancellation done" in card
    assert [t for t in bot.thread_texts(done) if "is done" in t] != []
    assert world.item(world.order_items(showcase.pending)[0].order_item_id).status == "canceled"
    await _ticks(bot, every=timedelta(minutes=30), times=4)
    assert world.call_count(CREATE) == 1


async def test_a_cancel_lazada_did_not_apply_and_answered_with_an_error_tip_ends_failed_with_the_tip(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    world.cancel_modes[showcase.pending] = CancelMode.NOT_APPLIED_WITH_ERROR_TIP

    await bot.click(BOB, ids.REQUEST_APPROVE, request)

    failed = await bot.refreshed(request)
    assert failed.status is RequestStatus.FAILED
    card = bot.message_json(failed)
    assert "Cancellation failed" in card
    assert REFERENCE_ERROR_TIP in card
    assert "Lazada refused the cancellation and the items still show" in card
    assert [t for t in bot.thread_texts(failed) if "failed" in t] != []
    await _ticks(bot, every=timedelta(minutes=30), times=4)
    assert world.call_count(CREATE) == 1, "a failed cancel is never sent again"
    # The item is free again: a new request for it may be made.
    again = await request_cancel(bot, showcase.pending, user=ALICE)
    assert again.id != failed.id


async def test_a_slow_cancel_shows_pending_at_lazada_then_executed_with_a_thread_reply(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    world.cancel_modes[showcase.pending] = CancelMode.SLOW

    await bot.click(BOB, ids.REQUEST_APPROVE, request)

    pending = await bot.refreshed(request)
    assert pending.status is RequestStatus.CANCEL_PENDING
    assert pending.orders[0].status is OrderStatus.CANCEL_PENDING
    card = bot.message_json(pending)
    assert "Cancellation pending at Lazada" in card
    assert PENDING_WORDS in card
    assert ids.REQUEST_APPROVE not in card
    assert [t for t in bot.thread_texts(pending) if PENDING_WORDS in t] != []
    home = bot.slack.home_view(BOB)
    assert home is not None
    assert PENDING_WORDS in str(home["blocks"]), "App Home shows it pending too"
    # While Lazada may still carry it out, the item is not offered again.
    await bot.command(ALICE, str(showcase.pending))
    form = str(bot.open_modal(ALICE)["blocks"])
    assert PENDING_WORDS in form
    assert ids.MODAL_ITEMS not in form, "nothing to select"

    # Read back after 1, 3 and 7 minutes; the sandbox carries the cancel out after 5.
    await _ticks(bot, every=timedelta(minutes=1), times=4)
    assert (await bot.refreshed(request)).status is RequestStatus.CANCEL_PENDING
    await _ticks(bot, every=timedelta(minutes=1), times=3)

    done = await bot.refreshed(request)
    assert done.status is RequestStatus.EXECUTED
    assert "Cancelled on Lazada" in bot.message_json(done)
    replies = bot.thread_texts(done)
    assert sum("is done" in t for t in replies) == 1, replies
    assert sum(PENDING_WORDS in t for t in replies) == 1, replies
    assert len(replies) == 2, "the outcome reply covers the order: no reply of its own besides"
    await _ticks(bot, every=timedelta(minutes=30), times=3)
    assert bot.thread_texts(done) == replies, "nothing more is posted"
    assert world.call_count(CREATE) == 1, "exactly one InitReverseOrderCancel"


async def test_a_cancellation_still_pending_after_24_hours_needs_a_person(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    world.slow_cancel_delay = timedelta(days=3)
    request = await request_cancel(bot, showcase.pending)
    world.cancel_modes[showcase.pending] = CancelMode.SLOW
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    reads = world.call_count(ITEMS)

    await _ticks(bot, every=timedelta(minutes=30), times=2 * 23)
    assert (await bot.refreshed(request)).status is RequestStatus.CANCEL_PENDING
    await _ticks(bot, every=timedelta(minutes=30), times=3)

    unclear = await bot.refreshed(request)
    assert unclear.status is RequestStatus.NEEDS_ATTENTION
    seen = bot.message_json(unclear) + " ".join(bot.thread_texts(unclear))
    assert "Needs attention" in seen
    assert "after 24 h the items still show" in bot.message_json(unclear)
    (reply,) = [
        m for m in bot.slack.thread(unclear.channel_id, unclear.message_ts or "") if "needs attention" in m["text"]
    ]
    assert "after 24 h the items still show" in str(reply["blocks"]), "the reply says why a person is needed"
    assert world.call_count(CREATE) == 1, "never sent again"
    assert world.call_count(ITEMS) - reads <= 2 * 26, "read back with backoff, not every tick"


async def test_the_bound_is_a_setting(
    sqlite_url: str, world: SandboxWorld, clock: MovableClock, showcase: Showcase
) -> None:
    async with running_bot(sqlite_url, world=world, clock=clock, settings_overrides={"cancel_pending_hours": 1}) as bot:
        world.slow_cancel_delay = timedelta(days=3)
        request = await request_cancel(bot, showcase.pending)
        world.cancel_modes[showcase.pending] = CancelMode.SLOW
        await bot.click(BOB, ids.REQUEST_APPROVE, request)
        await _ticks(bot, every=timedelta(minutes=20), times=4)
        unclear = await bot.refreshed(request)
        assert unclear.status is RequestStatus.NEEDS_ATTENTION
        assert "after 1 h" in (unclear.orders[0].error or "")


async def test_a_cancel_refused_after_a_repack_says_the_package_must_be_packed_again(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    mouse, cable, _case = world.order_items(showcase.packed)
    request = await request_cancel(
        bot, showcase.packed, item_ids=[str(mouse.order_item_id)], package_choice=ids.PackageChoice.REPACK_FIRST
    )
    world.cancel_modes[showcase.packed] = CancelMode.NOT_APPLIED_WITH_ERROR_TIP

    await bot.click(BOB, ids.REQUEST_APPROVE, request)

    failed = await bot.refreshed(request)
    assert failed.status is RequestStatus.FAILED
    seen = bot.message_json(failed)
    assert "dissolved" in seen
    assert "must be packed again in Seller Center" in seen
    assert REFERENCE_ERROR_TIP in seen
    assert (world.call_count(REPACK), world.call_count(CREATE)) == (1, 1)
    assert world.item(mouse.order_item_id).status == "pending", "dissolved, not cancelled"
    assert world.item(cable.order_item_id).status == "pending"


async def test_orders_pending_at_lazada_settle_one_by_one_each_with_one_reply(
    bot: Harness, world: SandboxWorld
) -> None:
    created = world.now() - timedelta(hours=1)
    first, second = (world.add_order([ItemSpec(sku=f"SKU-{n}")], created_at=created) for n in range(2))
    for order in (first, second):
        world.cancel_modes[order.order_id] = CancelMode.SLOW
    await bot.command(ALICE, f"{first.order_id} {second.order_id}")
    await bot.submit(ALICE, bot.open_modal(ALICE), reason_id="10000019")
    request = await bot.request_for(str(first.order_id))
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    assert (await bot.refreshed(request)).status is RequestStatus.CANCEL_PENDING

    # Lazada carries out the first order's cancellation early.
    world.cancel_items(first.items, world.reason_by_id("10000019"))
    await _ticks(bot, every=timedelta(minutes=1), times=1)

    partly = await bot.refreshed(request)
    assert partly.status is RequestStatus.CANCEL_PENDING
    assert [o.status for o in partly.orders] == [OrderStatus.EXECUTED, OrderStatus.CANCEL_PENDING]
    assert "1/2 cancelled, 1 pending at Lazada" in bot.message_json(partly)
    late = [t for t in bot.thread_texts(partly) if "is now cancelled on Lazada" in t]
    assert len(late) == 1, bot.thread_texts(partly)
    assert str(first.order_id) in late[0]

    await _ticks(bot, every=timedelta(minutes=2), times=4)
    done = await bot.refreshed(request)
    assert done.status is RequestStatus.EXECUTED
    replies = bot.thread_texts(done)
    assert sum("is now cancelled on Lazada" in t for t in replies) == 1, replies
    assert sum("is done" in t for t in replies) == 1, replies
    assert world.call_count(CREATE) == 2


async def test_an_unclear_order_cancelled_late_gets_its_own_reply(bot: Harness, world: SandboxWorld) -> None:
    created = world.now() - timedelta(hours=1)
    orders = [world.add_order([ItemSpec(sku=f"SKU-{n}")], created_at=created) for n in range(3)]
    await bot.command(ALICE, " ".join(str(o.order_id) for o in orders))
    await bot.submit(ALICE, bot.open_modal(ALICE), reason_id="10000019")
    request = await bot.request_for(str(orders[0].order_id))
    world.faults.inject(FaultKind.TIMEOUT, path=CREATE, times=2)
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    unclear = await bot.refreshed(request)
    assert unclear.status is RequestStatus.NEEDS_ATTENTION
    lost = [o for o in unclear.orders if o.status is OrderStatus.NEEDS_ATTENTION]
    assert len(lost) == 2

    # Lazada carried one of the two out after all.
    late = lost[0]
    world.cancel_items(world.order_items(int(late.order_id)), world.reason_by_id("10000019"))
    await _ticks(bot, every=timedelta(minutes=10), times=3)

    current = await bot.refreshed(request)
    assert current.status is RequestStatus.NEEDS_ATTENTION, "the other order is still unclear"
    replies = [t for t in bot.thread_texts(current) if "is now cancelled on Lazada" in t]
    assert len(replies) == 1
    assert late.order_id in replies[0]
    assert "2/3 cancelled" in bot.message_json(current)
    assert world.call_count(CREATE) == 3


async def test_a_late_order_reply_that_never_went_out_is_posted_by_a_later_tick_once(
    bot: Harness, world: SandboxWorld
) -> None:
    created = world.now() - timedelta(hours=1)
    first, second = (world.add_order([ItemSpec(sku=f"SKU-{n}")], created_at=created) for n in range(2))
    for order in (first, second):
        world.cancel_modes[order.order_id] = CancelMode.SLOW
    await bot.command(ALICE, f"{first.order_id} {second.order_id}")
    await bot.submit(ALICE, bot.open_modal(ALICE), reason_id="10000019")
    request = await bot.request_for(str(first.order_id))
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    world.cancel_items(first.items, world.reason_by_id("10000019"))

    # A replica read the first order back and died before telling Slack.
    bot.clock.advance(timedelta(minutes=1))
    reread = await bot.services.workflow.executor.reread(request.id, actor="reconciler")
    assert reread is not None
    assert not reread.settled
    before = bot.thread_texts(request)

    await bot.services.workflow.tick()
    await bot.settle()
    assert bot.thread_texts(request) == before, "a just-settled order is left to the replica announcing it"
    await _ticks(bot, every=timedelta(minutes=1), times=3)

    replies = bot.thread_texts(request)
    assert sum("is now cancelled on Lazada" in t for t in replies) == 1, replies
    assert (await bot.refreshed(request)).orders[0].reply_due is None
    assert "1/2 cancelled, 1 pending at Lazada" in bot.message_json(await bot.refreshed(request))
