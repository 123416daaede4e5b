"""The digest service decides and emits `DigestReady`; it posts nothing itself, and records what the presenter did."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.digest.claims import CLAIM_KIND
from bot.digest.events import DigestReady
from bot.digest.models import PostResult
from bot.events import EventBus
from bot.store import ClaimStatus, ClaimStore
from cancel_order_bot.demo import FakeSlack
from cancel_order_bot.sandbox import SandboxWorld
from tests.digest.conftest import ServiceFactory, local
from tests.digest.test_poster import add_history
from tests.sandbox.support import ManualClock

CHANNEL = "C0DIGEST"
KEY = "th-main/2026-11-20"


class Presenter:
    """A test subscriber: remembers every DigestReady and answers it as told (or not at all)."""

    def __init__(self, bus: EventBus, answer: PostResult | None = None, error: Exception | None = None) -> None:
        self.seen: list[DigestReady] = []
        self.answer = answer
        self.error = error
        bus.subscribe(DigestReady, self.on_digest_ready)

    async def on_digest_ready(self, event: DigestReady) -> None:
        """Record the event, then answer, stay silent or fail."""
        self.seen.append(event)
        if self.error is not None:
            raise self.error
        if self.answer is not None:
            event.receipt.answer(self.answer)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    """A fake Slack nobody is given: anything the service sent by itself would land here."""
    async with FakeSlack() as fake:
        yield fake


async def test_tick_emits_the_report_and_records_the_presenters_answer_posting_nothing_itself(
    world: SandboxWorld, make_service: ServiceFactory, clock: ManualClock, slack: FakeSlack
) -> None:
    add_history(world)
    bus = EventBus()
    presenter = Presenter(bus, answer=PostResult(ok=True, channel=CHANNEL, ts="1700000000.000100", file_id="F1"))
    clock.current = local(2026, 11, 20, 9, 0, 30)

    await make_service(bus=bus).tick()
    await make_service(bus=bus, replica_id="replica-b").tick()

    (event,) = presenter.seen
    assert (event.report.store_code, event.report.today.isoformat(), event.channel) == (
        "th-main",
        "2026-11-20",
        CHANNEL,
    )
    assert event.report.window.ordered_items > 0
    assert event.posted_since is None
    assert slack.calls == []
    claim = await ClaimStore(make_service.database).get(CLAIM_KIND, KEY)
    assert claim is not None
    assert claim.status is ClaimStatus.DONE
    assert (claim.result["ts"], claim.result["file_id"]) == ("1700000000.000100", "F1")


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (None, None),
        (PostResult(ok=False, channel=CHANNEL, error="channel_not_found"), None),
        (None, RuntimeError("the presenter broke")),
    ],
    ids=["unanswered", "refused", "raised"],
)
async def test_a_digest_that_did_not_go_out_gives_the_claim_back(
    world: SandboxWorld,
    make_service: ServiceFactory,
    clock: ManualClock,
    answer: PostResult | None,
    error: Exception | None,
) -> None:
    add_history(world)
    bus = EventBus()
    presenter = Presenter(bus, answer=answer, error=error)
    service = make_service(bus=bus)
    clock.current = local(2026, 11, 20, 9, 0)

    await service.tick()
    assert await ClaimStore(make_service.database).get(CLAIM_KIND, KEY) is None

    clock.advance(minutes=1)
    await service.tick()
    assert len(presenter.seen) == 2, "the next tick tries again"


async def test_a_taken_over_claim_tells_the_presenter_since_when_to_look_for_an_earlier_post(
    world: SandboxWorld, make_service: ServiceFactory, clock: ManualClock
) -> None:
    add_history(world)
    bus = EventBus()
    presenter = Presenter(bus, answer=PostResult(ok=True, channel=CHANNEL, ts="1.000001", reused=True))
    clock.current = local(2026, 11, 20, 9, 0)
    assert (await make_service(bus=bus, replica_id="crashed").claims.claim(KEY)).won

    clock.advance(minutes=20)
    await make_service(bus=bus, replica_id="survivor").tick()

    (event,) = presenter.seen
    assert event.posted_since == local(2026, 11, 20, 9, 0) - timedelta(minutes=1)
    claim = await ClaimStore(make_service.database).get(CLAIM_KIND, KEY)
    assert claim is not None
    assert (claim.claimed_by, claim.status, claim.result["reused"]) == ("survivor", ClaimStatus.DONE, True)


async def test_post_on_demand_returns_the_presenters_answer_or_says_nobody_posted(
    world: SandboxWorld, make_service: ServiceFactory
) -> None:
    add_history(world)
    bus = EventBus()
    service = make_service(bus=bus)
    report = await service.refresh("th-main")

    unposted = await service.post("th-main", report)
    assert (unposted.ok, unposted.error) == (False, "no_presenter")

    presenter = Presenter(bus, answer=PostResult(ok=True, channel=CHANNEL, ts="2.000002"))
    posted = await service.post("th-main", report)
    assert (posted.ok, posted.ts) == (True, "2.000002")
    (event,) = presenter.seen
    assert event.report == report
    assert event.posted_since is None
