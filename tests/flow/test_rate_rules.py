"""The cancellation rate at the moment of decision: shown in the modal and card, and two approvers near the limit."""

from __future__ import annotations

from datetime import timedelta

from bot.slack.render import ids
from bot.store.models import RequestStatus
from cancel_order_bot.demo.harness import Harness
from cancel_order_bot.sandbox import ItemSpec, SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import ALICE, BOB, CAROL, CREATE, request_cancel


def _history(world: SandboxWorld, *, ordered: int, seller_cancelled: int) -> None:
    """Orders 20 days old (inside Lazada's D-35..D-8 window): `ordered` items, `seller_cancelled` by the seller."""
    created = world.now() - timedelta(days=20)
    for n in range(ordered):
        if n < seller_cancelled:
            spec = ItemSpec(status="canceled", initiator="cancellation-seller", reason="Out of Stock")
        else:
            spec = ItemSpec(status="delivered")
        world.add_order([spec], created_at=created + timedelta(minutes=n))


async def test_a_cancellation_that_reaches_the_warning_rate_needs_two_approvers(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    _history(world, ordered=100, seller_cancelled=3)
    await bot.services.digest.sync("main")

    request = await request_cancel(bot, showcase.pending)
    assert request.required_approvals == 2, "3 of 100 is 3%, plus this item reaches the 3% warning rate"
    card = bot.message_json(request)
    assert "3.00%" in card
    assert "3.96%" in card

    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    halfway = await bot.refreshed(request)
    assert halfway.status is RequestStatus.PENDING
    assert "1 of 2" in bot.message_json(halfway)
    assert world.call_count(CREATE) == 0

    await bot.click(CAROL, ids.REQUEST_APPROVE, halfway)
    assert (await bot.refreshed(request)).status is RequestStatus.EXECUTED
    assert world.call_count(CREATE) == 1


async def test_far_from_the_warning_rate_one_approver_is_enough(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    _history(world, ordered=200, seller_cancelled=1)
    await bot.services.digest.sync("main")
    request = await request_cancel(bot, showcase.pending)
    assert request.required_approvals == 1
    modal_updates = [c for c in bot.slack.calls_to("views.update") if "Electric Kettle" in str(c.params)]
    assert "0.50%" in str(modal_updates[0].params), "the modal shows the rate now"
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    assert (await bot.refreshed(request)).status is RequestStatus.EXECUTED


async def test_digest_on_demand_is_private(bot: Harness, world: SandboxWorld) -> None:
    _history(world, ordered=50, seller_cancelled=2)
    await bot.command(ALICE, "digest")
    shown = " ".join(str(m.get("text", "")) + str(m.get("blocks", "")) for m in bot.slack.ephemerals(ALICE))
    assert "4.00%" in shown
    assert "estimate" in shown.lower()
    assert bot.slack.calls_to("chat.postMessage") == [], "nothing is posted to a channel"


async def test_app_home_shows_each_stores_current_rate(bot: Harness, world: SandboxWorld) -> None:
    home_before = bot.payloads.app_home_opened(BOB, event_id="Ev-before")
    await bot.send(home_before)
    await bot.settle()
    before = bot.slack.home_view(BOB)
    assert before is not None
    assert "3.00%" not in str(before["blocks"])

    _history(world, ordered=100, seller_cancelled=3)
    await bot.services.digest.sync("main")
    await bot.send(bot.payloads.app_home_opened(BOB, event_id="Ev-after"))
    await bot.settle()
    after = bot.slack.home_view(BOB)
    assert after is not None
    assert "3.00%" in str(after["blocks"])


async def test_the_two_approver_rule_cannot_be_split_across_requests(bot: Harness, world: SandboxWorld) -> None:
    _history(world, ordered=100, seller_cancelled=1)
    await bot.services.digest.sync("main")
    orders = [world.add_order([ItemSpec()]).order_id for _ in range(3)]

    first = await request_cancel(bot, orders[0])
    second = await request_cancel(bot, orders[1])
    third = await request_cancel(bot, orders[2])

    assert (first.required_approvals, second.required_approvals) == (1, 1), "1.98% and 2.94%: below 3%"
    assert third.required_approvals == 2, "with the two open requests: 4 of 103 items, 3.88%"
    assert "Needs 2 approvals" in bot.message_json(third)
    assert "3.88%, above the 3.00% warning" in bot.message_json(third)

    await bot.click(BOB, ids.REQUEST_APPROVE, first)
    waiting = await bot.refreshed(first)
    assert (waiting.status, waiting.required_approvals, waiting.approval_count) == (RequestStatus.PENDING, 2, 1)
    assert "1 of 2" in bot.message_json(waiting)
    assert "Needs 2 approvals" in bot.message_json(waiting)
    assert world.call_count(CREATE) == 0

    await bot.click(CAROL, ids.REQUEST_APPROVE, waiting)
    assert (await bot.refreshed(first)).status is RequestStatus.EXECUTED
    assert world.call_count(CREATE) == 1

    # The first is cancelled but not read back from Lazada yet: it still counts, with the third still open.
    await bot.click(BOB, ids.REQUEST_APPROVE, second)
    assert (await bot.refreshed(second)).required_approvals == 2
    assert world.call_count(CREATE) == 1
