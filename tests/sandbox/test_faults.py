"""Injected faults, ``apply_first``, the rate limit and the unsigned control endpoints."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
import pytest

from cancel_order_bot.sandbox import (
    REASON_OPTIONS,
    FaultKind,
    ItemSpec,
    Order,
    SandboxWorld,
)
from tests.sandbox.support import ManualClock, SandboxCaller, signed_params

CREATE = "/order/reverse/cancel/create"
VALIDATE = "/order/reverse/cancel/validate"
OUT_OF_STOCK = next(option.reason_id for option in REASON_OPTIONS["sg"] if option.reason_name == "Out of Stock")


@pytest.fixture
def order(world: SandboxWorld) -> Order:
    return world.add_order([ItemSpec(sku="SKU-A"), ItemSpec(sku="SKU-B")])


def _create_params(order: Order) -> dict[str, str]:
    return {
        "order_id": str(order.order_id),
        "order_item_id_list": json.dumps([str(order.items[0].order_item_id)]),
        "reason_id": OUT_OF_STOCK,
    }


async def _read(caller: SandboxCaller, order: Order) -> Any:
    return await caller.call("/order/items/get", {"order_id": str(order.order_id)})


@pytest.mark.parametrize(
    ("kind", "code", "error_type", "message"),
    [
        ("service_timeout", "ServiceTimeout", "ISP", None),
        (
            "api_call_limit",
            "ApiCallLimit",
            "SYSTEM",
            "Api access frequency exceeds the limit. this ban will last 1 seconds",
        ),
        ("illegal_access_token", "IllegalAccessToken", "ISV", "The specified access token is invalid or expired"),
        ("campaign_disabled", "998", "ISP", "To ensure stability of service, this API service is disabled"),
    ],
)
async def test_envelope_faults_answer_lazadas_error(
    caller: SandboxCaller,
    world: SandboxWorld,
    order: Order,
    kind: str,
    code: str,
    error_type: str,
    message: str | None,
) -> None:
    world.faults.inject(kind)

    body = await _read(caller, order)

    assert body["code"] == code
    assert body["type"] == error_type
    if message is not None:
        assert body["message"] == message
    assert (await _read(caller, order))["code"] == "0"
    assert world.calls[0].fault == FaultKind(kind)
    assert not world.calls[0].applied


async def test_http_5xx_fault_answers_that_status_with_html(
    http: httpx.AsyncClient, caller: SandboxCaller, world: SandboxWorld, order: Order
) -> None:
    world.faults.inject("http_502")
    world.faults.inject("http_502", status=503)
    params = signed_params(
        "/order/items/get",
        {"order_id": str(order.order_id)},
        app_key=world.app_key,
        app_secret=world.app_secret.get_secret_value(),
        timestamp=world.now(),
        access_token=world.access_token,
    )
    first = await http.get("/order/items/get", params=params)
    second = await http.get("/order/items/get", params=params)
    assert (first.status_code, second.status_code) == (502, 503)
    assert first.headers["content-type"].startswith("text/html")
    assert (await _read(caller, order))["code"] == "0"
    assert world.calls[0].http_status == 502


async def test_malformed_json_fault(http: httpx.AsyncClient, world: SandboxWorld, order: Order) -> None:
    world.faults.inject("malformed_json")
    response = await http.get("/order/items/get", params={"order_id": str(order.order_id)})
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


async def test_tip_error_fault_is_code_0_with_an_error_tip(
    caller: SandboxCaller, world: SandboxWorld, order: Order
) -> None:
    world.faults.inject("tip_error", path=CREATE, text="The order is locked by a dispute.")

    body = await caller.call(CREATE, _create_params(order))

    assert body["code"] == "0"
    assert body["data"] == {"tip_content": "The order is locked by a dispute.", "tip_type": "error"}
    assert order.items[0].status == "pending"


async def test_timeout_fault_raises_read_timeout_at_once(
    caller: SandboxCaller, world: SandboxWorld, order: Order
) -> None:
    world.faults.inject("timeout")  # 30 s by default: the in-process transport must not wait it out
    with pytest.raises(httpx.ReadTimeout):
        await _read(caller, order)
    assert world.call_count("/order/items/get") == 1
    assert (await _read(caller, order))["code"] == "0"


async def test_connection_reset_fault_raises_read_error(
    caller: SandboxCaller, world: SandboxWorld, order: Order
) -> None:
    world.faults.inject("connection_reset", path="/order/items/get")
    with pytest.raises(httpx.ReadError):
        await _read(caller, order)
    assert (await _read(caller, order))["code"] == "0"


@pytest.mark.parametrize("kind", ["timeout", "connection_reset", "http_502", "malformed_json", "service_timeout"])
async def test_fault_without_apply_first_does_not_cancel(
    caller: SandboxCaller, world: SandboxWorld, order: Order, kind: str
) -> None:
    world.faults.inject(kind, path=CREATE)
    with contextlib.suppress(httpx.TransportError, json.JSONDecodeError):
        await caller.call(CREATE, _create_params(order))
    assert order.items[0].status == "pending"
    assert world.stock("SKU-A") == 100
    assert world.call_count(CREATE) == 1


@pytest.mark.parametrize("kind", ["timeout", "connection_reset", "http_502", "malformed_json", "service_timeout"])
async def test_apply_first_cancels_and_then_fails(
    caller: SandboxCaller, world: SandboxWorld, order: Order, kind: str
) -> None:
    world.faults.inject(kind, path=CREATE, apply_first=True)
    try:
        body = await caller.call(CREATE, _create_params(order))
    except (httpx.TransportError, json.JSONDecodeError):
        body = None
    assert body is None or body.get("data", {}).get("tip_type") != "success"
    assert order.items[0].status == "canceled"
    assert order.items[0].cancel_return_initiator == "cancellation-seller"
    assert world.stock("SKU-A") == 0
    assert world.call_count(CREATE) == 1
    assert world.calls[-1].applied
    assert world.calls[-1].fault == FaultKind(kind)


async def test_faults_are_consumed_in_order_on_their_path(
    caller: SandboxCaller, world: SandboxWorld, order: Order
) -> None:
    world.faults.inject("service_timeout", path=VALIDATE, times=2)
    world.faults.inject("campaign_disabled", path="/rest/order/reverse/cancel/validate")
    world.faults.inject("api_call_limit")
    validate = {"order_id": str(order.order_id), "order_item_id_list": json.dumps([order.items[0].order_item_id])}

    read = await _read(caller, order)
    codes = [(await caller.call(VALIDATE, validate))["code"] for _ in range(4)]

    assert read["code"] == "ApiCallLimit"
    assert codes == ["ServiceTimeout", "ServiceTimeout", "998", "0"]
    assert world.faults.pending == ()


def test_fault_injection_validates_its_arguments(world: SandboxWorld) -> None:
    with pytest.raises(ValueError, match="is not a valid FaultKind"):
        world.faults.inject("gremlins")
    with pytest.raises(ValueError, match="times"):
        world.faults.inject("timeout", times=0)
    with pytest.raises(ValueError, match="5xx"):
        world.faults.inject("http_502", status=404)


async def test_rate_limit_answers_api_call_limit_beyond_n_per_second(
    caller: SandboxCaller, world: SandboxWorld, order: Order, clock: ManualClock
) -> None:
    world.rate_limit = 3

    codes = [(await _read(caller, order))["code"] for _ in range(5)]
    clock.advance(seconds=1)
    after = (await _read(caller, order))["code"]

    assert codes == ["0", "0", "0", "ApiCallLimit", "ApiCallLimit"]
    assert after == "0"
    limited = world.calls[3]
    assert limited.code == "ApiCallLimit"


async def test_rate_limit_is_a_sliding_second(
    caller: SandboxCaller, world: SandboxWorld, order: Order, clock: ManualClock
) -> None:
    world.rate_limit = 2
    assert (await _read(caller, order))["code"] == "0"
    clock.advance(milliseconds=600)
    assert (await _read(caller, order))["code"] == "0"
    clock.advance(milliseconds=300)
    assert (await _read(caller, order))["code"] == "ApiCallLimit"
    clock.advance(milliseconds=200)
    assert (await _read(caller, order))["code"] == "0"


async def test_control_endpoints(
    http: httpx.AsyncClient, world: SandboxWorld, order: Order, caller: SandboxCaller
) -> None:
    root = "http://lazada.sandbox/_sandbox"
    injected = await http.post(f"{root}/faults", json={"kind": "service_timeout", "path": "/order/items/get"})
    assert injected.status_code == 201
    assert (await _read(caller, order))["code"] == "ServiceTimeout"

    calls = (await http.get(f"{root}/calls")).json()
    assert calls == {"counts": {"/order/items/get": 1}, "total": 1}

    item_id = order.items[0].order_item_id
    moved = await http.post(f"{root}/items/{item_id}/status", json={"status": "shipped"})
    assert moved.status_code == 200
    assert moved.json()["status"] == "shipped"
    assert world.item(item_id).status == "shipped"

    shown = (await http.get(f"{root}/orders/{order.order_id}")).json()
    assert shown["order"]["statuses"] == ["shipped", "pending"]
    assert [item["order_item_id"] for item in shown["items"]] == [str(item.order_item_id) for item in order.items]

    assert (await http.get(f"{root}/stock/SKU-A")).json() == {"sku": "SKU-A", "stock": 100}
    assert (await http.post(f"{root}/tokens/expire")).status_code == 200
    assert (await _read(caller, order))["code"] == "IllegalAccessToken"


async def test_control_endpoints_refuse_bad_input(http: httpx.AsyncClient, order: Order) -> None:
    root = "http://lazada.sandbox/_sandbox"
    assert (await http.post(f"{root}/faults", json={"kind": "gremlins"})).status_code == 400
    assert (await http.post(f"{root}/faults", json={"kind": "timeout", "times": 0})).status_code == 400
    assert (await http.post(f"{root}/items/1/status", json={"status": "shipped"})).status_code == 404
    item_id = order.items[0].order_item_id
    assert (await http.post(f"{root}/items/{item_id}/status", json={"status": "nope"})).status_code == 400
    assert (await http.get(f"{root}/orders/1")).status_code == 404
