"""The object graph: every long-lived dependency, built once from Settings and closed in reverse order."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import aiohttp
import httpx
import structlog
from pydantic import SecretStr
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import make_url

from bot.buyer.service import BuyerRequestService
from bot.digest.claims import CLAIM_KIND as DIGEST_CLAIM_KIND
from bot.digest.service import DigestService
from bot.events import EventBus
from bot.lazada.client import LazadaClient, RetryPolicy
from bot.lazada.countries import COUNTRIES
from bot.lazada.limiter import RateLimiter
from bot.lazada.refresh import RefreshClaims
from bot.lazada.tokens import StoredTokens, TokenStore
from bot.metrics import Metrics
from bot.settings import Settings, SettingsError, StoreConfig
from bot.slack.approvers import ApproverDirectory
from bot.slack.buyer import BuyerRequestAnnouncer, SlackChannelMembers
from bot.slack.digest_poster import DigestPoster
from bot.slack.gateway import SlackGateway
from bot.slack.home import HomeService
from bot.slack.requests import RequestAnnouncer
from bot.slack.tokens import TokenAlertPoster
from bot.store.budget import DbRateBudget
from bot.store.buyer import BuyerRequestStore
from bot.store.claims import ClaimStore
from bot.store.db import Database
from bot.store.events import EventStore
from bot.store.facts import DatabaseKind, DatabaseKindError, FactStore, token_fingerprint
from bot.store.migrate import current_revision, head_revision, upgrade_to_head
from bot.store.requests import RequestStore
from bot.store.tokens import DbRefreshClaims, DbTokenStore
from bot.token_keeper import TokenKeeper
from bot.workflow.execution import Executor
from bot.workflow.service import CancellationService

__all__ = [
    "CLAIM_MEMORY",
    "EVENT_MEMORY",
    "LAZADA_CONNECTIONS",
    "OTHER_KIND_FIX",
    "LazadaTarget",
    "Services",
    "lazada_clients",
    "lazada_target",
    "open_services",
    "shared_budget",
]

log = structlog.get_logger(__name__)

LAZADA_CONNECTIONS = 32
"""Connections to Lazada kept open (and calls in flight at most), shared by every store's client."""


WORKFLOW_LEASE = timedelta(minutes=5)
"""How long an execution holds a request before the reconciler may take it over (renewed after each order)."""


EVENT_MEMORY = timedelta(days=1)
"""How long a Slack event id is remembered for de-duplication."""

CLAIM_MEMORY = timedelta(days=35)
"""How long a scheduler claim is kept after its lease ended. Far longer than any claim is asked for again: a day's
digest, indicators or token announcement during that day; a request's announcements while it is open (at most 14
days); a buyer request's card and replies while it waits for its deadline (which Slack's record of them also guards);
a token refresh until the token's expiry, a day after the refresh; 35 days also covers the digest's window."""


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
    claims: ClaimStore
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
    lazada: LazadaTarget
    buyer: BuyerRequestService
    metrics: Metrics = field(default_factory=Metrics)
    replica_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")

    async def drain(self, deadline: float) -> bool:
        """On SIGTERM: take no new work, let executions in flight finish (up to `deadline` s), then App Home.

        True when everything finished; after a False the reconciler of another replica settles what was left.
        """
        self.workflow.stop_taking_work()
        log.info("draining", deadline_seconds=deadline)
        finished = await self.workflow.idle(deadline)
        # App Home refreshes are nice to have: a short wait, never the whole deadline again.
        await self.home.idle(min(deadline, 5.0))
        log.info("drained", finished=finished)
        return finished

    async def prune_events(self) -> None:
        """Forget Slack event ids older than a day (a scheduler job): Slack stops retrying an event within minutes."""
        pruned = await self.events.prune(before=self.clock() - EVENT_MEMORY)
        log.info("events_pruned", count=pruned)

    async def prune_claims(self) -> None:
        """Forget scheduler claims whose lease ended over `CLAIM_MEMORY` ago (a scheduler job).

        Each store's newest digest stays, since the `last_digest` metric is read from it.
        """
        pruned = await self.claims.prune(before=self.clock() - CLAIM_MEMORY, keep_newest_done=[DIGEST_CLAIM_KIND])
        log.info("claims_pruned", count=pruned)


@dataclass(frozen=True)
class LazadaTarget:
    """The Lazada the services talk to and the database that goes with it: the real one, or the sandbox.

    Production builds it from the settings (`lazada_target`); `--sandbox` runs, the demo and the tests build
    the sandbox's beside the sandbox (`cancel_order_bot.sandbox.target`), so production never imports it.
    """

    stores: list[StoreConfig]
    app_key: str
    app_secret: SecretStr
    auth_url: str
    database_url: str
    database_setting: str = "DATABASE_URL"
    """The setting that names `database_url`, for messages."""
    sandbox: bool = False
    """Whether this is the sandbox: its data stays in a database of its own, and Slack messages say SANDBOX."""
    transport: httpx.AsyncBaseTransport | None = None
    """How to reach Lazada; None for the network."""

    @property
    def kind(self) -> DatabaseKind:
        """The kind of data this target writes to its database."""
        return DatabaseKind.SANDBOX if self.sandbox else DatabaseKind.LAZADA


def lazada_target(settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> LazadaTarget:
    """The real Lazada the settings name, with the stores' tokens and `DATABASE_URL`."""
    if not settings.lazada_app_key or settings.lazada_app_secret is None:
        settings.require("lazada_app_key", "lazada_app_secret")
    assert settings.lazada_app_key is not None
    assert settings.lazada_app_secret is not None
    return LazadaTarget(
        stores=settings.stores(),
        app_key=settings.lazada_app_key,
        app_secret=settings.lazada_app_secret,
        auth_url=settings.lazada_auth_url,
        database_url=settings.database_url,
        transport=transport,
    )


def lazada_clients(
    settings: Settings,
    lazada: LazadaTarget,
    *,
    http: httpx.AsyncClient,
    tokens: TokenStore,
    limiter: RateLimiter,
    retry: RetryPolicy,
    clock: Callable[[], float] | None = None,
    refresh_claims: RefreshClaims | None = None,
) -> dict[str, LazadaClient]:
    """One Lazada client per store of `lazada`, sharing the HTTP pool and the rate limiter."""
    extra = {"clock": clock} if clock is not None else {}
    return {
        store.code: LazadaClient(
            http=http,
            base_url=store.api_url or settings.lazada_api_url or COUNTRIES[store.country].gateway,
            auth_url=lazada.auth_url,
            app_key=lazada.app_key,
            app_secret=lazada.app_secret,
            store_code=store.code,
            tokens=tokens,
            limiter=limiter,
            retry=retry,
            timeout=settings.lazada_timeout_seconds,
            refresh_claims=refresh_claims,
            **extra,
        )
        for store in lazada.stores
    }


def shared_budget(settings: Settings, db: Database, app_key: str) -> dict[str, Any]:
    """The limiter's options for the app's Lazada budget: on PostgreSQL, in the database, shared by every replica."""
    shared = db.dialect_name == "postgresql"
    return {
        "bucket": app_key,
        "per_api": settings.lazada_rate_per_api,
        "budget": DbRateBudget(db) if shared else None,
        # Replicas share wall time only; one process paces on the monotonic clock.
        "clock": time.time if shared else time.monotonic,
    }


OTHER_KIND_FIX = MappingProxyType(
    {
        DatabaseKind.LAZADA: "a --sandbox run wrote it; give the real bot a database of its own",
        DatabaseKind.SANDBOX: "give --sandbox runs a database of their own",
    }
)


async def _claim_database(db: Database, lazada: LazadaTarget) -> FactStore:
    """Mark a new database with the target's kind; refuse one that holds the other kind's data."""
    facts = FactStore(db)
    try:
        await facts.claim_kind(lazada.kind)
    except DatabaseKindError as exc:
        raise SettingsError(f"{lazada.database_setting}: {exc} ({OTHER_KIND_FIX[lazada.kind]})") from None
    return facts


async def _seed_tokens(tokens: TokenStore, facts: FactStore, stores: list[StoreConfig]) -> None:
    """Store the tokens given in the settings when they first appear there.

    A token seen for the first time is newer than whatever the database holds, so it replaces it. Once
    taken, the stored one (refreshed by the bot, or from `lazada exchange` since) is newer and wins.
    """
    for store in stores:
        if store.access_token is None:
            continue
        fact = f"seeded_token:{store.code}"
        fingerprint = token_fingerprint(store.access_token.get_secret_value())
        if await facts.get(fact) == fingerprint and await tokens.load(store.code) is not None:
            continue
        await tokens.save(
            store.code,
            StoredTokens(access_token=store.access_token, refresh_token=store.refresh_token, country=store.country),
        )
        await facts.put(fact, fingerprint)


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    lazada: LazadaTarget | None = None,
    slack_client: AsyncWebClient | None = None,
    clock: Callable[[], datetime] = _utcnow,
    retry: RetryPolicy | None = None,
    migrate: bool | None = None,
    metrics: Metrics | None = None,
) -> AsyncIterator[Services]:
    """Build the services for `settings`, on the `lazada` target (default: the real Lazada the settings name).

    `migrate=None` upgrades a SQLite database, and the sandbox's, by itself and requires PostgreSQL to be
    migrated already (`cancel-order-bot db upgrade`, a deploy step); True or False forces either.
    """
    replica_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    structlog.contextvars.bind_contextvars(replica=replica_id)  # on every log line from here on
    metrics = metrics or Metrics()
    lazada = lazada or lazada_target(settings)
    database_url = lazada.database_url
    async with AsyncExitStack() as stack:
        if migrate is None:
            migrate = lazada.sandbox or make_url(database_url).get_backend_name() == "sqlite"
        if migrate:
            await upgrade_to_head(database_url)
        elif await current_revision(database_url) != head_revision():
            raise SettingsError(
                f"{lazada.database_setting}: the database schema is not up to date; "
                "run `cancel-order-bot db upgrade` first"
            )
        db = await stack.enter_async_context(Database.from_url(database_url))
        facts = await _claim_database(db, lazada)
        requests = RequestStore(db)
        events = EventStore(db)
        tokens = DbTokenStore(db)
        stores = lazada.stores
        await _seed_tokens(tokens, facts, stores)
        pool = httpx.Limits(max_connections=LAZADA_CONNECTIONS, max_keepalive_connections=LAZADA_CONNECTIONS)
        http = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=metrics.lazada_transport(lazada.transport or httpx.AsyncHTTPTransport(limits=pool)),
                timeout=settings.lazada_timeout_seconds,
            )
        )
        limiter = metrics.rate_limiter(
            settings.lazada_calls_per_second,
            max_in_flight=LAZADA_CONNECTIONS,
            **shared_budget(settings, db, lazada.app_key),
        )
        metrics.watch(db, clock)
        clients = lazada_clients(
            settings,
            lazada,
            http=http,
            tokens=tokens,
            limiter=limiter,
            retry=retry or RetryPolicy(),
            clock=lambda: clock().timestamp(),
            refresh_claims=DbRefreshClaims(ClaimStore(db), replica_id, clock=clock),
        )
        if slack_client is None:
            # One session for every Web API call: without it slack_sdk opens a session and a connection per call.
            session = await stack.enter_async_context(aiohttp.ClientSession())
            slack_client = metrics.slack_client(
                token=settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None,
                base_url=settings.slack_api_url,
                session=session,
                retry_handlers=[
                    AsyncConnectionErrorRetryHandler(),
                    AsyncRateLimitErrorRetryHandler(max_retry_count=3),
                ],
            )
        slack = SlackGateway(slack_client, sandbox=lazada.sandbox)
        approvers = ApproverDirectory(
            slack_client,
            ttl_seconds=settings.usergroup_cache_seconds,
            max_age_seconds=settings.usergroup_cache_max_age_seconds,
        )
        executor = Executor(
            requests=requests,
            clients=clients,
            clock=clock,
            lease=WORKFLOW_LEASE,
            pending_bound=timedelta(hours=settings.cancel_pending_hours),
        )
        bus = EventBus()
        DigestPoster(slack).subscribe(bus)
        TokenAlertPoster(slack).subscribe(bus)
        # Built before the digest and the workflow: the digest counts buyer requests, and every order the request
        # form or `order show` reads feeds the buyer-request store (issue 11).
        buyer = BuyerRequestService(
            store=BuyerRequestStore(db),
            claims=ClaimStore(db),
            stores=stores,
            clients=clients,
            bus=bus,
            approvers=approvers,
            default_approvers=settings.approvers,
            clock=clock,
            scan_seconds=settings.buyer_request_scan_seconds,
            deciders=settings.buyer_request_deciders,
            members=SlackChannelMembers(slack_client, clock=clock),
            replica_id=replica_id,
        )
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
            buyer_counts=buyer.counts,
            orders_waiting=buyer.note_orders,
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
            synced_at=digest.synced_at,
            items_seen=buyer.note_items,
        )
        home = HomeService(
            requests=requests,
            workflow=workflow,
            slack=slack,
            rate_now=lambda store: digest.projection(store, 0),
            indicators_now=digest.stored_indicators,
            buyer=buyer,
        )
        RequestAnnouncer(workflow=workflow, requests=requests, slack=slack, home=home, buyer=buyer).subscribe(bus)
        BuyerRequestAnnouncer(service=buyer, slack=slack).subscribe(bus)
        home.subscribe_buyer(bus)  # after the card: a request's deciders see it on App Home once it is posted
        yield Services(
            settings=settings,
            stores=stores,
            db=db,
            requests=requests,
            events=events,
            claims=ClaimStore(db),
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
            lazada=lazada,
            buyer=buyer,
            metrics=metrics,
            replica_id=replica_id,
        )
