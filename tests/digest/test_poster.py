"""Posting through the fake Slack: the message, the chart's three-step upload, and once a day per store."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from matplotlib.image import imread
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest.claims import CLAIM_KIND
from bot.digest.errors import NoDigestChannelError
from bot.digest.service import DigestService
from bot.slack.chart import PNG_SIGNATURE
from bot.slack.digest_poster import DIGEST_EVENT
from bot.store import ClaimStatus, ClaimStore, Database
from cancel_order_bot.demo import FakeSlack
from cancel_order_bot.demo.fake_slack import FILE_UPLOAD
from cancel_order_bot.sandbox import ItemSpec, SandboxWorld
from tests.digest.conftest import ServiceFactory, local, store_config
from tests.sandbox.support import ManualClock

CHANNEL = "C0DIGEST"
KEY = "th-main/2026-11-20"
UPLOAD_STEPS = ["files.getUploadURLExternal", FILE_UPLOAD, "files.completeUploadExternal"]


@pytest.fixture
def slack_client(slack: FakeSlack) -> AsyncWebClient:
    """slack_sdk's real client, talking to the fake."""
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)


def add_history(world: SandboxWorld, *, cancelled: bool = True) -> None:
    """Orders on each of the 70 days before 2026-11-20; every fifth has a seller cancellation when ``cancelled``."""
    for back in range(70):
        day = local(2026, 11, 20) - timedelta(days=back + 1)
        for index in range(5):
            spec = ItemSpec(status="canceled", initiator="cancellation-seller") if cancelled and index == 0 else None
            world.add_order([spec or ItemSpec(status="delivered"), ItemSpec(status="delivered")], created_at=day)


def methods(slack: FakeSlack) -> list[str]:
    """The Web API methods called so far, in order."""
    return [call.method for call in slack.calls]


async def test_post_sends_the_digest_and_uploads_a_real_png_in_three_steps(
    world: SandboxWorld, make_service: ServiceFactory, slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    add_history(world)
    service = make_service(slack_client=slack_client)
    report = await service.refresh("th-main")

    result = await service.post("th-main", report)

    assert result.ok
    assert methods(slack) == ["chat.postMessage", *UPLOAD_STEPS]
    (message,) = [m for m in slack.messages(CHANNEL) if m.get("blocks")]
    assert message["ts"] == result.ts
    assert "estimate" in str(message["blocks"])
    assert message["metadata"] == {
        "event_type": DIGEST_EVENT,
        "event_payload": {"store": "th-main", "date": "2026-11-20"},
    }
    (uploaded,) = slack.uploaded_files
    assert uploaded.file_id == result.file_id
    assert uploaded.completed
    assert uploaded.channels == (CHANNEL,)
    assert uploaded.filename == "cancellation-rate-th-main-2026-11-20.png"
    assert uploaded.content is not None
    assert uploaded.content.startswith(PNG_SIGNATURE)
    pixels = imread(io.BytesIO(uploaded.content), format="png")
    assert pixels.shape[0] > 100
    assert pixels.shape[1] > 100


async def test_post_needs_a_digest_channel(world: SandboxWorld, make_service: ServiceFactory) -> None:
    add_history(world)
    service = make_service(stores=[store_config(digest_channel=None)])
    report = await service.refresh("th-main")

    with pytest.raises(NoDigestChannelError, match="DIGEST_CHANNEL"):
        await service.post("th-main", report)


async def test_tick_posts_at_the_digest_time_and_only_once_that_day(
    world: SandboxWorld,
    make_service: ServiceFactory,
    slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: ManualClock,
) -> None:
    add_history(world)
    first = make_service(slack_client=slack_client, replica_id="replica-a")
    second = make_service(slack_client=slack_client, replica_id="replica-b")
    clock.current = local(2026, 11, 20, 8, 59)

    await first.tick()
    assert slack.calls == []

    clock.current = local(2026, 11, 20, 9, 0)
    await first.tick()
    await second.tick()
    clock.advance(hours=3)
    await second.tick()

    assert methods(slack) == ["chat.postMessage", *UPLOAD_STEPS]
    claim = await ClaimStore(make_service.database).get(CLAIM_KIND, KEY)
    assert claim is not None
    assert claim.status is ClaimStatus.DONE
    assert claim.claimed_by == "replica-a"
    assert claim.result["ts"] == slack.messages(CHANNEL)[0]["ts"]

    clock.current = local(2026, 11, 21, 9, 1)
    await second.tick()
    assert methods(slack).count("chat.postMessage") == 2


async def test_a_replica_that_was_down_at_the_digest_time_catches_up(
    world: SandboxWorld,
    make_service: ServiceFactory,
    slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: ManualClock,
) -> None:
    add_history(world)
    clock.current = local(2026, 11, 20, 16, 45)

    await make_service(slack_client=slack_client).tick()

    assert methods(slack) == ["chat.postMessage", *UPLOAD_STEPS]


async def test_a_quiet_day_is_skipped_when_the_setting_says_so(
    world: SandboxWorld,
    make_service: ServiceFactory,
    slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: ManualClock,
) -> None:
    add_history(world, cancelled=False)
    clock.current = local(2026, 11, 20, 9, 5)

    await make_service(slack_client=slack_client, skip_quiet_days=True).tick()
    claim = await ClaimStore(make_service.database).get(CLAIM_KIND, KEY)

    assert slack.calls == []
    assert claim is not None
    assert claim.result == {"skipped": "quiet"}


async def test_a_quiet_day_is_posted_by_default(
    world: SandboxWorld,
    make_service: ServiceFactory,
    slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: ManualClock,
) -> None:
    add_history(world, cancelled=False)
    clock.current = local(2026, 11, 20, 9, 5)

    await make_service(slack_client=slack_client).tick()

    assert methods(slack).count("chat.postMessage") == 1


async def test_a_failed_post_gives_the_claim_back_for_the_next_tick(
    world: SandboxWorld,
    make_service: ServiceFactory,
    slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: ManualClock,
) -> None:
    add_history(world)
    service = make_service(slack_client=slack_client)
    clock.current = local(2026, 11, 20, 9, 0)
    slack.fail("chat.postMessage", "channel_not_found")

    await service.tick()
    assert await ClaimStore(make_service.database).get(CLAIM_KIND, KEY) is None
    assert slack.messages(CHANNEL) == []

    clock.advance(minutes=1)
    await service.tick()
    assert len(slack.messages(CHANNEL)) == 2  # the digest and the chart


async def test_a_failed_upload_does_not_post_the_digest_again(
    world: SandboxWorld,
    make_service: ServiceFactory,
    slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: ManualClock,
) -> None:
    add_history(world)
    service = make_service(slack_client=slack_client)
    clock.current = local(2026, 11, 20, 9, 0)
    slack.fail("files.completeUploadExternal")

    await service.tick()
    clock.advance(minutes=30)
    await service.tick()

    assert methods(slack).count("chat.postMessage") == 1
    claim = await ClaimStore(make_service.database).get(CLAIM_KIND, KEY)
    assert claim is not None
    assert claim.result["error"] == "fatal_error"


async def test_a_taken_over_claim_finds_the_digest_posted_before_the_crash(
    world: SandboxWorld,
    make_service: ServiceFactory,
    slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: ManualClock,
) -> None:
    add_history(world)
    crashed: DigestService = make_service(slack_client=slack_client, replica_id="crashed")
    clock.current = local(2026, 11, 20, 9, 0)
    assert (await crashed.claims.claim(KEY)).won
    assert (await crashed.post("th-main", await crashed.refresh("th-main"))).ok
    posted = len(slack.messages(CHANNEL))

    clock.advance(minutes=5)
    await make_service(slack_client=slack_client, replica_id="survivor").tick()
    assert len(slack.messages(CHANNEL)) == posted

    clock.advance(minutes=30)
    await make_service(slack_client=slack_client, replica_id="survivor").tick()

    assert len(slack.messages(CHANNEL)) == posted
    assert methods(slack).count("chat.postMessage") == 1
    claim = await ClaimStore(make_service.database).get(CLAIM_KIND, KEY)
    assert claim is not None
    assert (claim.claimed_by, claim.status, claim.result["reused"]) == ("survivor", ClaimStatus.DONE, True)


async def test_a_store_without_a_digest_channel_is_never_due(
    world: SandboxWorld,
    make_service: ServiceFactory,
    slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: ManualClock,
) -> None:
    add_history(world)
    clock.current = local(2026, 11, 20, 10, 0)

    await make_service(slack_client=slack_client, stores=[store_config(digest_channel=None)]).tick()

    assert slack.calls == []
    assert world.calls == ()


async def test_each_store_follows_its_own_time_zone(
    world: SandboxWorld, make_service: ServiceFactory, database: Database, clock: ManualClock
) -> None:
    service = make_service(
        stores=[store_config(), store_config(code="sg-main", country="sg", timezone="Asia/Singapore")]
    )
    # 09:30 in Bangkok is 10:30 in Singapore; 08:30 in Bangkok is 09:30 in Singapore.
    clock.current = local(2026, 11, 20, 8, 30)

    assert service.due_day("th-main", clock()) is None
    assert service.due_day("sg-main", clock()) is not None


async def test_on_the_sandbox_the_gateway_marks_the_digest(
    world: SandboxWorld, make_service: ServiceFactory, slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    add_history(world)
    service = make_service(slack_client=slack_client, sandbox=True)

    result = await service.post("th-main", await service.refresh("th-main"))

    assert result.ok
    (message,) = [m for m in slack.messages(CHANNEL) if m.get("blocks")]
    assert message["text"].startswith("[SANDBOX] ")
    assert "SANDBOX — no real order is touched" in str(message["blocks"])
    assert message["metadata"]["event_type"] == DIGEST_EVENT


async def test_off_the_sandbox_the_digest_is_not_marked(
    world: SandboxWorld, make_service: ServiceFactory, slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    add_history(world)
    service = make_service(slack_client=slack_client)

    await service.post("th-main", await service.refresh("th-main"))

    (message,) = [m for m in slack.messages(CHANNEL) if m.get("blocks")]
    assert "SANDBOX" not in message["text"] + str(message["blocks"])
