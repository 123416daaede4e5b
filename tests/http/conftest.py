"""A real uvicorn server on a free loopback port around `create_http_app`, and a raw-socket client for it."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import io
import json
import select
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.http import HttpLimits, create_http_app, server_config
from bot.logs import configure_logging
from cancel_order_bot.demo.fake_slack import FakeSlack

SECRET = "http-test-signing-secret"


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signed_headers(body: bytes, *, secret: str = SECRET, timestamp: str | None = None) -> dict[str, str]:
    """Slack's signature headers for `body`, as Slack computes them."""
    timestamp = timestamp or str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"x-slack-request-timestamp": timestamp, "x-slack-signature": f"v0={digest}"}


@dataclass
class Served:
    """The server under test: where it listens and which commands its one listener saw."""

    host: str
    port: int
    commands: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        """The server's URL."""
        return f"http://{self.host}:{self.port}"

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A raw TCP connection to the server."""
        return await asyncio.open_connection(self.host, self.port)


def _bolt_app(commands: list[str], slack: FakeSlack) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(token=slack.bot_token, base_url=slack.api_url),
        signing_secret=SECRET,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
    )

    async def on_command(ack: AsyncAck, command: dict[str, str]) -> None:
        commands.append(command["text"])
        await ack()

    app.command("/cancel-order")(on_command)
    return app


@asynccontextmanager
async def serving(limits: HttpLimits | None = None) -> AsyncIterator[Served]:
    """`create_http_app` around a one-listener Bolt app, served by uvicorn with `server_config` and `limits`."""

    async def ping() -> None:
        return None

    limits = limits or HttpLimits()
    served = Served(host="127.0.0.1", port=free_port())
    async with FakeSlack() as slack:
        asgi = create_http_app(_bolt_app(served.commands, slack), ping=ping, limits=limits)
        server = uvicorn.Server(server_config(asgi, host=served.host, port=served.port, limits=limits))
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        task = asyncio.create_task(server.serve())
        while not server.started:
            assert not task.done(), "the server did not start"
            await asyncio.sleep(0.01)
        try:
            yield served
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, timeout=10)


async def read_response(reader: asyncio.StreamReader, *, seconds: float = 5.0) -> tuple[int, bytes]:
    """The status and body of one HTTP/1.1 response with a Content-Length."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), seconds)
    lines = head.decode("latin-1").split("\r\n")
    length = next((int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")), 0)
    body = await asyncio.wait_for(reader.readexactly(length), seconds) if length else b""
    return int(lines[0].split()[1]), body


async def closed_by_server(reader: asyncio.StreamReader, *, within: float) -> bool:
    """Whether the server closes the connection within `within` seconds (whatever it sent before)."""
    try:
        async with asyncio.timeout(within):
            while await reader.read(65536):
                pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    """An HTTP/1.1 request head."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def stream_until_answered(port: int, head: bytes, chunk: bytes, *, give_up_after: int) -> tuple[bytes, int]:
    """Send `head`, then `chunk` framed as chunked encoding until the server answers; (the answer, bytes sent).

    Blocking sockets (run it in a thread): unlike asyncio's transport, a socket the peer reset can still
    hand over the answer that arrived before the reset.
    """
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head)
        while sent < give_up_after and not select.select([sock], [], [], 0)[0]:
            try:
                sock.sendall(framed)
            except OSError:
                break
            sent += len(chunk)
        sock.settimeout(5)
        answer = b""
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in answer and (data := sock.recv(65536)):
                answer += data
    return answer, sent


class JsonLogs:
    """The bot's log lines as JSON objects, written by the production logging setup into a buffer."""

    def __init__(self) -> None:
        self.output = io.StringIO()

    def events(self) -> list[dict[str, Any]]:
        """Every line written so far, decoded."""
        return [json.loads(line) for line in self.output.getvalue().splitlines() if line.strip()]

    @property
    def text(self) -> str:
        """Everything written so far."""
        return self.output.getvalue()


@pytest.fixture
def logs() -> JsonLogs:
    """Production logging at DEBUG, as JSON into a buffer; put back to the default afterwards."""
    captured = JsonLogs()
    configure_logging(level="DEBUG", fmt="json", stream=captured.output)
    return captured  # tests/conftest.py puts logging back
