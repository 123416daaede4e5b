"""Keeps each store's Lazada access token fresh, and has the store's channel told once a day when a person must act.

Every replica runs `TokenKeeper.tick` on the same schedule; the database decides who acts. A refresh is claimed
per token (`token_refresh`, keyed by the store and the expiry being replaced) so replicas do not refresh the same
token twice; an announcement is claimed per store and store-local day (`token_announcement`, ``store:date``).
The keeper decides and emits `TokenAlertDue` on the event bus; the presenter (`bot.slack.tokens`) tells Slack.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol, Self

import structlog
from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator

from bot.events import EventBus, Receipt
from bot.lazada.client import LazadaClient
from bot.lazada.errors import LazadaAuthError, LazadaError
from bot.lazada.tokens import StoredTokens
from bot.settings import StoreConfig
from bot.store.claims import ClaimStore

__all__ = [
    "ANNOUNCEMENT_KIND",
    "DEFAULT_MARGIN",
    "DEFAULT_TRANSIENT_GRACE",
    "DEFAULT_WARNING_WINDOW",
    "REFRESH_KIND",
    "KeptTokenStore",
    "TokenAlert",
    "TokenAlertDue",
    "TokenAlertPosted",
    "TokenHealth",
    "TokenKeeper",
    "announcement_key",
    "assess_tokens",
    "renewal_deadline",
]

ANNOUNCEMENT_KIND = "token_announcement"
REFRESH_KIND = "token_refresh"
DEFAULT_MARGIN = timedelta(days=1)
DEFAULT_WARNING_WINDOW = timedelta(days=7)
DEFAULT_TRANSIENT_GRACE = timedelta(hours=6)
DEFAULT_LEASE = timedelta(minutes=5)

log = structlog.get_logger(__name__)


class KeptTokenStore(Protocol):
    """What the keeper needs of the token store (`bot.store.tokens.DbTokenStore` provides it)."""

    async def load(self, store_code: str) -> StoredTokens | None:
        """Return the store's tokens, or None when the store was never authorized."""
        ...

    async def record_refresh_error(self, store_code: str, message: str) -> None:
        """Keep why the last refresh failed (a message without secrets)."""
        ...


class TokenHealth(StrEnum):
    """A store's Lazada authorization as an operator needs to know it."""

    OK = "ok"
    REAUTHORIZE_SOON = "reauthorize_soon"
    REFRESH_FAILED = "refresh_failed"
    EXPIRED = "expired"
    NOT_AUTHORIZED = "not_authorized"


class TokenAlert(BaseModel):
    """What went wrong with one store's Lazada tokens at ``now``; at least one of the two problems is set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    store_code: str
    store_label: str
    country: str
    now: AwareDatetime
    access_expires_at: AwareDatetime | None = None
    refresh_error: str | None = None
    # True when Lazada refused the refresh itself; False when it could not be reached (the bot keeps trying).
    refresh_refused: bool = False
    renewal_deadline: AwareDatetime | None = None
    deadline_is_refresh_token: bool = True

    @model_validator(mode="after")
    def _has_a_problem(self) -> Self:
        if self.refresh_error is None and self.renewal_deadline is None:
            raise ValueError("a token alert needs a refresh error, a renewal deadline, or both")
        return self


@dataclass(frozen=True, slots=True)
class TokenAlertPosted:
    """Where the presenter posted a token alert."""

    channel: str
    ts: str | None


@dataclass(frozen=True, slots=True)
class TokenAlertDue:
    """Tell ``channel`` about ``alert``; the presenter answers ``receipt`` once the message is out (no answer: not)."""

    alert: TokenAlert
    channel: str
    receipt: Receipt[TokenAlertPosted] = field(default_factory=Receipt, compare=False)


def renewal_deadline(tokens: StoredTokens) -> datetime | None:
    """When the bot can no longer renew the store's access: the refresh token's expiry, or the access token's
    when there is no refresh token; None when Lazada did not say."""
    if tokens.refresh_token is not None:
        return tokens.refresh_expires_at
    return tokens.access_expires_at


def assess_tokens(
    tokens: StoredTokens | None,
    *,
    last_refresh_error: str | None,
    now: datetime,
    warning_window: timedelta = DEFAULT_WARNING_WINDOW,
) -> TokenHealth:
    """The store's token health at ``now``, worst first: not authorized, expired, refresh failed, deadline near."""
    if tokens is None:
        return TokenHealth.NOT_AUTHORIZED
    deadline = renewal_deadline(tokens)
    access_dead = tokens.access_expires_at is not None and tokens.access_expires_at <= now
    if access_dead and deadline is not None and deadline <= now:
        return TokenHealth.EXPIRED
    if last_refresh_error:
        return TokenHealth.REFRESH_FAILED
    if deadline is not None and deadline - now <= warning_window:
        return TokenHealth.REAUTHORIZE_SOON
    return TokenHealth.OK


def announcement_key(store: StoreConfig, now: datetime) -> str:
    """The claim key of a store's announcement on the store-local day of ``now``: ``store:YYYY-MM-DD``."""
    return f"{store.code}:{now.astimezone(store.tz).date().isoformat()}"


class TokenKeeper:
    """Refreshes access tokens before they expire and announces, once a day per store, what needs a person.

    A refresh that Lazada refuses is announced at once. One that failed for a passing reason (Lazada unreachable,
    a server error, a rate limit) is recorded and retried on later ticks, and announced only once the access token
    has less than ``transient_grace`` left. A renewal deadline (the refresh token's expiry) within
    ``warning_window`` is announced every day until the store is authorized again.
    """

    def __init__(
        self,
        *,
        tokens: KeptTokenStore,
        clients: Mapping[str, LazadaClient],
        stores: Sequence[StoreConfig],
        bus: EventBus,
        claims: ClaimStore,
        clock: Callable[[], datetime],
        replica_id: str,
        margin: timedelta = DEFAULT_MARGIN,
        warning_window: timedelta = DEFAULT_WARNING_WINDOW,
        transient_grace: timedelta = DEFAULT_TRANSIENT_GRACE,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self._tokens = tokens
        self._clients = clients
        self._stores = tuple(stores)
        self._bus = bus
        self._claims = claims
        self._clock = clock
        self._replica_id = replica_id
        self._margin = margin
        self._warning_window = warning_window
        self._transient_grace = transient_grace
        self._lease = lease

    async def tick(self) -> None:
        """Refresh what is due and announce what needs a person, for every store."""
        for store in self._stores:
            await self._keep(store)

    async def _keep(self, store: StoreConfig) -> None:
        now = self._clock()
        tokens = await self._tokens.load(store.code)
        if tokens is None:
            return
        failure: LazadaError | None = None
        expires = tokens.access_expires_at
        if expires is not None and expires - now <= self._margin:
            failure = await self._refresh(store, tokens, expires, now)
            tokens = await self._tokens.load(store.code) or tokens
        announce_failure = failure is not None and self._must_announce(failure, tokens, now)
        deadline = renewal_deadline(tokens)
        deadline_near = deadline is not None and deadline - now <= self._warning_window
        if not announce_failure and not deadline_near:
            return
        alert = TokenAlert(
            store_code=store.code,
            store_label=store.label,
            country=store.country.value,
            now=now,
            access_expires_at=tokens.access_expires_at,
            refresh_error=str(failure) if announce_failure else None,
            refresh_refused=isinstance(failure, LazadaAuthError),
            renewal_deadline=deadline if deadline_near else None,
            deadline_is_refresh_token=tokens.refresh_token is not None,
        )
        await self._announce(store, alert, now)

    async def _refresh(
        self, store: StoreConfig, tokens: StoredTokens, expires: datetime, now: datetime
    ) -> LazadaError | None:
        """Refresh the store's access token unless another replica is at it; return the failure, if any."""
        client = self._clients.get(store.code)
        if client is None:
            log.warning("token_keeper.no_client", store_code=store.code)
            return None
        key = f"{store.code}:{expires.astimezone(UTC).isoformat()}"
        if not await self._claims.claim(REFRESH_KIND, key, self._replica_id, now=now, lease=self._lease):
            return None
        try:
            refreshed = await client.ensure_fresh(now, self._margin)
        except LazadaError as exc:
            # Released so the next tick, on any replica, tries again.
            await self._claims.release(REFRESH_KIND, key, self._replica_id)
            await self._tokens.record_refresh_error(store.code, str(exc))
            log.warning("token_keeper.refresh_failed", store_code=store.code, error=str(exc))
            return exc
        await self._claims.complete(REFRESH_KIND, key, self._replica_id, {"refreshed": refreshed})
        return None

    def _must_announce(self, failure: LazadaError, tokens: StoredTokens, now: datetime) -> bool:
        if not failure.retryable:
            return True
        expires = tokens.access_expires_at
        return expires is None or expires - now <= self._transient_grace

    async def _announce(self, store: StoreConfig, alert: TokenAlert, now: datetime) -> None:
        """Have the alert posted to the store's channel unless it was already posted today (on any replica)."""
        channel = store.approval_channel or store.digest_channel
        if not channel:
            log.error("token_keeper.no_channel", store_code=store.code)
            return
        key = announcement_key(store, now)
        if not await self._claims.claim(ANNOUNCEMENT_KIND, key, self._replica_id, now=now, lease=self._lease):
            return
        event = TokenAlertDue(alert=alert, channel=channel)
        try:
            await self._bus.emit(event)
        except Exception:
            # Logged here, not raised: the other stores are still to be kept on this tick.
            log.exception("token_keeper.announcement_failed", store_code=store.code, channel=channel)
        posted = event.receipt.value
        if posted is None:
            # Nothing went out (the presenter logged Slack's error): the next tick, on any replica, tries again.
            await self._claims.release(ANNOUNCEMENT_KIND, key, self._replica_id)
            log.warning("token_keeper.not_announced", store_code=store.code, channel=channel)
            return
        await self._claims.complete(
            ANNOUNCEMENT_KIND, key, self._replica_id, {"channel": posted.channel, "ts": posted.ts}
        )
        log.info("token_keeper.announced", store_code=store.code, channel=posted.channel, ts=posted.ts)
