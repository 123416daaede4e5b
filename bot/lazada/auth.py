"""Signing attached to httpx: Lazada's system parameters and ``sign`` added to every request it sends."""

from __future__ import annotations

from collections.abc import Callable, Generator

import httpx
from pydantic import SecretStr

from bot.lazada.signing import sign

__all__ = ["LazadaAuth"]


class LazadaAuth(httpx.Auth):
    """Adds Lazada's system parameters and ``sign`` to a request's query string, signing all it sends."""

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: SecretStr,
        api_path: str,
        access_token: SecretStr | None,
        clock: Callable[[], float],
    ) -> None:
        self._app_key = app_key
        self._app_secret = app_secret
        self._api_path = api_path
        self._access_token = access_token
        self._clock = clock

    def __repr__(self) -> str:
        return f"LazadaAuth(app_key={self._app_key!r}, api_path={self._api_path!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign the request: API parameters plus app_key, timestamp (ms), sign_method and access_token."""
        params: dict[str, str] = {}
        for name, value in request.url.params.multi_items():
            if name in params:
                raise ValueError(f"parameter {name!r} is given twice; Lazada signs one value per name")
            if value != "":
                params[name] = value
        params["app_key"] = self._app_key
        params["timestamp"] = str(round(self._clock() * 1000))
        params["sign_method"] = "sha256"
        if self._access_token is not None:
            params["access_token"] = self._access_token.get_secret_value()
        params.pop("sign", None)
        params["sign"] = sign(self._app_secret.get_secret_value(), self._api_path, params)
        request.url = request.url.copy_with(params=params)
        yield request
