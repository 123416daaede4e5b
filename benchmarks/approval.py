"""Approval click to InitReverseOrderCancel sent, with 1 and with 200 approvers in the store's group.

The bot runs in this process (the harness of the flow tests: the real app served over ASGI, the fake Slack on a
local port, the sandbox behind an in-process transport with a 200 ms round trip). Each approval needs two Lazada
round trips before the cancel (GetOrderItems, OrderCancelValidate); the goal is on what the bot adds to them, and
on the difference the number of approvers makes (their App Home tabs must not hold the cancel back).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime

from benchmarks.report import BenchResult, Figure, Goal
from benchmarks.stack import BenchContext
from bot.domain import PackageChoice
from bot.slack.render import ids
from bot.workflow.service import RequestForm
from cancel_order_bot.demo.fake_slack import FakeWorkspace
from cancel_order_bot.demo.harness import Harness, running_bot
from cancel_order_bot.sandbox import ItemSpec, SandboxWorld

__all__ = ["run"]

RTT_MS = 200.0
LAZADA_ROUND_TRIPS = 2
CREATE = "/order/reverse/cancel/create"
REQUESTER, APPROVER = "U0ALICE", "U0BOB"


def _workspace(approvers: int) -> FakeWorkspace:
    """The demo workspace whose approver group holds `approvers` people (Bob first)."""
    workspace = FakeWorkspace.default()
    extra = [f"U0APPR{n:03d}" for n in range(approvers - 1)]
    for user in extra:
        workspace = workspace.with_user(user, user.lower())
    return workspace.with_usergroup("S0APPROVERS", (APPROVER, *extra), handle="cancel-approvers")


async def _submit(bot: Harness, order_id: int) -> str:
    draft = await bot.services.workflow.draft(None, str(order_id))
    form = RequestForm(
        store_code=draft.store_code,
        order_id=str(order_id),
        item_ids=tuple(draft.selected_ids),
        reason_id=draft.reasons[0].reason_id,
        justification="Out of stock at the supplier.",
        package_choice=PackageChoice.WHOLE_PACKAGE,
        requester_id=REQUESTER,
        channel_id=bot.channel,
    )
    return (await bot.services.workflow.submit(form)).id


async def _click_to_cancel(bot: Harness, world: SandboxWorld, request_id: str) -> float:
    """Milliseconds from sending the Approve click until the bot sent InitReverseOrderCancel.

    The sandbox logs a call once its simulated round trip is over, so one round trip is taken off.
    """
    request = await bot.services.workflow.get(request_id)
    before = world.call_count(CREATE)
    started = time.perf_counter()
    await bot.click(APPROVER, ids.REQUEST_APPROVE, request, wait=False)
    while world.call_count(CREATE) == before:
        if time.perf_counter() - started > 30:
            raise TimeoutError("the cancel was not sent within 30 s")
        await asyncio.sleep(0.001)
    elapsed = (time.perf_counter() - started) * 1000 - RTT_MS
    await bot.settle(limit=120)
    return elapsed


async def _median(ctx: BenchContext, approvers: int, count: int) -> tuple[float, int]:
    """The median click-to-cancel time with `approvers` approvers, and the views.publish calls it caused."""
    world = SandboxWorld(now=lambda: datetime.now(UTC))
    orders = [world.add_order([ItemSpec(status="pending")]).order_id for _ in range(count + 1)]
    url = ctx.sqlite_url(f"approval-{approvers}")
    async with running_bot(
        url,
        world=world,
        workspace=_workspace(approvers),
        lazada_rtt_ms=RTT_MS,
        settings_overrides={"lazada_calls_per_second": 10},
    ) as bot:
        request_ids = [await _submit(bot, order_id) for order_id in orders]
        await bot.settle(limit=120)
        await _click_to_cancel(bot, world, request_ids[0])  # warm-up
        publishes = len(bot.slack.calls_to("views.publish"))
        times = [await _click_to_cancel(bot, world, request_id) for request_id in request_ids[1:]]
        publishes = len(bot.slack.calls_to("views.publish")) - publishes
    return statistics.median(times), publishes // count


async def run(ctx: BenchContext) -> BenchResult:
    """Sequential approvals after a warm-up, with 1 and with 200 approvers; the median of each."""
    started = time.perf_counter()
    count = ctx.scale(10, 3)
    crowd = ctx.scale(200, 50)
    alone, alone_publishes = await _median(ctx, 1, count)
    many, many_publishes = await _median(ctx, crowd, count)
    bound = LAZADA_ROUND_TRIPS * RTT_MS
    return BenchResult(
        name="approval",
        title="Approval click to cancel",
        figures=(
            Figure(
                label="median, click to InitReverseOrderCancel, 1 approver",
                measured=alone,
                bound=bound,
                unit="ms",
                bound_label="2 Lazada round trips",
                goal=Goal(op="<=", target=50),
                compare="excess",
            ),
            Figure(
                label=f"median, click to InitReverseOrderCancel, {crowd} approvers",
                measured=many,
                bound=bound,
                unit="ms",
                bound_label="2 Lazada round trips",
                goal=Goal(op="<=", target=50),
                compare="excess",
            ),
            Figure(
                label=f"{crowd} approvers against 1",
                measured=many,
                bound=alone,
                unit="ms",
                bound_label="1 approver",
                goal=Goal(op="<=", target=50),
                compare="excess",
            ),
        ),
        setup=(
            f"{count} approvals one after another (after 1 to warm up), each of a one-item request; the time runs "
            "from sending the signed click to the sandbox logging InitReverseOrderCancel (polled every 1 ms) less "
            "one round trip, as the sandbox logs a call when its simulated round trip is over",
            f"bot, fake Slack and sandbox in one process; sandbox round trip {RTT_MS:.0f} ms; Lazada pacing 10 "
            "calls/s; App Home refreshed in the background after each change",
            f"views.publish per approval: {alone_publishes} with 1 approver, {many_publishes} with {crowd}",
        ),
        seconds=time.perf_counter() - started,
    )
