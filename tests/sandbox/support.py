"""Helpers for tests that talk to the sandbox by hand: a manual clock and signed calls."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bot.lazada.signing import sign
from cancel_order_bot.sandbox.world import SandboxWorld

__all__ = ["ManualClock", "SandboxCaller", "signed_params"]


class ManualClock:
    """A clock that only moves when told to; pass it as ``SandboxWorld(now=clock)``."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start if start is not None else datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
        if self.current.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")

    def __call__(self) -> datetime:
        """Return the current time."""
        return self.current

    def advance(self, **delta: float) -> None:
        """Move the clock forward, e.g. ``advance(days=1)``."""
        self.current += timedelta(**delta)


def signed_params(
    path: str,
    params: Mapping[str, str],
    *,
    app_key: str,
    app_secret: str,
    timestamp: datetime,
    access_token: str | None = None,
) -> dict[str, str]:
    """Return ``params`` plus Lazada's system parameters and ``sign`` for a call of API ``path``."""
    signed = {
        **params,
        "app_key": app_key,
        "timestamp": str(int(timestamp.timestamp() * 1000)),
        "sign_method": "sha256",
    }
    if access_token is not None:
        signed["access_token"] = access_token
    signed["sign"] = sign(app_secret, path, signed)
    return signed


class SandboxCaller:
    """Signs and sends API calls to the sandbox with the world's own credentials; returns the JSON body."""

    def __init__(self, http: httpx.AsyncClient, world: SandboxWorld, *, base_url: str = "") -> None:
        self.http = http
        self.world = world
        self.base_url = base_url

    async def call(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        method: str = "GET",
        access_token: str | None = None,
        with_token: bool = True,
    ) -> Any:
        """Call API ``path``; the world's latest access token is sent unless ``with_token`` is False."""
        token = access_token if access_token is not None else self.world.access_token
        signed = signed_params(
            path,
            params or {},
            app_key=self.world.app_key,
            app_secret=self.world.app_secret.get_secret_value(),
            timestamp=self.world.now(),
            access_token=token if with_token else None,
        )
        url = f"{self.base_url}{path}"
        if method == "GET":
            response = await self.http.get(url, params=signed)
        else:
            response = await self.http.request(method, url, data=signed)
        return response.json()
