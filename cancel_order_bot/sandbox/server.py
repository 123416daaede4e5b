"""Serving the sandbox over real HTTP with uvicorn, and describing it to the person who started it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from types import TracebackType

import uvicorn

from cancel_order_bot.sandbox.app import InjectedResetError, create_sandbox_app
from cancel_order_bot.sandbox.history import sample_order_ids
from cancel_order_bot.sandbox.world import SandboxWorld

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "SandboxServer", "describe_sandbox", "serve_sandbox"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class _InjectedResetFilter(logging.Filter):
    """Drops uvicorn's traceback for a connection the sandbox reset on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record except the one reporting an injected reset."""
        return not (record.exc_info is not None and isinstance(record.exc_info[1], InjectedResetError))


class SandboxServer:
    """The sandbox app on a uvicorn server in the caller's event loop; ``port=0`` picks a free port."""

    def __init__(
        self,
        world: SandboxWorld,
        *,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        rtt_ms: float = 0.0,
        log_level: str = "warning",
    ) -> None:
        self.world = world
        self.app = create_sandbox_app(world, rtt_ms=rtt_ms)
        config = uvicorn.Config(
            self.app,
            host=host,
            port=port,
            log_level=log_level,
            log_config=None,
            access_log=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None
        self._host = host
        self._log_filter = _InjectedResetFilter()

    @property
    def port(self) -> int:
        """The bound TCP port (known once started)."""
        if not self._server.started:
            raise RuntimeError("the sandbox server has not started")
        sockname = self._server.servers[0].sockets[0].getsockname()
        return int(sockname[1])

    @property
    def base_url(self) -> str:
        """The API base URL, e.g. ``http://127.0.0.1:8765/rest``."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}/rest"

    async def start(self) -> str:
        """Start serving in a background task; return the base URL once the port is bound."""
        if self._task is not None:
            raise RuntimeError("the sandbox server is already running")
        logging.getLogger("uvicorn.error").addFilter(self._log_filter)
        self._task = asyncio.create_task(self._server.serve(), name="lazada-sandbox")
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the sandbox server stopped before it started")
            await asyncio.sleep(0.01)
        return self.base_url

    async def wait(self) -> None:
        """Wait until the server stops (a signal, or ``stop``)."""
        if self._task is not None:
            # Shielded: cancelling the waiter must let ``stop`` shut the server down cleanly.
            await asyncio.shield(self._task)

    async def stop(self) -> None:
        """Stop serving and wait for the server to close."""
        if self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        logging.getLogger("uvicorn.error").removeFilter(self._log_filter)

    async def __aenter__(self) -> SandboxServer:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server."""
        await self.stop()


async def serve_sandbox(
    world: SandboxWorld,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    rtt_ms: float = 0.0,
    on_started: Callable[[str], None] | None = None,
) -> None:
    """Serve the sandbox until the task is cancelled or the process gets SIGINT/SIGTERM.

    ``on_started`` receives the base URL once the port is bound (useful with ``port=0``).
    """
    server = SandboxServer(world, host=host, port=port, rtt_ms=rtt_ms)
    base_url = await server.start()
    if on_started is not None:
        on_started(base_url)
    try:
        await server.wait()
    finally:
        await server.stop()


def describe_sandbox(world: SandboxWorld, *, base_url: str | None = None, per_status: int = 3) -> str:
    """Describe the sandbox for a person: credentials to configure the bot with, and orders to try.

    It prints the sandbox's app secret and tokens on purpose: they are fake and only open this sandbox.
    """
    url = base_url or f"http://{DEFAULT_HOST}:{DEFAULT_PORT}/rest"
    lines = [
        "Lazada sandbox (fake data; nothing here reaches Lazada)",
        f"  LAZADA_API_URL={url}",
        f"  LAZADA_COUNTRY={world.country}",
        f"  LAZADA_APP_KEY={world.app_key}",
        f"  LAZADA_APP_SECRET={world.app_secret.get_secret_value()}",
        f"  LAZADA_ACCESS_TOKEN={world.access_token}",
        f"  LAZADA_REFRESH_TOKEN={world.refresh_token}",
        f"  time zone {world.tz.key}, {world.order_count} orders",
    ]
    samples = sample_order_ids(world, per_status=per_status)
    if samples:
        lines.append("Orders to try:")
        width = max(len(kind) for kind in samples)
        for kind, order_ids in samples.items():
            lines.append(f"  {kind.ljust(width)}  {' '.join(str(order_id) for order_id in order_ids)}")
    return "\n".join(lines)
