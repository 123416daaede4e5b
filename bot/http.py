"""HTTP mode: Slack events on /slack/events (signature checked by Bolt), plus /healthz, /readyz and /metrics."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

__all__ = ["HttpMetrics", "create_http_app"]


class HttpMetrics:
    """Prometheus metrics of the HTTP surface, in a registry of their own (no module-level state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "slack_http_requests", "Requests received on /slack/events", ["status"], registry=self.registry
        )
        self.latency = Histogram(
            "slack_http_response_seconds",
            "Time to answer a Slack request (the ack)",
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0),
        )


def create_http_app(
    app: AsyncApp,
    *,
    ping: Callable[[], Awaitable[None]],
    on_startup: Callable[[], Awaitable[None]] | None = None,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
    metrics: HttpMetrics | None = None,
) -> Starlette:
    """The ASGI application for `serve`: Bolt behind Starlette, with health, readiness and metrics."""
    handler = AsyncSlackRequestHandler(app)
    metrics = metrics or HttpMetrics()

    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        response = await handler.handle(request)
        metrics.latency.observe(time.perf_counter() - started)
        metrics.requests.labels(status=str(response.status_code)).inc()
        return response

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_: Request) -> Response:
        try:
            await asyncio.wait_for(ping(), timeout=2.0)
        except Exception as exc:  # any failure means "not ready"; the reason is for the operator
            return PlainTextResponse(f"database unavailable: {type(exc).__name__}", status_code=503)
        return PlainTextResponse("ready")

    async def metrics_endpoint(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if on_startup is not None:
            await on_startup()
        try:
            yield
        finally:
            if on_shutdown is not None:
                await on_shutdown()

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
