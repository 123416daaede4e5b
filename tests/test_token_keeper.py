"""The token keeper: refresh before expiry, record failures, announce once a day per store, across replicas.

Lazada is the sandbox served on a free port, on a manual clock shared with the bot; Slack is a FakeSlack.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from slack_sdk.web.async_client import AsyncWebClient

from bot.events import EventBus
from bot.lazada.client import RetryPolicy
from bot.lazada.countries import Country
from bot.lazada.tokens import StoredTokens
from bot.services import Services, open_services
from bot.settings import Settings, StoreConfig
from bot.slack.render.text import escape
from bot.slack.render.tokens import render_token_alert
from bot.store import ClaimStatus, ClaimStore, DbTokenStore, default_sqlite_url
from bot.token_keeper import (
    ANNOUNCEMENT_KIND,
    TokenAlert,
    TokenAlertDue,
    TokenAlertPosted,
    TokenHealth,
    TokenKeeper,
    announcement_key,
    assess_tokens,
    renewal_deadline,
)
from cancel_order_bot.cli.lazada_auth import token_statuses
from cancel_order_bot.demo.fake_slack import FakeSlack
from cancel_order_bot.sandbox import SANDBOX_APP_KEY, SANDBOX_APP_SECRET, FaultKind, SandboxServer, SandboxWorld
from cancel_order_bot.sandbox.world import ACCESS_TOKEN_LIFETIME
from tests.sandbox.support import ManualClock

# 10:00 in Singapore.
START = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
REFRESH = "/auth/token/refresh"


@dataclass
class Rig:
    """The bot's services on the manual clock, the served sandbox seller, and the fake Slack."""

    services: Services
    world: SandboxWorld
    clock: ManualClock
    slack: FakeSlack
    settings: Settings

    def keeper(self, replica_id: str = "replica-1", services: Services | None = None, **options: Any) -> TokenKeeper:
        """A keeper over the services (another replica's when given), as the app wires it."""
        used = services or self.services
        return TokenKeeper(
            tokens=DbTokenStore(used.db),
            clients=used.clients,
            stores=options.pop("stores", used.stores),
            bus=options.pop("bus", used.bus),
            claims=ClaimStore(used.db),
            clock=self.clock,
            replica_id=replica_id,
            **options,
        )

    async def tokens(self) -> StoredTokens:
        """The store's tokens as the database holds them."""
        stored = await DbTokenStore(self.services.db).load("main")
        assert stored is not None
        return stored

    def announcements(self, channel: str = "C0OPS") -> list[dict[str, Any]]:
        """The bot's messages in the channel."""
        return self.slack.messages(channel)


def _settings(base_url: str, slack: FakeSlack, database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        lazada_app_key=SANDBOX_APP_KEY,
        lazada_app_secret=SecretStr(SANDBOX_APP_SECRET),
        lazada_api_url=base_url,
        lazada_auth_url=base_url,
        database_url=database_url,
        store_code="main",
        store_name="Main *Store*",
        lazada_country=Country.SG,
        approval_channel="C0OPS",
        digest_channel="C0DIGEST",
        slack_bot_token=SecretStr(slack.bot_token),
        slack_api_url=slack.api_url,
    )


@pytest.fixture
async def served() -> AsyncIterator[tuple[SandboxServer, ManualClock]]:
    """The sandbox seller on a manual clock, served on a free port."""
    clock = ManualClock(START)
    async with SandboxServer(SandboxWorld(now=clock), port=0) as server:
        yield server, clock


async def _rig(served: tuple[SandboxServer, ManualClock], database_url: str) -> AsyncIterator[Rig]:
    server, clock = served
    async with FakeSlack() as slack:
        settings = _settings(server.base_url, slack, database_url)
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        async with open_services(
            settings, clock=clock, slack_client=client, retry=RetryPolicy.off(), migrate=True
        ) as services:
            await services.clients["main"].create_token(code=server.world.issue_auth_code())
            yield Rig(services=services, world=server.world, clock=clock, slack=slack, settings=settings)


@pytest.fixture
async def rig(served: tuple[SandboxServer, ManualClock], tmp_path: Path) -> AsyncIterator[Rig]:
    """A store authorized through the sandbox's /auth/token/create at START, on SQLite."""
    async for value in _rig(served, default_sqlite_url(tmp_path / "bot.sqlite3")):
        yield value


@pytest.fixture
async def rig_any_db(served: tuple[SandboxServer, ManualClock], db_url: str) -> AsyncIterator[Rig]:
    """The same, once per database backend."""
    async for value in _rig(served, db_url):
        yield value


def _text(message: dict[str, Any]) -> str:
    parts = [str(message.get("text", ""))]
    for block in message.get("blocks", []):
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(str(text.get("text", "")))
        for element in block.get("elements", []):
            parts.append(str(element.get("text", "")))
    return "\n".join(parts)


async def test_fresh_token_is_left_alone(rig: Rig) -> None:
    await rig.keeper().tick()
    assert rig.world.call_count(REFRESH) == 0
    assert rig.announcements() == []


async def test_access_token_is_refreshed_within_the_margin_before_it_expires(rig: Rig) -> None:
    first = await rig.tokens()
    keeper = rig.keeper()

    rig.clock.advance(days=8, hours=23)
    await keeper.tick()
    assert rig.world.call_count(REFRESH) == 0, "more than a day left: not yet"

    rig.clock.advance(hours=2)
    await keeper.tick()
    assert rig.world.call_count(REFRESH, code="0") == 1
    fresh = await rig.tokens()
    assert fresh.access_token.get_secret_value() == rig.world.access_token
    assert fresh.access_token != first.access_token
    assert fresh.access_expires_at == rig.clock() + ACCESS_TOKEN_LIFETIME
    assert fresh.refresh_expires_at == first.refresh_expires_at, "Lazada does not move the refresh deadline"
    assert rig.world.access_token_valid(rig.world.access_token)

    await keeper.tick()
    assert rig.world.call_count(REFRESH) == 1, "refreshed once, not on every tick"
    assert rig.announcements() == []
    page = await rig.services.clients["main"].get_orders(created_after=rig.clock() - timedelta(days=1))
    assert page.orders == ()


async def test_refresh_token_near_expiry_is_announced_once_a_day(rig: Rig) -> None:
    keeper = rig.keeper()
    rig.clock.advance(days=44)
    await keeper.tick()
    assert rig.world.call_count(REFRESH, code="0") == 1, "the expired access token is still renewed"

    [message] = rig.announcements()
    text = _text(message)
    assert "Lazada access for store Main" in text
    assert "refresh token expires" in text
    assert "in 6 d" in text
    assert "`cancel-order-bot lazada auth-url --store main`" in text
    assert "`cancel-order-bot lazada exchange --store main CODE`" in text
    assert message["text"].startswith("Lazada access for store")
    assert "cancel-order-bot lazada auth-url --store main" in message["text"]
    assert escape("Main *Store*") in text, "the store's name is escaped"
    assert "*Store*" not in text

    rig.clock.advance(hours=6)
    await keeper.tick()
    await rig.keeper("replica-2").tick()
    assert len(rig.announcements()) == 1, "once a day, whichever replica ticks"

    rig.clock.advance(days=1)
    await keeper.tick()
    assert len(rig.announcements()) == 2
    assert "in 4 d" in _text(rig.announcements()[1])

    claims = ClaimStore(rig.services.db)
    store = rig.services.stores[0]
    claim = await claims.get(ANNOUNCEMENT_KIND, announcement_key(store, rig.clock()))
    assert claim is not None
    assert claim.status is ClaimStatus.DONE
    assert announcement_key(store, rig.clock()) == "main:2027-01-04"


async def test_announcement_day_is_the_store_local_day(rig: Rig) -> None:
    store = rig.services.stores[0]
    # 23:30 UTC on 31 Dec is already 1 Jan in Singapore.
    assert announcement_key(store, datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "main:2027-01-01"
    thai = store.model_copy(update={"code": "th", "country": "th", "timezone": "Asia/Bangkok"})
    assert announcement_key(thai, datetime(2026, 12, 31, 16, 30, tzinfo=UTC)) == "th:2026-12-31"


async def test_refused_refresh_is_recorded_and_announced(rig: Rig) -> None:
    rig.world.expire_refresh_token()
    rig.clock.advance(days=9, hours=12)
    await rig.keeper().tick()

    assert rig.world.call_count(REFRESH, code="IllegalRefreshToken") == 1
    [record] = await DbTokenStore(rig.services.db).list_tokens()
    assert record.last_refresh_error is not None
    assert "IllegalRefreshToken" in record.last_refresh_error
    assert rig.world.refresh_token not in record.last_refresh_error
    [status] = token_statuses(rig.services.stores, [record], rig.clock())
    assert status.health is TokenHealth.REFRESH_FAILED

    [message] = rig.announcements()
    text = _text(message)
    assert "The store's access token cannot be renewed" in text
    assert "IllegalRefreshToken" in text
    assert "The current access token expires" in text
    assert "cancel-order-bot lazada auth-url --store main" in text
    assert rig.world.refresh_token not in text
    assert rig.world.access_token not in text

    await rig.keeper().tick()
    assert rig.world.call_count(REFRESH) == 2, "every tick tries again"
    assert len(rig.announcements()) == 1


async def test_expired_refresh_token_is_announced_without_calling_lazada(rig: Rig) -> None:
    rig.clock.advance(days=51)
    await rig.keeper().tick()
    assert rig.world.call_count(REFRESH) == 0
    [record] = await DbTokenStore(rig.services.db).list_tokens()
    assert record.last_refresh_error is not None
    assert "refresh token expired" in record.last_refresh_error
    [status] = token_statuses(rig.services.stores, [record], rig.clock())
    assert status.health is TokenHealth.EXPIRED
    text = _text(rig.announcements()[0])
    assert "expired <!date^" in text
    assert "orders cannot be read or cancelled" in text
    assert "the bot can no longer renew the store's access" in text


async def test_passing_failure_is_retried_and_announced_only_near_expiry(rig: Rig) -> None:
    rig.world.faults.inject(FaultKind.SERVICE_TIMEOUT, path=REFRESH, times=100)
    keeper = rig.keeper()
    rig.clock.advance(days=9, hours=12)
    await keeper.tick()
    [record] = await DbTokenStore(rig.services.db).list_tokens()
    assert record.last_refresh_error is not None
    assert "ServiceTimeout" in record.last_refresh_error
    assert rig.announcements() == [], "12 h left: the bot keeps trying quietly"

    rig.clock.advance(hours=7)
    await keeper.tick()
    [message] = rig.announcements()
    text = _text(message)
    assert "could not renew the store's access token and keeps trying" in text
    assert "LAZADA_AUTH_URL" in text

    rig.world.faults.clear()
    await keeper.tick()
    assert rig.world.call_count(REFRESH, code="0") == 1
    [record] = await DbTokenStore(rig.services.db).list_tokens()
    assert record.last_refresh_error is None, "a successful refresh clears the error"


async def test_passing_failure_then_success_is_never_announced(rig: Rig) -> None:
    rig.world.faults.inject(FaultKind.SERVICE_TIMEOUT, path=REFRESH, times=1)
    keeper = rig.keeper()
    rig.clock.advance(days=9, hours=12)
    await keeper.tick()
    await keeper.tick()
    assert rig.world.call_count(REFRESH, code="0") == 1
    assert rig.announcements() == []


async def test_failed_post_is_tried_again_on_the_next_tick(rig: Rig) -> None:
    rig.slack.fail("chat.postMessage", "fatal_error")
    keeper = rig.keeper()
    rig.clock.advance(days=44)
    await keeper.tick()
    assert rig.announcements() == []
    key = announcement_key(rig.services.stores[0], rig.clock())
    assert await ClaimStore(rig.services.db).get(ANNOUNCEMENT_KIND, key) is None, "the claim was given back"

    await keeper.tick()
    assert len(rig.announcements()) == 1


async def test_announcement_falls_back_to_the_digest_channel(rig: Rig) -> None:
    stores = [rig.services.stores[0].model_copy(update={"approval_channel": None})]
    rig.clock.advance(days=44)
    await rig.keeper(stores=stores).tick()
    assert rig.announcements() == []
    assert len(rig.announcements("C0DIGEST")) == 1


async def test_store_never_authorized_is_skipped(rig: Rig) -> None:
    other = rig.services.stores[0].model_copy(update={"code": "other"})
    rig.clock.advance(days=44)
    await rig.keeper(stores=[other]).tick()
    assert rig.world.call_count(REFRESH) == 0
    assert rig.announcements() == []


async def test_two_replicas_refresh_once_and_announce_once(rig_any_db: Rig) -> None:
    rig = rig_any_db
    # A second replica: its own connection pool and Lazada clients over the same database.
    async with open_services(
        rig.settings, clock=rig.clock, slack_client=rig.services.slack_client, retry=RetryPolicy.off(), migrate=False
    ) as second:
        assert second.clients["main"] is not rig.services.clients["main"]
        rig.clock.advance(days=44)
        await asyncio.gather(rig.keeper("replica-1").tick(), rig.keeper("replica-2", services=second).tick())
    assert rig.world.call_count(REFRESH) == 1
    assert len(rig.announcements()) == 1
    assert (await rig.tokens()).access_token.get_secret_value() == rig.world.access_token


async def test_keeper_emits_the_alert_and_posts_nothing_itself(rig: Rig) -> None:
    bus = EventBus()
    seen: list[TokenAlertDue] = []

    async def presenter(event: TokenAlertDue) -> None:
        seen.append(event)
        event.receipt.answer(TokenAlertPosted(channel=event.channel, ts="1.000001"))

    bus.subscribe(TokenAlertDue, presenter)
    rig.clock.advance(days=44)
    await rig.keeper(bus=bus).tick()
    await rig.keeper("replica-2", bus=bus).tick()

    (event,) = seen
    assert (event.channel, event.alert.store_code) == ("C0OPS", "main")
    assert event.alert.renewal_deadline is not None
    assert rig.announcements() == []
    claim = await ClaimStore(rig.services.db).get(
        ANNOUNCEMENT_KIND, announcement_key(rig.services.stores[0], rig.clock())
    )
    assert claim is not None
    assert (claim.status, claim.result) == (ClaimStatus.DONE, {"channel": "C0OPS", "ts": "1.000001"})


async def test_an_alert_nobody_posted_gives_the_claim_back(rig: Rig) -> None:
    bus = EventBus()
    seen: list[TokenAlertDue] = []

    async def silent(event: TokenAlertDue) -> None:
        seen.append(event)

    async def broken(event: TokenAlertDue) -> None:
        raise RuntimeError("the presenter broke")

    bus.subscribe(TokenAlertDue, silent)
    rig.clock.advance(days=44)
    key = announcement_key(rig.services.stores[0], rig.clock())
    await rig.keeper(bus=bus).tick()
    assert await ClaimStore(rig.services.db).get(ANNOUNCEMENT_KIND, key) is None

    bus.subscribe(TokenAlertDue, broken)
    await rig.keeper(bus=bus).tick()
    assert await ClaimStore(rig.services.db).get(ANNOUNCEMENT_KIND, key) is None
    assert len(seen) == 2


def test_assess_tokens_worst_problem_first() -> None:
    now = START
    tokens = StoredTokens(
        access_token=SecretStr("a"),
        refresh_token=SecretStr("r"),
        access_expires_at=now + timedelta(days=5),
        refresh_expires_at=now + timedelta(days=30),
    )
    assert assess_tokens(None, last_refresh_error=None, now=now) is TokenHealth.NOT_AUTHORIZED
    assert assess_tokens(tokens, last_refresh_error=None, now=now) is TokenHealth.OK
    assert assess_tokens(tokens, last_refresh_error="boom", now=now) is TokenHealth.REFRESH_FAILED
    assert assess_tokens(tokens, last_refresh_error=None, now=now + timedelta(days=23)) is TokenHealth.REAUTHORIZE_SOON
    assert assess_tokens(tokens, last_refresh_error="boom", now=now + timedelta(days=31)) is TokenHealth.EXPIRED
    no_refresh = tokens.model_copy(update={"refresh_token": None})
    assert renewal_deadline(no_refresh) == now + timedelta(days=5)
    assert assess_tokens(no_refresh, last_refresh_error=None, now=now) is TokenHealth.REAUTHORIZE_SOON
    quick_start = StoredTokens(access_token=SecretStr("a"))
    assert assess_tokens(quick_start, last_refresh_error=None, now=now) is TokenHealth.OK


def test_render_token_alert_escapes_and_says_what_to_run() -> None:
    alert = TokenAlert(
        store_code="sg-main",
        store_label="<!channel> *Shop*",
        country="sg",
        now=START,
        access_expires_at=START + timedelta(hours=3),
        refresh_error="/auth/token/refresh: [IllegalRefreshToken] ISV: <b>bad</b> @here",
        refresh_refused=True,
    )
    message = render_token_alert(alert)
    blocks = [block.to_dict() for block in message.blocks]
    text = "\n".join(str(block.get("text", {}).get("text", "")) for block in blocks)
    assert "<!channel>" not in text + message.text
    assert "<b>" not in text
    assert "@here" not in text
    assert "`cancel-order-bot lazada auth-url --store sg-main`" in text
    assert "`cancel-order-bot lazada exchange --store sg-main CODE`" in text
    assert "expires <!date^" in text
    assert "in 3 h" in text
    assert len(message.blocks) == 3


def test_token_alert_needs_a_problem() -> None:
    with pytest.raises(ValueError, match="needs a refresh error, a renewal deadline, or both"):
        TokenAlert(store_code="main", store_label="Main", country="sg", now=START)


def test_alert_for_a_store_without_refresh_token_names_the_access_token() -> None:
    store = StoreConfig(code="main", country=Country.SG)
    alert = TokenAlert(
        store_code=store.code,
        store_label=store.label,
        country=store.country.value,
        now=START,
        renewal_deadline=START + timedelta(days=2),
        deadline_is_refresh_token=False,
    )
    text = str(render_token_alert(alert).blocks[0].to_dict()["text"]["text"])
    assert "access token (there is no refresh token) expires" in text
