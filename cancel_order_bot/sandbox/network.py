"""A network model: each request costs a round trip, a new connection two more (TCP and TLS handshakes)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["HANDSHAKE_ROUND_TRIPS", "NetworkMiddleware", "NetworkModel", "Sleep"]

HANDSHAKE_ROUND_TRIPS = 2

Sleep = Callable[[float], Awaitable[None]]
Connection = tuple[str, int] | None


class NetworkModel:
    """Charges round trips per request; a connection is known by the ASGI ``scope["client"]``."""

    def __init__(self, rtt_ms: float = 0.0, *, sleep: Sleep = asyncio.sleep, max_connections: int = 65_536):
        if rtt_ms < 0:
            raise ValueError(f"rtt_ms must not be negative, got {rtt_ms}")
        self.rtt_ms = rtt_ms
        self._sleep = sleep
        self._max_connections = max_connections
        # Bounded so a long-running server does not remember every client port forever.
        self._seen: OrderedDict[Connection, None] = OrderedDict()
        self.requests = 0
        self.connections = 0
        self.round_trips = 0

    def charge(self, client: Connection) -> int:
        """Count one request from ``client`` and return how many round trips it costs."""
        self.requests += 1
        round_trips = 1
        if client in self._seen:
            self._seen.move_to_end(client)
        else:
            self.connections += 1
            round_trips += HANDSHAKE_ROUND_TRIPS
            self._seen[client] = None
            if len(self._seen) > self._max_connections:
                self._seen.popitem(last=False)
        self.round_trips += round_trips
        return round_trips

    async def delay(self, client: Connection) -> None:
        """Wait as long as the request's round trips take."""
        round_trips = self.charge(client)
        if self.rtt_ms > 0:
            await self._sleep(round_trips * self.rtt_ms / 1000)


class NetworkMiddleware:
    """ASGI middleware that makes every HTTP request pay the network model's delay before it is handled."""

    def __init__(self, app: ASGIApp, *, model: NetworkModel) -> None:
        self.app = app
        self.model = model

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Delay HTTP requests, then hand them on."""
        if scope["type"] == "http":
            client = scope.get("client")
            await self.model.delay(tuple(client) if client is not None else None)
        await self.app(scope, receive, send)
