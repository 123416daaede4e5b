"""LazadaClient over httpx.MockTransport: wire format, error mapping, retries, tokens, paging, secrecy."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx
import pytest
import stamina.instrumentation
from pydantic import SecretStr
from structlog.testing import capture_logs

from bot.lazada.client import LazadaClient, RetryPolicy
from bot.lazada.countries import AUTH_GATEWAY
from bot.lazada.errors import (
    LazadaAuthError,
    LazadaBusinessError,
    LazadaDecodeError,
    LazadaError,
    LazadaRateLimitedError,
    LazadaServerError,
    LazadaTransportError,
)
from bot.lazada.limiter import RateLimiter, UnlimitedRateLimiter
from bot.lazada.signing import sign
from bot.lazada.tokens import MemoryTokenStore, StoredTokens

APP_KEY = "100200"
APP_SECRET = "app-secret-6f1d2c9e"
ACCESS = "access-token-50000aaaa"
NEW_ACCESS = "access-token-50000bbbb"
REFRESH = "refresh-token-50001rrrr"
NEW_REFRESH = "refresh-token-50001ssss"
STORE = "SG-MAIN"
BASE_URL = "https://api.lazada.sg/rest"
NOW = 1_795_000_000.0
NOW_DT = datetime.fromtimestamp(NOW, UTC)
SGT = timezone(timedelta(hours=8))
SECRETS = (APP_SECRET, ACCESS, NEW_ACCESS, REFRESH, NEW_REFRESH)

Answer = dict[str, Any] | Exception | Callable[[httpx.Request], httpx.Response]
REVERSE_ORDERS = "/reverse/getreverseordersforseller"
REVERSE_REASONS = "/order/reverse/reason/list"
DECIDE = "/order/reverse/cancel/seller/decide"


def ok(data: object, **extra: object) -> dict[str, Any]:
    """A Lazada success envelope."""
    return {"code": "0", "data": data, "request_id": "0ba2887315178178017221014", **extra}


def fail(code: str, message: str, error_type: str = "ISV") -> dict[str, Any]:
    """A Lazada error envelope (sent with HTTP 200, as Lazada does)."""
    return {"type": error_type, "code": code, "message": message, "request_id": "0ba2887315178178017221099"}


def raw(status: int, content: bytes, content_type: str = "text/html") -> Callable[[httpx.Request], httpx.Response]:
    """An answer that is not a Lazada envelope."""
    return lambda request: httpx.Response(status, content=content, headers={"content-type": content_type})


def token_answer(access: str, refresh: str, expires_in: int | str, refresh_expires_in: int | str) -> dict[str, Any]:
    """The flat answer of the token endpoints."""
    return {
        "code": "0",
        "request_id": "0ba2887315178178017221100",
        "access_token": access,
        "refresh_token": refresh,
        "expires_in": expires_in,
        "refresh_expires_in": refresh_expires_in,
        "country": "sg",
        "account_platform": "seller_center",
        "account": "seller@example.com",
        "country_user_info": [
            {"country": "sg", "seller_id": "1152180742", "user_id": "1152180742", "short_code": "SGLYT0OS"}
        ],
    }


def item(order_item_id: int, status: str = "pending", **extra: object) -> dict[str, Any]:
    """An order item as Lazada sends it: numeric ids, strings everywhere else, empty strings for nothing."""
    return {
        "order_item_id": order_item_id,
        "order_id": 1001,
        "status": status,
        "name": "Blue mug",
        "sku": "MUG-BLUE",
        "shop_sku": "123_SGAMZ-456",
        "variation": "",
        "item_price": "12.90",
        "paid_price": "11.90",
        "currency": "SGD",
        "package_id": "FP0001" if status != "pending" else "",
        "cancel_return_initiator": "",
        "reason": "",
        "is_cancel_pending": "false",
        "created_at": "2026-11-20 10:00:00 +0800",
        "updated_at": "2026-11-20 10:05:00 +0800",
        **extra,
    }


def reverse_request(reverse_order_id: int, *, status: str = "REQUEST_INITIATE", lines: int = 1) -> dict[str, Any]:
    """A buyer's cancellation request as GetReverseOrdersForSeller lists it: every number a string."""
    return {
        "reverse_order_id": str(reverse_order_id),
        "trade_order_id": "1001",
        "request_type": "CANCEL",
        "reverse_order_lines": [
            {
                "reverse_order_line_id": str(reverse_order_id * 10 + n),
                "trade_order_line_id": str(2001 + n),
                "reverse_status": status,
                "reason_code": "1000101",
                "reason_text": "Change of mind",
                "refund_amount": "1290",
                "sla": str(int((NOW + 86400 + n * 60) * 1000)),
                "buyer": {"buyer_id": "77"},
            }
            for n in range(lines)
        ],
    }


def reverse_page(total: int | str, items: list[dict[str, Any]], page_no: int = 1) -> dict[str, Any]:
    """GetReverseOrdersForSeller's answer, under ``result`` as Lazada sends it."""
    result = {"total": str(total), "page_no": str(page_no), "page_size": "10", "success": "true", "items": items}
    return {"code": "0", "result": result, "request_id": "0ba2887315178178017221014"}


@dataclass
class FakeLazada:
    """A Lazada stand-in: checks every signature, records requests, answers per path from queued answers.

    Each path holds a queue of answers; the last one repeats. An answer is an envelope dict, an exception to
    raise (transport failures), or a function building the response.
    """

    answers: dict[str, list[Answer]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    pause: float = 0.0

    def on(self, path: str, *answers: Answer) -> None:
        self.answers[path] = list(answers)

    def calls(self, path: str) -> list[dict[str, str]]:
        return [dict(r.url.params) for r in self.requests if api_path(r) == path]

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params = dict(request.url.params)
        assert len(params) == len(request.url.params.multi_items()), "a parameter was sent twice"
        assert params["sign"] == sign(APP_SECRET, api_path(request), params), "signature does not verify"
        if self.pause:
            await asyncio.sleep(self.pause)
        queue = self.answers[api_path(request)]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return httpx.Response(200, json=answer)


def api_path(request: httpx.Request) -> str:
    return request.url.path.removeprefix("/rest")


@pytest.fixture
def lazada() -> FakeLazada:
    return FakeLazada()


@pytest.fixture
async def http(lazada: FakeLazada) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(lazada.handle)) as client:
        yield client


@pytest.fixture
def store() -> MemoryTokenStore:
    tokens = StoredTokens(
        access_token=SecretStr(ACCESS),
        refresh_token=SecretStr(REFRESH),
        access_expires_at=NOW_DT + timedelta(days=5),
        refresh_expires_at=NOW_DT + timedelta(days=40),
        seller_id="1152180742",
        account="seller@example.com",
        country="sg",
    )
    return MemoryTokenStore({STORE: tokens})


class Clock:
    """An injectable epoch clock the test moves by hand, or the client by sleeping on it."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        """A sleep that takes no real time: it moves this clock."""
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


ClientFactory = Callable[..., LazadaClient]


@pytest.fixture
def make_client(http: httpx.AsyncClient, store: MemoryTokenStore) -> ClientFactory:
    def build(**overrides: Any) -> LazadaClient:
        options: dict[str, Any] = {
            "http": http,
            "base_url": BASE_URL,
            "app_key": APP_KEY,
            "app_secret": SecretStr(APP_SECRET),
            "store_code": STORE,
            "tokens": store,
            "limiter": UnlimitedRateLimiter(),
            "retry": RetryPolicy.off(),
            "clock": Clock(),
            "timeout": 5.0,
        }
        options.update(overrides)
        return LazadaClient(**options)

    return build


# --- wire format ---------------------------------------------------------------------------------------------


async def test_client_sends_a_signed_get_with_system_parameters(lazada: FakeLazada, make_client: ClientFactory) -> None:
    lazada.on("/order/items/get", ok([item(2001), item(2002, "packed")]))

    items = await make_client().get_order_items(order_id=1001)

    [request] = lazada.requests
    assert request.method == "GET"
    assert request.content == b""
    assert str(request.url).startswith("https://api.lazada.sg/rest/order/items/get?")
    params = dict(request.url.params)
    assert set(params) == {"order_id", "app_key", "timestamp", "sign_method", "access_token", "sign"}
    assert params["order_id"] == "1001"
    assert params["app_key"] == APP_KEY
    assert params["sign_method"] == "sha256"
    assert params["access_token"] == ACCESS
    assert params["timestamp"] == "1795000000000"
    assert [one.order_item_id for one in items] == ["2001", "2002"]
    assert items[1].paid_price == Decimal("11.90")


async def test_client_timestamp_is_the_injected_clock_in_milliseconds(
    lazada: FakeLazada, make_client: ClientFactory
) -> None:
    lazada.on("/order/get", ok({"order_id": 1001, "statuses": ["pending"]}))

    await make_client(clock=lambda: 1517820392.123).get_order(order_id=1001)

    assert lazada.calls("/order/get")[0]["timestamp"] == "1517820392123"


async def test_client_sends_each_list_in_its_documented_form(lazada: FakeLazada, make_client: ClientFactory) -> None:
    """String[] lists go quoted, Number[] lists bare (lazada-api.md §1.4), each exactly as the docs write them."""
    lazada.on("/order/reverse/cancel/validate", ok({"tip_type": "warning", "reason_options": []}))
    lazada.on("/order/reverse/cancel/create", ok({"tip_type": "success"}))
    lazada.on("/orders/items/get", ok([]))
    lazada.on(REVERSE_ORDERS, reverse_page(0, []))
    client = make_client()

    await client.validate_cancel(order_id=1001, order_item_ids=[111, "222"])
    await client.init_cancel(order_id=1001, order_item_ids=["111", 222], reason_id="10000021")
    await client.get_multiple_order_items(order_ids=[42922, "32793"])
    await client.get_multiple_order_items(order_ids=["200000000000001"])
    await client.get_reverse_orders()
    await client.get_reverse_orders(request_types=["CANCEL", "RETURN"], reverse_statuses=["REQUEST_INITIATE"])

    assert lazada.calls("/order/reverse/cancel/validate")[0]["order_item_id_list"] == '["111","222"]'
    assert lazada.calls("/order/reverse/cancel/create")[0]["order_item_id_list"] == '["111","222"]'
    assert [c["order_ids"] for c in lazada.calls("/orders/items/get")] == ["[42922,32793]", "[200000000000001]"]
    assert [(c["request_type_list"], c["reverse_status_list"]) for c in lazada.calls(REVERSE_ORDERS)] == [
        ('["CANCEL"]', '["REQUEST_INITIATE"]'),
        ('["CANCEL","RETURN"]', '["REQUEST_INITIATE"]'),
    ]


async def test_client_repack_sends_a_compact_json_object(lazada: FakeLazada, make_client: ClientFactory) -> None:
    result = {"success": "true", "data": {"packages": [{"package_id": "FP1", "item_err_code": "0", "retry": "false"}]}}
    lazada.on("/order/package/repack", {"code": "0", "request_id": "r1", "result": result})

    repacked = await make_client().repack(package_ids=["FP1"])

    assert lazada.calls("/order/package/repack")[0]["rePackReq"] == '{"packages":[{"package_id":"FP1"}]}'
    assert repacked.success
    assert repacked.failed == ()


async def test_client_never_sends_empty_values(lazada: FakeLazada, make_client: ClientFactory) -> None:
    lazada.on("/orders/get", ok({"count": 0, "countTotal": 0, "orders": []}))

    await make_client().get_orders(created_after=datetime(2026, 11, 20, tzinfo=SGT), status="")

    [request] = lazada.requests
    names = set(request.url.params)
    assert "status" not in names
    assert not {"created_before", "update_after", "update_before"} & names
    assert all(value != "" for value in request.url.params.values())


async def test_client_sends_datetimes_as_iso_with_offset(lazada: FakeLazada, make_client: ClientFactory) -> None:
    lazada.on("/orders/get", ok({"count": 0, "countTotal": 0, "orders": []}))

    await make_client().get_orders(
        created_after=datetime(2026, 11, 20, tzinfo=SGT),
        created_before=datetime(2026, 11, 20, 23, 59, 59, 999_000, tzinfo=SGT),
        limit=50,
        offset=100,
    )

    [request] = lazada.requests
    params = dict(request.url.params)
    assert params["created_after"] == "2026-11-20T00:00:00+08:00"
    assert params["created_before"] == "2026-11-20T23:59:59+08:00"
    assert (params["limit"], params["offset"], params["status"]) == ("50", "100", "all")
    assert (params["sort_by"], params["sort_direction"]) == ("created_at", "ASC")
    assert b"%2B08%3A00" in request.url.query


async def test_client_honours_base_url_and_auth_url(lazada: FakeLazada, make_client: ClientFactory) -> None:
    lazada.on("/order/get", ok({"order_id": 1001}))
    lazada.on("/auth/token/create", token_answer(ACCESS, REFRESH, 864000, 4320000))
    client = make_client(base_url="http://127.0.0.1:8123/rest/", auth_url="http://127.0.0.1:8124/rest")

    await client.get_order(order_id=1001)
    await client.create_token(code="0_100200_abc")

    first, second = lazada.requests
    assert (first.url.host, first.url.port, first.url.path) == ("127.0.0.1", 8123, "/rest/order/get")
    assert (second.url.host, second.url.port, second.url.path) == ("127.0.0.1", 8124, "/rest/auth/token/create")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        pytest.param(lambda c: c.get_orders(created_after=datetime(2026, 11, 20)), "timezone", id="naive-datetime"),
        pytest.param(lambda c: c.get_orders(), "created_after or update_after", id="no-lower-bound"),
        pytest.param(lambda c: c.get_orders(created_after=NOW_DT, limit=101), "limit", id="limit-over-100"),
        pytest.param(lambda c: c.get_orders(created_after=NOW_DT, offset=5001), "offset", id="offset-over-5000"),
        pytest.param(lambda c: c.get_multiple_order_items(order_ids=list(range(51))), "at most 50", id="51-orders"),
        pytest.param(lambda c: c.get_multiple_order_items(order_ids=[]), "empty", id="no-orders"),
        pytest.param(lambda c: c.get_multiple_order_items(order_ids=["12a"]), "numeric", id="non-numeric-order"),
        pytest.param(lambda c: c.repack(package_ids=[f"FP{n}" for n in range(21)]), "at most 20", id="21-packages"),
        pytest.param(lambda c: c.validate_cancel(order_id=1, order_item_ids=[]), "empty", id="no-items"),
        pytest.param(
            lambda c: c.init_cancel(order_id=1, order_item_ids=[2], reason_id=" "), "reason_id", id="no-reason"
        ),
    ],
)
async def test_client_refuses_bad_arguments_before_calling(
    lazada: FakeLazada,
    make_client: ClientFactory,
    call: Callable[[LazadaClient], Awaitable[object]],
    match: str,
) -> None:
    with pytest.raises(ValueError, match=match):
        await call(make_client())

    assert lazada.requests == []


# --- answers and errors --------------------------------------------------------------------------------------


async def test_client_validate_cancel_returns_tip_and_reasons(lazada: FakeLazada, make_client: ClientFactory) -> None:
    lazada.on(
        "/order/reverse/cancel/validate",
        ok(
            {
                "tip_content": "SKU stock may be set to 0* after cancellation",
                "tip_type": "warning",
                "reason_options": [
                    {"reason_id": 10000019, "reason_name": "Sourcing Delay"},
                    {"reason_id": "10000021", "reason_name": "Out of Stock"},
                ],
            }
        ),
    )

    validation = await make_client().validate_cancel(order_id=1001, order_item_ids=[2001])

    assert validation.tip_type == "warning"
    assert [(r.reason_id, r.reason_name) for r in validation.reason_options] == [
        ("10000019", "Sourcing Delay"),
        ("10000021", "Out of Stock"),
    ]


async def test_client_init_cancel_returns_tip_and_request_id(lazada: FakeLazada, make_client: ClientFactory) -> None:
    lazada.on(
        "/order/reverse/cancel/create", ok({"tip_content": "The order has been cancelled", "tip_type": "success"})
    )

    accepted = await make_client().init_cancel(order_id=1001, order_item_ids=[2001, 2002], reason_id="10000019")

    assert accepted.tip_type == "success"
    assert accepted.request_id == "0ba2887315178178017221014"
    params = lazada.calls("/order/reverse/cancel/create")[0]
    assert (params["order_id"], params["order_item_id_list"], params["reason_id"]) == (
        "1001",
        '["2001","2002"]',
        "10000019",
    )


async def test_client_code_zero_is_success_whatever_the_http_status(
    lazada: FakeLazada, make_client: ClientFactory
) -> None:
    lazada.on("/order/get", lambda request: httpx.Response(500, json=ok({"order_id": 1001})))

    order = await make_client().get_order(order_id=1001)

    assert order.order_id == "1001"


async def test_client_code_zero_with_error_tip_is_a_business_error(
    lazada: FakeLazada, make_client: ClientFactory
) -> None:
    tip = "Order item 2001 is shipped and cannot be cancelled."
    lazada.on("/order/reverse/cancel/create", ok({"tip_content": tip, "tip_type": "error"}))

    with pytest.raises(LazadaBusinessError) as caught:
        await make_client().init_cancel(order_id=1001, order_item_ids=[2001], reason_id="10000019")

    assert caught.value.user_message == tip
    assert caught.value.code == "0"
    assert caught.value.tip_type == "error"
    assert caught.value.api_path == "/order/reverse/cancel/create"


@dataclass(frozen=True)
class Mapped:
    answer: Answer
    error: type[LazadaError]
    code: str | None = None
    check: Callable[[Any], bool] = lambda error: True


ERROR_CASES = {
    "malformed-json": Mapped(raw(200, b"<html>502 Bad Gateway</html>"), LazadaDecodeError),
    "json-not-an-object": Mapped(raw(200, b'["code", "0"]', "application/json"), LazadaDecodeError),
    "json-without-code": Mapped(raw(200, b'{"data": []}', "application/json"), LazadaDecodeError),
    "wrong-shape": Mapped(ok({"not": "a list"}), LazadaDecodeError),
    "item-without-id": Mapped(ok([{"status": "pending"}]), LazadaDecodeError),
    "http-502": Mapped(raw(502, b"<html>Bad Gateway</html>"), LazadaServerError),
    "http-503-json-no-envelope": Mapped(raw(503, b"{}", "application/json"), LazadaServerError),
    "service-timeout": Mapped(
        fail("ServiceTimeout", "The request has failed due to timeout", "ISP"), LazadaServerError
    ),
    "campaign-998": Mapped(
        fail("998", "To ensure stability of service, this API service is disabled", "ISP"),
        LazadaServerError,
        "998",
        lambda error: "campaign" in error.user_message,
    ),
    "roc-internal": Mapped(fail("106", "E0106: ROC internal error"), LazadaServerError, "106"),
    "wrapper-500": Mapped(fail("500", "Internal error", "SYSTEM"), LazadaServerError, "500"),
    "unknown-system": Mapped(fail("InternalError", "boom", "SYSTEM"), LazadaServerError),
    "api-call-limit": Mapped(
        fail("ApiCallLimit", "Api access frequency exceeds the limit. this ban will last 3 seconds"),
        LazadaRateLimitedError,
        "ApiCallLimit",
        lambda error: error.retry_after == 3.0,
    ),
    "api-call-limit-no-number": Mapped(
        fail("ApiCallLimit", "Api access frequency exceeds the limit."),
        LazadaRateLimitedError,
        "ApiCallLimit",
        lambda error: error.retry_after == 1.0,
    ),
    "illegal-refresh-token": Mapped(
        fail("IllegalRefreshToken", "refresh token invalid"), LazadaAuthError, "IllegalRefreshToken"
    ),
    "incomplete-signature": Mapped(
        fail("IncompleteSignature", "The request signature does not conform to lazop standards"),
        LazadaAuthError,
        "IncompleteSignature",
        lambda error: not error.refreshable and "app key" in error.user_message,
    ),
    "missing-sign": Mapped(
        fail("MissingParameter", 'The input parameter "sign" that is mandatory for processing is not supplied'),
        LazadaAuthError,
        "MissingParameter",
    ),
    "missing-business-parameter": Mapped(
        fail("MissingParameter", 'The input parameter "order_id" that is mandatory is not supplied'),
        LazadaBusinessError,
        "MissingParameter",
    ),
    "invalid-order-16": Mapped(
        fail("16", 'E016: "1001" Invalid Order ID'),
        LazadaBusinessError,
        "16",
        lambda error: (
            error.user_message
            == 'Lazada does not know this order in this store. Lazada says: “E016: "1001" Invalid Order ID”'
        ),
    ),
    "invalid-lines-123": Mapped(fail("123", "E0123: invalid trade order lines 2009"), LazadaBusinessError, "123"),
    "unknown-isv": Mapped(
        fail("SomethingNew", "Something new went wrong"),
        LazadaBusinessError,
        "SomethingNew",
        lambda error: error.user_message == "Lazada refused the request. Lazada says: “Something new went wrong”",
    ),
    "connect-error": Mapped(
        httpx.ConnectError("[Errno 111] Connection refused"),
        LazadaTransportError,
        None,
        lambda error: not error.timed_out and not error.request_sent,
    ),
    "read-timeout": Mapped(
        httpx.ReadTimeout("timed out"),
        LazadaTransportError,
        None,
        lambda error: error.timed_out and error.request_sent,
    ),
    "connection-reset": Mapped(
        httpx.ReadError("[Errno 104] Connection reset by peer"),
        LazadaTransportError,
        None,
        lambda error: not error.timed_out and error.request_sent,
    ),
}


@pytest.mark.parametrize("case", ERROR_CASES.values(), ids=ERROR_CASES.keys())
async def test_client_maps_each_failure_to_its_error(
    lazada: FakeLazada, make_client: ClientFactory, case: Mapped
) -> None:
    lazada.on("/order/items/get", case.answer)

    with pytest.raises(LazadaError) as caught:
        await make_client().get_order_items(order_id=1001)

    error = caught.value
    assert type(error) is case.error
    assert error.api_path == "/order/items/get"
    if case.code is not None:
        assert error.code == case.code
    assert case.check(error)
    # The bot's sentence, then Lazada's own words verbatim whenever the answer carried a message (issue 10 point 5).
    assert error.user_message.endswith((".", "”"))
    assert "\n" not in error.user_message
    words = case.answer.get("message") if isinstance(case.answer, dict) else None
    if words:
        assert f"“{words}”" in error.user_message or error.user_message == words


async def test_client_error_keeps_lazada_request_id(lazada: FakeLazada, make_client: ClientFactory) -> None:
    lazada.on("/order/items/get", fail("16", 'E016: "1001" Invalid Order ID'))

    with pytest.raises(LazadaBusinessError) as caught:
        await make_client().get_order_items(order_id=1001)

    assert caught.value.request_id == "0ba2887315178178017221099"
    assert caught.value.lazada_message == 'E016: "1001" Invalid Order ID'
    assert "0ba2887315178178017221099" in str(caught.value)


# --- retries -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(raw(502, b"Bad Gateway"), id="http-502"),
        pytest.param(fail("ServiceTimeout", "timeout", "ISP"), id="service-timeout"),
        pytest.param(httpx.ReadTimeout("timed out"), id="read-timeout"),
        pytest.param(fail("ApiCallLimit", "this ban will last 0 seconds"), id="api-call-limit"),
    ],
)
async def test_client_retries_reads_up_to_the_cap(
    lazada: FakeLazada, make_client: ClientFactory, answer: Answer
) -> None:
    lazada.on("/order/items/get", answer)

    with pytest.raises(LazadaError):
        await make_client(retry=RetryPolicy.without_waits(attempts=4)).get_order_items(order_id=1001)

    assert len(lazada.requests) == 4


async def test_client_retried_read_succeeds_once_lazada_recovers(
    lazada: FakeLazada, make_client: ClientFactory
) -> None:
    lazada.on("/order/items/get", httpx.ConnectError("refused"), raw(502, b""), ok([item(2001)]))

    items = await make_client(retry=RetryPolicy.without_waits(attempts=5)).get_order_items(order_id=1001)

    assert len(items) == 1
    assert len(lazada.requests) == 3


async def test_client_does_not_retry_business_errors(lazada: FakeLazada, make_client: ClientFactory) -> None:
    lazada.on("/order/items/get", fail("16", 'E016: "1001" Invalid Order ID'))

    with pytest.raises(LazadaBusinessError):
        await make_client(retry=RetryPolicy.without_waits(attempts=5)).get_order_items(order_id=1001)

    assert len(lazada.requests) == 1


async def test_client_retry_stops_at_the_total_time_cap(lazada: FakeLazada, make_client: ClientFactory) -> None:
    lazada.on("/order/items/get", raw(502, b""))
    lazada.pause = 0.05
    policy = RetryPolicy(attempts=100, timeout=0.2, wait_initial=0.0, wait_max=0.0, wait_jitter=0.0)

    with pytest.raises(LazadaServerError):
        await make_client(retry=policy).get_order_items(order_id=1001)

    assert 2 <= len(lazada.requests) <= 6


@pytest.fixture
def retry_waits() -> Iterator[list[float]]:
    """The waits stamina schedules between attempts, recorded through its public retry hooks."""
    waits: list[float] = []
    stamina.instrumentation.set_on_retry_hooks([lambda details: waits.append(details.wait_for)])
    try:
        yield waits
    finally:
        stamina.instrumentation.set_on_retry_hooks(None)


async def test_client_rate_limit_waits_exactly_the_announced_ban(
    lazada: FakeLazada, make_client: ClientFactory, retry_waits: list[float]
) -> None:
    ban = fail("ApiCallLimit", "Api access frequency exceeds the limit. this ban will last 1 seconds")
    lazada.on("/order/items/get", ban, ok([item(2001)]))

    clock = Clock()
    client = make_client(
        retry=RetryPolicy.without_waits(attempts=3), clock=clock, limiter=UnlimitedRateLimiter(sleep=clock.sleep)
    )

    items = await client.get_order_items(order_id=1001)

    assert len(items) == 1
    assert clock.slept == [1.0]
    assert retry_waits == [0.0], "stamina adds no wait of its own on top of the ban"
    first, second = (int(params["timestamp"]) for params in lazada.calls("/order/items/get"))
    assert second - first >= 1000


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(raw(502, b"Bad Gateway"), id="http-502"),
        pytest.param(fail("ServiceTimeout", "timeout", "ISP"), id="service-timeout"),
        pytest.param(httpx.ReadTimeout("timed out"), id="read-timeout"),
        pytest.param(httpx.ReadError("connection reset"), id="connection-reset"),
        pytest.param(fail("ApiCallLimit", "this ban will last 0 seconds"), id="api-call-limit"),
        pytest.param(fail("998", "this API service is disabled", "ISP"), id="campaign-998"),
        pytest.param(fail("IllegalAccessToken", "The specified access token is invalid or expired"), id="token"),
    ],
)
@pytest.mark.parametrize("write", ["init_cancel", "repack"])
async def test_client_writes_are_sent_exactly_once(
    lazada: FakeLazada, make_client: ClientFactory, answer: Answer, write: str
) -> None:
    lazada.on("/order/reverse/cancel/create", answer)
    lazada.on("/order/package/repack", answer)
    lazada.on("/auth/token/refresh", token_answer(NEW_ACCESS, NEW_REFRESH, 864000, 4320000))
    client = make_client(retry=RetryPolicy.without_waits(attempts=5))

    send = (
        client.init_cancel(order_id=1001, order_item_ids=[2001], reason_id="10000019")
        if write == "init_cancel"
        else client.repack(package_ids=["FP1"])
    )

    with pytest.raises(LazadaError):
        await send

    assert len(lazada.requests) == 1
    assert lazada.calls("/auth/token/refresh") == []


async def test_client_write_refused_token_is_reported_refreshable(
    lazada: FakeLazada, make_client: ClientFactory
) -> None:
    lazada.on("/order/reverse/cancel/create", fail("IllegalAccessToken", "invalid or expired"))

    with pytest.raises(LazadaAuthError) as caught:
        await make_client().init_cancel(order_id=1001, order_item_ids=[2001], reason_id="10000019")

    assert caught.value.refreshable


async def test_client_repack_partial_failure_names_the_failed_packages(
    lazada: FakeLazada, make_client: ClientFactory
) -> None:
    result = {
        "success": "true",
        "data": {
            "packages": [
                {"package_id": "FP1", "item_err_code": "0", "retry": "false"},
                {"package_id": "FP2", "item_err_code": "600001", "msg": "package not found", "retry": "true"},
            ]
        },
    }
    lazada.on("/order/package/repack", {"code": "0", "request_id": "r1", "result": result})

    with pytest.raises(LazadaBusinessError) as caught:
        await make_client(retry=RetryPolicy.without_waits(5)).repack(package_ids=["FP1", "FP2"])

    error = caught.value
    assert error.failed_package_ids == ("FP2",)
    assert error.code == "600001"
    assert "FP2: package not found" in str(error)
    assert "FP2" in error.user_message
    assert "package not found" in error.user_message
    assert "FP1" not in error.user_message
    assert len(lazada.requests) == 1


async def test_client_repack_batch_failure_names_every_package(lazada: FakeLazada, make_client: ClientFactory) -> None:
    result = {"success": "false", "error_code": "2342", "error_msg": "package not found", "data": {"packages": []}}
    lazada.on("/order/package/repack", {"code": "0", "request_id": "r1", "result": result})

    with pytest.raises(LazadaBusinessError) as caught:
        await make_client().repack(package_ids=["FP1", "FP2"])

    assert caught.value.failed_package_ids == ("FP1", "FP2")
    assert caught.value.code == "2342"


# --- tokens --------------------------------------------------------------------------------------------------


def token_gate(accepted: set[str], body: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    """Answers ``body`` for accepted access tokens and IllegalAccessToken for any other."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("access_token") in accepted:
            return httpx.Response(200, json=body)
        return httpx.Response(200, json=fail("IllegalAccessToken", "The specified access token is invalid or expired"))

    return answer


async def test_client_refreshes_once_and_retries_the_read(
    lazada: FakeLazada, make_client: ClientFactory, store: MemoryTokenStore
) -> None:
    lazada.on("/order/items/get", token_gate({NEW_ACCESS}, ok([item(2001)])))
    lazada.on("/auth/token/refresh", token_answer(NEW_ACCESS, NEW_REFRESH, "864000", "4320000"))
    client = make_client()

    items = await client.get_order_items(order_id=1001)
    await client.get_order_items(order_id=1001)

    assert len(items) == 1
    [refresh] = lazada.calls("/auth/token/refresh")
    assert refresh["refresh_token"] == REFRESH
    assert "access_token" not in refresh
    refresh_request = next(r for r in lazada.requests if api_path(r) == "/auth/token/refresh")
    assert str(refresh_request.url).startswith(AUTH_GATEWAY + "/auth/token/refresh?")
    tokens_sent = [params["access_token"] for params in lazada.calls("/order/items/get")]
    assert tokens_sent == [ACCESS, NEW_ACCESS, NEW_ACCESS]
    saved = await store.load(STORE)
    assert saved is not None
    assert saved.access_token.get_secret_value() == NEW_ACCESS
    assert saved.access_expires_at == NOW_DT + timedelta(seconds=864000)


async def test_client_concurrent_reads_share_one_refresh(
    lazada: FakeLazada, make_client: ClientFactory, store: MemoryTokenStore
) -> None:
    lazada.on("/order/items/get", token_gate({NEW_ACCESS}, ok([item(2001)])))
    lazada.on("/auth/token/refresh", token_answer(NEW_ACCESS, NEW_REFRESH, 864000, 4320000))
    lazada.pause = 0.01
    client = make_client()

    results = await asyncio.gather(*(client.get_order_items(order_id=1001) for _ in range(8)))

    assert all(len(items) == 1 for items in results)
    assert len(lazada.calls("/auth/token/refresh")) == 1
    assert store.saves == 1


async def test_client_adopts_a_token_another_replica_refreshed(
    lazada: FakeLazada, make_client: ClientFactory, store: MemoryTokenStore
) -> None:
    lazada.on("/order/items/get", token_gate({ACCESS}, ok([item(2001)])))
    lazada.on("/auth/token/refresh", token_answer(NEW_ACCESS, NEW_REFRESH, 864000, 4320000))
    replica_a, replica_b = make_client(), make_client()
    await replica_b.get_order_items(order_id=1001)

    await replica_a.refresh_token()
    lazada.on("/order/items/get", token_gate({NEW_ACCESS}, ok([item(2001)])))
    items = await replica_b.get_order_items(order_id=1001)

    assert len(items) == 1
    assert len(lazada.calls("/auth/token/refresh")) == 1
    tokens_sent = [params["access_token"] for params in lazada.calls("/order/items/get")]
    assert tokens_sent == [ACCESS, ACCESS, NEW_ACCESS]


async def test_client_ensure_fresh_sees_a_refresh_made_elsewhere(
    lazada: FakeLazada, make_client: ClientFactory
) -> None:
    lazada.on("/auth/token/refresh", token_answer(NEW_ACCESS, NEW_REFRESH, 864000, 4320000))
    replica_a, replica_b = make_client(), make_client()
    soon = NOW_DT + timedelta(days=4, hours=12)

    refreshed = [
        await replica_a.ensure_fresh(soon, timedelta(days=1)),
        await replica_b.ensure_fresh(soon, timedelta(days=1)),
    ]

    assert refreshed == [True, False]
    assert len(lazada.calls("/auth/token/refresh")) == 1


async def test_client_token_refused_after_refresh_is_not_refreshable(
    lazada: FakeLazada, make_client: ClientFactory
) -> None:
    lazada.on("/order/items/get", token_gate(set(), ok([])))
    lazada.on("/auth/token/refresh", token_answer(NEW_ACCESS, NEW_REFRESH, 864000, 4320000))

    with pytest.raises(LazadaAuthError) as caught:
        await make_client(retry=RetryPolicy.without_waits(5)).get_order_items(order_id=1001)

    assert caught.value.code == "IllegalAccessToken"
    assert not caught.value.refreshable
    assert "re-authorize" in caught.value.user_message
    assert len(lazada.calls("/auth/token/refresh")) == 1
    assert len(lazada.calls("/order/items/get")) == 2


async def test_client_refresh_failure_asks_for_reauthorization(
    lazada: FakeLazada, make_client: ClientFactory, store: MemoryTokenStore
) -> None:
    lazada.on("/order/items/get", token_gate({NEW_ACCESS}, ok([])))
    lazada.on("/auth/token/refresh", fail("IllegalRefreshToken", "refresh token invalid or expired"))
    client = make_client()

    with pytest.raises(LazadaAuthError) as caught:
        await client.get_order_items(order_id=1001)
    with pytest.raises(LazadaAuthError):
        await client.get_order_items(order_id=1001)

    assert not caught.value.refreshable
    assert caught.value.code == "IllegalRefreshToken"
    assert "re-authorize" in caught.value.user_message
    assert len(lazada.calls("/auth/token/refresh")) == 1
    saved = await store.load(STORE)
    assert saved is not None
    assert saved.access_token.get_secret_value() == ACCESS


async def test_client_without_stored_tokens_raises_before_calling(
    lazada: FakeLazada, make_client: ClientFactory
) -> None:
    with pytest.raises(LazadaAuthError) as caught:
        await make_client(tokens=MemoryTokenStore()).get_order_items(order_id=1001)

    assert not caught.value.refreshable
    assert lazada.requests == []


async def test_client_refreshes_a_known_expired_token_before_calling(
    lazada: FakeLazada, make_client: ClientFactory, store: MemoryTokenStore
) -> None:
    lazada.on("/order/reverse/cancel/create", token_gate({NEW_ACCESS}, ok({"tip_type": "success"})))
    lazada.on("/auth/token/refresh", token_answer(NEW_ACCESS, NEW_REFRESH, 864000, 4320000))
    clock = Clock(NOW + 6 * 86400)

    accepted = await make_client(clock=clock).init_cancel(order_id=1001, order_item_ids=[2001], reason_id="1")

    assert accepted.tip_type == "success"
    assert [api_path(r) for r in lazada.requests] == ["/auth/token/refresh", "/order/reverse/cancel/create"]


@pytest.mark.parametrize(("expires_in", "refresh_expires_in"), [(864000, 4320000), ("10", "60")])
async def test_client_create_token_saves_the_grant(
    lazada: FakeLazada,
    make_client: ClientFactory,
    expires_in: int | str,
    refresh_expires_in: int | str,
) -> None:
    lazada.on("/auth/token/create", token_answer(NEW_ACCESS, NEW_REFRESH, expires_in, refresh_expires_in))
    empty = MemoryTokenStore()

    grant = await make_client(tokens=empty).create_token(code="0_100200_code")

    assert grant.expires_in == int(expires_in)
    [params] = lazada.calls("/auth/token/create")
    assert params["code"] == "0_100200_code"
    assert "access_token" not in params
    saved = await empty.load(STORE)
    assert saved is not None
    assert saved.access_token.get_secret_value() == NEW_ACCESS
    assert saved.refresh_token is not None
    assert saved.refresh_token.get_secret_value() == NEW_REFRESH
    assert saved.access_expires_at == NOW_DT + timedelta(seconds=int(expires_in))
    assert saved.refresh_expires_at == NOW_DT + timedelta(seconds=int(refresh_expires_in))
    assert (saved.seller_id, saved.account, saved.country) == ("1152180742", "seller@example.com", "sg")


async def test_client_create_token_invalid_code(lazada: FakeLazada, make_client: ClientFactory) -> None:
    lazada.on("/auth/token/create", fail("InvalidCode", "Invalid authorization code", "ISP"))

    with pytest.raises(LazadaAuthError) as caught:
        await make_client(retry=RetryPolicy.without_waits(5)).create_token(code="0_100200_used")

    assert caught.value.code == "InvalidCode"
    assert not caught.value.refreshable
    assert len(lazada.requests) == 1


@pytest.mark.parametrize(("expires_in", "seconds"), [(864000, 864000), ("60", 60)])
async def test_client_refresh_token_saves_the_grant(
    lazada: FakeLazada,
    make_client: ClientFactory,
    store: MemoryTokenStore,
    expires_in: int | str,
    seconds: int,
) -> None:
    lazada.on("/auth/token/refresh", token_answer(NEW_ACCESS, NEW_REFRESH, expires_in, "4320000"))

    grant = await make_client().refresh_token()

    assert grant.access_token.get_secret_value() == NEW_ACCESS
    saved = await store.load(STORE)
    assert saved is not None
    assert saved.access_token.get_secret_value() == NEW_ACCESS
    assert saved.access_expires_at == NOW_DT + timedelta(seconds=seconds)


async def test_client_ensure_fresh_refreshes_only_within_the_margin(
    lazada: FakeLazada, make_client: ClientFactory
) -> None:
    lazada.on("/auth/token/refresh", token_answer(NEW_ACCESS, NEW_REFRESH, 864000, 4320000))
    client = make_client()

    early = await client.ensure_fresh(NOW_DT, timedelta(days=1))
    late = await client.ensure_fresh(NOW_DT + timedelta(days=4, hours=12), timedelta(days=1))

    assert (early, late) == (False, True)
    assert len(lazada.calls("/auth/token/refresh")) == 1


async def test_client_records_success_at_most_once_a_minute(
    lazada: FakeLazada, make_client: ClientFactory, store: MemoryTokenStore
) -> None:
    lazada.on("/order/get", ok({"order_id": 1001}))
    clock = Clock()
    client = make_client(clock=clock)

    for step in (0, 10, 59):
        clock.now = NOW + step
        await client.get_order(order_id=1001)
    clock.now = NOW + 61
    await client.get_order(order_id=1001)

    assert store.successes(STORE) == (NOW_DT, NOW_DT + timedelta(seconds=61))


# --- paging --------------------------------------------------------------------------------------------------


class OrderBook:
    """Serves GetOrders like Lazada: inclusive created_after, ASC/DESC, limit ≤ 100, error 14 past offset 5000."""

    def __init__(self, count: int) -> None:
        start = datetime(2026, 11, 1, tzinfo=SGT)
        # three orders share each second, so moving the bound lands inside a group of equal timestamps
        self.orders = [
            {
                "order_id": 500_000_000_000 + n,
                "order_number": 300_000_000_000 + n,
                "created_at": (start + timedelta(seconds=n // 3)).strftime("%Y-%m-%d %H:%M:%S %z"),
                "updated_at": (start + timedelta(seconds=n // 3, hours=1)).strftime("%Y-%m-%d %H:%M:%S %z"),
                "statuses": ["delivered"],
                "items_count": 1,
                "price": "10.00",
            }
            for n in range(count)
        ]
        self._created = [start + timedelta(seconds=n // 3) for n in range(count)]
        self.offsets: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        offset, limit = int(params["offset"]), int(params["limit"])
        self.offsets.append(offset)
        if offset > 5000:
            return httpx.Response(200, json=fail("14", "E014: Invalid Offset"))
        after = datetime.fromisoformat(params["created_after"])
        matching = [order for order, created in zip(self.orders, self._created, strict=True) if created >= after]
        if params["sort_direction"] == "DESC":
            matching.reverse()
        page = matching[offset : offset + limit]
        return httpx.Response(200, json=ok({"count": len(page), "countTotal": len(matching), "orders": page}))


async def test_client_iter_orders_pages_past_the_offset_cap(lazada: FakeLazada, make_client: ClientFactory) -> None:
    book = OrderBook(5_432)
    lazada.on("/orders/get", book)

    seen = [
        order.order_id async for order in make_client().iter_orders(created_after=datetime(2026, 11, 1, tzinfo=SGT))
    ]

    assert seen == [str(o["order_id"]) for o in book.orders]
    assert max(book.offsets) == 5000
    assert book.offsets.count(0) == 2
    moved = [p["created_after"] for p in lazada.calls("/orders/get")]
    assert len(set(moved)) == 2


async def test_client_get_orders_reads_count_total(lazada: FakeLazada, make_client: ClientFactory) -> None:
    lazada.on("/orders/get", OrderBook(150))

    page = await make_client().get_orders(created_after=datetime(2026, 11, 1, tzinfo=SGT), limit=100, offset=100)

    assert (page.count, page.count_total, len(page.orders)) == (50, 150, 50)
    first = page.orders[0].created_at
    assert first is not None
    assert first.utcoffset() == timedelta(hours=8)


# --- secrets -------------------------------------------------------------------------------------------------


def leaky(request: httpx.Request) -> httpx.Response:
    """An error whose message echoes the request's secrets back, the worst case for logs and exceptions."""
    query = request.url.query.decode()
    params = dict(request.url.params)
    message = f"bad request {query} token {params.get('access_token')} sign {params['sign']} secret {APP_SECRET}"
    return httpx.Response(200, json=fail("16", message))


async def test_client_never_puts_secrets_in_errors_or_logs(
    lazada: FakeLazada, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    lazada.on("/order/items/get", leaky)
    lazada.on("/order/get", token_gate({NEW_ACCESS}, ok({"order_id": 1})))
    lazada.on("/auth/token/refresh", fail("IllegalRefreshToken", f"refresh token {REFRESH} is invalid"))
    lazada.on("/orders/items/get", httpx.ConnectError(f"cannot connect for {ACCESS}"))
    lazada.on("/order/reverse/cancel/validate", ok({"tip_content": f"tip {ACCESS}", "tip_type": "error"}))
    client = make_client(retry=RetryPolicy.without_waits(2))
    caplog.set_level(logging.DEBUG)

    errors: list[LazadaError] = []
    with capture_logs() as events:
        for call in (
            client.get_order_items(order_id=1001),
            client.get_order(order_id=1001),
            client.get_multiple_order_items(order_ids=[1001]),
            client.validate_cancel(order_id=1001, order_item_ids=[1]),
        ):
            with pytest.raises(LazadaError) as caught:
                await call
            errors.append(caught.value)

    signs = [params["sign"] for params in (dict(r.url.params) for r in lazada.requests)]
    texts = [text for error in errors for text in (str(error), repr(error), error.user_message)]
    texts += [caplog.text, json.dumps(events, default=str), repr(client)]
    assert "HTTP Request: GET" in caplog.text
    assert len(events) >= 4
    for text in texts:
        for secret in (*SECRETS, *signs):
            assert secret not in text


# --- buyer cancellation requests (issue 11) ------------------------------------------------------------------


async def test_client_lists_open_buyer_cancel_requests_with_the_documented_params(
    lazada: FakeLazada, make_client: ClientFactory
) -> None:
    lazada.on(REVERSE_ORDERS, reverse_page(1, [reverse_request(5001, lines=2)]))

    page = await make_client().get_reverse_orders()

    (params,) = lazada.calls(REVERSE_ORDERS)
    assert {name: params[name] for name in ("page_no", "page_size", "request_type_list", "reverse_status_list")} == {
        "page_no": "1",
        "page_size": "10",
        "request_type_list": '["CANCEL"]',
        "reverse_status_list": '["REQUEST_INITIATE"]',
    }
    assert "reverse_order_id" not in params
    assert "trade_order_id" not in params
    (request,) = page.items
    assert (request.reverse_order_id, request.trade_order_id, request.order_item_ids) == (
        "5001",
        "1001",
        ("2001", "2002"),
    )
    assert request.deadline == NOW_DT + timedelta(days=1), "the earliest line's sla, epoch ms read as UTC"
    assert request.deadline is not None
    assert request.deadline.tzinfo is UTC
    assert (request.is_open, request.is_closed, request.reverse_status) == (True, False, "REQUEST_INITIATE")
    line = request.reverse_order_lines[0]
    assert (line.refund_amount, line.buyer_id, line.reason_text) == (1290, "77", "Change of mind")


@pytest.mark.parametrize(
    ("statuses", "summary", "is_open", "is_closed"),
    [
        (["CANCEL_SUCCESS", "CANCEL_SUCCESS"], "CANCEL_SUCCESS", False, True),
        (["REQUEST_REJECT"], "REQUEST_REJECT", False, True),
        (["REQUEST_REJECT", "REQUEST_INITIATE"], "REQUEST_INITIATE", True, False),
        (["REQUEST_REJECT", "CANCEL_SUCCESS"], "CANCEL_SUCCESS", False, True),
        (["SOMETHING_NEW"], "SOMETHING_NEW", False, False),
        (["null"], None, False, False),
    ],
)
async def test_client_sums_up_a_requests_lines(
    lazada: FakeLazada,
    make_client: ClientFactory,
    statuses: list[str],
    summary: str | None,
    is_open: bool,
    is_closed: bool,
) -> None:
    raw = reverse_request(5001, lines=len(statuses))
    for line, status in zip(raw["reverse_order_lines"], statuses, strict=True):
        line["reverse_status"] = status
    lazada.on(REVERSE_ORDERS, reverse_page(1, [raw]))

    (request,) = (await make_client().get_reverse_orders()).items

    assert (request.reverse_status, request.is_open, request.is_closed) == (summary, is_open, is_closed)


async def test_client_pages_every_open_request_until_the_total(lazada: FakeLazada, make_client: ClientFactory) -> None:
    pages = [
        reverse_page(23, [reverse_request(5000 + n) for n in range(10)], 1),
        reverse_page(23, [reverse_request(5010 + n) for n in range(10)], 2),
        reverse_page(23, [reverse_request(5020 + n) for n in range(3)], 3),
    ]
    lazada.on(REVERSE_ORDERS, *pages)

    found = await make_client().open_buyer_cancel_requests()

    assert [request.reverse_order_id for request in found] == [str(5000 + n) for n in range(23)]
    assert [c["page_no"] for c in lazada.calls(REVERSE_ORDERS)] == ["1", "2", "3"]


async def test_client_paging_stops_at_the_total_without_an_empty_page(
    lazada: FakeLazada, make_client: ClientFactory
) -> None:
    lazada.on(
        REVERSE_ORDERS,
        reverse_page(20, [reverse_request(5000 + n) for n in range(10)], 1),
        reverse_page(20, [reverse_request(5010 + n) for n in range(10)], 2),
        reverse_page(20, [], 3),
    )

    found = await make_client().open_buyer_cancel_requests()

    assert len(found) == 20
    assert len(lazada.calls(REVERSE_ORDERS)) == 2


async def test_client_paging_without_a_total_goes_on_to_a_short_page_and_keeps_each_request_once(
    lazada: FakeLazada, make_client: ClientFactory
) -> None:
    # A request that moved while paging shows on two pages; a missing total is "not said", not zero.
    lazada.on(
        REVERSE_ORDERS,
        reverse_page("", [reverse_request(5000 + n) for n in range(10)], 1),
        reverse_page("null", [reverse_request(5009 + n) for n in range(10)], 2),
        reverse_page("", [reverse_request(5019)], 3),
    )

    found = await make_client().open_buyer_cancel_requests()

    assert [request.reverse_order_id for request in found] == [str(5000 + n) for n in range(20)]
    assert len(lazada.calls(REVERSE_ORDERS)) == 3


async def test_client_paging_is_bounded(lazada: FakeLazada, make_client: ClientFactory) -> None:
    lazada.on(REVERSE_ORDERS, reverse_page(10**6, [reverse_request(5000 + n) for n in range(10)]))

    with capture_logs() as logs:
        found = await make_client().open_buyer_cancel_requests(max_pages=4)

    assert len(lazada.calls(REVERSE_ORDERS)) == 4
    assert len(found) == 10
    assert [log["event"] for log in logs if log["log_level"] == "warning"] == ["lazada.reverse_orders_page_cap"]


async def test_client_skips_an_unreadable_request_and_names_it(lazada: FakeLazada, make_client: ClientFactory) -> None:
    broken = reverse_request(5002)
    del broken["reverse_order_lines"][0]["trade_order_line_id"]
    lazada.on(REVERSE_ORDERS, reverse_page(3, [reverse_request(5001), broken, {"request_type": "CANCEL"}]))

    page = await make_client().get_reverse_orders()

    assert [request.reverse_order_id for request in page.items] == ["5001"]
    assert page.unreadable == ("5002", "entry 3")


async def test_client_listing_that_did_not_succeed_is_a_retried_server_error(
    lazada: FakeLazada, make_client: ClientFactory
) -> None:
    failed = reverse_page(0, [])
    failed["result"]["success"] = "false"
    lazada.on(REVERSE_ORDERS, failed, reverse_page(1, [reverse_request(5001)]))

    page = await make_client(retry=RetryPolicy.without_waits(attempts=3)).get_reverse_orders()
    assert [request.reverse_order_id for request in page.items] == ["5001"]

    lazada.on(REVERSE_ORDERS, failed)
    with pytest.raises(LazadaServerError) as caught:
        await make_client().get_reverse_orders()
    assert caught.value.user_message == "Lazada is having a temporary problem; please try again in a few minutes."


async def test_client_reads_one_request_back_by_id_whatever_its_status(
    lazada: FakeLazada, make_client: ClientFactory
) -> None:
    lazada.on(REVERSE_ORDERS, reverse_page(2, [reverse_request(5009), reverse_request(5001, status="CANCEL_SUCCESS")]))
    client = make_client()

    request = await client.get_reverse_order("5001")

    (params,) = lazada.calls(REVERSE_ORDERS)
    assert params["reverse_order_id"] == "5001"
    assert "reverse_status_list" not in params
    assert "request_type_list" not in params
    assert request is not None
    assert request.reverse_status == "CANCEL_SUCCESS"
    lazada.on(REVERSE_ORDERS, reverse_page(0, []))
    assert await client.get_reverse_order(5002) is None


async def test_client_reads_refusal_reasons_tolerantly(lazada: FakeLazada, make_client: ClientFactory) -> None:
    lazada.on(
        REVERSE_REASONS,
        ok(
            [
                {"reason_id": 1000201, "text": "Already packed", "muti_language_text": "Sudah dikemas"},
                {"reason_id": "1000202", "text": "null", "muti_language_text": "Buyer agreed to keep it"},
                {"reason_id": "", "text": "no id"},
                "junk",
                {"reason_id": "1000203", "text": "", "muti_language_text": ""},
            ]
        ),
    )
    client = make_client()

    reasons = await client.refusal_reasons(reverse_order_line_id="50011")

    assert lazada.calls(REVERSE_REASONS)[0]["reverse_order_line_id"] == "50011"
    assert [(r.reason_id, r.text) for r in reasons] == [
        ("1000201", "Already packed"),
        ("1000202", "Buyer agreed to keep it"),
    ]
    lazada.on(REVERSE_REASONS, ok(None))
    assert await client.refusal_reasons(reverse_order_line_id=50011) == ()


async def test_client_no_refusal_reasons_is_a_business_error(lazada: FakeLazada, make_client: ClientFactory) -> None:
    lazada.on(REVERSE_REASONS, fail("119", "cannot find any cancel reasons for these orders"))

    with pytest.raises(LazadaBusinessError) as caught:
        await make_client(retry=RetryPolicy.without_waits(attempts=3)).refusal_reasons(reverse_order_line_id=50011)

    assert caught.value.user_message == (
        "Lazada has no refusal reasons for this buyer cancellation request. "
        "Lazada says: “cannot find any cancel reasons for these orders”"
    )
    assert len(lazada.requests) == 1


@pytest.mark.parametrize(("agree", "reason_code", "expected"), [(True, None, "true"), (False, "1000201", "false")])
async def test_client_decides_a_buyer_request_with_the_documented_params(
    lazada: FakeLazada, make_client: ClientFactory, agree: bool, reason_code: str | None, expected: str
) -> None:
    lazada.on(DECIDE, {"code": "0", "request_id": "0ba2887315178178017221777"})

    request_id = await make_client().decide_buyer_cancel(reverse_order_id=5001, agree=agree, reason_code=reason_code)

    assert request_id == "0ba2887315178178017221777"
    (params,) = lazada.calls(DECIDE)
    sent = {name: params[name] for name in ("reverse_order_id", "agree_cancel", "reason_code") if name in params}
    assert sent == {
        "reverse_order_id": "5001",
        "agree_cancel": expected,
        **({"reason_code": reason_code} if reason_code else {}),
    }


@pytest.mark.parametrize(
    ("call", "match"),
    [
        pytest.param({"agree": False}, "needs a reason_code", id="refusing-without-a-reason"),
        pytest.param({"agree": False, "reason_code": " "}, "needs a reason_code", id="refusing-with-a-blank-reason"),
        pytest.param({"agree": True, "reason_code": "1000201"}, "takes no reason_code", id="accepting-with-a-reason"),
        pytest.param({"agree": False, "reason_code": "out-of-stock"}, "numeric", id="non-numeric-reason"),
        pytest.param({"agree": True, "reverse_order_id": "R-5001"}, "numeric", id="non-numeric-id"),
    ],
)
async def test_client_refuses_a_wrong_decision_before_calling(
    lazada: FakeLazada, make_client: ClientFactory, call: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        await make_client().decide_buyer_cancel(**{"reverse_order_id": 5001, **call})

    assert lazada.requests == []


DECIDE_FAILURES = {
    "roc-internal-106": (fail("106", "E0106: ROC internal error", "ISP"), LazadaServerError, True),
    "no-decision-131": (fail("131", "E0131: no decision for this reverse order"), LazadaBusinessError, False),
    "invalid-id-105": (fail("105", "E0105: reverse order id is empty or invalid"), LazadaBusinessError, False),
    "no-seller-116": (fail("116", "E0116: no seller id"), LazadaBusinessError, False),
    "http-502": (raw(502, b"Bad Gateway"), LazadaServerError, True),
    "service-timeout": (fail("ServiceTimeout", "timeout", "ISP"), LazadaServerError, True),
    "read-timeout": (httpx.ReadTimeout("timed out"), LazadaTransportError, True),
    "connection-reset": (httpx.ReadError("connection reset"), LazadaTransportError, True),
    "connect-error": (httpx.ConnectError("refused"), LazadaTransportError, False),
    "malformed": (raw(200, b"<html>"), LazadaDecodeError, True),
    "code-0-error-tip": (ok({"tip_type": "error", "tip_content": "try later"}), LazadaBusinessError, True),
    "api-call-limit": (fail("ApiCallLimit", "this ban will last 1 seconds"), LazadaRateLimitedError, False),
    "token": (fail("IllegalAccessToken", "The specified access token is invalid or expired"), LazadaAuthError, False),
}


@pytest.mark.parametrize(("answer", "error", "unknown"), DECIDE_FAILURES.values(), ids=DECIDE_FAILURES.keys())
async def test_client_decision_is_sent_once_and_says_whether_its_outcome_is_unknown(
    lazada: FakeLazada, make_client: ClientFactory, answer: Answer, error: type[LazadaError], unknown: bool
) -> None:
    lazada.on(DECIDE, answer)
    lazada.on("/auth/token/refresh", token_answer(NEW_ACCESS, NEW_REFRESH, 864000, 4320000))

    with pytest.raises(LazadaError) as caught:
        await make_client(retry=RetryPolicy.without_waits(attempts=5)).decide_buyer_cancel(
            reverse_order_id=5001, agree=False, reason_code="1000201"
        )

    assert type(caught.value) is error
    assert caught.value.outcome_unknown is unknown
    assert len(lazada.requests) == 1, "a decision is a write: sent once, never retried, no refresh-and-resend"
    message = caught.value.user_message
    assert ("reads it back before ever sending it again" in message) is unknown
    words = answer.get("message") if isinstance(answer, dict) else None
    if words and isinstance(caught.value, LazadaBusinessError | LazadaServerError):
        assert message.endswith(f"Lazada says: “{words}”")


async def test_client_131_tells_the_person_the_request_awaits_no_decision(
    lazada: FakeLazada, make_client: ClientFactory
) -> None:
    lazada.on(DECIDE, fail("131", "E0131: no decision for this reverse order"))

    with pytest.raises(LazadaBusinessError) as caught:
        await make_client().decide_buyer_cancel(reverse_order_id=5001, agree=True)

    assert caught.value.user_message == (
        "Lazada says this buyer cancellation request no longer awaits a decision (already answered or closed). "
        "Lazada says: “E0131: no decision for this reverse order”"
    )


class RecordingLimiter(UnlimitedRateLimiter):
    """Records the API each call was paced under."""

    def __init__(self) -> None:
        super().__init__()
        self.apis: list[str] = []

    async def acquire(self, api: str = "") -> float:
        self.apis.append(api)
        return await super().acquire(api)


async def test_client_paces_each_reverse_api_under_its_own_path(lazada: FakeLazada, make_client: ClientFactory) -> None:
    lazada.on(REVERSE_ORDERS, reverse_page(0, []))
    lazada.on(REVERSE_REASONS, ok([]))
    lazada.on(DECIDE, {"code": "0", "request_id": "r"})
    limiter = RecordingLimiter()
    client = make_client(limiter=limiter)

    await client.open_buyer_cancel_requests()
    await client.refusal_reasons(reverse_order_line_id=1)
    await client.decide_buyer_cancel(reverse_order_id=1, agree=True)

    assert limiter.apis == [REVERSE_ORDERS, REVERSE_REASONS, DECIDE]
    per_api = RateLimiter(10, bucket=APP_KEY, per_api=True)
    buckets = {per_api._bucket_of(api) for api in limiter.apis}
    assert len(buckets) == 3, "one budget row per API"
    assert all(len(bucket) <= 255 for bucket in buckets), "the budget table's bucket column holds 255 characters"
