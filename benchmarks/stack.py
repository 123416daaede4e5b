"""What the benchmarks share: the run's context, the bot served in a child process, and a light burst client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.procs import SIGNING_SECRET, Child, bot_env, free_port, wait_ready
from bot.store import default_sqlite_url
from cancel_order_bot.demo.fake_slack import FakeWorkspace
from cancel_order_bot.demo.slack_payloads import SignedRequest, SlackRequests

__all__ = ["BenchContext", "ServedBot", "burst", "payloads", "served_bot"]


@dataclass(frozen=True)
class BenchContext:
    """One run of the suite: where children write, which databases to use, and how big to go."""

    workdir: Path
    postgres_url: str
    quick: bool = False

    def sqlite_url(self, name: str) -> str:
        """A fresh SQLite file for one benchmark."""
        path = self.workdir / f"{name}.sqlite3"
        path.unlink(missing_ok=True)
        return default_sqlite_url(path)

    def scale(self, full: int, quick: int) -> int:
        """``full`` normally, ``quick`` in a quick run."""
        return quick if self.quick else full


def payloads() -> SlackRequests:
    """Signed Slack requests for the fake workspace, with the secret the bots under test check."""
    return SlackRequests.for_workspace(SIGNING_SECRET, FakeWorkspace.default())


@dataclass
class ServedBot:
    """A bot served by `python -m cancel_order_bot serve` in a child process."""

    child: Child
    base_url: str
    ready_seconds: float

    @property
    def events_url(self) -> str:
        """Where Slack sends requests."""
        return f"{self.base_url}/slack/events"


@asynccontextmanager
async def served_bot(
    name: str,
    *,
    workdir: Path,
    slack_api_url: str,
    lazada_api_url: str,
    database_url: str,
    calls_per_second: float = 1000.0,
    extra_env: Mapping[str, str] | None = None,
    argv: Sequence[str] = ("-m", "cancel_order_bot", "serve"),
) -> AsyncIterator[ServedBot]:
    """Start the bot (or another ASGI server given by ``argv``) on a free port and wait until /readyz answers."""
    port = free_port()
    env = bot_env(
        slack_api_url=slack_api_url,
        lazada_api_url=lazada_api_url,
        database_url=database_url,
        calls_per_second=calls_per_second,
        extra=extra_env,
    )
    child = Child(name, [*argv, "--port", str(port)], log_dir=workdir, env=env)
    await child.start()
    try:
        base_url = f"http://127.0.0.1:{port}"
        ready = await wait_ready(f"{base_url}/readyz", child)
        yield ServedBot(child=child, base_url=base_url, ready_seconds=ready - child.started_at)
    finally:
        await child.stop()


def _raw_request(url: str, signed: SignedRequest) -> bytes:
    parts = urlsplit(url)
    body = signed.body.encode()
    head = [
        f"POST {parts.path} HTTP/1.1",
        f"Host: {parts.netloc}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in signed.headers.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def burst(url: str, requests: Sequence[SignedRequest]) -> list[tuple[float, int]]:
    """Send every request at once, each on its own connection; each one's (seconds to its response, status).

    The connections are opened first, so the time is the server's: from the request's first byte written
    to the response's last byte read. The client is plain asyncio streams, so its own cost stays small.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    connections = [await asyncio.open_connection(host, port) for _ in requests]
    raw = [_raw_request(url, signed) for signed in requests]

    async def one(index: int) -> tuple[float, int]:
        reader, writer = connections[index]
        started = time.perf_counter()
        writer.write(raw[index])
        status = await _read_response(reader)
        elapsed = time.perf_counter() - started
        writer.close()
        return elapsed, status

    try:
        return list(await asyncio.gather(*(one(i) for i in range(len(requests)))))
    finally:
        for _, writer in connections:
            writer.close()
