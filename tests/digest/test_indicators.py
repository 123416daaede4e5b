"""Lazada's own indicators beside the estimate (issue 10 point 9): GetSellerPerformance once a day per store."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest.models import Indicator, IndicatorReading
from bot.slack.render.digest import render_digest
from bot.slack.render.home import render_home
from cancel_order_bot.cli.digest import render_digest_text
from cancel_order_bot.demo import FakeSlack
from cancel_order_bot.sandbox import FaultKind, SandboxWorld
from tests.digest.conftest import ServiceFactory, local
from tests.digest.test_exact import build_history
from tests.digest.test_poster import add_history
from tests.sandbox.support import ManualClock

PERFORMANCE = "/seller/performance/get"
CANCELLATION: dict[str, object] = {
    "type": "SELLER_FAULT_CANCELLATION_RATE",
    "name": "Seller Fault Cancellation Rate",
    "score": "1.5",
    "score_format": "PERCENTAGE",
    "formatted_score": "1.50%",
    "target": "2",
    "formatted_target": "2%",
    "target_respected": "true",
}


@pytest.fixture
async def slack(clock: ManualClock) -> AsyncIterator[FakeSlack]:
    async with FakeSlack(clock=lambda: clock().timestamp()) as fake:
        yield fake


async def test_every_indicator_reaches_the_digest_and_its_json(
    world: SandboxWorld, make_service: ServiceFactory
) -> None:
    build_history(world)
    service = make_service()

    report = await service.refresh("th-main")

    data = report.to_json()
    assert [(i["name"], i["score"], i["target"], i["respected"]) for i in data["indicators"]] == [
        ("Positive Seller Rating", "96%", "90%", True),
        ("Product Rating Coverage", "12%", "20%", False),
    ]
    assert data["indicators_problem"] is None
    assert data["cancellation_indicator"] is None
    posted = str(render_digest(report).blocks)
    assert "Positive Seller Rating: 96% (target 90%) · ✅ target met" in posted
    assert "Product Rating Coverage: 12% (target 20%) · ⚠️ target missed" in posted
    assert "Positive Seller Rating: 96% (target 90%), target met" in render_digest_text(report)


async def test_a_cancellation_indicator_is_shown_beside_the_estimate_with_the_difference(
    world: SandboxWorld, make_service: ServiceFactory
) -> None:
    build_history(world)
    world.performance_indicators.append(CANCELLATION)
    service = make_service()

    report = await service.refresh("th-main")

    assert report.cancellation_indicator is not None
    assert report.cancellation_indicator_rate == pytest.approx(0.015)
    assert report.indicator_difference == pytest.approx(report.rate - 0.015)
    data = report.to_json()["cancellation_indicator"]
    assert data["rate"] == pytest.approx(0.015)
    assert data["estimate_minus_lazada"] == pytest.approx(report.rate - 0.015)
    posted = str(render_digest(report).blocks)
    assert f"differs by {(report.rate - 0.015) * 100:+.2f} pp" in posted


async def test_the_indicators_are_asked_of_lazada_once_a_day_per_store(
    world: SandboxWorld, make_service: ServiceFactory, clock: ManualClock
) -> None:
    build_history(world)
    first, second = make_service(replica_id="a"), make_service(replica_id="b")

    await first.refresh("th-main")
    await second.refresh("th-main")
    again = await first.refresh("th-main")

    assert world.call_count(PERFORMANCE) == 1
    assert again.indicators is not None
    assert len(again.indicators.indicators) == 2
    assert await second.stored_indicators("th-main") == again.indicators

    clock.current = local(2026, 11, 21, 9, 30)
    await second.refresh("th-main")
    assert world.call_count(PERFORMANCE) == 2


@pytest.mark.parametrize(
    ("setup", "line"),
    [
        (lambda w: w.faults.inject(FaultKind.SERVICE_TIMEOUT, path=PERFORMANCE), "could not be read"),
        (lambda w: w.performance_indicators.clear(), "Lazada returned no indicators"),
    ],
    ids=["call-fails", "answers-nothing"],
)
async def test_no_indicators_is_one_line_and_the_digest_still_posts(
    world: SandboxWorld,
    make_service: ServiceFactory,
    slack: FakeSlack,
    clock: ManualClock,
    setup: object,
    line: str,
) -> None:
    add_history(world)
    assert callable(setup)
    setup(world)
    service = make_service(slack_client=AsyncWebClient(token=slack.bot_token, base_url=slack.api_url))
    clock.current = local(2026, 11, 20, 9, 0)

    await service.tick()

    message = slack.messages("C0DIGEST")[0]
    indicator_lines = [b for b in message["blocks"] if "Lazada's own indicators" in str(b)]
    assert len(indicator_lines) == 1
    assert line in str(indicator_lines[0])


async def test_a_failed_reading_is_tried_again_by_a_later_digest_that_day(
    world: SandboxWorld, make_service: ServiceFactory
) -> None:
    build_history(world)
    world.faults.inject(FaultKind.SERVICE_TIMEOUT, path=PERFORMANCE)
    service = make_service()
    failed = await service.refresh("th-main")
    assert failed.indicators_problem is not None

    later = await service.refresh("th-main")
    assert later.indicators_problem is None
    assert world.call_count(PERFORMANCE) == 2


def test_app_home_shows_each_stores_indicators() -> None:
    reading = IndicatorReading(
        read_at=local(2026, 11, 20, 9),
        indicators=(
            Indicator(name="Positive Seller Rating", score="96%", target="90%", respected=True),
            Indicator(name="Ship <on> Time", score="88%", target="95%", respected=False),
        ),
    )
    view = render_home(
        pending_for_approver=[],
        my_requests=[],
        recent=[],
        store_rates=[("Thai Main", None)],
        is_approver=False,
        now=local(2026, 11, 20, 10),
        store_indicators=[("Thai Main", reading), ("Other", None)],
    )
    text = str(view.to_dict()["blocks"])
    assert "Lazada's indicators: ✅ Positive Seller Rating 96% (target 90%); ⚠️ Ship &lt;on&gt; Time 88%" in text
    assert "*Other* — Lazada's indicators: not read today" in text
