"""Scheduler jobs of the running bot: processed Slack event ids are forgotten after a day."""

from __future__ import annotations

from datetime import timedelta

from cancel_order_bot.cli.commands import _ticks
from cancel_order_bot.demo.harness import Harness


async def test_the_events_job_prunes_processed_event_ids(bot: Harness) -> None:
    events = bot.services.events
    now = bot.clock()
    assert await events.claim_event("Ev-old", now - timedelta(days=2))
    assert await events.claim_event("Ev-new", now - timedelta(hours=1))

    (job,) = [t for t in _ticks(bot.services) if t.name == "events"]
    await job.run()

    assert await events.claim_event("Ev-old", now), "forgotten: claimable again"
    assert not await events.claim_event("Ev-new", now), "still remembered within the day"


async def test_the_buyer_requests_job_runs_at_start_and_every_scan_interval(bot: Harness) -> None:
    (job,) = [t for t in _ticks(bot.services) if t.name == "buyer_requests"]
    assert job.at_start
    assert job.seconds == 300.0
    assert job.run == bot.services.buyer.tick
