"""An in-process httpx transport to the sandbox that raises network faults as a real client would see them."""

from __future__ import annotations

import asyncio

import httpx

from cancel_order_bot.sandbox.app import NETWORK_FAULT_HEADER, create_sandbox_app
from cancel_order_bot.sandbox.faults import FaultKind
from cancel_order_bot.sandbox.network import NetworkModel, Sleep
from cancel_order_bot.sandbox.world import SandboxWorld

__all__ = ["SANDBOX_BASE_URL", "SandboxTransport"]

SANDBOX_BASE_URL = "http://lazada.sandbox/rest"

_FIRST_CLIENT_PORT = 40_000


class SandboxTransport(httpx.AsyncBaseTransport):
    """Serves requests from the sandbox app in process, like a pooled client over keep-alive connections.

    Each request borrows an idle connection (a client address the network model has seen) or opens a new
    one, telling the request's ``trace`` extension as httpcore does (``connection.connect_tcp.started`` and
    ``.complete``); a timed-out or reset connection is dropped, as httpx drops it, so the next request
    handshakes again. ``timeout`` raises ``httpx.ReadTimeout`` at once (no real wait) and ``connection_reset``
    raises ``httpx.ReadError``; with ``apply_first`` the side effect has already happened.
    """

    def __init__(
        self,
        world: SandboxWorld,
        *,
        rtt_ms: float = 0.0,
        sleep: Sleep = asyncio.sleep,
        client_host: str = "127.0.0.1",
    ) -> None:
        self.world = world
        self.app = create_sandbox_app(world, rtt_ms=rtt_ms, sleep=sleep, in_process=True)
        self.network: NetworkModel = self.app.state.network
        self._client_host = client_host
        self._idle_ports: list[int] = []
        self._next_port = _FIRST_CLIENT_PORT

    async def _checkout(self, request: httpx.Request) -> int:
        if self._idle_ports:
            return self._idle_ports.pop()
        port = self._next_port
        self._next_port += 1
        trace = request.extensions.get("trace")
        if trace is not None:
            # The handshakes themselves are charged by the network model when the request arrives.
            info = {"host": request.url.host, "port": request.url.port, "local_address": self._client_host}
            await trace("connection.connect_tcp.started", info)
            await trace("connection.connect_tcp.complete", {**info, "return_value": None})
        return port

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` to the sandbox app and return its answer, or raise the injected network fault."""
        port = await self._checkout(request)
        keep_connection = False
        try:
            asgi = httpx.ASGITransport(self.app, client=(self._client_host, port))
            response = await asgi.handle_async_request(request)
            fault = response.headers.get(NETWORK_FAULT_HEADER)
            if fault == FaultKind.TIMEOUT:
                raise httpx.ReadTimeout("sandbox fault: read timed out", request=request)
            if fault == FaultKind.CONNECTION_RESET:
                raise httpx.ReadError("sandbox fault: [Errno 104] Connection reset by peer", request=request)
            keep_connection = True
            return response
        finally:
            if keep_connection:
                self._idle_ports.append(port)
