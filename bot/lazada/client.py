"""The typed Lazada Open Platform client: one method per endpoint, each returning a frozen model.

The seams live next door: ``envelope`` (the typed answer and its one decoder), ``auth`` and ``redaction``
(signing, secrets), ``refresh`` (single-flight token refresh), ``paging`` (past the offset cap) and ``retry``.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar, Unpack

import httpx
import stamina
import structlog
from pydantic import SecretStr

from bot.lazada.auth import LazadaAuth
from bot.lazada.countries import AUTH_GATEWAY
from bot.lazada.envelope import FlatLazadaResponse, LazadaResponse, decode, transport_error
from bot.lazada.errors import (
    LazadaAuthError,
    LazadaBusinessError,
    LazadaDecodeError,
    LazadaError,
    LazadaRateLimitedError,
    LazadaServerError,
    LazadaTransportError,
)
from bot.lazada.limiter import RateLimiter
from bot.lazada.models import (
    CancelAccepted,
    CancelValidation,
    Order,
    OrderItem,
    OrderItems,
    OrdersPage,
    RepackResult,
    SellerPerformance,
    TokenGrant,
)
from bot.lazada.paging import (
    MAX_ORDERS_LIMIT,
    MAX_ORDERS_OFFSET,
    OrderBounds,
    OrderQuery,
    iter_orders,
)
from bot.lazada.redaction import SECRET_PARAMS, Redactor, RedactQueryFilter, redact_httpx_logs
from bot.lazada.refresh import REFRESH_PATH, RefreshClaims, TokenRefresher
from bot.lazada.retry import RetryPolicy, retry_hint
from bot.lazada.reverse import (
    OPEN_REVERSE_STATUS,
    REVERSE_PAGE_SIZE,
    DecisionAnswer,
    RefusalReason,
    RefusalReasons,
    ReverseOrder,
    ReverseOrdersPage,
)
from bot.lazada.tokens import TokenStore

__all__ = [
    "MAX_MULTIPLE_ORDER_IDS",
    "MAX_ORDERS_LIMIT",
    "MAX_ORDERS_OFFSET",
    "MAX_REPACK_PACKAGES",
    "MAX_REVERSE_PAGES",
    "REVERSE_DECIDE_PATH",
    "REVERSE_ORDERS_PATH",
    "REVERSE_PAGE_SIZE",
    "REVERSE_REASONS_PATH",
    "LazadaAuth",
    "LazadaClient",
    "RedactQueryFilter",
    "RetryPolicy",
    "redact_httpx_logs",
]

MAX_MULTIPLE_ORDER_IDS = 50
MAX_REPACK_PACKAGES = 20
MAX_REVERSE_PAGES = 100
"""The most pages ``open_buyer_cancel_requests`` reads in one go (1,000 requests at the documented page size):
a bound against an answer whose ``total`` never comes true; the next scan reads again."""
REVERSE_ORDERS_PATH = "/reverse/getreverseordersforseller"
REVERSE_REASONS_PATH = "/order/reverse/reason/list"
REVERSE_DECIDE_PATH = "/order/reverse/cancel/seller/decide"

_T = TypeVar("_T")
# One try at a prepared call, given its attempt number (for the log).
_Attempt = Callable[[int], Awaitable[LazadaResponse[_T]]]

# Each endpoint's answer type, built once: parametrizing a generic model per call would cost a cache lookup.
_ORDER_ITEMS = LazadaResponse[tuple[OrderItem, ...]]
_MULTIPLE_ORDER_ITEMS = LazadaResponse[tuple[OrderItems, ...]]
_CANCEL_VALIDATION = LazadaResponse[CancelValidation]
_CANCEL_ACCEPTED = LazadaResponse[CancelAccepted]
_REPACK = LazadaResponse[RepackResult]
_ORDERS_PAGE = LazadaResponse[OrdersPage]
_ORDER = LazadaResponse[Order]
_TOKEN_GRANT = FlatLazadaResponse[TokenGrant]
_SELLER_PERFORMANCE = LazadaResponse[SellerPerformance]
_REVERSE_ORDERS_PAGE = LazadaResponse[ReverseOrdersPage]
_REFUSAL_REASONS = LazadaResponse[RefusalReasons]
_DECIDED = LazadaResponse[DecisionAnswer]
PERFORMANCE_LANGUAGES = frozenset({"en-US", "zh-CN", "ms-MY", "th-TH", "vi-VN", "id-ID"})


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


_ORDERS_DEFAULT: OrderQuery = {"status": "all", "sort_by": "created_at", "sort_direction": "ASC"}


def _number_list(ids: Sequence[str | int], *, name: str, limit: int | None = None) -> str:
    """A ``Number[]`` parameter as Lazada documents it: ``[42922,32793]``, the ids unquoted (quoted ones are E056)."""
    listed = _id_list(ids, name=name, limit=limit)
    bad = [one for one in listed if not one.strip().isdigit()]
    if bad:
        raise ValueError(f"{name} must hold numeric ids; {bad[0]!r} is not one")
    # Joined by hand rather than json.dumps(int(...)): an id is sent digit for digit, never through a number type.
    return "[" + ",".join(one.strip() for one in listed) + "]"


def _digits(value: str | int, name: str) -> str:
    """A ``Number`` id parameter, sent digit for digit; anything else is refused before any call."""
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit():
        raise ValueError(f"{name} must be a numeric id, not {value!r}")
    return text


def _word_list(values: Sequence[str] | None, name: str) -> str | None:
    """A ``String[]`` filter as Lazada documents it (``["CANCEL"]``); None sends no filter at all."""
    if values is None:
        return None
    if isinstance(values, str):
        raise TypeError(f"{name} must be a sequence of values, not one string")
    listed = [str(value).strip() for value in values]
    if not listed or not all(listed):
        raise ValueError(f"{name} must hold at least one non-empty value (None sends no filter)")
    return _compact_json(listed)


def _may_have_applied(error: LazadaError) -> bool:
    """Whether a write that failed with ``error`` may still have been applied by Lazada (then: read back first).

    Definite: a numbered business refusal (131, 105, 116 …), a token or rate-limit refusal, a request that never
    left. Unknown: no answer after sending, a server-side failure (E0106, 5xx, ServiceTimeout, 998), an answer the
    bot cannot read, and a code-0 answer with an error tip.
    """
    if isinstance(error, LazadaTransportError):
        return error.request_sent
    if isinstance(error, LazadaServerError | LazadaDecodeError):
        return True
    if isinstance(error, LazadaBusinessError):
        return error.code in (None, "0")
    return False


def _listing_succeeded(answer: LazadaResponse[ReverseOrdersPage]) -> None:
    """GetReverseOrdersForSeller's ``result.success`` of false: the listing failed, whatever the code said."""
    page = answer.data
    if page is not None and page.success is False:
        raise LazadaServerError(
            "result.success is false", api_path=REVERSE_ORDERS_PATH, code="0", request_id=answer.request_id
        )


def _iso(value: datetime | None, name: str) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware; Lazada needs the offset")
    return value.isoformat(timespec="seconds")


class LazadaClient:
    """One store's typed Lazada client over an injected, shared ``httpx.AsyncClient``.

    Every call is a signed GET. Reads are retried per ``retry`` on transport errors, server errors and
    rate limits (waiting out the announced ban on the limiter's clock), and once after a token refresh on
    ``IllegalAccessToken``; writes (``init_cancel``, ``repack``) are sent exactly once.
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
        refresh_claims: RefreshClaims | None = None,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._auth_url = auth_url.rstrip("/")
        self._app_key = app_key
        self._app_secret = app_secret
        self._store_code = store_code
        self._limiter = limiter
        self._retry = retry if retry is not None else RetryPolicy()
        self._clock = clock
        self._timeout = timeout
        self._tokens = TokenRefresher(
            store_code=store_code,
            token_store=tokens,
            clock=clock,
            send_refresh=self._send_refresh,
            claims=refresh_claims,
        )
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
        answer = await self._call("/order/items/get", {"order_id": str(order_id)}, _ORDER_ITEMS)
        return answer.payload

    async def get_multiple_order_items(self, *, order_ids: Sequence[str | int]) -> tuple[OrderItems, ...]:
        """GetMultipleOrderItems: the items of up to 50 orders in one call (``order_ids`` is ``Number[]``)."""
        ids = _number_list(order_ids, name="order_ids", limit=MAX_MULTIPLE_ORDER_IDS)
        answer = await self._call("/orders/items/get", {"order_ids": ids}, _MULTIPLE_ORDER_ITEMS)
        return answer.payload

    async def validate_cancel(self, *, order_id: str | int, order_item_ids: Sequence[str | int]) -> CancelValidation:
        """OrderCancelValidate: Lazada's tip and allowed reasons; a refusal raises ``LazadaBusinessError``.

        ``order_item_id_list`` is documented as ``String[]``, so the ids go quoted: ``["111","222"]``.
        """
        ids = _id_list(order_item_ids, name="order_item_ids")
        params = {"order_id": str(order_id), "order_item_id_list": _compact_json(ids)}
        answer = await self._call("/order/reverse/cancel/validate", params, _CANCEL_VALIDATION)
        return answer.payload

    async def init_cancel(
        self, *, order_id: str | int, order_item_ids: Sequence[str | int], reason_id: str
    ) -> CancelAccepted:
        """InitReverseOrderCancel: sent exactly once, never retried; confirm by re-reading the items."""
        ids = _id_list(order_item_ids, name="order_item_ids")
        if not reason_id.strip():
            raise ValueError("reason_id must not be empty")
        params = {"order_id": str(order_id), "order_item_id_list": _compact_json(ids), "reason_id": reason_id}
        answer = await self._call("/order/reverse/cancel/create", params, _CANCEL_ACCEPTED, write=True)
        # The cancel has happened once code is "0": a missing tip must not turn that into an error.
        accepted = answer.data if answer.data is not None else CancelAccepted()
        return accepted.model_copy(update={"request_id": answer.request_id})

    async def repack(self, *, package_ids: Sequence[str]) -> RepackResult:
        """RecreatePackage: dissolve up to 20 packages; any package not re-created raises, never retried."""
        path = "/order/package/repack"
        ids = _id_list(package_ids, name="package_ids", limit=MAX_REPACK_PACKAGES)
        request = _compact_json({"packages": [{"package_id": one} for one in ids]})
        answer = await self._call(path, {"rePackReq": request}, _REPACK, write=True)
        result = answer.payload
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
            request_id=answer.request_id,
            lazada_message=explanation,
            failed_package_ids=failed_ids,
        )

    async def get_orders(
        self, *, limit: int = MAX_ORDERS_LIMIT, offset: int = 0, **query: Unpack[OrderQuery]
    ) -> OrdersPage:
        """GetOrders: one page (``limit`` ≤ 100, ``offset`` ≤ 5000); status ``all``, oldest created first unless asked.

        The window's datetimes must be timezone-aware, and it needs ``created_after`` or ``update_after``.
        """
        query = {**_ORDERS_DEFAULT, **query}
        if query.get("created_after") is None and query.get("update_after") is None:
            raise ValueError("Lazada needs created_after or update_after")
        if query["sort_by"] not in ("created_at", "updated_at"):
            raise ValueError(f"sort_by must be created_at or updated_at, not {query['sort_by']!r}")
        if query["sort_direction"] not in ("ASC", "DESC"):
            raise ValueError(f"sort_direction must be ASC or DESC, not {query['sort_direction']!r}")
        if not 1 <= limit <= MAX_ORDERS_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_ORDERS_LIMIT}")
        if not 0 <= offset <= MAX_ORDERS_OFFSET:
            raise ValueError(f"offset must be between 0 and {MAX_ORDERS_OFFSET}")
        params = {
            "created_after": _iso(query.get("created_after"), "created_after"),
            "created_before": _iso(query.get("created_before"), "created_before"),
            "update_after": _iso(query.get("update_after"), "update_after"),
            "update_before": _iso(query.get("update_before"), "update_before"),
            "status": query["status"],
            "sort_by": query["sort_by"],
            "sort_direction": query["sort_direction"],
            "limit": str(limit),
            "offset": str(offset),
        }
        answer = await self._call("/orders/get", params, _ORDERS_PAGE)
        return answer.payload

    def iter_orders(self, *, page_size: int = MAX_ORDERS_LIMIT, **query: Unpack[OrderQuery]) -> AsyncIterator[Order]:
        """Every matching order once, paging past Lazada's 5,000 offset cap by moving the time bound."""
        query = {**_ORDERS_DEFAULT, **query}

        async def read_page(bounds: OrderBounds, offset: int) -> OrdersPage:
            window: OrderQuery = {**query, **bounds}
            return await self.get_orders(limit=page_size, offset=offset, **window)

        return iter_orders(
            read_page, query, sort_by=query["sort_by"], sort_direction=query["sort_direction"], page_size=page_size
        )

    async def get_order(self, *, order_id: str | int) -> Order:
        """GetOrder: one order."""
        answer = await self._call("/order/get", {"order_id": str(order_id)}, _ORDER)
        return answer.payload

    async def get_seller_performance(self, *, language: str | None = None) -> SellerPerformance:
        """GetSellerPerformance: every indicator Lazada keeps for the store (a read, sent as GET)."""
        if language is not None and language not in PERFORMANCE_LANGUAGES:
            raise ValueError(f"language must be one of {sorted(PERFORMANCE_LANGUAGES)}, not {language!r}")
        answer = await self._call("/seller/performance/get", {"language": language}, _SELLER_PERFORMANCE)
        return answer.data if answer.data is not None else SellerPerformance()

    async def get_reverse_orders(
        self,
        *,
        page_no: int = 1,
        page_size: int = REVERSE_PAGE_SIZE,
        request_types: Sequence[str] | None = ("CANCEL",),
        reverse_statuses: Sequence[str] | None = (OPEN_REVERSE_STATUS,),
        reverse_order_id: str | int | None = None,
        trade_order_id: str | int | None = None,
    ) -> ReverseOrdersPage:
        """GetReverseOrdersForSeller: one page of reverse orders; by default the open buyer cancellation requests.

        The list filters go as compact JSON arrays (``request_type_list=["CANCEL"]``, lazada-api.md §1.4, §8);
        ``None`` sends no filter. A ``result.success`` of false is a ``LazadaServerError`` (retried as reads are):
        an empty page must never be mistaken for "no requests".
        """
        if page_no < 1:
            raise ValueError("page_no starts at 1")
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        params = {
            "page_no": str(page_no),
            "page_size": str(page_size),
            "request_type_list": _word_list(request_types, "request_types"),
            "reverse_status_list": _word_list(reverse_statuses, "reverse_statuses"),
            "reverse_order_id": None if reverse_order_id is None else _digits(reverse_order_id, "reverse_order_id"),
            "trade_order_id": None if trade_order_id is None else _digits(trade_order_id, "trade_order_id"),
        }
        answer = await self._call(REVERSE_ORDERS_PATH, params, _REVERSE_ORDERS_PAGE, check=_listing_succeeded)
        return answer.payload

    async def open_buyer_cancel_requests(self, *, max_pages: int = MAX_REVERSE_PAGES) -> list[ReverseOrder]:
        """Every open buyer cancellation request (CANCEL, REQUEST_INITIATE), paging from page 1.

        Stops once ``total`` requests are read, at a short or empty page, or after ``max_pages`` (logged; the
        next scan reads again). A request seen on two pages (the list moved while paging) is kept once.
        """
        found: dict[str, ReverseOrder] = {}
        for page_no in range(1, max_pages + 1):
            page = await self.get_reverse_orders(page_no=page_no)
            for request in page.items:
                found.setdefault(request.reverse_order_id, request)
            if page.unreadable:
                self._log.warning(
                    "lazada.reverse_orders_unreadable", store_code=self._store_code, unreadable=list(page.unreadable)
                )
            short = len(page.items) + len(page.unreadable) < REVERSE_PAGE_SIZE
            # A total of 0 beside a full page is taken as "not said": paging goes on to a short page.
            all_read = page.total > 0 and page_no * REVERSE_PAGE_SIZE >= page.total
            if not (page.items or page.unreadable) or short or all_read:
                return list(found.values())
        self._log.warning(
            "lazada.reverse_orders_page_cap", store_code=self._store_code, pages=max_pages, found=len(found)
        )
        return list(found.values())

    async def get_reverse_order(self, reverse_order_id: str | int) -> ReverseOrder | None:
        """One reverse order read back by id, whatever its type and status; None when Lazada lists none."""
        wanted = _digits(reverse_order_id, "reverse_order_id")
        page = await self.get_reverse_orders(
            page_no=1, request_types=None, reverse_statuses=None, reverse_order_id=wanted
        )
        # Filtered here too: a gateway that ignored the filter must not hand back another request.
        return next((request for request in page.items if request.reverse_order_id == wanted), None)

    async def refusal_reasons(self, *, reverse_order_line_id: str | int) -> tuple[RefusalReason, ...]:
        """GetReverseOrderReasonList: the reasons the seller may give to refuse this line's request (119: none)."""
        line_id = _digits(reverse_order_line_id, "reverse_order_line_id")
        answer = await self._call(REVERSE_REASONS_PATH, {"reverse_order_line_id": line_id}, _REFUSAL_REASONS)
        return answer.data if answer.data is not None else ()

    async def decide_buyer_cancel(
        self, *, reverse_order_id: str | int, agree: bool, reason_code: str | int | None = None
    ) -> str:
        """InitReverseOrderCancelDecide: accept (``agree``) or refuse the buyer's request; returns Lazada's request_id.

        A write: sent exactly once, never retried. Refusing needs a ``reason_code`` (from ``refusal_reasons``),
        accepting takes none; either mistake is a ``ValueError`` before any call. On an error whose
        ``outcome_unknown`` is True (E0106, no answer after sending, an unreadable answer) Lazada may have applied
        the decision: read the request back (``get_reverse_order``) before ever sending again. 131, 105 and 116
        are definite refusals. A code-0 answer without a request_id returns "".
        """
        reverse_id = _digits(reverse_order_id, "reverse_order_id")
        if agree and reason_code is not None:
            raise ValueError("accepting a buyer's request takes no reason_code")
        if not agree and (reason_code is None or not str(reason_code).strip()):
            raise ValueError("refusing a buyer's request needs a reason_code from refusal_reasons")
        params = {
            "reverse_order_id": reverse_id,
            "agree_cancel": "true" if agree else "false",
            "reason_code": None if reason_code is None else _digits(reason_code, "reason_code"),
        }
        try:
            answer = await self._call(REVERSE_DECIDE_PATH, params, _DECIDED, write=True)
        except LazadaError as exc:
            exc.outcome_unknown = _may_have_applied(exc)
            raise
        return answer.request_id or ""

    async def create_token(self, *, code: str) -> TokenGrant:
        """GenerateAccessToken: exchange an authorization code (single use) and save the tokens; not retried."""
        if not code.strip():
            raise ValueError("code must not be empty")
        answer = await self._call(
            "/auth/token/create", {"code": code}, _TOKEN_GRANT, needs_token=False, write=True, base_url=self._auth_url
        )
        grant = answer.payload
        await self._tokens.adopt(grant)
        self._log.info("lazada.token_created", store_code=self._store_code, expires_in=grant.expires_in)
        return grant

    async def refresh_token(self) -> TokenGrant:
        """RefreshAccessToken with the stored refresh token; saves and uses the new tokens."""
        return await self._tokens.refresh()

    async def ensure_fresh(self, now: datetime, margin: timedelta) -> bool:
        """Refresh when the access token expires within ``margin`` of ``now``; returns whether it refreshed."""
        return await self._tokens.ensure_fresh(now, margin)

    async def wait_out(self, limited: LazadaRateLimitedError) -> None:
        """Wait out the ban an ``ApiCallLimit`` announced (every replica waits it out with a shared budget)."""
        self._log.info(
            "lazada.rate_limit_wait", store_code=self._store_code, path=limited.api_path, seconds=limited.retry_after
        )
        await self._limiter.pause(limited.retry_after, limited.api_path)

    async def _send_refresh(self, refresh_token: SecretStr) -> TokenGrant:
        """RefreshAccessToken itself, for the token refresher."""
        params = {"refresh_token": refresh_token.get_secret_value()}
        answer = await self._call(REFRESH_PATH, params, _TOKEN_GRANT, needs_token=False, base_url=self._auth_url)
        return answer.payload

    async def _call(
        self,
        path: str,
        params: Mapping[str, str | None],
        returns: type[LazadaResponse[_T]],
        *,
        needs_token: bool = True,
        write: bool = False,
        base_url: str | None = None,
        check: Callable[[LazadaResponse[_T]], None] | None = None,
    ) -> LazadaResponse[_T]:
        """Send one API call and return its typed success answer, or raise the mapped ``LazadaError``.

        ``write=True``: one attempt, and no refresh-and-retry on ``IllegalAccessToken``. ``check`` may raise a
        ``LazadaError`` for a code-0 answer that still failed; a read raising a retryable one is retried.
        """
        sent = {name: value for name, value in params.items() if value is not None and value != ""}
        url_base = base_url or self._base_url
        retry = not write

        def sender(access_token: SecretStr | None) -> _Attempt[_T]:
            return lambda attempt: self._send_once(
                path, sent, returns, base_url=url_base, access_token=access_token, attempt=attempt, check=check
            )

        if not needs_token:
            return await self._send(path, sender(None), retry=retry)
        tokens = await self._tokens.usable(path)
        try:
            answer = await self._send(path, sender(tokens.access_token), retry=retry)
        except LazadaAuthError as exc:
            if exc.code != "IllegalAccessToken" or write:
                raise
            self._log.info("lazada.token_rejected", store_code=self._store_code, path=path)
            tokens = await self._tokens.after_rejection(tokens.access_token, path)
            try:
                answer = await self._send(path, sender(tokens.access_token), retry=retry)
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
        await self._tokens.note_success()
        return answer

    async def _send(self, path: str, send_once: _Attempt[_T], *, retry: bool) -> LazadaResponse[_T]:
        """One attempt for a write; for a read, attempts within the retry policy, waiting out announced bans."""
        if not retry:
            return await send_once(1)
        policy = self._retry
        started = time.monotonic()
        ban = 0.0

        def hint(exc: Exception) -> bool | float:
            nonlocal ban
            left = None if policy.timeout is None else policy.timeout - (time.monotonic() - started)
            verdict = retry_hint(exc, time_left=left)
            if isinstance(verdict, bool):
                return verdict
            # The ban is waited out below, on the limiter's injectable clock, rather than by stamina.
            ban = verdict
            return 0.0

        async for attempt in stamina.retry_context(
            on=hint,
            attempts=policy.attempts,
            timeout=policy.timeout,
            wait_initial=policy.wait_initial,
            wait_max=policy.wait_max,
            wait_jitter=policy.wait_jitter,
        ):
            if ban > 0:
                self._log.info("lazada.rate_limit_wait", store_code=self._store_code, path=path, seconds=ban)
                await self._limiter.pause(ban, path)
            ban = 0.0
            with attempt:
                return await send_once(attempt.num)
        raise AssertionError("unreachable: stamina re-raises the last error")

    async def _send_once(
        self,
        path: str,
        params: dict[str, str],
        returns: type[LazadaResponse[_T]],
        *,
        base_url: str,
        access_token: SecretStr | None,
        attempt: int,
        check: Callable[[LazadaResponse[_T]], None] | None = None,
    ) -> LazadaResponse[_T]:
        auth = LazadaAuth(
            app_key=self._app_key,
            app_secret=self._app_secret,
            api_path=path,
            access_token=access_token,
            clock=self._clock,
        )
        redact = Redactor(
            [
                self._app_secret.get_secret_value(),
                access_token.get_secret_value() if access_token is not None else None,
                *(params.get(name) for name in SECRET_PARAMS),
            ]
        )
        async with self._limiter.calling(path) as trace:
            started = time.perf_counter()
            try:
                response = await self._http.get(
                    f"{base_url}{path}", params=params, auth=auth, timeout=self._timeout, extensions={"trace": trace}
                )
            except httpx.RequestError as exc:
                error = transport_error(path, exc, redact)
                self._log_call(path, None, error.code, None, started, attempt, error)
                raise error from None
        redact = redact.including(response.request.url.params.get("sign"))
        try:
            answer = decode(returns, response, api_path=path, redact=redact)
            if check is not None:
                check(answer)
        except LazadaError as error:
            self._log_call(path, response.status_code, error.code, error.request_id, started, attempt, error)
            raise
        self._log_call(path, response.status_code, "0", answer.request_id, started, attempt, None)
        return answer

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
        fields: dict[str, Any] = {
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
