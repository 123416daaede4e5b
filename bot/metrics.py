"""Prometheus metrics of the bot: one registry per process, fed at the seams where calls leave it.

Counters are fed as things happen: Lazada calls through an httpx transport (`MeteredTransport`), pacing
waits through the rate limiter (`MeteredRateLimiter`), Slack errors through the Web API client
(`MeteredWebClient`), scheduler ticks through `bot.scheduler`. Gauges of the stored state (requests by
status, the oldest execution, token expiry, the last digest) are read from the database at each scrape
(`Metrics.exposition`), so every replica reports the same truth. Names start with `cancel_order_bot_`,
except the two HTTP series of `serve`, which keep their first names.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp
import httpx
import sqlalchemy as sa
import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.digest.claims import CLAIM_KIND as DIGEST_CLAIM_KIND  # its key is `store/date`
from bot.lazada.limiter import RateLimiter
from bot.store.db import Database
from bot.store.models import ClaimStatus, RequestStatus
from bot.store.tables import cancel_requests, lazada_tokens, scheduler_claims

__all__ = [
    "CONTENT_TYPE",
    "MeteredRateLimiter",
    "MeteredTransport",
    "MeteredWebClient",
    "Metrics",
    "lazada_api_name",
]

CONTENT_TYPE = CONTENT_TYPE_LATEST
"""The content type of `Metrics.exposition`'s output."""
PREFIX = "cancel_order_bot_"

SAMPLE_TIMEOUT = 2.0
"""The longest a scrape waits for the database; past it, the gauges keep their last values."""

_LABEL_MAX = 48
_OK_ENVELOPE = re.compile(rb'"code"\s*:\s*"0"')

log = structlog.get_logger(__name__)


def _label(value: str) -> str:
    return value[:_LABEL_MAX] or "unknown"


def lazada_api_name(path: str) -> str:
    """The API a Lazada URL path names, as Lazada counts it: ``/rest/order/items/get`` → ``/order/items/get``."""
    _, sep, tail = path.partition("/rest/")
    return _label("/" + tail if sep else path)


def _lazada_outcome(status: int, body: bytes) -> str:
    """``ok`` for a successful envelope, else Lazada's error code, else the HTTP status."""
    if _OK_ENVELOPE.search(body):
        return "ok"
    try:
        code = json.loads(body).get("code")
    except (ValueError, AttributeError, RecursionError):
        code = None
    return _label(str(code)) if code not in (None, "") else f"http_{status}"


class Metrics:
    """Every series of the bot in one registry, and the database read that refreshes the gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        self.http_requests = Counter(
            "slack_http_requests", "Requests received on /slack/events", ["status"], registry=registry
        )
        self.http_latency = Histogram(
            "slack_http_response_seconds",
            "Time to answer a Slack request (the ack)",
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0),
        )
        self.lazada_calls = Counter(
            f"{PREFIX}lazada_calls", "Lazada API calls by API and outcome", ["api", "outcome"], registry=registry
        )
        self.rate_limit_waits = Counter(
            f"{PREFIX}lazada_rate_limit_waits", "Lazada calls that waited for the app-wide pace", registry=registry
        )
        self.rate_limit_wait_seconds = Counter(
            f"{PREFIX}lazada_rate_limit_wait_seconds", "Time Lazada calls spent waiting for the pace", registry=registry
        )
        self.slack_errors = Counter(
            f"{PREFIX}slack_api_errors",
            "Slack Web API calls that failed, by method and error",
            ["method", "error"],
            registry=registry,
        )
        self.tick_failures = Counter(
            f"{PREFIX}scheduler_tick_failures", "Scheduler ticks that raised, by job", ["job"], registry=registry
        )
        self.requests = Gauge(
            f"{PREFIX}requests", "Cancel requests in the database by status", ["status"], registry=registry
        )
        self.oldest_executing = Gauge(
            f"{PREFIX}oldest_executing_request_age_seconds",
            "Age of the oldest request still executing (0 when none is)",
            registry=registry,
        )
        self.token_expiry = Gauge(
            f"{PREFIX}lazada_token_expires_in_seconds",
            "Seconds until each store's Lazada access token expires (negative once expired)",
            ["store"],
            registry=registry,
        )
        self.last_digest = Gauge(
            f"{PREFIX}digest_last_posted_timestamp_seconds",
            "When each store's daily digest was last posted (Unix time)",
            ["store"],
            registry=registry,
        )
        self.sample_failures = Counter(
            f"{PREFIX}metrics_sample_failures", "Scrapes whose database read failed", registry=registry
        )
        self._db: Database | None = None
        self._clock: Callable[[], datetime] | None = None
        self._sampling = asyncio.Lock()

    def watch(self, db: Database, clock: Callable[[], datetime]) -> None:
        """Read the stored-state gauges from `db` at each scrape, with `clock` as now."""
        self._db = db
        self._clock = clock

    async def exposition(self) -> bytes:
        """Refresh the stored-state gauges, then render every series in Prometheus' text format."""
        await self.sample()
        return generate_latest(self.registry)

    async def sample(self) -> None:
        """Read the stored-state gauges from the database; on failure keep the last values and count it."""
        if self._db is None or self._clock is None:
            return
        async with self._sampling:
            try:
                async with asyncio.timeout(SAMPLE_TIMEOUT):
                    await self._sample(self._db, self._clock())
            except Exception as exc:  # a scrape must answer even when the database does not
                self.sample_failures.inc()
                log.warning("metrics_sample_failed", error=type(exc).__name__)

    async def _sample(self, db: Database, now: datetime) -> None:
        r, t, c = cancel_requests.c, lazada_tokens.c, scheduler_claims.c
        async with db.read() as conn:
            by_status = sa.select(r.status, sa.func.count()).group_by(r.status)
            counts: dict[str, int] = {row[0]: row[1] for row in (await conn.execute(by_status)).all()}
            executing = (
                await conn.execute(
                    sa.select(r.decided_at, r.updated_at).where(r.status == RequestStatus.EXECUTING.value)
                )
            ).all()
            tokens = (await conn.execute(sa.select(t.store_code, t.access_expires_at))).all()
            digests = (
                await conn.execute(
                    sa.select(c.key, c.claimed_at).where(
                        c.kind == DIGEST_CLAIM_KIND, c.status == ClaimStatus.DONE.value
                    )
                )
            ).all()
        for status in RequestStatus:
            self.requests.labels(status=status.value).set(counts.get(status.value, 0))
        started = [decided or updated for decided, updated in executing]
        self.oldest_executing.set(max(((now - s).total_seconds() for s in started), default=0.0))
        self.token_expiry.clear()
        for store, expires in tokens:
            if expires is not None:
                self.token_expiry.labels(store=store).set((expires - now).total_seconds())
        latest: dict[str, datetime] = {}
        for key, claimed_at in digests:
            store = str(key).partition("/")[0]
            if store not in latest or claimed_at > latest[store]:
                latest[store] = claimed_at
        self.last_digest.clear()
        for store, when in latest.items():
            self.last_digest.labels(store=store).set(when.timestamp())

    def lazada_transport(self, inner: httpx.AsyncBaseTransport) -> MeteredTransport:
        """`inner` counted per Lazada API and outcome."""
        return MeteredTransport(inner, self.lazada_calls)

    def rate_limiter(
        self, calls_per_second: float, *, max_in_flight: int | None = None, **options: Any
    ) -> MeteredRateLimiter:
        """The app-wide Lazada pace (`options` as `RateLimiter` takes them), counting the calls that had to wait."""
        return MeteredRateLimiter(
            calls_per_second,
            max_in_flight=max_in_flight,
            waits=self.rate_limit_waits,
            seconds=self.rate_limit_wait_seconds,
            **options,
        )

    def slack_client(self, **options: Any) -> MeteredWebClient:
        """An AsyncWebClient (built with `options`) that counts failed calls by method and error."""
        return MeteredWebClient(errors=self.slack_errors, **options)


class MeteredTransport(httpx.AsyncBaseTransport):
    """An httpx transport that counts each Lazada call by API and outcome (``ok``, Lazada's code, or a failure)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, calls: Counter) -> None:
        self._inner = inner
        self._calls = calls

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` through the inner transport, read the answer's envelope code, and count it."""
        api = lazada_api_name(request.url.path)
        try:
            response = await self._inner.handle_async_request(request)
            try:
                raw = b"".join([chunk async for chunk in response.stream])  # type: ignore[union-attr]
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            self._calls.labels(api=api, outcome=_label(type(exc).__name__)).inc()
            raise
        probe = httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(raw))
        try:
            body = probe.read()  # decoded as the client will decode it (gzip and the like)
        except httpx.DecodingError:
            body = b""
        self._calls.labels(api=api, outcome=_lazada_outcome(response.status_code, body)).inc()
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions=response.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self._inner.aclose()


class MeteredRateLimiter(RateLimiter):
    """The Lazada pace, counting each call that had to wait for it and how long it waited."""

    def __init__(
        self,
        calls_per_second: float,
        *,
        max_in_flight: int | None = None,
        waits: Counter,
        seconds: Counter,
        **options: Any,
    ) -> None:
        super().__init__(calls_per_second, max_in_flight=max_in_flight, **options)
        self._waits = waits
        self._seconds = seconds

    async def acquire(self, api: str = "") -> float:
        """Wait until one more call fits within the rate, counting the wait; the slot's time."""
        started = time.perf_counter()
        slot = await super().acquire(api)
        waited = time.perf_counter() - started
        if waited >= 0.001:
            self._waits.inc()
            self._seconds.inc(waited)
        return slot


class MeteredWebClient(AsyncWebClient):
    """Slack's AsyncWebClient, counting each failed call by method and error (`connection` when none came back)."""

    def __init__(self, *, errors: Counter, **options: Any) -> None:
        super().__init__(**options)
        self._errors = errors

    async def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        files: dict[str, Any] | None = None,
        data: dict[str, Any] | aiohttp.FormData | None = None,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> AsyncSlackResponse:
        """Call `api_method` as AsyncWebClient does; count the failure before it propagates."""
        try:
            return await super().api_call(
                api_method,
                http_verb=http_verb,
                files=files,
                data=data,
                params=params,
                json=json,
                headers=headers,
                auth=auth,
            )
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else None
            self._errors.labels(method=_label(api_method), error=_label(str(error or "unknown"))).inc()
            raise
        except (aiohttp.ClientError, TimeoutError):
            self._errors.labels(method=_label(api_method), error="connection").inc()
            raise
