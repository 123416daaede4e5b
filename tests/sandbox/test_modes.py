"""The sandbox's documented behaviours and per-order modes (issue 10 point 10), through the real client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from bot.lazada.errors import LazadaBusinessError
from cancel_order_bot.sandbox import (
    REFERENCE_ERROR_TIP,
    SANDBOX_BASE_URL,
    CancelMode,
    ItemSpec,
    SandboxTransport,
    SandboxWorld,
)
from tests.lazada.test_client_against_sandbox import Sandbox, open_sandbox
from tests.sandbox.support import ManualClock, SandboxCaller

VALIDATE = "/order/reverse/cancel/validate"
CREATE = "/order/reverse/cancel/create"
ITEMS = "/order/items/get"
SOURCING_DELAY = "10000019"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with open_sandbox() as opened:
        yield opened


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def world(clock: ManualClock) -> SandboxWorld:
    return SandboxWorld(now=clock)


@pytest.fixture
async def caller(world: SandboxWorld) -> AsyncIterator[SandboxCaller]:
    async with httpx.AsyncClient(transport=SandboxTransport(world), base_url=SANDBOX_BASE_URL) as http:
        yield SandboxCaller(http, world)


async def test_slow_cancel_is_accepted_pending_then_settles_minutes_later(sandbox: Sandbox) -> None:
    world = sandbox.world
    order = world.add_order([ItemSpec(status="packed", package="P"), ItemSpec(status="packed", package="P")])
    world.cancel_modes[order.order_id] = CancelMode.SLOW
    first, _sibling = order.items
    client = sandbox.client()

    accepted = await client.init_cancel(
        order_id=order.order_id, order_item_ids=[first.order_item_id], reason_id="10000019"
    )

    assert accepted.tip_type == "success"
    items = await client.get_order_items(order_id=order.order_id)
    assert [(i.status, i.is_cancel_pending) for i in items] == [("packed", True), ("packed", True)]
    with pytest.raises(LazadaBusinessError, match="already has a cancellation pending"):
        await client.validate_cancel(order_id=order.order_id, order_item_ids=[first.order_item_id])

    sandbox.clock.advance(minutes=4)
    assert all(i.status == "packed" for i in await client.get_order_items(order_id=order.order_id))
    sandbox.clock.advance(minutes=1)
    settled = await client.get_order_items(order_id=order.order_id)
    assert [(i.status, i.is_cancel_pending) for i in settled] == [("canceled", False), ("canceled", False)]
    assert {i.cancel_return_initiator for i in settled} == {"cancellation-seller"}
    assert world.call_count(CREATE) == 1


@pytest.mark.parametrize(
    ("mode", "applied"), [(CancelMode.APPLIED_WITH_ERROR_TIP, True), (CancelMode.NOT_APPLIED_WITH_ERROR_TIP, False)]
)
async def test_an_error_tip_answer_may_or_may_not_have_cancelled(
    sandbox: Sandbox, mode: CancelMode, applied: bool
) -> None:
    world = sandbox.world
    order = world.add_order([ItemSpec()])
    world.cancel_modes[order.order_id] = mode
    client = sandbox.client()

    with pytest.raises(LazadaBusinessError) as caught:
        await client.init_cancel(
            order_id=order.order_id, order_item_ids=[order.items[0].order_item_id], reason_id="10000019"
        )

    assert (caught.value.code, caught.value.tip_type, caught.value.tip_content) == ("0", "error", REFERENCE_ERROR_TIP)
    (item,) = await client.get_order_items(order_id=order.order_id)
    assert item.status == ("canceled" if applied else "pending"), "only reading the items back tells"


async def test_a_buyer_cancel_request_shows_on_the_items(sandbox: Sandbox) -> None:
    world = sandbox.world
    order = world.add_order([ItemSpec(), ItemSpec()])
    reverse_id = world.request_buyer_cancel([order.items[0].order_item_id], answer_within=timedelta(days=1))

    asked, other = await sandbox.client().get_order_items(order_id=order.order_id)

    assert (asked.need_cancel_confirm, asked.reverse_order_id) == (True, str(reverse_id))
    assert asked.cancel_trigger_time == (world.now() + timedelta(days=1)).replace(microsecond=0)
    assert (other.need_cancel_confirm, other.reverse_order_id, other.cancel_trigger_time) == (False, None, None)
    (listed,) = (await sandbox.client().get_orders(created_after=world.now() - timedelta(hours=1))).orders
    assert listed.need_cancel_confirm


async def test_null_strings_and_all_three_date_forms_read_the_same(sandbox: Sandbox) -> None:
    world = sandbox.world
    world.date_forms = ("lazada", "iso", "epoch_ms")
    world.null_strings = True
    created = world.now().replace(microsecond=0) - timedelta(hours=2)
    orders = [world.add_order([ItemSpec()], created_at=created) for _ in range(3)]
    client = sandbox.client()

    raw = [(await client.get_order_items(order_id=o.order_id))[0] for o in orders]
    wire = [json.loads(c.params.get("order_id", "0")) for c in world.calls]
    assert len(set(wire)) == 3
    assert [item.created_at for item in raw] == [created] * 3
    assert all(item.tracking_code is None and item.reverse_order_id is None for item in raw)
    page = await client.get_orders(created_after=created - timedelta(minutes=1))
    assert [o.created_at for o in page.orders] == [created] * 3
    assert page.unreadable == ()


async def test_the_wire_really_carries_the_three_forms_and_null(caller: SandboxCaller, world: SandboxWorld) -> None:
    world.date_forms = ("lazada", "iso", "epoch_ms")
    world.null_strings = True
    orders = [world.add_order([ItemSpec()]) for _ in range(3)]
    stamps = [(await caller.call(ITEMS, {"order_id": str(o.order_id)}))["data"][0] for o in orders]
    forms = sorted(
        "epoch_ms" if s["created_at"].isdigit() else "iso" if "T" in s["created_at"] else "lazada" for s in stamps
    )
    assert forms == ["epoch_ms", "iso", "lazada"]
    assert {s["tracking_code"] for s in stamps} == {"null"}


async def test_reasons_differ_per_order(caller: SandboxCaller, world: SandboxWorld) -> None:
    narrow = world.add_order([ItemSpec()])
    wide = world.add_order([ItemSpec()])
    world.order_reasons[narrow.order_id] = ("Out of Stock",)

    def ids(body: dict[str, object]) -> list[str]:
        data = body["data"]
        assert isinstance(data, dict)
        return [r["reason_id"] for r in data["reason_options"]]

    narrow_ids = ids(await caller.call(VALIDATE, _validate(narrow.order_id, narrow.items[0].order_item_id)))
    wide_ids = ids(await caller.call(VALIDATE, _validate(wide.order_id, wide.items[0].order_item_id)))
    assert narrow_ids == ["10000021"]
    assert SOURCING_DELAY in wide_ids
    refused = await caller.call(
        CREATE, {**_validate(narrow.order_id, narrow.items[0].order_item_id), "reason_id": SOURCING_DELAY}
    )
    assert refused["code"] == "104"


def _validate(order_id: int, item_id: int) -> dict[str, str]:
    return {"order_id": str(order_id), "order_item_id_list": json.dumps([str(item_id)])}


async def test_rate_limits_are_per_api_per_second(
    caller: SandboxCaller, world: SandboxWorld, clock: ManualClock
) -> None:
    order = world.add_order([ItemSpec()])
    world.rate_limit = 1
    world.rate_limits["/order/get"] = 2
    read = {"order_id": str(order.order_id)}

    codes = [
        (await caller.call(ITEMS, read))["code"],
        (await caller.call("/order/get", read))["code"],
        (await caller.call("/order/get", read))["code"],
        (await caller.call(ITEMS, read))["code"],
        (await caller.call("/order/get", read))["code"],
    ]
    clock.advance(seconds=1)

    assert codes == ["0", "0", "0", "ApiCallLimit", "ApiCallLimit"]
    assert (await caller.call(ITEMS, read))["code"] == "0"


# The non-zero codes each API page lists (lazada-api.md §3-§7), plus the gateway's own.
DOCUMENTED_CODES = {
    ITEMS: {"16", "6"},
    "/orders/items/get": {"37", "38", "39", "56"},
    VALIDATE: {"102", "106", "115", "116", "117", "118", "122", "123", "124"},
    CREATE: {"102", "104", "106", "115", "116", "117", "118", "122", "123", "124"},
    "/orders/get": {"14", "17", "19", "36", "6", "74", "75", "SellerNotVerified"},
    # lazada-api.md §8, §8a: the reverse APIs of buyer cancellation requests.
    "/reverse/getreverseordersforseller": {"Mp3SellerApiLimit"},
    "/order/reverse/reason/list": {"103", "106", "116", "117", "118", "119"},
    "/order/reverse/cancel/seller/decide": {"105", "106", "116", "131"},
}
GATEWAY_CODES = {"MissingParameter", "IncompleteSignature", "IllegalAccessToken", "ApiCallLimit"}
BAD_INPUTS: dict[str, list[dict[str, str]]] = {
    ITEMS: [{}, {"order_id": "x"}, {"order_id": "777"}],
    "/orders/items/get": [
        {},
        {"order_ids": "1,2"},
        {"order_ids": '["1"]'},
        {"order_ids": "[1.5]"},
        {"order_ids": json.dumps(list(range(1, 52)))},
        {"order_ids": "[777]"},
    ],
    VALIDATE: [{}, {"order_id": "777", "order_item_id_list": '["1"]'}, {"order_id": "x"}],
    CREATE: [{}, {"order_id": "777", "order_item_id_list": '["1"]', "reason_id": SOURCING_DELAY}],
    "/orders/get": [
        {"created_after": "yesterday"},
        {"created_after": "2026-11-20T10:00:00+08:00", "limit": "101"},
        {"created_after": "2026-11-20T10:00:00+08:00", "offset": "-1"},
        {"created_after": "2026-11-20T10:00:00+08:00", "status": "nonsense"},
        {"created_after": "2026-11-20T10:00:00+08:00", "sort_direction": "UP"},
        {"created_after": "2026-11-20T10:00:00+08:00", "sort_by": "price"},
    ],
    "/reverse/getreverseordersforseller": [
        {},
        {"page_no": "0"},
        {"page_no": "x", "page_size": "10"},
        {"page_no": "1", "request_type_list": "CANCEL"},
        {"page_no": "1", "reverse_status_list": '[{"a": 1}]'},
    ],
    "/order/reverse/reason/list": [{}, {"reverse_order_line_id": "x"}, {"reverse_order_line_id": "777"}],
    "/order/reverse/cancel/seller/decide": [
        {},
        {"reverse_order_id": "777", "agree_cancel": "true"},
        {"reverse_order_id": "777", "agree_cancel": "false", "reason_code": "1000201"},
        {"reverse_order_id": "x", "agree_cancel": "true"},
    ],
}


@pytest.mark.parametrize("path", sorted(BAD_INPUTS))
async def test_each_api_answers_only_the_codes_its_page_documents(
    caller: SandboxCaller, world: SandboxWorld, path: str
) -> None:
    order = world.add_order([ItemSpec()])
    inputs = BAD_INPUTS[path] + [
        {"order_id": str(order.order_id), "order_item_id_list": "[]"},
        {"order_id": str(order.order_id), "order_item_id_list": '["1"]', "reason_id": "nope"},
    ]
    codes = {(await caller.call(path, params))["code"] for params in inputs}
    errors = codes - {"0"}
    assert errors, "the bad inputs must be refused"
    assert errors <= DOCUMENTED_CODES[path] | GATEWAY_CODES, errors - DOCUMENTED_CODES[path]


async def test_the_control_endpoint_sets_an_orders_cancel_mode_and_reasons(
    caller: SandboxCaller, world: SandboxWorld
) -> None:
    order = world.add_order([ItemSpec()])
    async with httpx.AsyncClient(transport=SandboxTransport(world)) as http:
        root = "http://lazada.sandbox/_sandbox"
        answer = await http.post(
            f"{root}/orders/{order.order_id}/cancel", json={"mode": "slow", "reasons": ["Out of Stock"]}
        )
        unknown = await http.post(f"{root}/orders/1/cancel", json={"mode": "slow"})
        bad = await http.post(f"{root}/orders/{order.order_id}/cancel", json={"mode": "sometimes"})
    assert answer.status_code == 200
    assert (unknown.status_code, bad.status_code) == (404, 400)
    assert world.cancel_modes[order.order_id] is CancelMode.SLOW
    assert [r.reason_name for r in world.reason_options(order.order_id)] == ["Out of Stock"]
