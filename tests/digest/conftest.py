"""Digest fixtures: a Bangkok sandbox seller on a manual clock, its client, a fake Slack, services on the test DB."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import SecretStr
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest.service import DigestService
from bot.events import EventBus
from bot.lazada.client import LazadaClient, RetryPolicy
from bot.lazada.limiter import UnlimitedRateLimiter
from bot.lazada.tokens import MemoryTokenStore, StoredTokens
from bot.settings import StoreConfig, Thresholds
from bot.slack.digest_poster import DigestPoster
from bot.slack.gateway import SlackGateway
from bot.store import Database
from cancel_order_bot.demo import FakeSlack
from cancel_order_bot.sandbox import SANDBOX_BASE_URL, SandboxTransport, SandboxWorld
from tests.sandbox.support import ManualClock

TZ = ZoneInfo("Asia/Bangkok")
STORE = "th-main"
# 09:30 in Bangkok on 2026-11-20: the digest day D is 2026-11-20.
START = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)
SELLER_FAULT = ("cancellation-seller", "cancellation-internal")
THRESHOLDS = Thresholds(warning_rate=0.03, limit_rate=0.05, min_cancelled_items=2)
NOWHERE = "http://127.0.0.1:9/api/"


def local(year: int, month: int, day: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    """An aware datetime in the store's time zone."""
    return datetime(year, month, day, hour, minute, second, tzinfo=TZ)


def store_config(**overrides: Any) -> StoreConfig:
    """The test store: Thailand, Bangkok time, digest to C0DIGEST at 09:00."""
    values: dict[str, Any] = {
        "code": STORE,
        "country": "th",
        "name": "Thai Main",
        "timezone": "Asia/Bangkok",
        "digest_channel": "C0DIGEST",
        "digest_time": time(9, 0),
        "thresholds": THRESHOLDS,
        **overrides,
    }
    return StoreConfig(**values)


@pytest.fixture
def clock() -> ManualClock:
    """The one clock of the world, the client and the service."""
    return ManualClock(START)


@pytest.fixture
def world(clock: ManualClock) -> SandboxWorld:
    """An empty sandbox seller in Thailand."""
    return SandboxWorld(country="th", now=clock)


@pytest.fixture
async def http(world: SandboxWorld) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client whose transport is the in-process sandbox."""
    async with httpx.AsyncClient(transport=SandboxTransport(world)) as client:
        yield client


def make_client(world: SandboxWorld, http: httpx.AsyncClient, clock: Callable[[], datetime]) -> LazadaClient:
    """A Lazada client for the sandbox seller, signing with the world's clock, no retries and no pacing."""
    now = world.now()
    tokens = StoredTokens(
        access_token=SecretStr(world.access_token),
        refresh_token=SecretStr(world.refresh_token),
        access_expires_at=now + timedelta(days=300),
        refresh_expires_at=now + timedelta(days=500),
        country=world.country,
    )
    return LazadaClient(
        http=http,
        base_url=SANDBOX_BASE_URL,
        auth_url=SANDBOX_BASE_URL,
        app_key=world.app_key,
        app_secret=world.app_secret,
        store_code=STORE,
        tokens=MemoryTokenStore({STORE: tokens}),
        limiter=UnlimitedRateLimiter(),
        retry=RetryPolicy.off(),
        clock=lambda: clock().timestamp(),
    )


@pytest.fixture
def client(world: SandboxWorld, http: httpx.AsyncClient, clock: ManualClock) -> LazadaClient:
    """The store's Lazada client."""
    return make_client(world, http, clock)


@pytest.fixture
async def slack(clock: ManualClock) -> AsyncIterator[FakeSlack]:
    """A fake Slack whose message timestamps follow the test clock."""
    async with FakeSlack(clock=lambda: clock().timestamp()) as fake:
        yield fake


@dataclass
class ServiceFactory:
    """Builds digest services over one database and sandbox, as several replicas would."""

    database: Database
    client: LazadaClient
    clock: ManualClock

    def __call__(
        self,
        *,
        slack_client: AsyncWebClient | None = None,
        stores: Sequence[StoreConfig] | None = None,
        initiators: Sequence[str] = SELLER_FAULT,
        replica_id: str = "replica-a",
        database: Database | None = None,
        bus: EventBus | None = None,
        sandbox: bool = False,
        **options: Any,
    ) -> DigestService:
        """A service for the test store (or ``stores``) emitting on ``bus``, or, by default, on a bus of its own
        where a digest poster subscribes, as the app wires it: through a gateway on ``slack_client`` (pointing
        nowhere unless given), marking messages SANDBOX when ``sandbox``."""
        configs = list(stores) if stores is not None else [store_config()]
        if bus is None:
            bus = EventBus()
            client = slack_client or AsyncWebClient(token="xoxb-unused", base_url=NOWHERE)
            DigestPoster(SlackGateway(client, sandbox=sandbox)).subscribe(bus)
        return DigestService(
            db=database or self.database,
            clients={config.code: self.client for config in configs},
            stores=configs,
            bus=bus,
            clock=self.clock,
            seller_fault_initiators=initiators,
            replica_id=replica_id,
            **options,
        )


@pytest.fixture
def make_service(database: Database, client: LazadaClient, clock: ManualClock) -> ServiceFactory:
    """Build a digest service on the test database (SQLite, and PostgreSQL when configured)."""
    return ServiceFactory(database=database, client=client, clock=clock)
