"""Scheduler jobs of the running bot: processed Slack event ids are forgotten after a day, claims after 35."""

from __future__ import annotations

from datetime import timedelta

from bot.services import CLAIM_MEMORY
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


async def test_the_claims_job_prunes_claims_no_job_asks_for_any_more(bot: Harness) -> None:
    claims = bot.services.claims
    now = bot.clock()
    lease = timedelta(minutes=5)
    old = now - CLAIM_MEMORY - timedelta(days=1)
    assert await claims.claim("announce_reply", "CR-OLD/executed", "replica-a", now=old, lease=lease)
    assert await claims.complete("announce_reply", "CR-OLD/executed", "replica-a")
    assert await claims.claim("digest", "main/2026-01-01", "replica-a", now=old, lease=lease)
    assert await claims.complete("digest", "main/2026-01-01", "replica-a")
    assert await claims.claim("announce_reply", "CR-NEW/executed", "replica-a", now=now, lease=lease)
    assert await claims.complete("announce_reply", "CR-NEW/executed", "replica-a")

    (job,) = [t for t in _ticks(bot.services) if t.name == "claims"]
    await job.run()

    assert await claims.get("announce_reply", "CR-OLD/executed") is None
    assert not await claims.claim("announce_reply", "CR-NEW/executed", "replica-b", now=now, lease=lease), (
        "an outcome shown today is still shown once"
    )
    assert await claims.get("digest", "main/2026-01-01") is not None, "the store's last digest stays for the metric"
