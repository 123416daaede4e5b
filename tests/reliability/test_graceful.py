"""A rolling deploy: SIGTERM while a cancel is in flight lets it finish and shows the outcome before the process ends.

The bot runs as a real process (``crash_bot.py``, wired like ``serve``) on PostgreSQL. Lazada takes 2 s to answer
the cancel; the process is told to stop the moment the cancel has left. It must not leave the card saying
"cancelling…" for the next replica's reconciler to find five minutes later.
"""

from __future__ import annotations

import asyncio
import json
import signal

import pytest

from bot.store.models import RequestStatus
from cancel_order_bot.sandbox import ItemSpec
from cancel_order_bot.sandbox.faults import FaultKind
from tests.reliability.test_crash import CREATE, KETTLE, WAIT, BotProcess, Scene, eventually, scene

__all__ = ["scene"]

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(90)]


async def test_sigterm_waits_for_the_cancel_in_flight_and_shows_its_outcome(scene: Scene) -> None:
    world = scene.world
    order = world.add_order([ItemSpec(name=KETTLE, sku="KETTLE-1")])
    (kettle,) = order.items
    bot = await BotProcess.start(scene.listener, {**scene.env, "SHUTDOWN_DEADLINE_SECONDS": "20"}, scene.http)
    try:
        request = await scene.request_through_the_bot(order.order_id, kettle.order_item_id)
        # Lazada carries the cancel out at once but answers 2 s later.
        world.faults.inject(FaultKind.TIMEOUT, path=CREATE, apply_first=True, delay=2.0)
        await scene.approve(request)

        async def cancel_sent() -> bool | None:
            return True if world.call_count(CREATE) else None

        await eventually(cancel_sent, "the cancel to reach Lazada")
        bot.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(bot.exited(), timeout=WAIT)
    finally:
        await bot.stop()
    assert code in {0, -signal.SIGTERM}, bot.output
    assert "drained" in bot.output

    settled = await scene.current(request)
    assert settled.status is RequestStatus.EXECUTED, bot.output
    assert settled.announced_status == RequestStatus.EXECUTED.value
    card = json.dumps(scene.message(settled), ensure_ascii=False)
    assert "cancelling…" not in card
    assert "Cancelled on Lazada" in card
    assert world.call_count(CREATE) == 1
