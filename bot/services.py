"""The object graph: every long-lived dependency, built once from Settings and closed in reverse order."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp
import httpx
from pydantic import SecretStr
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import make_url

from bot.digest.service import DigestService
from bot.events import EventBus
from bot.lazada.client import LazadaClient, RetryPolicy
from bot.lazada.countries import COUNTRIES
from bot.lazada.limiter import RateLimiter
from bot.lazada.tokens import StoredTokens, TokenStore
from bot.settings import Settings, SettingsError, StoreConfig
from bot.slack.approvers import ApproverDirectory
from bot.slack.digest_poster import DigestPoster
from bot.slack.gateway import SlackGateway
from bot.slack.home import HomeService
from bot.slack.requests import RequestAnnouncer
from bot.slack.tokens import TokenAlertPoster
from bot.store.claims import ClaimStore
from bot.store.db import Database
from bot.store.events import EventStore
from bot.store.migrate import current_revision, head_revision, upgrade_to_head
from bot.store.requests import RequestStore
from bot.store.tokens import DbTokenStore
from bot.token_keeper import TokenKeeper
from bot.workflow.execution import Executor
from bot.workflow.service import CancellationService
from cancel_order_bot.sandbox import (
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_APP_KEY,
    SANDBOX_APP_SECRET,
    SANDBOX_BASE_URL,
    SANDBOX_REFRESH_TOKEN,
    SandboxTransport,
    SandboxWorld,
)

__all__ = ["LAZADA_CONNECTIONS", "Services", "lazada_clients", "open_services", "sandbox_stores"]

LAZADA_CONNECTIONS = 32
"""Connections to Lazada kept open (and calls in flight at most), shared by every store's client."""


WORKFLOW_LEASE = timedelta(minutes=5)
"""How long an execution holds a request before the reconciler may take it over (renewed after each order)."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """Everything the handlers, the scheduler and the CLI use, built once."""

    settings: Settings
    stores: list[StoreConfig]
    db: Database
    requests: RequestStore
    events: EventStore
    tokens: TokenStore
    http: httpx.AsyncClient
    limiter: RateLimiter
    clients: dict[str, LazadaClient]
    slack_client: AsyncWebClient
    slack: SlackGateway
    bus: EventBus
    approvers: ApproverDirectory
    executor: Executor
    workflow: CancellationService
    home: HomeService
    digest: DigestService
    token_keeper: TokenKeeper
    clock: Callable[[], datetime]
    sandbox: SandboxWorld | None = None
    replica_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")


def sandbox_stores(settings: Settings) -> list[StoreConfig]:
    """The configured stores pointed at the in-process sandbox with its published credentials."""
    return [
        store.model_copy(
            update={
                "api_url": SANDBOX_BASE_URL,
                "access_token": SecretStr(SANDBOX_ACCESS_TOKEN),
                "refresh_token": SecretStr(SANDBOX_REFRESH_TOKEN),
            }
        )
        for store in settings.stores()
    ]


def lazada_clients(
    settings: Settings,
    stores: list[StoreConfig],
    *,
    http: httpx.AsyncClient,
    tokens: TokenStore,
    limiter: RateLimiter,
    retry: RetryPolicy,
    sandbox: bool,
    clock: Callable[[], float] | None = None,
) -> dict[str, LazadaClient]:
    """One Lazada client per store, sharing the HTTP pool and the rate limiter."""
    app_key = SANDBOX_APP_KEY if sandbox else settings.lazada_app_key
    app_secret = SecretStr(SANDBOX_APP_SECRET) if sandbox else settings.lazada_app_secret
    if not app_key or app_secret is None:
        settings.require("lazada_app_key", "lazada_app_secret")
    assert app_key is not None
    assert app_secret is not None
    extra = {"clock": clock} if clock is not None else {}
    return {
        store.code: LazadaClient(
            http=http,
            base_url=store.api_url or settings.lazada_api_url or COUNTRIES[store.country].gateway,
            auth_url=SANDBOX_BASE_URL if sandbox else settings.lazada_auth_url,
            app_key=app_key,
            app_secret=app_secret,
            store_code=store.code,
            tokens=tokens,
            limiter=limiter,
            retry=retry,
            timeout=settings.lazada_timeout_seconds,
            **extra,
        )
        for store in stores
    }


async def _seed_tokens(tokens: TokenStore, stores: list[StoreConfig]) -> None:
    """Store tokens given in settings for stores that have none in the database yet (quick start)."""
    for store in stores:
        if store.access_token is not None and await tokens.load(store.code) is None:
            await tokens.save(
                store.code,
                StoredTokens(access_token=store.access_token, refresh_token=store.refresh_token, country=store.country),
            )


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    sandbox: SandboxWorld | None = None,
    slack_client: AsyncWebClient | None = None,
    clock: Callable[[], datetime] = _utcnow,
    retry: RetryPolicy | None = None,
    lazada_transport: httpx.AsyncBaseTransport | None = None,
    migrate: bool | None = None,
) -> AsyncIterator[Services]:
    """Build the services for `settings`; with `sandbox`, Lazada is the in-process sandbox world.

    `migrate=None` upgrades a SQLite database by itself and requires PostgreSQL to be migrated already
    (`cancel-order-bot db upgrade`, a deploy step); True or False forces either.
    """
    replica_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    async with AsyncExitStack() as stack:
        if migrate is None:
            migrate = make_url(settings.database_url).get_backend_name() == "sqlite"
        if migrate:
            await upgrade_to_head(settings.database_url)
        elif await current_revision(settings.database_url) != head_revision():
            raise SettingsError(
                "DATABASE_URL: the database schema is not up to date; run `cancel-order-bot db upgrade` first"
            )
        db = await stack.enter_async_context(Database.from_url(settings.database_url))
        requests = RequestStore(db)
        events = EventStore(db)
        tokens = DbTokenStore(db)
        stores = sandbox_stores(settings) if sandbox is not None else settings.stores()
        await _seed_tokens(tokens, stores)
        transport = lazada_transport or (SandboxTransport(sandbox) if sandbox is not None else None)
        http = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=transport,
                timeout=settings.lazada_timeout_seconds,
                limits=httpx.Limits(max_connections=LAZADA_CONNECTIONS, max_keepalive_connections=LAZADA_CONNECTIONS),
            )
        )
        limiter = RateLimiter(settings.lazada_calls_per_second, max_in_flight=LAZADA_CONNECTIONS)
        clients = lazada_clients(
            settings,
            stores,
            http=http,
            tokens=tokens,
            limiter=limiter,
            retry=retry or RetryPolicy(),
            sandbox=sandbox is not None,
            clock=lambda: clock().timestamp(),
        )
        if slack_client is None:
            # One session for every Web API call: without it slack_sdk opens a session and a connection per call.
            session = await stack.enter_async_context(aiohttp.ClientSession())
            slack_client = AsyncWebClient(
                token=settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None,
                base_url=settings.slack_api_url,
                session=session,
                retry_handlers=[
                    AsyncConnectionErrorRetryHandler(),
                    AsyncRateLimitErrorRetryHandler(max_retry_count=3),
                ],
            )
        slack = SlackGateway(slack_client, sandbox=sandbox is not None)
        approvers = ApproverDirectory(slack_client, ttl_seconds=settings.usergroup_cache_seconds)
        executor = Executor(requests=requests, clients=clients, clock=clock, lease=WORKFLOW_LEASE)
        bus = EventBus()
        DigestPoster(slack).subscribe(bus)
        TokenAlertPoster(slack).subscribe(bus)
        digest = DigestService(
            db=db,
            clients=clients,
            stores=stores,
            bus=bus,
            clock=clock,
            seller_fault_initiators=settings.seller_fault_initiators,
            skip_quiet_days=settings.digest_skip_quiet_days,
            digest_time=settings.digest_time,
            replica_id=replica_id,
        )
        token_keeper = TokenKeeper(
            tokens=tokens,
            clients=clients,
            stores=stores,
            bus=bus,
            claims=ClaimStore(db),
            clock=clock,
            replica_id=replica_id,
        )
        workflow = CancellationService(
            requests=requests,
            stores=stores,
            clients=clients,
            bus=bus,
            approvers=approvers,
            default_approvers=settings.approvers,
            executor=executor,
            clock=clock,
            request_ttl=timedelta(hours=settings.request_ttl_hours),
            lease=WORKFLOW_LEASE,
            replica_id=replica_id,
            rates=digest.projection,
        )
        home = HomeService(
            requests=requests, workflow=workflow, slack=slack, rate_now=lambda store: digest.projection(store, 0)
        )
        RequestAnnouncer(workflow=workflow, requests=requests, slack=slack, home=home).subscribe(bus)
        yield Services(
            settings=settings,
            stores=stores,
            db=db,
            requests=requests,
            events=events,
            tokens=tokens,
            http=http,
            limiter=limiter,
            clients=clients,
            slack_client=slack_client,
            slack=slack,
            bus=bus,
            approvers=approvers,
            executor=executor,
            workflow=workflow,
            home=home,
            digest=digest,
            token_keeper=token_keeper,
            clock=clock,
            sandbox=sandbox,
            replica_id=replica_id,
        )
