"""The real LazadaClient against the real sandbox in process: every error class, every retry rule, the happy paths."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

import httpx
import pytest
import stamina.instrumentation
from pydantic import SecretStr
from structlog.testing import capture_logs

from bot.lazada.client import MAX_ORDERS_OFFSET, LazadaClient, RetryPolicy
from bot.lazada.errors import (
    LazadaAuthError,
    LazadaBusinessError,
    LazadaDecodeError,
    LazadaError,
    LazadaRateLimitedError,
    LazadaServerError,
    LazadaTransportError,
)
from bot.lazada.limiter import UnlimitedRateLimiter
from bot.lazada.tokens import MemoryTokenStore, StoredTokens
from cancel_order_bot.sandbox import (
    REASON_OPTIONS,
    SANDBOX_BASE_URL,
    FaultKind,
    ItemSpec,
    Order,
    SandboxTransport,
    SandboxWorld,
    generate_history,
)
from tests.sandbox.support import ManualClock

STORE = "SG-MAIN"
ITEMS = "/order/items/get"
MULTI_ITEMS = "/orders/items/get"
ORDERS = "/orders/get"
VALIDATE = "/order/reverse/cancel/validate"
CREATE = "/order/reverse/cancel/create"
REPACK = "/order/package/repack"
REFRESH = "/auth/token/refresh"
TOKEN_CREATE = "/auth/token/create"
SELLER = "cancellation-seller"
UNKNOWN_PACKAGE = "FP9999999999999"
SECRET_PARAMS = ("access_token", "refresh_token", "code", "sign")


@dataclass
class Sandbox:
    """One sandbox world behind an httpx client, with the token store and every request the client sent."""

    world: SandboxWorld
    clock: ManualClock
    http: httpx.AsyncClient
    store: MemoryTokenStore
    sent: list[httpx.Request] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)

    async def wait(self, seconds: float) -> None:
        """The client's sleep: no real time passes, the world's clock moves instead."""
        self.waits.append(seconds)
        self.clock.advance(seconds=seconds)
        await asyncio.sleep(0)

    def client(self, *, retry: RetryPolicy | None = None, app_secret: SecretStr | None = None) -> LazadaClient:
        """A client of this sandbox; retries are off unless ``retry`` says otherwise."""
        return LazadaClient(
            http=self.http,
            base_url=SANDBOX_BASE_URL,
            auth_url=SANDBOX_BASE_URL,
            app_key=self.world.app_key,
            app_secret=app_secret or self.world.app_secret,
            store_code=STORE,
            tokens=self.store,
            limiter=UnlimitedRateLimiter(sleep=self.wait),
            retry=retry or RetryPolicy.off(),
            clock=lambda: self.clock().timestamp(),
        )

    def log(self) -> list[tuple[str, str | None]]:
        """The sandbox's call log as ``(path, code)``: ``None`` when a network fault swallowed the answer."""
        return [(call.path, call.code) for call in self.world.calls]

    def sent_params(self, path: str) -> list[dict[str, str]]:
        """The query parameters of every request the client sent to API ``path``, signed."""
        return [dict(r.url.params) for r in self.sent if r.url.path.removeprefix("/rest") == path]

    def secrets(self) -> set[str]:
        """Every secret that went over the wire: app secret, tokens, auth codes and signatures."""
        found = {self.world.app_secret.get_secret_value(), self.world.access_token, self.world.refresh_token}
        for request in self.sent:
            found.update(value for name, value in request.url.params.multi_items() if name in SECRET_PARAMS)
        return found


@contextlib.asynccontextmanager
async def open_sandbox(*, country: str = "sg", authorized: bool = True) -> AsyncIterator[Sandbox]:
    """A fresh world on a manual clock, and (unless ``authorized`` is False) its tokens in the store."""
    clock = ManualClock()
    world = SandboxWorld(country=country, now=clock)
    now = world.now()
    initial = {}
    if authorized:
        initial[STORE] = StoredTokens(
            access_token=SecretStr(world.access_token),
            refresh_token=SecretStr(world.refresh_token),
            access_expires_at=now + timedelta(days=10),
            refresh_expires_at=now + timedelta(days=50),
            seller_id=world.seller_id,
            country=country,
        )
    sent: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request)

    transport = SandboxTransport(world)
    async with httpx.AsyncClient(transport=transport, event_hooks={"request": [record]}) as http:
        yield Sandbox(world=world, clock=clock, http=http, store=MemoryTokenStore(initial), sent=sent)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with open_sandbox() as opened:
        yield opened


@pytest.fixture
def retry_waits() -> Iterator[list[float]]:
    """The waits stamina schedules between attempts, through its public retry hooks."""
    waits: list[float] = []
    stamina.instrumentation.set_on_retry_hooks([lambda details: waits.append(details.wait_for)])
    try:
        yield waits
    finally:
        stamina.instrumentation.set_on_retry_hooks(None)


def item_ids(order: Order) -> list[int]:
    return [item.order_item_id for item in order.items]


def reason_id(world: SandboxWorld, name: str) -> str:
    return next(option.reason_id for option in REASON_OPTIONS[world.country] if option.reason_name == name)


# --- transport errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "timed_out", "user_message"),
    [
        (FaultKind.TIMEOUT, True, "Lazada did not answer in time; please try again in a few minutes."),
        (FaultKind.CONNECTION_RESET, False, "The bot could not reach Lazada; please try again in a few minutes."),
    ],
)
async def test_client_network_fault_is_a_transport_error(
    sandbox: Sandbox, kind: FaultKind, timed_out: bool, user_message: str
) -> None:
    order = sandbox.world.add_order([ItemSpec()])
    sandbox.world.faults.inject(kind, path=ITEMS)

    with pytest.raises(LazadaTransportError) as caught:
        await sandbox.client().get_order_items(order_id=order.order_id)

    error = caught.value
    assert (error.timed_out, error.request_sent, error.retryable) == (timed_out, True, True)
    assert error.api_path == ITEMS
    assert error.user_message == user_message
    assert sandbox.log() == [(ITEMS, None)]


# --- rate limits ---------------------------------------------------------------------------------------------


async def test_client_rate_limited_without_retries_reports_the_announced_wait(sandbox: Sandbox) -> None:
    order = sandbox.world.add_order([ItemSpec()])
    sandbox.world.faults.inject(FaultKind.API_CALL_LIMIT, path=ITEMS)

    with pytest.raises(LazadaRateLimitedError) as caught:
        await sandbox.client().get_order_items(order_id=order.order_id)

    assert caught.value.retry_after == 1.0
    assert caught.value.code == "ApiCallLimit"
    assert caught.value.retryable
    assert sandbox.log() == [(ITEMS, "ApiCallLimit")]


async def test_client_read_waits_out_the_sandboxs_own_rate_limit(sandbox: Sandbox) -> None:
    world = sandbox.world
    order = world.add_order([ItemSpec()])
    world.rate_limit = 1
    client = sandbox.client(retry=RetryPolicy.without_waits(3))
    await client.get_order_items(order_id=order.order_id)

    items = await client.get_order_items(order_id=order.order_id)

    assert [item.order_item_id for item in items] == [str(order.items[0].order_item_id)]
    assert sandbox.waits == [1.0]
    _, banned, served = world.calls
    assert served.at - banned.at >= timedelta(seconds=1)
    assert sandbox.log() == [(ITEMS, "0"), (ITEMS, "ApiCallLimit"), (ITEMS, "0")]


async def test_client_read_gives_up_when_the_ban_outlasts_its_attempts(
    sandbox: Sandbox, retry_waits: list[float]
) -> None:
    order = sandbox.world.add_order([ItemSpec()])
    sandbox.world.faults.inject(FaultKind.API_CALL_LIMIT, path=ITEMS, times=5)

    with pytest.raises(LazadaRateLimitedError) as caught:
        await sandbox.client(retry=RetryPolicy.without_waits(2)).get_order_items(order_id=order.order_id)

    assert caught.value.retry_after == 1.0
    assert sandbox.waits == [1.0]
    assert retry_waits == [0.0], "stamina adds no wait of its own on top of the ban"
    assert sandbox.world.call_count(ITEMS) == 2
    assert sandbox.world.faults.pending[0].remaining == 3


# --- auth ----------------------------------------------------------------------------------------------------


async def test_client_with_a_wrong_app_secret_gets_incomplete_signature(sandbox: Sandbox) -> None:
    order = sandbox.world.add_order([ItemSpec()])
    client = sandbox.client(retry=RetryPolicy.without_waits(4), app_secret=SecretStr("not-the-app-secret"))

    with pytest.raises(LazadaAuthError) as caught:
        await client.get_order_items(order_id=order.order_id)

    error = caught.value
    assert error.code == "IncompleteSignature"
    assert not error.refreshable
    assert error.user_message == (
        "Lazada rejected the bot's request signature; an administrator should check the app key and secret. "
        "Lazada says: “The request signature does not conform to lazop standards”"
    )
    assert sandbox.log() == [(ITEMS, "IncompleteSignature")]


async def test_client_refreshes_a_refused_token_once_saves_it_and_retries_the_read(sandbox: Sandbox) -> None:
    world, clock = sandbox.world, sandbox.clock
    order = world.add_order([ItemSpec()])
    refresh_deadline = world.now() + timedelta(days=50)
    old_token = world.access_token
    clock.advance(days=3)
    world.expire_access_token()

    items = await sandbox.client(retry=RetryPolicy.without_waits(3)).get_order_items(order_id=order.order_id)

    assert len(items) == 1
    assert sandbox.log() == [(ITEMS, "IllegalAccessToken"), (REFRESH, "0"), (ITEMS, "0")]
    saved = await sandbox.store.load(STORE)
    assert saved is not None
    assert sandbox.store.saves == 1
    assert saved.access_token.get_secret_value() == world.access_token != old_token
    assert saved.refresh_token is not None
    assert saved.refresh_token.get_secret_value() == world.refresh_token
    assert saved.access_expires_at == world.now() + timedelta(days=10)
    assert saved.refresh_expires_at == refresh_deadline
    assert saved.seller_id == world.seller_id
    assert [params["access_token"] for params in sandbox.sent_params(ITEMS)] == [old_token, world.access_token]


async def test_client_refreshes_a_token_it_knows_expired_before_calling(sandbox: Sandbox) -> None:
    order = sandbox.world.add_order([ItemSpec()])
    sandbox.clock.advance(days=11)

    await sandbox.client().get_order_items(order_id=order.order_id)

    assert sandbox.log() == [(REFRESH, "0"), (ITEMS, "0")]


async def test_client_concurrent_reads_with_a_refused_token_share_one_refresh(sandbox: Sandbox) -> None:
    orders = [sandbox.world.add_order([ItemSpec()]) for _ in range(5)]
    sandbox.world.expire_access_token()
    client = sandbox.client()

    answers = await asyncio.gather(*(client.get_order_items(order_id=order.order_id) for order in orders))

    assert [answer[0].order_id for answer in answers] == [str(order.order_id) for order in orders]
    assert sandbox.world.call_count(REFRESH) == 1
    assert sandbox.world.call_count(ITEMS, code="0") == 5
    assert sandbox.store.saves == 1


async def test_client_retries_a_refresh_that_hit_a_server_fault(sandbox: Sandbox) -> None:
    order = sandbox.world.add_order([ItemSpec()])
    sandbox.world.expire_access_token()
    sandbox.world.faults.inject(FaultKind.HTTP_502, path=REFRESH)

    items = await sandbox.client(retry=RetryPolicy.without_waits(3)).get_order_items(order_id=order.order_id)

    assert len(items) == 1
    assert sandbox.log() == [(ITEMS, "IllegalAccessToken"), (REFRESH, None), (REFRESH, "0"), (ITEMS, "0")]
    assert sandbox.store.saves == 1


async def test_client_token_refused_again_after_a_refresh_is_not_refreshable(sandbox: Sandbox) -> None:
    order = sandbox.world.add_order([ItemSpec()])
    sandbox.world.faults.inject(FaultKind.ILLEGAL_ACCESS_TOKEN, path=ITEMS, times=2)

    with pytest.raises(LazadaAuthError) as caught:
        await sandbox.client(retry=RetryPolicy.without_waits(3)).get_order_items(order_id=order.order_id)

    assert caught.value.code == "IllegalAccessToken"
    assert not caught.value.refreshable
    assert sandbox.log() == [(ITEMS, "IllegalAccessToken"), (REFRESH, "0"), (ITEMS, "IllegalAccessToken")]


async def test_client_with_an_expired_refresh_token_asks_for_reauthorization(sandbox: Sandbox) -> None:
    order = sandbox.world.add_order([ItemSpec()])
    sandbox.world.expire_access_token()
    sandbox.world.expire_refresh_token()
    client = sandbox.client(retry=RetryPolicy.without_waits(3))

    with pytest.raises(LazadaAuthError) as caught:
        await client.get_order_items(order_id=order.order_id)
    with pytest.raises(LazadaAuthError) as again:
        await client.get_order_items(order_id=order.order_id)

    for error in (caught.value, again.value):
        assert not error.refreshable
        assert error.code == "IllegalRefreshToken"
        assert error.user_message.startswith(
            "Lazada no longer accepts this store's authorization; an administrator must re-authorize the store."
        )
    # The refused refresh is remembered: the second read does not ask Lazada to refresh the same token again.
    assert sandbox.log() == [
        (ITEMS, "IllegalAccessToken"),
        (REFRESH, "IllegalRefreshToken"),
        (ITEMS, "IllegalAccessToken"),
    ]
    assert sandbox.store.saves == 0


async def test_client_without_stored_tokens_raises_before_calling() -> None:
    async with open_sandbox(authorized=False) as sandbox:
        with pytest.raises(LazadaAuthError) as caught:
            await sandbox.client().get_order_items(order_id=1)

        assert not caught.value.refreshable
        assert sandbox.log() == []


# --- business errors -----------------------------------------------------------------------------------------


async def test_client_unknown_order_is_business_error_16_and_not_retried(sandbox: Sandbox) -> None:
    with pytest.raises(LazadaBusinessError) as caught:
        await sandbox.client(retry=RetryPolicy.without_waits(4)).get_order_items(order_id=123456789)

    error = caught.value
    assert error.code == "16"
    assert error.lazada_message == 'E016: "123456789" Invalid Order ID'
    assert error.user_message.startswith("Lazada does not know this order in this store. Lazada says: “E016: ")
    assert sandbox.world.call_count(ITEMS) == 1


async def test_client_validate_of_a_shipped_item_shows_the_sandboxs_tip(sandbox: Sandbox) -> None:
    order = sandbox.world.add_order([ItemSpec(status="shipped")])
    [item_id] = item_ids(order)

    with pytest.raises(LazadaBusinessError) as caught:
        await sandbox.client().validate_cancel(order_id=order.order_id, order_item_ids=[item_id])

    tip = (
        f"These items cannot be cancelled: order item {item_id} is shipped. Only items that are pending, packed "
        "or ready to ship can be cancelled by the seller."
    )
    error = caught.value
    assert (error.code, error.tip_type, error.tip_content) == ("0", "error", tip)
    assert error.user_message == tip
    assert sandbox.log() == [(VALIDATE, "0")]


async def test_client_create_with_another_countrys_reason_is_business_error_104(sandbox: Sandbox) -> None:
    order = sandbox.world.add_order([ItemSpec()])
    malaysian = REASON_OPTIONS["my"][0].reason_id

    with pytest.raises(LazadaBusinessError) as caught:
        await sandbox.client().init_cancel(order_id=order.order_id, order_item_ids=item_ids(order), reason_id=malaysian)

    assert caught.value.code == "104"
    assert caught.value.user_message == (
        "Lazada does not accept this cancellation reason for this order. "
        "Lazada says: “E0104: reason is empty or invalid”"
    )
    assert order.items[0].status == "pending"


async def test_client_create_refused_with_a_tip_is_a_business_error(sandbox: Sandbox) -> None:
    order = sandbox.world.add_order([ItemSpec()])
    tip = "This order is locked by a platform review; please try again tomorrow."
    sandbox.world.faults.inject(FaultKind.TIP_ERROR, path=CREATE, text=tip)

    with pytest.raises(LazadaBusinessError) as caught:
        await sandbox.client(retry=RetryPolicy.without_waits(3)).init_cancel(
            order_id=order.order_id, order_item_ids=item_ids(order), reason_id=reason_id(sandbox.world, "Out of Stock")
        )

    assert caught.value.user_message == tip
    assert sandbox.world.call_count(CREATE) == 1
    assert order.items[0].status == "pending"


async def test_client_repack_of_an_unknown_package_names_it(sandbox: Sandbox) -> None:
    with pytest.raises(LazadaBusinessError) as caught:
        await sandbox.client().repack(package_ids=[UNKNOWN_PACKAGE])

    error = caught.value
    assert error.code == "600001"
    assert error.failed_package_ids == (UNKNOWN_PACKAGE,)
    assert error.user_message == f"Lazada could not re-create these packages: {UNKNOWN_PACKAGE}: package not found."
    assert sandbox.log() == [(REPACK, "0")]


async def test_client_repack_raises_for_the_one_failed_package_after_dissolving_the_other(sandbox: Sandbox) -> None:
    order = sandbox.world.add_order([ItemSpec(status="packed", package="P"), ItemSpec(status="packed", package="P")])
    package_id = order.items[0].package_id
    assert package_id is not None

    with pytest.raises(LazadaBusinessError) as caught:
        await sandbox.client().repack(package_ids=[package_id, UNKNOWN_PACKAGE])

    assert caught.value.failed_package_ids == (UNKNOWN_PACKAGE,)
    assert package_id not in caught.value.user_message
    assert [(item.status, item.package_id) for item in order.items] == [("pending", None), ("pending", None)]


# --- server and decode errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "code", "http_status", "user_message"),
    [
        (
            FaultKind.HTTP_502,
            502,
            None,
            502,
            "Lazada is having a temporary problem; please try again in a few minutes.",
        ),
        (
            FaultKind.HTTP_502,
            503,
            None,
            503,
            "Lazada is having a temporary problem; please try again in a few minutes.",
        ),
        (
            FaultKind.SERVICE_TIMEOUT,
            502,
            "ServiceTimeout",
            200,
            "Lazada is having a temporary problem; please try again in a few minutes.",
        ),
        (
            FaultKind.CAMPAIGN_DISABLED,
            502,
            "998",
            200,
            "Lazada has switched this function off for now (it does so during big sale campaigns); "
            "please try again later.",
        ),
    ],
)
async def test_client_lazada_side_failure_is_a_server_error(
    sandbox: Sandbox, kind: FaultKind, status: int, code: str | None, http_status: int, user_message: str
) -> None:
    order = sandbox.world.add_order([ItemSpec()])
    sandbox.world.faults.inject(kind, path=ITEMS, status=status)

    with pytest.raises(LazadaServerError) as caught:
        await sandbox.client().get_order_items(order_id=order.order_id)

    error = caught.value
    assert (error.code, error.http_status, error.retryable) == (code, http_status, True)
    assert error.user_message.startswith(user_message)
    if code is not None:
        assert error.user_message.endswith(f"Lazada says: “{error.lazada_message}”")
    assert sandbox.world.call_count(ITEMS) == 1


async def test_client_malformed_json_is_a_decode_error_and_not_retried(sandbox: Sandbox) -> None:
    sandbox.world.add_order([ItemSpec()])
    sandbox.world.faults.inject(FaultKind.MALFORMED_JSON, path=ORDERS, times=3)

    with pytest.raises(LazadaDecodeError) as caught:
        await sandbox.client(retry=RetryPolicy.without_waits(3)).get_orders(created_after=sandbox.world.now())

    assert caught.value.http_status == 200
    assert "not JSON" in str(caught.value)
    assert caught.value.user_message == "Lazada sent an answer the bot could not read; please try again later."
    assert sandbox.world.call_count(ORDERS) == 1


# --- retry rules -------------------------------------------------------------------------------------------


RETRYABLE_READ_FAULTS = [
    pytest.param(FaultKind.TIMEOUT, LazadaTransportError, id="timeout"),
    pytest.param(FaultKind.CONNECTION_RESET, LazadaTransportError, id="reset"),
    pytest.param(FaultKind.HTTP_502, LazadaServerError, id="http-502"),
    pytest.param(FaultKind.SERVICE_TIMEOUT, LazadaServerError, id="service-timeout"),
    pytest.param(FaultKind.CAMPAIGN_DISABLED, LazadaServerError, id="campaign-998"),
]


@pytest.mark.parametrize(("kind", "error_class"), RETRYABLE_READ_FAULTS)
async def test_client_read_retries_up_to_the_attempts_then_raises(
    sandbox: Sandbox, kind: FaultKind, error_class: type[LazadaError]
) -> None:
    order = sandbox.world.add_order([ItemSpec()])
    sandbox.world.faults.inject(kind, path=ITEMS, times=6)

    with pytest.raises(error_class):
        await sandbox.client(retry=RetryPolicy.without_waits(4)).get_order_items(order_id=order.order_id)

    assert sandbox.world.call_count(ITEMS) == 4
    assert sandbox.world.faults.pending[0].remaining == 2


@pytest.mark.parametrize(("kind", "error_class"), RETRYABLE_READ_FAULTS)
async def test_client_read_succeeds_once_the_fault_passes(
    sandbox: Sandbox, kind: FaultKind, error_class: type[LazadaError]
) -> None:
    order = sandbox.world.add_order([ItemSpec(), ItemSpec()])
    sandbox.world.faults.inject(kind, path=MULTI_ITEMS, times=3)

    [answer] = await sandbox.client(retry=RetryPolicy.without_waits(4)).get_multiple_order_items(
        order_ids=[order.order_id]
    )

    assert [item.order_item_id for item in answer.order_items] == [str(one) for one in item_ids(order)]
    assert sandbox.world.call_count(MULTI_ITEMS) == 4
    assert sandbox.world.call_count(MULTI_ITEMS, code="0") == 1
    assert sandbox.world.faults.pending == ()


async def test_client_read_retries_stop_at_the_total_time_cap(sandbox: Sandbox) -> None:
    order = sandbox.world.add_order([ItemSpec()])
    sandbox.world.faults.inject(FaultKind.SERVICE_TIMEOUT, path=ITEMS, times=50)
    policy = RetryPolicy(attempts=50, timeout=0.2, wait_initial=0.04, wait_max=0.04, wait_jitter=0.0)

    started = time.monotonic()
    with pytest.raises(LazadaServerError):
        await sandbox.client(retry=policy).get_order_items(order_id=order.order_id)
    elapsed = time.monotonic() - started

    calls = sandbox.world.call_count(ITEMS)
    assert 2 <= calls <= 8
    assert sandbox.world.faults.pending[0].remaining == 50 - calls
    assert 0.15 <= elapsed < 1.0


WRITE_FAULTS = [
    pytest.param(FaultKind.TIMEOUT, LazadaTransportError, id="timeout"),
    pytest.param(FaultKind.CONNECTION_RESET, LazadaTransportError, id="reset"),
    pytest.param(FaultKind.HTTP_502, LazadaServerError, id="http-502"),
    pytest.param(FaultKind.SERVICE_TIMEOUT, LazadaServerError, id="service-timeout"),
    pytest.param(FaultKind.CAMPAIGN_DISABLED, LazadaServerError, id="campaign-998"),
    pytest.param(FaultKind.API_CALL_LIMIT, LazadaRateLimitedError, id="api-call-limit"),
    pytest.param(FaultKind.ILLEGAL_ACCESS_TOKEN, LazadaAuthError, id="illegal-access-token"),
    pytest.param(FaultKind.MALFORMED_JSON, LazadaDecodeError, id="malformed-json"),
]


@pytest.mark.parametrize("apply_first", [True, False], ids=["applied", "not-applied"])
@pytest.mark.parametrize(("kind", "error_class"), WRITE_FAULTS)
async def test_client_init_cancel_is_sent_exactly_once_whatever_fails(
    sandbox: Sandbox, kind: FaultKind, error_class: type[LazadaError], apply_first: bool
) -> None:
    world = sandbox.world
    order = world.add_order([ItemSpec(sku="SKU-A"), ItemSpec(sku="SKU-B")])
    client = sandbox.client(retry=RetryPolicy.without_waits(5))
    validation = await client.validate_cancel(order_id=order.order_id, order_item_ids=item_ids(order)[:1])
    sourcing_delay = next(o.reason_id for o in validation.reason_options if o.reason_name == "Sourcing Delay")
    world.faults.inject(kind, path=CREATE, times=5, apply_first=apply_first)

    started = time.monotonic()
    with pytest.raises(error_class) as caught:
        await client.init_cancel(order_id=order.order_id, order_item_ids=item_ids(order)[:1], reason_id=sourcing_delay)
    elapsed = time.monotonic() - started

    assert world.call_count(CREATE) == 1
    assert world.call_count(REFRESH) == 0
    assert elapsed < 0.5
    assert sandbox.waits == []
    if isinstance(caught.value, LazadaAuthError):
        assert caught.value.refreshable
    first, second = order.items
    if apply_first:
        assert (first.status, first.cancel_return_initiator, first.reason) == ("canceled", SELLER, "Sourcing Delay")
    else:
        assert (first.status, first.cancel_return_initiator) == ("pending", None)
    assert second.status == "pending"


@pytest.mark.parametrize("apply_first", [True, False], ids=["applied", "not-applied"])
@pytest.mark.parametrize(("kind", "error_class"), WRITE_FAULTS)
async def test_client_repack_is_sent_exactly_once_whatever_fails(
    sandbox: Sandbox, kind: FaultKind, error_class: type[LazadaError], apply_first: bool
) -> None:
    world = sandbox.world
    order = world.add_order([ItemSpec(status="packed", package="P"), ItemSpec(status="packed", package="P")])
    package_id = order.items[0].package_id
    assert package_id is not None
    world.faults.inject(kind, path=REPACK, times=5, apply_first=apply_first)

    with pytest.raises(error_class):
        await sandbox.client(retry=RetryPolicy.without_waits(5)).repack(package_ids=[package_id])

    assert world.call_count(REPACK) == 1
    assert world.call_count(REFRESH) == 0
    expected = ("pending", None) if apply_first else ("packed", package_id)
    assert [(item.status, item.package_id) for item in order.items] == [expected, expected]


# --- happy paths -------------------------------------------------------------------------------------------


async def test_client_get_order_items_reads_each_unit(sandbox: Sandbox) -> None:
    order = sandbox.world.add_order(
        [
            ItemSpec(sku="MUG", name="Blue mug", price="12.90"),
            ItemSpec(sku="CAP", name="Red cap", variation="Size:L", price="7.50", status="packed"),
        ]
    )

    pending, packed = await sandbox.client().get_order_items(order_id=order.order_id)

    assert (pending.order_item_id, pending.order_id) == (str(order.items[0].order_item_id), str(order.order_id))
    assert (pending.status, pending.sku, pending.name, pending.variation) == ("pending", "MUG", "Blue mug", None)
    assert (pending.item_price, pending.currency, pending.package_id) == (Decimal("12.90"), "SGD", None)
    assert (packed.status, packed.variation, packed.package_id) == ("packed", "Size:L", order.items[1].package_id)
    assert pending.is_cancellable
    assert packed.is_cancellable
    assert pending.created_at == order.created_at
    assert pending.created_at is not None
    assert pending.created_at.utcoffset() == timedelta(hours=8)


async def test_client_get_multiple_order_items_reads_fifty_orders_in_one_call(sandbox: Sandbox) -> None:
    orders = [sandbox.world.add_order([ItemSpec()] * (1 + n % 3)) for n in range(51)]
    client = sandbox.client()

    answers = await client.get_multiple_order_items(order_ids=[order.order_id for order in orders[:50]])

    assert [answer.order_id for answer in answers] == [str(order.order_id) for order in orders[:50]]
    for answer, order in zip(answers, orders[:50], strict=True):
        assert [item.order_item_id for item in answer.order_items] == [str(one) for one in item_ids(order)]
        assert {item.order_id for item in answer.order_items} == {str(order.order_id)}
    assert sandbox.world.call_count(MULTI_ITEMS) == 1

    with pytest.raises(ValueError, match="at most 50"):
        await client.get_multiple_order_items(order_ids=[order.order_id for order in orders])
    assert sandbox.world.call_count(MULTI_ITEMS) == 1


async def test_client_validate_cancel_gives_each_countrys_own_reason_ids() -> None:
    reasons: dict[str, list[tuple[str, str]]] = {}
    for country in ("sg", "ph"):
        async with open_sandbox(country=country) as sandbox:
            order = sandbox.world.add_order([ItemSpec()])
            validation = await sandbox.client().validate_cancel(order_id=order.order_id, order_item_ids=item_ids(order))
            assert validation.tip_type == "warning"
            assert validation.tip_content is not None
            assert "Out of Stock" in validation.tip_content
            reasons[country] = [(option.reason_id, option.reason_name) for option in validation.reason_options]

    for country, listed in reasons.items():
        assert listed == [(option.reason_id, option.reason_name) for option in REASON_OPTIONS[country]]
    assert [name for _, name in reasons["sg"]] == [name for _, name in reasons["ph"]]
    assert not {one for one, _ in reasons["sg"]} & {one for one, _ in reasons["ph"]}


async def test_client_init_cancel_cancels_the_items_as_the_seller(sandbox: Sandbox) -> None:
    world = sandbox.world
    order = world.add_order([ItemSpec(sku="SKU-A"), ItemSpec(sku="SKU-B"), ItemSpec(sku="SKU-C")])
    client = sandbox.client()
    validation = await client.validate_cancel(order_id=order.order_id, order_item_ids=item_ids(order)[:2])
    sourcing_delay = next(o.reason_id for o in validation.reason_options if o.reason_name == "Sourcing Delay")

    accepted = await client.init_cancel(
        order_id=order.order_id, order_item_ids=item_ids(order)[:2], reason_id=sourcing_delay
    )
    after = await client.get_order_items(order_id=order.order_id)

    assert accepted.tip_type == "success"
    assert accepted.request_id == world.calls[-2].request_id
    assert [(item.status, item.cancel_return_initiator, item.reason) for item in after] == [
        ("canceled", SELLER, "Sourcing Delay"),
        ("canceled", SELLER, "Sourcing Delay"),
        ("pending", None, None),
    ]
    assert after[0].reverse_order_id is not None
    assert after[0].reverse_order_id == after[1].reverse_order_id
    assert not after[0].is_cancellable
    assert [world.stock(sku) for sku in ("SKU-A", "SKU-B")] == [100, 100]


@pytest.mark.parametrize("repack_first", [True, False], ids=["repacked", "not-repacked"])
async def test_client_cancels_one_item_of_a_package_and_its_siblings_survive_only_after_repack(
    sandbox: Sandbox, repack_first: bool
) -> None:
    world = sandbox.world
    order = world.add_order(
        [
            ItemSpec(status="packed", package="P", sku="SKU-A"),
            ItemSpec(status="packed", package="P", sku="SKU-B"),
            ItemSpec(status="packed", package="P", sku="SKU-C"),
        ]
    )
    client = sandbox.client()
    [items] = await client.get_multiple_order_items(order_ids=[order.order_id])
    package_ids = {item.package_id for item in items.order_items}
    assert len(package_ids) == 1
    [package_id] = package_ids
    assert package_id is not None

    if repack_first:
        repacked = await client.repack(package_ids=[package_id])
        assert repacked.success
        assert [(p.package_id, p.item_err_code) for p in repacked.packages] == [(package_id, "0")]
    await client.init_cancel(
        order_id=order.order_id,
        order_item_ids=[items.order_items[0].order_item_id],
        reason_id=reason_id(world, "Sourcing Delay"),
    )
    after = await client.get_order_items(order_id=order.order_id)

    expected: list[tuple[str, str | None, str | None]]
    if repack_first:
        expected = [("canceled", SELLER, None), ("pending", None, None), ("pending", None, None)]
    else:
        expected = [("canceled", SELLER, package_id)] * 3
    assert [(item.status, item.cancel_return_initiator, item.package_id) for item in after] == expected
    assert world.call_count(CREATE) == 1


@pytest.mark.parametrize(
    ("sort_by", "sort_direction"),
    [("created_at", "ASC"), ("created_at", "DESC"), ("updated_at", "ASC")],
)
async def test_client_iter_orders_sees_every_order_of_a_big_window_once(
    sandbox: Sandbox, sort_by: Literal["created_at", "updated_at"], sort_direction: Literal["ASC", "DESC"]
) -> None:
    world = sandbox.world
    generate_history(world, seed=29, orders_per_day=300, days=28)
    first_day = world.today() - timedelta(days=24)
    after = datetime.combine(first_day, datetime.min.time(), tzinfo=world.tz)
    before = after + timedelta(days=22) - timedelta(seconds=1)

    def stamp(order: Order) -> datetime:
        return order.created_at if sort_by == "created_at" else order.updated_at

    expected = sorted(
        (order for order in world.orders_by_created() if after <= stamp(order) <= before),
        key=lambda order: (stamp(order), order.order_id),
        reverse=sort_direction == "DESC",
    )
    by_created = sort_by == "created_at"

    seen = [
        order.order_id
        async for order in sandbox.client().iter_orders(
            created_after=after if by_created else None,
            created_before=before if by_created else None,
            update_after=None if by_created else after,
            update_before=None if by_created else before,
            sort_by=sort_by,
            sort_direction=sort_direction,
        )
    ]

    assert len(expected) > MAX_ORDERS_OFFSET + 1000
    assert world.order_count > len(expected)
    assert seen == [str(order.order_id) for order in expected]
    pages = [call.params for call in world.calls if call.path == ORDERS]
    assert all(call.code == "0" for call in world.calls)
    offsets = [int(params["offset"]) for params in pages]
    assert max(offsets) == MAX_ORDERS_OFFSET
    assert offsets.count(0) >= 2
    moving = ("created" if by_created else "update") + ("_after" if sort_direction == "ASC" else "_before")
    assert len({params[moving] for params in pages}) == offsets.count(0)


@pytest.mark.parametrize("sort_direction", ["ASC", "DESC"])
async def test_client_iter_orders_keeps_orders_sharing_the_second_at_the_offset_cap(
    sandbox: Sandbox, sort_direction: Literal["ASC", "DESC"]
) -> None:
    world = sandbox.world
    start = world.now() - timedelta(days=1)
    # Seven orders a second, so the 5,100th order (the end of offset 5,000) shares its second with the next ones.
    orders = [world.add_order([ItemSpec()], created_at=start + timedelta(seconds=n // 7)) for n in range(5_250)]
    expected = [str(order.order_id) for order in orders]

    seen = [
        order.order_id
        async for order in sandbox.client().iter_orders(created_after=start, sort_direction=sort_direction)
    ]

    assert seen == (expected if sort_direction == "ASC" else expected[::-1])
    assert max(int(call.params["offset"]) for call in world.calls) == MAX_ORDERS_OFFSET


async def test_client_create_token_from_an_auth_code_saves_and_uses_the_tokens() -> None:
    async with open_sandbox(authorized=False) as sandbox:
        world = sandbox.world
        order = world.add_order([ItemSpec()])
        code = world.issue_auth_code()
        client = sandbox.client(retry=RetryPolicy.without_waits(3))

        grant = await client.create_token(code=code)
        items = await client.get_order_items(order_id=order.order_id)
        with pytest.raises(LazadaAuthError) as reused:
            await client.create_token(code=code)

        saved = await sandbox.store.load(STORE)
        assert saved is not None
        assert saved.access_token.get_secret_value() == grant.access_token.get_secret_value() == world.access_token
        assert saved.refresh_token is not None
        assert saved.refresh_token.get_secret_value() == world.refresh_token
        assert saved.access_expires_at == world.now() + timedelta(days=10)
        assert saved.refresh_expires_at == world.now() + timedelta(days=50)
        assert (saved.seller_id, saved.account, saved.country) == (world.seller_id, world.account, "sg")
        assert len(items) == 1
        assert sandbox.sent_params(ITEMS)[0]["access_token"] == world.access_token
        assert (reused.value.code, reused.value.refreshable) == ("InvalidCode", False)
        assert sandbox.log() == [(TOKEN_CREATE, "0"), (ITEMS, "0"), (TOKEN_CREATE, "InvalidCode")]


# --- secrets ---------------------------------------------------------------------------------------------------


async def test_client_never_shows_a_secret_in_errors_or_logs(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    world = sandbox.world
    order = world.add_order([ItemSpec(), ItemSpec(status="shipped")])
    wrong_secret = "wrong-app-secret-4a7c"
    client = sandbox.client(retry=RetryPolicy.without_waits(2))
    caplog.set_level(logging.DEBUG)
    errors: list[LazadaError] = []

    async def expect_error(call: Awaitable[object]) -> None:
        with pytest.raises(LazadaError) as caught:
            await call
        errors.append(caught.value)

    with capture_logs() as events:
        await expect_error(sandbox.client(app_secret=SecretStr(wrong_secret)).get_order_items(order_id=order.order_id))
        world.expire_access_token()
        await client.get_order_items(order_id=order.order_id)
        echo = f"echo {world.access_token} {world.app_secret.get_secret_value()}"
        world.faults.inject(FaultKind.TIP_ERROR, path=VALIDATE, text=echo)
        await expect_error(client.validate_cancel(order_id=order.order_id, order_item_ids=item_ids(order)[:1]))
        await expect_error(client.validate_cancel(order_id=order.order_id, order_item_ids=item_ids(order)[1:]))
        world.faults.inject(FaultKind.TIMEOUT, path=ITEMS, times=2)
        await expect_error(client.get_order_items(order_id=order.order_id))
        world.faults.inject(FaultKind.MALFORMED_JSON, path=ITEMS)
        await expect_error(client.get_order_items(order_id=order.order_id))
        world.faults.inject(FaultKind.HTTP_502, path=CREATE)
        await expect_error(
            client.init_cancel(
                order_id=order.order_id,
                order_item_ids=item_ids(order)[:1],
                reason_id=reason_id(world, "Out of Stock"),
            )
        )
        code = world.issue_auth_code()
        await client.create_token(code=code)
        await expect_error(client.create_token(code=code))
        world.expire_access_token()
        world.expire_refresh_token()
        await expect_error(client.get_order_items(order_id=order.order_id))

    assert [type(error).__name__ for error in errors] == [
        "LazadaAuthError",
        "LazadaBusinessError",
        "LazadaBusinessError",
        "LazadaTransportError",
        "LazadaDecodeError",
        "LazadaServerError",
        "LazadaAuthError",
        "LazadaAuthError",
    ]
    texts = [
        text
        for error in errors
        for text in (str(error), repr(error), error.user_message, error.lazada_message or "", str(error.__cause__))
    ]
    texts += [caplog.text, json.dumps(events, default=str), capsys.readouterr().out, repr(client)]
    secrets = {*sandbox.secrets(), wrong_secret}
    assert len(secrets) >= 12  # app secrets, three access tokens, two refresh tokens, the code, many signatures
    assert "HTTP Request: GET" in caplog.text
    assert len(events) >= 10
    for text in texts:
        for secret in secrets:
            assert secret not in text


async def test_a_ban_longer_than_the_time_left_is_not_waited_out(sandbox: Sandbox) -> None:
    world = sandbox.world
    order = world.add_order([ItemSpec()])
    world.faults.inject(FaultKind.API_CALL_LIMIT, path=ITEMS, times=3)
    client = sandbox.client(retry=RetryPolicy(attempts=4, timeout=0.3, wait_initial=0.0, wait_max=0.0, wait_jitter=0.0))
    started = time.monotonic()
    with pytest.raises(LazadaRateLimitedError):
        await client.get_order_items(order_id=order.order_id)
    assert time.monotonic() - started < 0.5, "a 1 s ban does not fit in a 0.3 s budget: raise at once"
    assert sandbox.waits == []
    assert sandbox.log() == [(ITEMS, "ApiCallLimit")]
