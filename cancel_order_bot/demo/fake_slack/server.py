"""FakeSlack: an aiohttp Web API server on a free loopback port, with a call log, faults and state getters.

It also plays Socket Mode's side: `apps.connections.open` (with an app-level token) hands out a WebSocket
address that greets the client with `hello` and keeps the connection until either side closes it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

from aiohttp import web

from cancel_order_bot.demo.fake_slack.api import APP_TOKEN_METHOD, JSON_PARAMS, METHODS, Params
from cancel_order_bot.demo.fake_slack.state import SlackError, SlackState, UploadedFile
from cancel_order_bot.demo.fake_slack.workspace import FakeWorkspace

__all__ = ["CONNECTIONS_OPEN", "FILE_UPLOAD", "RESPONSE_URL", "Call", "FakeSlack"]

logger = logging.getLogger(__name__)

Json = dict[str, Any]

#: Pseudo-method under which POSTs to a ``response_url`` are logged (and can be faulted).
RESPONSE_URL = "response_url"
#: Pseudo-method under which the byte upload of the files v2 flow is logged (and can be faulted).
FILE_UPLOAD = "file_upload"
#: The Web API method that opens a Socket Mode connection; it takes an app-level token, not a bot token.
CONNECTIONS_OPEN = "apps.connections.open"

_MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Call:
    """One request the fake answered: method, parsed params (no token), fake-clock time, status and reply."""

    method: str
    params: dict[str, Any]
    at: float
    status: int
    response: dict[str, Any] | str
    url: str

    @property
    def body(self) -> dict[str, Any]:
        """Return the JSON reply (``TypeError`` for the plain-text replies of uploads and response URLs)."""
        if not isinstance(self.response, dict):
            raise TypeError(f"{self.method} answered with text, not JSON: {self.response!r}")
        return self.response

    @property
    def ok(self) -> bool:
        """Return whether Slack would call this a success."""
        if isinstance(self.response, dict):
            return self.status == 200 and bool(self.response.get("ok"))
        return self.status == 200

    @property
    def error(self) -> str | None:
        """Return the Slack error code of a failed call, if any."""
        if isinstance(self.response, dict):
            error = self.response.get("error")
            return str(error) if error is not None else None
        return None if self.status == 200 else self.response


@dataclass
class _Fault:
    kind: Literal["error", "ratelimit"]
    error: str
    retry_after: int
    remaining: int


@dataclass
class _Faults:
    pending: dict[str, list[_Fault]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)

    def take(self, method: str) -> _Fault | None:
        queue = self.pending.get(method, [])
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return fault


class FakeSlack:
    """A stand-in for slack.com's Web API with realistic state; use ``async with FakeSlack() as slack``.

    Point ``AsyncWebClient(token="xoxb-fake", base_url=slack.api_url)`` at it. Every request is logged in
    :attr:`calls` (the ``Authorization`` header and ``token`` parameter never are); the state getters return
    copies of what Slack would now show.
    """

    def __init__(self, workspace: FakeWorkspace | None = None, *, clock: Callable[[], float] = time.time) -> None:
        """Serve ``workspace`` (default: :meth:`FakeWorkspace.default`), timing ts/triggers with ``clock``."""
        self.workspace = workspace if workspace is not None else FakeWorkspace.default()
        self._clock = clock
        self._state = SlackState(self.workspace, clock)
        self._calls: list[Call] = []
        self._changed = asyncio.Condition()
        self._faults = _Faults()
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._sockets: set[web.WebSocketResponse] = set()
        self._socket_tickets = 0

    def __repr__(self) -> str:
        """Show where it listens, never the tokens."""
        return f"FakeSlack(base_url={self._base_url!r}, team_id={self.workspace.team_id!r})"

    # ----- lifecycle ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        if self._runner is not None:
            raise RuntimeError("FakeSlack is already started")
        app = web.Application(client_max_size=_MAX_BODY_BYTES)
        app.router.add_route("*", "/api/{method}", self._on_api)
        app.router.add_post("/upload/v1/{file_id}", self._on_upload)
        app.router.add_post("/response/{url_id}", self._on_response_url)
        app.router.add_get("/socket-mode/link", self._on_socket)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))
            site = web.SockSite(runner, sock)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        port = sock.getsockname()[1]
        self._runner = runner
        self._base_url = f"http://127.0.0.1:{port}"
        self._state.base_url = self._base_url

    async def stop(self) -> None:
        """Stop listening (idempotent)."""
        runner, self._runner = self._runner, None
        for ws in list(self._sockets):
            await ws.close()
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the server."""
        await self.stop()

    @property
    def base_url(self) -> str:
        """Return ``http://127.0.0.1:PORT`` (only once started)."""
        if self._base_url is None:
            raise RuntimeError("FakeSlack is not started")
        return self._base_url

    @property
    def api_url(self) -> str:
        """Return the Web API base URL to pass as ``AsyncWebClient(base_url=...)``."""
        return f"{self.base_url}/api/"

    @property
    def bot_token(self) -> str:
        """Return the first accepted bot token."""
        return self.workspace.bot_tokens[0]

    @property
    def app_token(self) -> str:
        """Return the first accepted app-level token (Socket Mode)."""
        return self.workspace.app_tokens[0]

    @property
    def socket_connections(self) -> int:
        """Return how many Socket Mode connections are open now."""
        return len(self._sockets)

    def now(self) -> float:
        """Return the fake's clock time."""
        return self._clock()

    # ----- things an interaction hands the app --------------------------------------------------------------

    def new_trigger_id(self, user_id: str | None = None) -> str:
        """Issue a trigger id, usable once by views.open/views.push within 3 s of the fake's clock."""
        return self._state.new_trigger_id(user_id)

    def new_response_url(
        self, *, channel: str | None = None, user: str | None = None, message_ts: str | None = None
    ) -> str:
        """Issue a ``response_url`` for an interaction by ``user`` in ``channel`` on message ``message_ts``.

        POSTs to it are applied like Slack does (``replace_original``/``delete_original`` act on
        ``message_ts``; ``response_type: in_channel`` posts; otherwise an ephemeral to ``user``), 5 times at most.
        """
        return self._state.new_response_url(channel=channel, user=user, message_ts=message_ts)

    # ----- call log -----------------------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Return every request answered so far, in order."""
        return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """Return the requests to ``method``, in order."""
        return [c for c in self._calls if c.method == method]

    def last(self, method: str) -> Call:
        """Return the latest request to ``method`` (``LookupError`` if none)."""
        for call in reversed(self._calls):
            if call.method == method:
                return call
        seen = sorted({c.method for c in self._calls})
        raise LookupError(f"no {method} call; methods called: {seen}")

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a default deadline keeps a forgotten wait from hanging the suite
        *,
        since: int = 0,
    ) -> Call:
        """Return the first request to ``method`` (from index ``since``) matching ``predicate``, waiting for it."""

        def find() -> Call | None:
            for call in self._calls[since:]:
                if call.method == method and (predicate is None or predicate(call)):
                    return call
            return None

        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    await self._changed.wait_for(lambda: find() is not None)
            except TimeoutError:
                seen = [(c.method, c.error) for c in self._calls[since:] if c.method == method]
                raise TimeoutError(f"no matching {method} call within {timeout}s; seen: {seen}") from None
        found = find()
        assert found is not None
        return found

    # ----- faults -------------------------------------------------------------------------------------------

    def fail(self, method: str, error: str = "fatal_error", times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with ``{"ok": false, "error": error}``."""
        self._faults.pending.setdefault(method, []).append(
            _Fault(kind="error", error=error, retry_after=0, remaining=times)
        )

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with HTTP 429, ``Retry-After`` and ``ratelimited``."""
        self._faults.pending.setdefault(method, []).append(
            _Fault(kind="ratelimit", error="ratelimited", retry_after=retry_after, remaining=times)
        )

    def delay(self, method: str, seconds: float) -> None:
        """Hold every answer to ``method`` for ``seconds`` (0 removes the delay)."""
        if seconds > 0:
            self._faults.delays[method] = seconds
        else:
            self._faults.delays.pop(method, None)

    def clear_faults(self) -> None:
        """Drop every pending failure, rate limit and delay."""
        self._faults = _Faults()

    def delete_message(self, channel: str, ts: str) -> None:
        """Delete a message as a person would (later chat.update gets ``message_not_found``)."""
        self._state.remove_message(channel, ts)

    def remove_bot_from(self, channel: str) -> None:
        """Take the bot out of ``channel``."""
        self._state.set_bot_membership(channel, False)

    def add_bot_to(self, channel: str) -> None:
        """Put the bot into ``channel``."""
        self._state.set_bot_membership(channel, True)

    def add_user_message(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> str:
        """Store a message written by ``user`` (not the bot), e.g. to test ``cant_update_message``; return its ts."""
        return self._state.add_user_message(channel, user, text, thread_ts)

    # ----- state getters ------------------------------------------------------------------------------------

    def messages(self, channel: str) -> list[Json]:
        """Return the channel's top-level messages, oldest first."""
        return self._state.messages(channel)

    def message(self, channel: str, ts: str) -> Json | None:
        """Return one message or thread reply, or None if it does not exist (any more)."""
        return self._state.message(channel, ts)

    def thread(self, channel: str, ts: str) -> list[Json]:
        """Return the replies under parent ``ts``, oldest first."""
        return self._state.thread(channel, ts)

    def ephemerals(self, user: str) -> list[Json]:
        """Return the ephemeral messages shown to ``user`` (``channel``, ``message_ts``, ``text``, ``blocks``)."""
        return self._state.ephemerals(user)

    def home_view(self, user: str) -> Json | None:
        """Return the Home tab view published for ``user``, or None."""
        return self._state.home_view(user)

    def view(self, view_id: str) -> Json | None:
        """Return a modal or Home view by id, as last opened/updated, or None."""
        return self._state.view(view_id)

    def im_channel(self, user: str) -> str | None:
        """Return the ``D…`` channel conversations.open gave for ``user``, if any."""
        return self._state.im_channel(user)

    @property
    def uploaded_files(self) -> list[UploadedFile]:
        """Return every file started through files.getUploadURLExternal, with the bytes received."""
        return self._state.uploaded_files()

    # ----- HTTP handlers ------------------------------------------------------------------------------------

    async def _record(self, call: Call) -> None:
        self._calls.append(call)
        async with self._changed:
            self._changed.notify_all()

    def _url(self, request: web.Request) -> str:
        return f"{self.base_url}{request.path}"

    async def _on_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        status, body, headers, params = await self._answer_api(method, request)
        logger.debug("fake slack %s -> %s %s", method, status, body.get("error", "ok"))
        await self._record(
            Call(method=method, params=params, at=self.now(), status=status, response=body, url=self._url(request))
        )
        return web.json_response(body, status=status, headers=headers)

    async def _answer_api(self, method: str, request: web.Request) -> tuple[int, Json, dict[str, str], Json]:
        headers = {"x-oauth-scopes": ",".join(self.workspace.scopes)}
        try:
            params = await _read_params(request)
        except SlackError as exc:
            return 200, exc.body(), headers, {}
        token = _bearer_token(request) or params.pop("token", None)
        params.pop("token", None)
        if seconds := self._faults.delays.get(method):
            await asyncio.sleep(seconds)
        if method == CONNECTIONS_OPEN:
            return 200, self._connections_open(token), headers, params
        handler = METHODS.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}, headers, params
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, headers, params
        if (method == APP_TOKEN_METHOD) != str(token).startswith("xapp-"):
            return 200, {"ok": False, "error": "not_allowed_token_type"}, headers, params
        if not self._state.token_is_valid(str(token)):
            return 200, {"ok": False, "error": "invalid_auth"}, headers, params
        fault = self._faults.take(method)
        if fault is not None and fault.kind == "ratelimit":
            headers["Retry-After"] = str(fault.retry_after)
            return 429, {"ok": False, "error": "ratelimited"}, headers, params
        if fault is not None:
            return 200, {"ok": False, "error": fault.error}, headers, params
        try:
            return 200, handler(self._state, Params(params)), headers, params
        except SlackError as exc:
            return 200, exc.body(), headers, params

    def _connections_open(self, token: str | None) -> Json:
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token in self.workspace.bot_tokens:
            return {"ok": False, "error": "not_allowed_token_type"}
        if token not in self.workspace.app_tokens:
            return {"ok": False, "error": "invalid_auth"}
        self._socket_tickets += 1
        ws_base = self.base_url.replace("http://", "ws://", 1)
        return {"ok": True, "url": f"{ws_base}/socket-mode/link?ticket=ticket-{self._socket_tickets}"}

    async def _on_socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=None)
        await ws.prepare(request)
        self._sockets.add(ws)
        try:
            await ws.send_json(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets),
                    "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": self.workspace.app_id},
                }
            )
            async for _ in ws:
                pass  # acknowledgements of envelopes; this fake sends none yet
        finally:
            self._sockets.discard(ws)
        return ws

    async def _on_upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        content = await _read_upload(request)
        params: Json = {"file_id": file_id, "length": len(content)}
        if seconds := self._faults.delays.get(FILE_UPLOAD):
            await asyncio.sleep(seconds)
        fault = self._faults.take(FILE_UPLOAD)
        if fault is not None:
            status = 429 if fault.kind == "ratelimit" else 500
            text = fault.error
            headers = {"Retry-After": str(fault.retry_after)} if fault.kind == "ratelimit" else {}
        elif self._state.receive_upload(file_id, content):
            status, text, headers = 200, f"OK - {len(content)}", {}
        else:
            status, text, headers = 404, "file_not_found", {}
        await self._record(
            Call(method=FILE_UPLOAD, params=params, at=self.now(), status=status, response=text, url=self._url(request))
        )
        return web.Response(status=status, text=text, content_type="text/plain", headers=headers)

    async def _on_response_url(self, request: web.Request) -> web.Response:
        url_id = request.match_info["url_id"]
        try:
            payload = await request.json()
        except ValueError:
            payload = None
        if seconds := self._faults.delays.get(RESPONSE_URL):
            await asyncio.sleep(seconds)
        fault = self._faults.take(RESPONSE_URL)
        if not isinstance(payload, dict):
            status, text = 400, "invalid_payload"
            payload = {}
        elif fault is not None:
            status, text = (429 if fault.kind == "ratelimit" else 500), fault.error
        else:
            status, text = self._state.respond(url_id, payload)
        response: Json | str = json.loads(text) if status == 200 else text
        await self._record(
            Call(
                method=RESPONSE_URL,
                params=payload,
                at=self.now(),
                status=status,
                response=response,
                url=self._url(request),
            )
        )
        if status == 200:
            return web.json_response(response)
        return web.Response(status=status, text=text, content_type="text/plain")


def _bearer_token(request: web.Request) -> str | None:
    value = request.headers.get("Authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def _read_params(request: web.Request) -> Json:
    """Merge query string and body (JSON, form or multipart) and decode JSON-string parameters."""
    params: Json = dict(request.query)
    if request.body_exists:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise SlackError("invalid_json") from None
            if not isinstance(body, dict):
                raise SlackError("invalid_json")
            params.update(body)
        elif request.content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    for key in JSON_PARAMS & params.keys():
        value = params[key]
        if isinstance(value, str) and value.strip()[:1] in {"[", "{"}:
            try:
                params[key] = json.loads(value)
            except ValueError:
                raise SlackError(
                    "invalid_arguments", response_metadata={"messages": [f"[ERROR] {key}: bad JSON"]}
                ) from None
    return params


async def _read_upload(request: web.Request) -> bytes:
    """Return the uploaded bytes: the raw body, or the first file part of a multipart form."""
    if request.content_type == "multipart/form-data":
        form = await request.post()
        for value in form.values():
            if isinstance(value, web.FileField):
                return value.file.read()
        return b""
    return await request.read()
