"""The typed Lazada Open Platform client: signed GET calls, one envelope decoder, token refresh, read retries."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

import httpx
import stamina
import structlog
from pydantic import BaseModel, SecretStr, ValidationError

from bot.lazada.errors import (
    DEFAULT_RETRY_AFTER,
    LazadaAuthError,
    LazadaBusinessError,
    LazadaDecodeError,
    LazadaError,
    LazadaRateLimitedError,
    LazadaServerError,
    LazadaTransportError,
    retry_after_from_message,
)
from bot.lazada.gateways import AUTH_GATEWAY
from bot.lazada.limiter import RateLimiter
from bot.lazada.models import (
    CancelAccepted,
    CancelValidation,
    Order,
    OrderItem,
    OrderItems,
    OrdersPage,
    RepackResult,
    TokenGrant,
)
from bot.lazada.signing import sign
from bot.lazada.tokens import StoredTokens, TokenStore

__all__ = [
    "MAX_MULTIPLE_ORDER_IDS",
    "MAX_ORDERS_LIMIT",
    "MAX_ORDERS_OFFSET",
    "MAX_REPACK_PACKAGES",
    "LazadaAuth",
    "LazadaClient",
    "RedactQueryFilter",
    "RetryPolicy",
    "redact_httpx_logs",
]

MAX_MULTIPLE_ORDER_IDS = 50
MAX_REPACK_PACKAGES = 20
MAX_ORDERS_LIMIT = 100
MAX_ORDERS_OFFSET = 5000
SUCCESS_RECORD_INTERVAL = 60.0

_AUTH_CODES = frozenset({"IllegalAccessToken", "IllegalRefreshToken", "InvalidCode", "IncompleteSignature"})
_SIGNATURE_PARAMS = re.compile(r"\b(sign|sign_method|app_key|access_token|timestamp)\b")
_SERVER_CODES = frozenset({"ServiceTimeout", "998", "500", "501", "106", "E0106"})
_SERVER_TYPES = frozenset({"SYSTEM", "ISP"})
_BUSINESS_NAMED_CODES = frozenset({"SellerNotVerified", "Mp3SellerApiLimit", "MissingParameter", "InvalidParameter"})
_SECRET_PARAM_IN_TEXT = re.compile(r"\b(access_token|refresh_token|sign|app_secret|code)=[^&\s\"']+")
_SECRET_PARAMS = ("access_token", "refresh_token", "code", "sign")

_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How reads are retried: capped in attempts and total seconds, with exponential waits between them.

    ``ApiCallLimit`` waits exactly the ban Lazada announces instead of the exponential wait.
    """

    attempts: int = 4
    timeout: float | None = 30.0
    wait_initial: float = 0.5
    wait_max: float = 5.0
    wait_jitter: float = 0.5

    def __post_init__(self) -> None:
        """Refuse policies that would never try or never stop."""
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError("timeout must be positive, or None for no total cap")
        if min(self.wait_initial, self.wait_max, self.wait_jitter) < 0:
            raise ValueError("waits must not be negative")

    @classmethod
    def off(cls) -> RetryPolicy:
        """One attempt, no retry and no wait: for tests that want to see each failure."""
        return cls(attempts=1, timeout=None, wait_initial=0.0, wait_max=0.0, wait_jitter=0.0)

    @classmethod
    def without_waits(cls, attempts: int = 3) -> RetryPolicy:
        """Retry up to ``attempts`` times without exponential waits: for tests of the retry cap."""
        return cls(attempts=attempts, timeout=None, wait_initial=0.0, wait_max=0.0, wait_jitter=0.0)


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


class RedactQueryFilter(logging.Filter):
    """Drops the query string (access_token, sign) from URLs in httpx's request log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's URL arguments without their query; never drop the record."""
        if isinstance(record.args, tuple) and any(isinstance(arg, httpx.URL) for arg in record.args):
            record.args = tuple(arg.copy_with(query=None) if isinstance(arg, httpx.URL) else arg for arg in record.args)
        return True


def redact_httpx_logs() -> None:
    """Make httpx's "HTTP Request: GET <url>" log lines leave out the query string (idempotent)."""
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(existing, RedactQueryFilter) for existing in httpx_logger.filters):
        httpx_logger.addFilter(RedactQueryFilter())


class _Redactor:
    """Removes known secret values, and ``name=value`` pairs of secret parameters, from text."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        # Very short values would blank out ordinary words; real tokens and secrets are long.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def including(self, *more: str | None) -> _Redactor:
        """A redactor that also removes ``more``."""
        return _Redactor([*self._secrets, *more])

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return _SECRET_PARAM_IN_TEXT.sub(r"\1=[redacted]", text)


def _text(value: object) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value)
    return text or None


def _compact_json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _id_list(ids: Sequence[str | int], *, name: str, limit: int | None = None) -> list[str]:
    if isinstance(ids, str):
        raise TypeError(f"{name} must be a sequence of ids, not one string")
    listed = [str(one) for one in ids]
    if not listed:
        raise ValueError(f"{name} must not be empty")
    if limit is not None and len(listed) > limit:
        raise ValueError(f"{name} holds {len(listed)} ids; Lazada accepts at most {limit} per call")
    if any(not one.strip() for one in listed):
        raise ValueError(f"{name} must not hold empty ids")
    return listed


def _iso(value: datetime | None, name: str) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware; Lazada needs the offset")
    return value.isoformat(timespec="seconds")


def _describe(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return f"unexpected answer shape: {exc.error_count()} problem(s), first at {where}: {first['msg']}"


def _retry_hint(exc: Exception, *, time_left: float | None = None) -> bool | float:
    """Stamina backoff hook: retry transport/server errors; for ApiCallLimit wait exactly the announced ban.

    A ban longer than the time the policy has left is not waited out: the error is raised at once.
    """
    if isinstance(exc, LazadaRateLimitedError):
        if time_left is not None and exc.retry_after > time_left:
            return False
        return exc.retry_after
    return isinstance(exc, LazadaTransportError | LazadaServerError)


class LazadaClient:
    """One store's typed Lazada client over an injected, shared ``httpx.AsyncClient``.

    Every call is a signed GET. Reads are retried per ``retry`` on transport errors, server errors and
    rate limits, and once after a token refresh on ``IllegalAccessToken``; writes (``init_cancel``,
    ``repack``) are sent exactly once.
    """

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        base_url: str,
        auth_url: str = AUTH_GATEWAY,
        app_key: str,
        app_secret: SecretStr,
        store_code: str,
        tokens: TokenStore,
        limiter: RateLimiter,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._auth_url = auth_url.rstrip("/")
        self._app_key = app_key
        self._app_secret = app_secret
        self._store_code = store_code
        self._token_store = tokens
        self._limiter = limiter
        self._retry = retry if retry is not None else RetryPolicy()
        self._clock = clock
        self._timeout = timeout
        self._tokens: StoredTokens | None = None
        self._token_lock = asyncio.Lock()
        self._refresh_refused: tuple[str, LazadaAuthError] | None = None
        self._last_success_recorded: float | None = None
        # Unbound on purpose: a lazy proxy picks up the structlog configuration in force at each call.
        self._log = structlog.get_logger(__name__)
        redact_httpx_logs()

    def __repr__(self) -> str:
        return f"LazadaClient(store_code={self._store_code!r}, base_url={self._base_url!r})"

    @property
    def store_code(self) -> str:
        """The store whose tokens this client uses."""
        return self._store_code

    async def get_order_items(self, *, order_id: str | int) -> tuple[OrderItem, ...]:
        """GetOrderItems: every item (one per unit) of one order."""
        path = "/order/items/get"
        body = await self._call(path, {"order_id": str(order_id)})
        return self._parse_list(OrderItem, body.get("data"), path, body)

    async def get_multiple_order_items(self, *, order_ids: Sequence[str | int]) -> tuple[OrderItems, ...]:
        """GetMultipleOrderItems: the items of up to 50 orders in one call."""
        path = "/orders/items/get"
        ids = _id_list(order_ids, name="order_ids", limit=MAX_MULTIPLE_ORDER_IDS)
        body = await self._call(path, {"order_ids": _compact_json(ids)})
        return self._parse_list(OrderItems, body.get("data"), path, body)

    async def validate_cancel(self, *, order_id: str | int, order_item_ids: Sequence[str | int]) -> CancelValidation:
        """OrderCancelValidate: Lazada's tip and allowed reasons; a refusal raises ``LazadaBusinessError``."""
        path = "/order/reverse/cancel/validate"
        ids = _id_list(order_item_ids, name="order_item_ids")
        body = await self._call(path, {"order_id": str(order_id), "order_item_id_list": _compact_json(ids)})
        return self._parse(CancelValidation, body.get("data"), path, body)

    async def init_cancel(
        self, *, order_id: str | int, order_item_ids: Sequence[str | int], reason_id: str
    ) -> CancelAccepted:
        """InitReverseOrderCancel: sent exactly once, never retried; confirm by re-reading the items."""
        path = "/order/reverse/cancel/create"
        ids = _id_list(order_item_ids, name="order_item_ids")
        if not reason_id.strip():
            raise ValueError("reason_id must not be empty")
        params = {"order_id": str(order_id), "order_item_id_list": _compact_json(ids), "reason_id": reason_id}
        body = await self._call(path, params, retry_reads=False)
        data = body.get("data")
        # The cancel has happened once code is "0": a missing tip must not turn that into an error.
        payload = {**data} if isinstance(data, dict) else {}
        payload["request_id"] = body.get("request_id")
        return self._parse(CancelAccepted, payload, path, body)

    async def repack(self, *, package_ids: Sequence[str]) -> RepackResult:
        """RecreatePackage: dissolve up to 20 packages; any package not re-created raises, never retried."""
        path = "/order/package/repack"
        ids = _id_list(package_ids, name="package_ids", limit=MAX_REPACK_PACKAGES)
        request = _compact_json({"packages": [{"package_id": one} for one in ids]})
        body = await self._call(path, {"rePackReq": request}, retry_reads=False)
        result = self._parse(RepackResult, body.get("result"), path, body)
        failed = result.failed
        if result.success and not failed:
            return result
        if failed:
            failed_ids = tuple(package.package_id for package in failed)
            explanation = "; ".join(f"{p.package_id}: {p.msg or 'error ' + p.item_err_code}" for p in failed)
            code: str | None = failed[0].item_err_code
        else:
            failed_ids = tuple(ids)
            explanation = f"{', '.join(ids)}: {result.error_msg or 'the batch failed'}"
            code = result.error_code
        raise LazadaBusinessError(
            f"packages not re-created: {explanation}",
            api_path=path,
            code=code,
            request_id=_text(body.get("request_id")),
            lazada_message=explanation,
            failed_package_ids=failed_ids,
        )

    async def get_orders(
        self,
        *,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        update_after: datetime | None = None,
        update_before: datetime | None = None,
        status: str = "all",
        sort_by: Literal["created_at", "updated_at"] = "created_at",
        sort_direction: Literal["ASC", "DESC"] = "ASC",
        limit: int = MAX_ORDERS_LIMIT,
        offset: int = 0,
    ) -> OrdersPage:
        """GetOrders: one page (``limit`` ≤ 100, ``offset`` ≤ 5000); datetimes must be timezone-aware."""
        if created_after is None and update_after is None:
            raise ValueError("Lazada needs created_after or update_after")
        if sort_by not in ("created_at", "updated_at"):
            raise ValueError(f"sort_by must be created_at or updated_at, not {sort_by!r}")
        if sort_direction not in ("ASC", "DESC"):
            raise ValueError(f"sort_direction must be ASC or DESC, not {sort_direction!r}")
        if not 1 <= limit <= MAX_ORDERS_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_ORDERS_LIMIT}")
        if not 0 <= offset <= MAX_ORDERS_OFFSET:
            raise ValueError(f"offset must be between 0 and {MAX_ORDERS_OFFSET}")
        path = "/orders/get"
        params = {
            "created_after": _iso(created_after, "created_after"),
            "created_before": _iso(created_before, "created_before"),
            "update_after": _iso(update_after, "update_after"),
            "update_before": _iso(update_before, "update_before"),
            "status": status,
            "sort_by": sort_by,
            "sort_direction": sort_direction,
            "limit": str(limit),
            "offset": str(offset),
        }
        body = await self._call(path, params)
        return self._parse(OrdersPage, body.get("data"), path, body)

    async def iter_orders(
        self,
        *,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        update_after: datetime | None = None,
        update_before: datetime | None = None,
        status: str = "all",
        sort_by: Literal["created_at", "updated_at"] = "created_at",
        sort_direction: Literal["ASC", "DESC"] = "ASC",
        page_size: int = MAX_ORDERS_LIMIT,
    ) -> AsyncIterator[Order]:
        """Every matching order once, paging past Lazada's 5,000 offset cap by moving the time bound.

        When the next offset would pass 5,000, the bound on the sort field (``created_after``/``update_after``
        ascending, ``created_before``/``update_before`` descending) moves to the last order's timestamp, one
        second back so orders sharing that second are not lost, and paging restarts at offset 0; orders already
        yielded are skipped by ``order_id``.
        """
        bounds: dict[str, datetime | None] = {
            "created_after": created_after,
            "created_before": created_before,
            "update_after": update_after,
            "update_before": update_before,
        }
        moving = ("created" if sort_by == "created_at" else "update") + (
            "_after" if sort_direction == "ASC" else "_before"
        )
        seen: set[str] = set()
        offset = 0
        while True:
            page = await self.get_orders(
                created_after=bounds["created_after"],
                created_before=bounds["created_before"],
                update_after=bounds["update_after"],
                update_before=bounds["update_before"],
                status=status,
                sort_by=sort_by,
                sort_direction=sort_direction,
                limit=page_size,
                offset=offset,
            )
            for order in page.orders:
                if order.order_id not in seen:
                    seen.add(order.order_id)
                    yield order
            if len(page.orders) < page_size:
                return
            offset += page_size
            if offset <= MAX_ORDERS_OFFSET:
                continue
            bounds[moving] = self._next_bound(page.orders[-1], sort_by, sort_direction, bounds[moving])
            offset = 0

    def _next_bound(
        self,
        last: Order,
        sort_by: Literal["created_at", "updated_at"],
        sort_direction: Literal["ASC", "DESC"],
        current: datetime | None,
    ) -> datetime:
        """The moved time bound for the next round of pages, or an error when it cannot move forward."""
        path = "/orders/get"
        stamp = last.created_at if sort_by == "created_at" else last.updated_at
        if stamp is None:
            raise LazadaDecodeError(f"order {last.order_id} has no {sort_by}; cannot page further", api_path=path)
        ascending = sort_direction == "ASC"
        bound = stamp - timedelta(seconds=1) if ascending else stamp + timedelta(seconds=1)
        if current is not None and (bound <= current if ascending else bound >= current):
            raise LazadaBusinessError(
                f"more than {MAX_ORDERS_OFFSET} orders share the {sort_by} second {stamp.isoformat()}; "
                "Lazada's paging cannot reach past them",
                api_path=path,
            )
        return bound

    async def get_order(self, *, order_id: str | int) -> Order:
        """GetOrder: one order."""
        path = "/order/get"
        body = await self._call(path, {"order_id": str(order_id)})
        return self._parse(Order, body.get("data"), path, body)

    async def create_token(self, *, code: str) -> TokenGrant:
        """GenerateAccessToken: exchange an authorization code (single use) and save the tokens; not retried."""
        path = "/auth/token/create"
        if not code.strip():
            raise ValueError("code must not be empty")
        body = await self._call(path, {"code": code}, needs_token=False, retry_reads=False, base_url=self._auth_url)
        grant = self._parse(TokenGrant, body, path, body)
        async with self._token_lock:
            stored = StoredTokens.from_grant(grant, now=self._now())
            await self._token_store.save(self._store_code, stored)
            self._tokens = stored
            self._refresh_refused = None
        self._log.info("lazada.token_created", store_code=self._store_code, expires_in=grant.expires_in)
        return grant

    async def refresh_token(self) -> TokenGrant:
        """RefreshAccessToken with the stored refresh token; saves and uses the new tokens."""
        async with self._token_lock:
            tokens = await self._reload_locked("/auth/token/refresh")
            return await self._refresh_locked(tokens)

    async def ensure_fresh(self, now: datetime, margin: timedelta) -> bool:
        """Refresh when the access token expires within ``margin`` of ``now``; returns whether it refreshed."""
        async with self._token_lock:
            # Decide on the stored tokens, not the cached ones: another replica may have refreshed already.
            tokens = await self._reload_locked("/auth/token/refresh")
            expires = tokens.access_expires_at
            if expires is None or expires - now > margin:
                return False
            await self._refresh_locked(tokens)
            return True

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _require_tokens(self, api_path: str) -> StoredTokens:
        if self._tokens is None:
            raise LazadaAuthError(
                f"no Lazada tokens are stored for store {self._store_code!r}",
                api_path=api_path,
                refreshable=False,
            )
        return self._tokens

    async def _reload_locked(self, api_path: str) -> StoredTokens:
        self._tokens = await self._token_store.load(self._store_code) or self._tokens
        return self._require_tokens(api_path)

    async def _refresh_locked(self, stored: StoredTokens) -> TokenGrant:
        path = "/auth/token/refresh"
        if stored.refresh_token is None:
            raise LazadaAuthError(
                f"no refresh token is stored for store {self._store_code!r}", api_path=path, refreshable=False
            )
        refresh_expires = stored.refresh_expires_at
        if refresh_expires is not None and refresh_expires <= self._now():
            raise LazadaAuthError(
                f"the refresh token expired at {refresh_expires.isoformat()}", api_path=path, refreshable=False
            )
        body = await self._call(
            path,
            {"refresh_token": stored.refresh_token.get_secret_value()},
            needs_token=False,
            base_url=self._auth_url,
        )
        grant = self._parse(TokenGrant, body, path, body)
        fresh = StoredTokens.from_grant(grant, now=self._now())
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
        self._refresh_refused = None
        self._log.info("lazada.token_refreshed", store_code=self._store_code, expires_in=grant.expires_in)
        return grant

    async def _usable_tokens(self, api_path: str) -> StoredTokens:
        """The current tokens, refreshed first when the access token is already known to have expired."""
        async with self._token_lock:
            if self._tokens is None:
                await self._reload_locked(api_path)
            tokens = self._require_tokens(api_path)
        expires = tokens.access_expires_at
        if expires is not None and expires <= self._now() and tokens.refresh_token is not None:
            tokens = await self._refresh_once(tokens.access_token, api_path)
        return tokens

    async def _refresh_once(self, rejected: SecretStr, api_path: str) -> StoredTokens:
        """Single-flight refresh: callers holding the same rejected token share one refresh.

        The store is read first, so a token another replica (or another client of the store) has already
        refreshed is adopted instead of being refreshed twice.
        """
        rejected_value = rejected.get_secret_value()
        async with self._token_lock:
            current = self._require_tokens(api_path)
            if current.access_token.get_secret_value() != rejected_value:
                return current
            latest = await self._reload_locked(api_path)
            if latest.access_token.get_secret_value() != rejected_value:
                return latest
            if self._refresh_refused is not None and self._refresh_refused[0] == rejected_value:
                raise self._reauthorize_error(self._refresh_refused[1], api_path)
            try:
                await self._refresh_locked(latest)
            except LazadaAuthError as exc:
                self._refresh_refused = (rejected_value, exc)
                raise self._reauthorize_error(exc, api_path) from exc
            return self._require_tokens(api_path)

    @staticmethod
    def _reauthorize_error(cause: LazadaAuthError, api_path: str) -> LazadaAuthError:
        return LazadaAuthError(
            f"the access token was refused and could not be refreshed: {cause}",
            api_path=api_path,
            code=cause.code,
            request_id=cause.request_id,
            lazada_message=cause.lazada_message,
            refreshable=False,
        )

    async def _note_success(self) -> None:
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

    async def _call(
        self,
        path: str,
        params: Mapping[str, str | None],
        *,
        needs_token: bool = True,
        retry_reads: bool = True,
        base_url: str | None = None,
    ) -> dict[str, Any]:
        """Send one API call and return its decoded success envelope, or raise the mapped ``LazadaError``.

        ``retry_reads=False`` marks a write: one attempt, and no refresh-and-retry on ``IllegalAccessToken``.
        """
        sent = {name: value for name, value in params.items() if value is not None and value != ""}
        url_base = base_url or self._base_url
        if not needs_token:
            return await self._send(path, sent, base_url=url_base, access_token=None, retry=retry_reads)
        tokens = await self._usable_tokens(path)
        try:
            body = await self._send(path, sent, base_url=url_base, access_token=tokens.access_token, retry=retry_reads)
        except LazadaAuthError as exc:
            if exc.code != "IllegalAccessToken" or not retry_reads:
                raise
            self._log.info("lazada.token_rejected", store_code=self._store_code, path=path)
            tokens = await self._refresh_once(tokens.access_token, path)
            try:
                body = await self._send(
                    path, sent, base_url=url_base, access_token=tokens.access_token, retry=retry_reads
                )
            except LazadaAuthError as again:
                if again.code != "IllegalAccessToken":
                    raise
                raise LazadaAuthError(
                    "the access token was refused again right after a refresh",
                    api_path=path,
                    code=again.code,
                    request_id=again.request_id,
                    lazada_message=again.lazada_message,
                    http_status=again.http_status,
                    refreshable=False,
                ) from again
        await self._note_success()
        return body

    async def _send(
        self,
        path: str,
        params: dict[str, str],
        *,
        base_url: str,
        access_token: SecretStr | None,
        retry: bool,
    ) -> dict[str, Any]:
        if not retry:
            return await self._send_once(path, params, base_url=base_url, access_token=access_token, attempt=1)
        policy = self._retry
        started = time.monotonic()

        def hint(exc: Exception) -> bool | float:
            left = None if policy.timeout is None else policy.timeout - (time.monotonic() - started)
            return _retry_hint(exc, time_left=left)

        async for attempt in stamina.retry_context(
            on=hint,
            attempts=policy.attempts,
            timeout=policy.timeout,
            wait_initial=policy.wait_initial,
            wait_max=policy.wait_max,
            wait_jitter=policy.wait_jitter,
        ):
            with attempt:
                return await self._send_once(
                    path, params, base_url=base_url, access_token=access_token, attempt=attempt.num
                )
        raise AssertionError("unreachable: stamina re-raises the last error")

    async def _send_once(
        self,
        path: str,
        params: dict[str, str],
        *,
        base_url: str,
        access_token: SecretStr | None,
        attempt: int,
    ) -> dict[str, Any]:
        auth = LazadaAuth(
            app_key=self._app_key,
            app_secret=self._app_secret,
            api_path=path,
            access_token=access_token,
            clock=self._clock,
        )
        redact = _Redactor(
            [
                self._app_secret.get_secret_value(),
                access_token.get_secret_value() if access_token is not None else None,
                *(params.get(name) for name in _SECRET_PARAMS),
            ]
        )
        async with self._limiter:
            started = time.perf_counter()
            try:
                response = await self._http.get(f"{base_url}{path}", params=params, auth=auth, timeout=self._timeout)
            except httpx.RequestError as exc:
                error = self._transport_error(path, exc, redact)
                self._log_call(path, None, error.code, None, started, attempt, error)
                raise error from None
        redact = redact.including(response.request.url.params.get("sign"))
        try:
            body = self._decode(path, response, redact)
        except LazadaError as error:
            self._log_call(path, response.status_code, error.code, error.request_id, started, attempt, error)
            raise
        self._log_call(path, response.status_code, "0", _text(body.get("request_id")), started, attempt, None)
        return body

    def _log_call(
        self,
        path: str,
        status: int | None,
        code: str | None,
        request_id: str | None,
        started: float,
        attempt: int,
        error: LazadaError | None,
    ) -> None:
        fields = {
            "store_code": self._store_code,
            "path": path,
            "status": status,
            "code": code,
            "request_id": request_id,
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
            "attempt": attempt,
        }
        if error is None:
            self._log.info("lazada.call", **fields)
        else:
            self._log.warning("lazada.call_failed", error=type(error).__name__, **fields)

    @staticmethod
    def _transport_error(path: str, exc: httpx.RequestError, redact: _Redactor) -> LazadaError:
        detail = f"{type(exc).__name__}: {redact(str(exc)) or 'no detail'}"
        if isinstance(exc, httpx.DecodingError):
            return LazadaDecodeError(detail, api_path=path)
        if isinstance(exc, httpx.TimeoutException):
            sent = not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            return LazadaTransportError(detail, api_path=path, timed_out=True, request_sent=sent)
        return LazadaTransportError(
            detail, api_path=path, timed_out=False, request_sent=not isinstance(exc, httpx.ConnectError)
        )

    def _decode(self, path: str, response: httpx.Response, redact: _Redactor) -> dict[str, Any]:
        """Map one HTTP answer to its success envelope or raise the matching ``LazadaError`` (the only place)."""
        status = response.status_code
        try:
            body: object = json.loads(response.content)
        except ValueError:
            body = None
        if not isinstance(body, dict) or _text(body.get("code")) is None:
            raise self._no_envelope_error(path, response, "not JSON" if body is None else "not a Lazada envelope")
        code = str(body["code"])
        request_id = _text(body.get("request_id"))
        if code != "0":
            raise self._error_for(path, status, code, request_id, body, redact)
        data = body.get("data")
        if isinstance(data, dict) and data.get("tip_type") == "error":
            tip = redact(_text(data.get("tip_content")))
            raise LazadaBusinessError(
                f"Lazada answered code 0 with an error tip: {tip}",
                api_path=path,
                code=code,
                request_id=request_id,
                http_status=status,
                tip_content=tip,
                tip_type="error",
            )
        return body

    @staticmethod
    def _no_envelope_error(path: str, response: httpx.Response, what: str) -> LazadaError:
        status = response.status_code
        detail = f"HTTP {status}, body {what}"
        if status >= 500:
            return LazadaServerError(detail, api_path=path, http_status=status)
        if status == 429:
            try:
                retry_after = float(response.headers.get("retry-after", ""))
            except ValueError:
                retry_after = DEFAULT_RETRY_AFTER
            return LazadaRateLimitedError(detail, api_path=path, retry_after=retry_after, http_status=status)
        return LazadaDecodeError(detail, api_path=path, http_status=status)

    @staticmethod
    def _error_for(
        path: str,
        status: int,
        code: str,
        request_id: str | None,
        body: Mapping[str, Any],
        redact: _Redactor,
    ) -> LazadaError:
        """The error class for a non-zero code: rate limit, auth, server (retryable) or business."""
        message = redact(_text(body.get("message")))
        error_type = _text(body.get("type"))
        detail = f"{error_type or 'error'}: {message or 'no message'}"
        if code == "ApiCallLimit":
            return LazadaRateLimitedError(
                detail,
                api_path=path,
                retry_after=retry_after_from_message(message),
                code=code,
                request_id=request_id,
                lazada_message=message,
                http_status=status,
            )
        if code in _AUTH_CODES or (code == "MissingParameter" and _SIGNATURE_PARAMS.search(message or "")):
            return LazadaAuthError(
                detail,
                api_path=path,
                refreshable=code == "IllegalAccessToken",
                code=code,
                request_id=request_id,
                lazada_message=message,
                http_status=status,
            )
        is_server = (
            code in _SERVER_CODES
            or (message or "").startswith("E0106")
            or (
                not code.isdigit()
                and code not in _BUSINESS_NAMED_CODES
                and (error_type in _SERVER_TYPES or status >= 500)
            )
        )
        error_class = LazadaServerError if is_server else LazadaBusinessError
        return error_class(
            detail, api_path=path, code=code, request_id=request_id, lazada_message=message, http_status=status
        )

    def _parse(self, model: type[_M], payload: object, path: str, body: Mapping[str, Any]) -> _M:
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            raise LazadaDecodeError(_describe(exc), api_path=path, request_id=_text(body.get("request_id"))) from None

    def _parse_list(self, model: type[_M], payload: object, path: str, body: Mapping[str, Any]) -> tuple[_M, ...]:
        if not isinstance(payload, list):
            raise LazadaDecodeError(
                "unexpected answer shape: data is not a list", api_path=path, request_id=_text(body.get("request_id"))
            )
        return tuple(self._parse(model, one, path, body) for one in payload)
