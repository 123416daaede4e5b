"""HTTP mode: Slack events on /slack/events (signature checked by Bolt), plus /healthz, /readyz and /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.response import BoltResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

__all__ = ["AckGate", "HttpMetrics", "create_http_app"]

log = structlog.get_logger(__name__)

ACK_FIRST_MAX_WAIT = 0.5
"""The longest a listener's work after its ack yields to other acks (a trigger id lasts 3 s from the click)."""


class AckGate:
    """Counts the requests on /slack/events not answered yet, so work after an ack can let them answer first.

    Under a burst, a listener's work after ``ack()`` (opening a modal, asking Lazada, rendering) would
    otherwise run between the acks of the requests behind it, and push them towards Slack's 3 seconds.
    """

    def __init__(self, max_wait: float = ACK_FIRST_MAX_WAIT) -> None:
        self.max_wait = max_wait
        self.unanswered = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def arrived(self) -> _Ticket:
        """A request came in; settle its ticket once it is answered."""
        self.unanswered += 1
        self._idle.clear()
        return _Ticket(self)

    def _answered(self) -> None:
        self.unanswered -= 1
        if self.unanswered == 0:
            self._idle.set()

    async def wait(self, own: _Ticket | None = None) -> None:
        """Wait until every request has its answer (``own`` aside, if still open), or ``max_wait`` at most."""
        others = self.unanswered - (1 if own is not None and own.open else 0)
        if others <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.max_wait):
                await self._idle.wait()


class _Ticket:
    """One request's place in the gate's count."""

    def __init__(self, gate: AckGate) -> None:
        self.gate = gate
        self.open = True

    def settle(self) -> None:
        """Count the request as answered (once)."""
        if self.open:
            self.open = False
            self.gate._answered()


class _AckFirst(AsyncAck):
    """An ack that sets the answer at once, then holds the listener until every request has its answer."""

    def __init__(self, ticket: _Ticket) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._ticket = ticket

    async def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        """Answer, then yield until the other requests have been answered."""
        response = await super().__call__(*args, **kwargs)
        # Tickets are settled when the answer leaves /slack/events, not at ack(): Bolt notices an ack on its
        # next 10 ms poll, and work resumed before that would hold the answers still in flight back.
        await self._ticket.gate.wait(own=self._ticket)
        return response


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
    """The ASGI application for `serve`: Bolt behind Starlette, with health, readiness and metrics.

    Acks go first: a command's or interaction's work after its ack waits while other requests on
    /slack/events still wait for their answer (see `AckGate`).
    """
    handler = AsyncSlackRequestHandler(app)
    metrics = metrics or HttpMetrics()
    gate = AckGate()
    ticket_of_request: ContextVar[_Ticket | None] = ContextVar("slack_request_ticket", default=None)

    async def ack_first(body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[None]]) -> None:
        ticket = ticket_of_request.get()
        # Bolt acks events itself before their listener starts: holding that ack would delay the answer.
        if ticket is not None and not (isinstance(body, dict) and body.get("type") == "event_callback"):
            context["ack"] = _AckFirst(ticket)
        await next()

    app.use(ack_first)

    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        ticket = gate.arrived()
        token = ticket_of_request.set(ticket)
        try:
            response = await handler.handle(request)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            # Bolt parses the body (UTF-8, form, JSON object) before it checks the signature, and its own error
            # path indexes into the payload: a body Slack never sends must get a 400 here, not a 500.
            log.warning("unreadable_slack_request", error=type(exc).__name__, length=len(await request.body()))
            response = PlainTextResponse("invalid request", status_code=400)
        finally:
            ticket_of_request.reset(token)
            ticket.settle()
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
        # Everything built so far (modules, the app, the services) lives as long as the process: freezing it
        # keeps the garbage collector's full passes from walking it again and again under load.
        gc.collect()
        gc.freeze()
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
