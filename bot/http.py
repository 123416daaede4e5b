"""HTTP mode: Slack events on /slack/events, plus /healthz, /readyz and /metrics; bounded against hostile clients.

Every request passes `BoundedBody` first: a body over the limit is refused with 413 while it streams (a
declared Content-Length over the limit before a byte of it is read), and one that does not arrive within the
body deadline gets 408; both close the connection. Headers have their own deadline (`server_config`). The
Slack signature is checked on the raw bytes before anything parses them, so Bolt only ever sees signed bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import h11
import structlog
import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler, to_starlette_response
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.metrics import CONTENT_TYPE, Metrics

if TYPE_CHECKING:
    from bot.settings import Settings

__all__ = [
    "AckGate",
    "BoundedBody",
    "HttpLimits",
    "create_health_app",
    "create_http_app",
    "serve_side_port",
    "server_config",
]

log = structlog.get_logger(__name__)

ACK_FIRST_MAX_WAIT = 0.5
"""The longest a listener's work after its ack yields to other acks (a trigger id lasts 3 s from the click)."""

ACK_FIRST_QUIET = 0.01
"""How long no request may have arrived before work after an ack goes on: a burst still arriving is answered first."""


class AckGate:
    """Counts the requests on /slack/events not answered yet, so work after an ack can let them answer first.

    Under a burst, a listener's work after ``ack()`` (opening a modal, asking Lazada, rendering) would
    otherwise run between the acks of the requests behind it, and push them towards Slack's 3 seconds.
    """

    def __init__(self, max_wait: float = ACK_FIRST_MAX_WAIT, quiet: float = ACK_FIRST_QUIET) -> None:
        self.max_wait = max_wait
        self.quiet = quiet
        self.unanswered = 0
        self._last_arrival = 0.0
        self._idle = asyncio.Event()
        self._idle.set()

    def arrived(self) -> _Ticket:
        """A request came in; settle its ticket once it is answered."""
        self.unanswered += 1
        self._last_arrival = time.monotonic()
        self._idle.clear()
        return _Ticket(self)

    def _answered(self) -> None:
        self.unanswered -= 1
        if self.unanswered == 0:
            self._idle.set()

    async def wait(self, own: _Ticket | None = None) -> None:
        """Wait until all but ``own`` are answered and none came for ``quiet`` s; ``max_wait`` at most."""
        others = self.unanswered - (1 if own is not None and own.open else 0)
        if others <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.max_wait):
                while True:
                    await self._idle.wait()
                    # Answers now leave at ack() time, so the count can reach zero between two requests of a
                    # burst still arriving: go on only once the burst has stopped arriving too.
                    quiet_for = time.monotonic() - self._last_arrival
                    if quiet_for >= self.quiet:
                        return
                    await asyncio.sleep(self.quiet - quiet_for)


class _Ticket:
    """One request's place in the gate's count, and the answer its listener's ``ack()`` gives, once given."""

    def __init__(self, gate: AckGate) -> None:
        self.gate = gate
        self.open = True
        self.acked: asyncio.Future[BoltResponse] = asyncio.get_running_loop().create_future()

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
        """Answer at once, then yield until the other requests have been answered."""
        response = await super().__call__(*args, **kwargs)
        if not self._ticket.acked.done():
            # /slack/events sends this at once; Bolt itself would notice it only on its next 10 ms poll.
            self._ticket.acked.set_result(response)
        await self._ticket.gate.wait(own=self._ticket)
        return response


@dataclass(frozen=True)
class HttpLimits:
    """How much a client may send and how long it may take (see the HTTP_* settings)."""

    max_body_bytes: int = 1024 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    keep_alive: int = 75
    max_connections: int = 1000

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpLimits:
        """The limits the settings give."""
        return cls(
            max_body_bytes=settings.http_max_body_bytes,
            header_timeout=settings.http_header_timeout_seconds,
            body_timeout=settings.http_body_timeout_seconds,
            keep_alive=settings.http_keep_alive_seconds,
            max_connections=settings.http_max_connections,
        )


class _Refused(Exception):
    """The request's body will not be read: answer `status` (or nothing, when the client has gone)."""

    def __init__(self, status: int | None, reason: str, received: int) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.received = received


class BoundedBody:
    """ASGI middleware: read each request's body up to `max_bytes` within `timeout` seconds, then replay it.

    Nothing past the limit is ever held: a declared Content-Length over it is refused before the body is
    read, and a streamed body is refused at the chunk that crosses it. A client that disconnects mid-body
    gets no answer and leaves no error behind.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Bound the body of an HTTP request; pass anything else through."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(scope, receive)
        except _Refused as refused:
            log.info("http_request_refused", reason=refused.reason, path=scope.get("path"), received=refused.received)
            if refused.status is not None:
                await _answer_and_close(send, refused.status, refused.reason)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            raise _Refused(413, "body too large", 0)
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _Refused(None, "client disconnected", size)
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise _Refused(413, "body too large", size)
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            raise _Refused(408, "body too slow", size) from None


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # h11 refuses a malformed length before the app runs
    return None


async def _answer_and_close(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


class _SlackSignature:
    """Slack's request signature, checked on the raw bytes before anything parses them."""

    def __init__(self, signing_secret: str) -> None:
        self._verifier = SignatureVerifier(signing_secret)

    def valid(self, request: Request, body: bytes) -> bool:
        """Whether `body` is signed with the app's secret within Slack's five minutes."""
        timestamp = request.headers.get("x-slack-request-timestamp", "")
        signature = request.headers.get("x-slack-signature")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) or not signature:
            return False
        return self._verifier.is_valid(body, timestamp, signature)


def _is_ssl_check(request: Request, body: bytes) -> bool:
    """Slack's unsigned SSL check (``ssl_check=1``): a small form Bolt answers with an empty 200."""
    if len(body) > 4096 or not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return False
    return parse_qs(body.decode("latin-1")).get("ssl_check") == ["1"]


def create_http_app(
    app: AsyncApp,
    *,
    ping: Callable[[], Awaitable[None]],
    on_startup: Callable[[], Awaitable[None]] | None = None,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
    metrics: Metrics | None = None,
    limits: HttpLimits | None = None,
    signing_secret: str | None = None,
) -> Starlette:
    """The ASGI application for `serve`: Bolt behind Starlette, with health, readiness and metrics.

    Bodies are bounded by `limits` (`BoundedBody`) and checked against `signing_secret` (by default the
    secret the Bolt app was built with) before Bolt parses them. Acks go first: a command's or interaction's
    answer leaves as soon as its listener calls ``ack()``, and its work after the ack waits while other requests
    on /slack/events still wait for their answer (see `AckGate`).
    """
    handler = AsyncSlackRequestHandler(app)
    metrics = metrics or Metrics()
    limits = limits or HttpLimits()
    # Bolt keeps the secret it verifies with; reading it spares every caller passing the same secret twice.
    signature = _SlackSignature(signing_secret if signing_secret is not None else app._signing_secret)
    gate = AckGate()
    ticket_of_request: ContextVar[_Ticket | None] = ContextVar("slack_request_ticket", default=None)
    dispatching: set[asyncio.Task[Response]] = set()

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
            response = await _first_answer(request, ticket)
        finally:
            ticket_of_request.reset(token)
            ticket.settle()
        metrics.http_latency.observe(time.perf_counter() - started)
        metrics.http_requests.labels(status=str(response.status_code)).inc()
        return response

    async def _first_answer(request: Request, ticket: _Ticket) -> Response:
        """The listener's ack as soon as it is given, or whatever Bolt answers (events, refusals, errors)."""
        dispatch = asyncio.ensure_future(_answer(request))  # carries the ticket: the context is copied
        await asyncio.wait((dispatch, ticket.acked), return_when=asyncio.FIRST_COMPLETED)
        if dispatch.done() or not ticket.acked.done():
            ticket.acked.cancel()
            return await dispatch
        # Bolt's dispatch ends on its own once its poll sees the ack; keep it referenced until then.
        dispatching.add(dispatch)
        dispatch.add_done_callback(_dispatch_done)
        return to_starlette_response(ticket.acked.result())

    def _dispatch_done(dispatch: asyncio.Task[Response]) -> None:
        dispatching.discard(dispatch)
        if not dispatch.cancelled() and dispatch.exception() is not None:
            log.error("slack_dispatch_failed", exc_info=dispatch.exception())

    async def _answer(request: Request) -> Response:
        body = await request.body()  # already read, within the limits, by BoundedBody
        if not signature.valid(request, body):
            if _is_ssl_check(request, body):
                return Response(status_code=200)
            log.info("slack_request_refused", reason="signature", length=len(body))
            return PlainTextResponse("invalid request", status_code=401)
        try:
            return await handler.handle(request)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
            # Signed but unreadable (not UTF-8, not a form or a JSON object, nested past the parser's depth):
            # Bolt's parser and its error path index into the payload; answer 400, not 500.
            log.warning("unreadable_slack_request", error=type(exc).__name__, length=len(body))
            return PlainTextResponse("invalid request", status_code=400)

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
        routes=[Route("/slack/events", slack_events, methods=["POST"]), *_health_routes(ping, metrics)],
        middleware=[Middleware(BoundedBody, max_bytes=limits.max_body_bytes, timeout=limits.body_timeout)],
        lifespan=lifespan,
    )


def _health_routes(ping: Callable[[], Awaitable[None]], metrics: Metrics) -> list[Route]:
    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_: Request) -> Response:
        try:
            await asyncio.wait_for(ping(), timeout=2.0)
        except Exception as exc:  # any failure means "not ready"; the reason is for the operator
            return PlainTextResponse(f"database unavailable: {type(exc).__name__}", status_code=503)
        return PlainTextResponse("ready")

    async def metrics_endpoint(_: Request) -> Response:
        return Response(await metrics.exposition(), media_type=CONTENT_TYPE)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]


def create_health_app(ping: Callable[[], Awaitable[None]], metrics: Metrics) -> Starlette:
    """/healthz, /readyz and /metrics alone: the side port that lets Socket Mode be watched."""
    limits = HttpLimits(max_body_bytes=1024)
    return Starlette(
        routes=_health_routes(ping, metrics),
        middleware=[Middleware(BoundedBody, max_bytes=limits.max_body_bytes, timeout=limits.body_timeout)],
    )


def _h11_with_header_deadline(seconds: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection whose request headers are not complete within `seconds`.

    uvicorn times out idle keep-alive connections, but not a client that opens a connection and sends its
    headers a byte at a time: without this, each such client holds a connection (and a file) for ever.
    """

    class HeaderDeadlineProtocol(H11Protocol):
        _header_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is h11.IDLE:
                self._arm()  # part of a request's head: it has `seconds` from its first byte
            else:
                self._disarm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._header_deadline is None and not self.transport.is_closing():
                self._header_deadline = self.loop.call_later(seconds, self._expire)

        def _disarm(self) -> None:
            if self._header_deadline is not None:
                self._header_deadline.cancel()
                self._header_deadline = None

        def _expire(self) -> None:
            self._header_deadline = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadlineProtocol


def server_config(asgi: ASGIApp, *, host: str, port: int, limits: HttpLimits) -> uvicorn.Config:
    """uvicorn's configuration for `asgi` with the limits: header deadline, keep-alive, connection cap."""
    return uvicorn.Config(
        asgi,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        http=_h11_with_header_deadline(limits.header_timeout),
        # Above a load balancer's idle timeout (60 s on AWS and GCP), so the balancer, not the bot, closes an
        # idle connection first: the other way round, a request sent as the bot closes fails as a 502.
        timeout_keep_alive=limits.keep_alive,
        limit_concurrency=limits.max_connections,
    )


class _SignalFreeServer(uvicorn.Server):
    """A uvicorn server that leaves SIGINT and SIGTERM to the bot, which stops it with the rest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Install no signal handler."""
        yield


@asynccontextmanager
async def serve_side_port(asgi: ASGIApp, *, host: str, port: int) -> AsyncIterator[uvicorn.Server]:
    """Serve `asgi` on `host:port` in the background while the block runs (the Socket Mode health port)."""
    server = _SignalFreeServer(server_config(asgi, host=host, port=port, limits=HttpLimits(max_connections=100)))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                await task  # raises what stopped it (a port in use: SystemExit from uvicorn)
                raise OSError(f"the health port {host}:{port} could not be opened")
            await asyncio.sleep(0.01)
        yield server
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
