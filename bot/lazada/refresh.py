"""One store's tokens in memory: loaded from the token store, refreshed single-flight, adopted from other replicas.

Single-flight holds across replicas too: a refresh on demand is taken under a claim shared through the database
(`RefreshClaims`), and a replica that does not get it waits for the winner's token instead of refreshing again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

import structlog
from pydantic import SecretStr

from bot.lazada.errors import LazadaAuthError
from bot.lazada.models import TokenGrant
from bot.lazada.tokens import StoredTokens, TokenStore

__all__ = ["REFRESH_PATH", "REFRESH_WAIT", "SUCCESS_RECORD_INTERVAL", "RefreshClaims", "TokenRefresher"]

REFRESH_PATH = "/auth/token/refresh"
SUCCESS_RECORD_INTERVAL = 60.0
REFRESH_WAIT = 30.0
"""Seconds a replica waits for another replica's refresh before giving up."""
REFRESH_POLL = 0.1
"""Seconds between looks at the token store while another replica refreshes."""


class RefreshClaims(Protocol):
    """Who refreshes a store's token now, across replicas (a claim row in the database)."""

    async def claim(self, store_code: str) -> bool:
        """True when this replica may refresh the store's token now; False while another one does."""
        ...

    async def release(self, store_code: str) -> None:
        """Let the next refresh of the store be claimed."""
        ...


RefreshCall = Callable[[SecretStr], Awaitable[TokenGrant]]
"""Sends RefreshAccessToken with a refresh token and returns Lazada's grant."""


class TokenRefresher:
    """Keeps one store's tokens: callers holding the same rejected token share one refresh.

    The token store is read before each refresh, so a token another replica (or another client of the
    store) has already refreshed is adopted instead of being refreshed twice; a refresh Lazada refused is
    not tried again for the same token.
    """

    def __init__(
        self,
        *,
        store_code: str,
        token_store: TokenStore,
        clock: Callable[[], float],
        send_refresh: RefreshCall,
        claims: RefreshClaims | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store_code = store_code
        self._claims = claims
        self._sleep = sleep
        self._token_store = token_store
        self._clock = clock
        self._send_refresh = send_refresh
        self._tokens: StoredTokens | None = None
        self._lock = asyncio.Lock()
        self._refused: tuple[str, LazadaAuthError] | None = None
        self._last_success_recorded: float | None = None
        # Unbound on purpose: a lazy proxy picks up the structlog configuration in force at each call.
        self._log = structlog.get_logger(__name__)

    def now(self) -> datetime:
        """The injected clock as an aware UTC datetime."""
        return datetime.fromtimestamp(self._clock(), UTC)

    async def usable(self, api_path: str) -> StoredTokens:
        """The current tokens, refreshed first when the access token is already known to have expired."""
        async with self._lock:
            if self._tokens is None:
                await self._reload_locked(api_path)
            tokens = self._require(api_path)
        expires = tokens.access_expires_at
        if expires is not None and expires <= self.now() and tokens.refresh_token is not None:
            tokens = await self.after_rejection(tokens.access_token, api_path)
        return tokens

    async def after_rejection(self, rejected: SecretStr, api_path: str) -> StoredTokens:
        """Tokens to use instead of ``rejected``: another caller's or replica's, or one refresh shared by all."""
        rejected_value = rejected.get_secret_value()
        async with self._lock:
            current = self._require(api_path)
            if current.access_token.get_secret_value() != rejected_value:
                return current
            latest = await self._reload_locked(api_path)
            if latest.access_token.get_secret_value() != rejected_value:
                return latest
            if self._refused is not None and self._refused[0] == rejected_value:
                raise _reauthorize_error(self._refused[1], api_path)
            try:
                return await self._refresh_once_everywhere(latest, api_path)
            except LazadaAuthError as exc:
                self._refused = (rejected_value, exc)
                raise _reauthorize_error(exc, api_path) from exc

    async def _refresh_once_everywhere(self, stored: StoredTokens, api_path: str) -> StoredTokens:
        """Refresh `stored` unless another replica does: then wait for its token and use that."""
        if self._claims is None:
            await self._refresh_locked(stored)
            return self._require(api_path)
        rejected = stored.access_token.get_secret_value()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + REFRESH_WAIT
        while True:
            if await self._claims.claim(self._store_code):
                try:
                    latest = await self._reload_locked(api_path)
                    if latest.access_token.get_secret_value() == rejected:
                        await self._refresh_locked(latest)
                    return self._require(api_path)
                finally:
                    await self._claims.release(self._store_code)
            if loop.time() >= deadline:
                raise LazadaAuthError(
                    "another replica's token refresh did not finish in time",
                    api_path=api_path,
                    refreshable=False,
                )
            await self._sleep(REFRESH_POLL)
            latest = await self._reload_locked(api_path)
            if latest.access_token.get_secret_value() != rejected:
                self._log.info("lazada.token_adopted", store_code=self._store_code)
                return latest

    async def refresh(self) -> TokenGrant:
        """Refresh with the stored refresh token now; saves and uses the new tokens."""
        async with self._lock:
            tokens = await self._reload_locked(REFRESH_PATH)
            return await self._refresh_locked(tokens)

    async def ensure_fresh(self, now: datetime, margin: timedelta) -> bool:
        """Refresh when the access token expires within ``margin`` of ``now``; returns whether it refreshed."""
        async with self._lock:
            # Decide on the stored tokens, not the cached ones: another replica may have refreshed already.
            tokens = await self._reload_locked(REFRESH_PATH)
            expires = tokens.access_expires_at
            if expires is None or expires - now > margin:
                return False
            await self._refresh_locked(tokens)
            return True

    async def adopt(self, grant: TokenGrant) -> None:
        """Save and use the tokens of a new authorization."""
        async with self._lock:
            stored = StoredTokens.from_grant(grant, now=self.now())
            await self._token_store.save(self._store_code, stored)
            self._tokens = stored
            self._refused = None

    async def note_success(self) -> None:
        """Tell the token store the token works, at most once a minute."""
        now = self._clock()
        last = self._last_success_recorded
        if last is not None and now - last < SUCCESS_RECORD_INTERVAL:
            return
        self._last_success_recorded = now
        try:
            await self._token_store.record_success(self._store_code, datetime.fromtimestamp(now, UTC))
        except Exception:
            # Bookkeeping only: the Lazada call (perhaps a cancel) already succeeded and must not look failed.
            self._log.warning("lazada.record_success_failed", store_code=self._store_code, exc_info=True)

    def _require(self, api_path: str) -> StoredTokens:
        if self._tokens is None:
            raise LazadaAuthError(
                f"no Lazada tokens are stored for store {self._store_code!r}",
                api_path=api_path,
                refreshable=False,
            )
        return self._tokens

    async def _reload_locked(self, api_path: str) -> StoredTokens:
        self._tokens = await self._token_store.load(self._store_code) or self._tokens
        return self._require(api_path)

    async def _refresh_locked(self, stored: StoredTokens) -> TokenGrant:
        if stored.refresh_token is None:
            raise LazadaAuthError(
                f"no refresh token is stored for store {self._store_code!r}", api_path=REFRESH_PATH, refreshable=False
            )
        refresh_expires = stored.refresh_expires_at
        if refresh_expires is not None and refresh_expires <= self.now():
            raise LazadaAuthError(
                f"the refresh token expired at {refresh_expires.isoformat()}", api_path=REFRESH_PATH, refreshable=False
            )
        grant = await self._send_refresh(stored.refresh_token)
        fresh = StoredTokens.from_grant(grant, now=self.now())
        # A refresh answer may leave out who the seller is or when the refresh token ends; keep what we knew.
        fresh = fresh.model_copy(
            update={
                "refresh_expires_at": fresh.refresh_expires_at or stored.refresh_expires_at,
                "seller_id": fresh.seller_id or stored.seller_id,
                "account": fresh.account or stored.account,
                "country": fresh.country or stored.country,
            }
        )
        await self._token_store.save(self._store_code, fresh)
        self._tokens = fresh
        self._refused = None
        self._log.info("lazada.token_refreshed", store_code=self._store_code, expires_in=grant.expires_in)
        return grant


def _reauthorize_error(cause: LazadaAuthError, api_path: str) -> LazadaAuthError:
    return LazadaAuthError(
        f"the access token was refused and could not be refreshed: {cause}",
        api_path=api_path,
        code=cause.code,
        request_id=cause.request_id,
        lazada_message=cause.lazada_message,
        refreshable=False,
    )
