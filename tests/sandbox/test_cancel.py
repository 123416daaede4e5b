"""The sandbox's order-item and cancellation rules (lazada-api.md §3-§6)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from cancel_order_bot.sandbox import (
    REASON_OPTIONS,
    SANDBOX_BASE_URL,
    ItemSpec,
    Order,
    SandboxTransport,
    SandboxWorld,
)
from tests.sandbox.support import ManualClock, SandboxCaller

VALIDATE = "/order/reverse/cancel/validate"
CREATE = "/order/reverse/cancel/create"
REPACK = "/order/package/repack"
SG_REASONS = {option.reason_name: option.reason_id for option in REASON_OPTIONS["sg"]}


def _ids(*item_ids: int) -> str:
    return json.dumps([str(item_id) for item_id in item_ids], separators=(",", ":"))


async def _validate(caller: SandboxCaller, order: Order, *item_ids: int) -> Any:
    return await caller.call(VALIDATE, {"order_id": str(order.order_id), "order_item_id_list": _ids(*item_ids)})


async def _create(caller: SandboxCaller, order: Order, reason: str, *item_ids: int) -> Any:
    params = {
        "order_id": str(order.order_id),
        "order_item_id_list": _ids(*item_ids),
        "reason_id": SG_REASONS.get(reason, reason),
    }
    return await caller.call(CREATE, params)


async def test_get_order_items_lists_every_unit(caller: SandboxCaller, world: SandboxWorld) -> None:
    order = world.add_order(
        [
            ItemSpec(status="packed", package="P1", sku="SKU-A", name="Mug", price="12.5"),
            ItemSpec(status="packed", package="P1", sku="SKU-A", name="Mug", price="12.5"),
            ItemSpec(status="pending", sku="SKU-B", name="Lamp"),
        ]
    )

    body = await caller.call("/order/items/get", {"order_id": str(order.order_id)})

    assert body["code"] == "0"
    items = body["data"]
    assert [item["order_item_id"] for item in items] == [str(item.order_item_id) for item in order.items]
    assert items[0]["package_id"] == items[1]["package_id"] != ""
    assert items[0]["package_id"].startswith("FP")
    assert items[2]["package_id"] == ""
    assert items[0]["paid_price"] == "12.50"
    assert items[0]["currency"] == "SGD"
    assert items[0]["sku"] == "SKU-A"
    assert items[0]["status"] == "packed"
    assert items[0]["created_at"] == order.created_at.astimezone(world.tz).strftime("%Y-%m-%d %H:%M:%S %z")
    assert items[0]["created_at"].endswith("+0800")


async def test_get_order_items_of_another_seller_is_error_16(caller: SandboxCaller) -> None:
    body = await caller.call("/order/items/get", {"order_id": "123456789"})
    assert body == {
        "type": "ISV",
        "code": "16",
        "message": 'E016: "123456789" Invalid Order ID',
        "request_id": body["request_id"],
    }


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("/order/get", "16", 'E016: "777" Invalid Order ID'),
        (VALIDATE, "122", "E0122: invalid trade order"),
        (CREATE, "122", "E0122: invalid trade order"),
    ],
)
async def test_an_unknown_order_gets_the_code_its_api_page_lists(
    caller: SandboxCaller, path: str, code: str, message: str
) -> None:
    """GetOrder lists E016; validate and create list no E016, and E0122 'invalid trade order' instead (§4, §5)."""
    params = {"order_id": "777", "order_item_id_list": '["1"]', "reason_id": SG_REASONS["Out of Stock"]}
    body = await caller.call(path, params)
    assert body["code"] == code
    assert body["message"] == message


async def test_get_multiple_order_items(caller: SandboxCaller, world: SandboxWorld) -> None:
    first = world.add_order([ItemSpec(), ItemSpec(sku="SKU-B")])
    second = world.add_order([ItemSpec(status="delivered")])

    body = await caller.call("/orders/items/get", {"order_ids": f"[{first.order_id},{second.order_id}]"})

    assert body["code"] == "0"
    assert [entry["order_id"] for entry in body["data"]] == [first.order_id, second.order_id]
    assert [len(entry["order_items"]) for entry in body["data"]] == [2, 1]
    assert body["data"][1]["order_items"][0]["status"] == "delivered"


@pytest.mark.parametrize(
    ("order_ids", "code"),
    [
        ("1,2", "56"),
        ("[]", "56"),
        ('{"a":1}', "56"),
        ('["x"]', "56"),
        ('["1","2"]', "56"),
        ("[1.5]", "37"),
        ("[-3]", "37"),
        (json.dumps(list(range(1, 52))), "38"),
        ("[1,2]", "39"),
    ],
)
async def test_get_multiple_order_items_errors(caller: SandboxCaller, order_ids: str, code: str) -> None:
    body = await caller.call("/orders/items/get", {"order_ids": order_ids})
    assert body["code"] == code
    assert body["message"].startswith(f"E0{code}")


async def test_get_multiple_order_items_accepts_fifty(caller: SandboxCaller, world: SandboxWorld) -> None:
    orders = [world.add_order([ItemSpec()]) for _ in range(50)]
    body = await caller.call("/orders/items/get", {"order_ids": json.dumps([o.order_id for o in orders])})
    assert len(body["data"]) == 50


async def test_validate_returns_the_countrys_reasons_and_a_warning(caller: SandboxCaller, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec(status="pending")])

    body = await _validate(caller, order, order.items[0].order_item_id)

    assert body["code"] == "0"
    data = body["data"]
    assert data["tip_type"] == "warning"
    assert "0" in data["tip_content"]
    options = {option["reason_id"]: option["reason_name"] for option in data["reason_options"]}
    assert options["10000019"] == "Sourcing Delay"
    assert options["10000021"] == "Out of Stock"
    assert options["10000023"] == "Wrong Price or Pricing Error"
    assert 4 <= len(options) <= 5


async def test_validate_reason_ids_differ_per_country() -> None:
    malaysia = SandboxWorld(country="my")
    order = malaysia.add_order([ItemSpec()])
    async with httpx.AsyncClient(transport=SandboxTransport(malaysia), base_url=SANDBOX_BASE_URL) as http:
        body = await _validate(SandboxCaller(http, malaysia), order, order.items[0].order_item_id)
    ids = {option["reason_id"] for option in body["data"]["reason_options"]}
    names = {option["reason_name"] for option in body["data"]["reason_options"]}
    assert not ids & set(SG_REASONS.values())
    assert {"Out of Stock", "Wrong Price or Pricing Error", "Sourcing Delay"} <= names
    assert malaysia.tz.key == "Asia/Kuala_Lumpur"


@pytest.mark.parametrize("status", ["shipped", "delivered", "canceled", "returned", "unpaid"])
async def test_validate_and_create_refuse_items_past_ready_to_ship(
    caller: SandboxCaller, world: SandboxWorld, status: str
) -> None:
    order = world.add_order([ItemSpec(status=status), ItemSpec(status="pending")])
    blocked = order.items[0].order_item_id

    validation = await _validate(caller, order, blocked, order.items[1].order_item_id)
    creation = await _create(caller, order, "Out of Stock", blocked)

    for body in (validation, creation):
        assert body["code"] == "0"
        assert body["data"]["tip_type"] == "error"
        assert str(blocked) in body["data"]["tip_content"]
        assert status in body["data"]["tip_content"]
    assert validation["data"]["reason_options"] == []
    assert world.item(blocked).status == status
    assert world.item(order.items[1].order_item_id).status == "pending"
    assert world.stock("SKU-A") == 100


@pytest.mark.parametrize("status", ["pending", "packed", "ready_to_ship"])
async def test_cancellable_statuses_are_accepted(caller: SandboxCaller, world: SandboxWorld, status: str) -> None:
    order = world.add_order([ItemSpec(status=status)])
    item_id = order.items[0].order_item_id
    assert (await _validate(caller, order, item_id))["data"]["tip_type"] == "warning"
    assert (await _create(caller, order, "Sourcing Delay", item_id))["data"]["tip_type"] == "success"
    assert world.item(item_id).status == "canceled"


async def test_validate_items_not_in_the_order_is_error_123(caller: SandboxCaller, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    other = world.add_order([ItemSpec()])
    stranger = other.items[0].order_item_id

    body = await _validate(caller, order, order.items[0].order_item_id, stranger)

    assert body["code"] == "123"
    assert body["message"].startswith("E0123: invalid trade order lines")
    assert str(stranger) in body["message"]


@pytest.mark.parametrize("item_list", ["[]", "", "not json", '["abc"]'])
async def test_validate_empty_or_bad_item_list_is_error_102(
    caller: SandboxCaller, world: SandboxWorld, item_list: str
) -> None:
    order = world.add_order([ItemSpec()])
    params = {"order_id": str(order.order_id)}
    if item_list:
        params["order_item_id_list"] = item_list
    body = await caller.call(VALIDATE, params)
    assert body["code"] == "102"


async def test_validate_accepts_numbers_or_strings_in_the_list(caller: SandboxCaller, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    item_id = order.items[0].order_item_id
    for item_list in (f"[{item_id}]", f'["{item_id}"]'):
        body = await caller.call(VALIDATE, {"order_id": str(order.order_id), "order_item_id_list": item_list})
        assert body["data"]["tip_type"] == "warning"


async def test_validate_without_order_id_is_error_115(caller: SandboxCaller) -> None:
    body = await caller.call(VALIDATE, {"order_item_id_list": '["1"]'})
    assert body["code"] == "115"


async def test_create_with_an_unknown_reason_is_error_104(caller: SandboxCaller, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    item_id = order.items[0].order_item_id

    body = await _create(caller, order, "20000033", item_id)

    assert body["code"] == "104"
    assert body["message"] == "E0104: reason is empty or invalid"
    assert world.item(item_id).status == "pending"


async def test_create_cancels_the_item_as_the_seller(
    caller: SandboxCaller, world: SandboxWorld, clock: ManualClock
) -> None:
    order = world.add_order([ItemSpec(), ItemSpec(sku="SKU-B")])
    first, second = order.items
    clock.advance(hours=2)

    body = await _create(caller, order, "Sourcing Delay", first.order_item_id)

    assert body["code"] == "0"
    assert body["data"]["tip_type"] == "success"
    assert first.status == "canceled"
    assert first.cancel_return_initiator == "cancellation-seller"
    assert first.reason == "Sourcing Delay"
    assert first.updated_at == clock.current
    assert world.order(order.order_id).updated_at == clock.current
    assert second.status == "pending"
    items = (await caller.call("/order/items/get", {"order_id": str(order.order_id)}))["data"]
    assert items[0]["status"] == "canceled"
    assert items[0]["cancel_return_initiator"] == "cancellation-seller"
    assert items[0]["reason"] == "Sourcing Delay"
    assert items[0]["reverse_order_id"] != ""
    order_body = (await caller.call("/order/get", {"order_id": str(order.order_id)}))["data"]
    assert order_body["statuses"] == ["canceled", "pending"]
    assert world.call_count(CREATE) == 1


async def test_create_twice_refuses_the_second_time(caller: SandboxCaller, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    item_id = order.items[0].order_item_id
    assert (await _create(caller, order, "Sourcing Delay", item_id))["data"]["tip_type"] == "success"
    again = await _create(caller, order, "Sourcing Delay", item_id)
    assert again["data"]["tip_type"] == "error"
    assert "canceled" in again["data"]["tip_content"]


@pytest.mark.parametrize("status", ["packed", "ready_to_ship"])
async def test_cancelling_a_packaged_item_cancels_its_package_siblings(
    caller: SandboxCaller, world: SandboxWorld, status: str
) -> None:
    order = world.add_order(
        [
            ItemSpec(status=status, package="P1", sku="SKU-A"),
            ItemSpec(status=status, package="P1", sku="SKU-B"),
            ItemSpec(status=status, package="P2", sku="SKU-C"),
            ItemSpec(status="pending", sku="SKU-D"),
        ]
    )
    a, b, c, d = order.items

    body = await _create(caller, order, "Sourcing Delay", a.order_item_id)

    assert body["data"]["tip_type"] == "success"
    assert [a.status, b.status, c.status, d.status] == ["canceled", "canceled", status, "pending"]
    assert b.cancel_return_initiator == "cancellation-seller"
    assert b.reason == "Sourcing Delay"


async def test_cancelling_a_pending_item_leaves_the_others(caller: SandboxCaller, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec(), ItemSpec(), ItemSpec()])
    await _create(caller, order, "Sourcing Delay", order.items[1].order_item_id)
    assert [item.status for item in order.items] == ["pending", "canceled", "pending"]


async def test_repack_then_cancel_only_one_item(caller: SandboxCaller, world: SandboxWorld) -> None:
    order = world.add_order(
        [ItemSpec(status="packed", package="P1"), ItemSpec(status="packed", package="P1", sku="SKU-B")]
    )
    a, b = order.items
    package_id = a.package_id
    assert package_id is not None

    repack = await caller.call(REPACK, {"rePackReq": json.dumps({"packages": [{"package_id": package_id}]})})

    assert repack["code"] == "0"
    assert "data" not in repack
    assert repack["result"]["success"] == "true"
    assert repack["result"]["data"]["packages"] == [
        {"package_id": package_id, "item_err_code": "0", "msg": "success", "retry": "false"}
    ]
    assert (a.status, a.package_id, b.status, b.package_id) == ("pending", None, "pending", None)

    await _create(caller, order, "Out of Stock", a.order_item_id)

    assert (a.status, b.status) == ("canceled", "pending")
    assert world.package_items(package_id) == []


async def test_repack_reports_unknown_and_cancelled_packages(caller: SandboxCaller, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec(status="packed", package="P1")])
    package_id = order.items[0].package_id
    assert package_id is not None
    await _create(caller, order, "Sourcing Delay", order.items[0].order_item_id)
    alive = world.add_order([ItemSpec(status="ready_to_ship")])
    alive_package = alive.items[0].package_id

    request = {"packages": [{"package_id": "FP-NOPE"}, {"package_id": package_id}, {"package_id": alive_package}]}
    body = await caller.call(REPACK, {"rePackReq": json.dumps(request)})

    codes = [(p["package_id"], p["item_err_code"]) for p in body["result"]["data"]["packages"]]
    assert codes == [("FP-NOPE", "600001"), (package_id, "600002"), (alive_package, "0")]
    assert body["result"]["success"] == "true"
    assert alive.items[0].status == "pending"


async def test_repack_failing_every_package_is_not_a_success(caller: SandboxCaller) -> None:
    body = await caller.call(REPACK, {"rePackReq": '{"packages":[{"package_id":"FP1"}]}'})
    assert body["code"] == "0"
    assert body["result"]["success"] == "false"
    assert body["result"]["error_code"] == "600001"


async def test_repack_refuses_more_than_twenty_packages(caller: SandboxCaller, world: SandboxWorld) -> None:
    orders = [world.add_order([ItemSpec(status="packed")]) for _ in range(21)]
    request = {"packages": [{"package_id": order.items[0].package_id} for order in orders]}
    body = await caller.call(REPACK, {"rePackReq": json.dumps(request)})
    assert body["result"]["success"] == "false"
    assert all(order.items[0].status == "packed" for order in orders)


async def test_repack_refuses_a_shipped_package(caller: SandboxCaller, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec(status="shipped")])
    body = await caller.call(
        REPACK, {"rePackReq": json.dumps({"packages": [{"package_id": order.items[0].package_id}]})}
    )
    assert body["result"]["data"]["packages"][0]["item_err_code"] != "0"
    assert order.items[0].status == "shipped"


@pytest.mark.parametrize("reason", ["Out of Stock", "Wrong Price or Pricing Error"])
async def test_stock_zeroing_reasons_set_the_skus_stock_to_zero(
    caller: SandboxCaller, world: SandboxWorld, reason: str
) -> None:
    order = world.add_order([ItemSpec(sku="SKU-A"), ItemSpec(sku="SKU-B")])
    world.set_stock("SKU-A", 40)

    await _create(caller, order, reason, order.items[0].order_item_id)

    assert world.stock("SKU-A") == 0
    assert world.stock("SKU-B") == 100


@pytest.mark.parametrize("reason", ["Sourcing Delay", "Unable to Ship", "Duplicate Order"])
async def test_other_reasons_leave_stock_alone(caller: SandboxCaller, world: SandboxWorld, reason: str) -> None:
    order = world.add_order([ItemSpec(sku="SKU-A")])
    world.set_stock("SKU-A", 40)

    body = await _create(caller, order, reason, order.items[0].order_item_id)

    assert body["data"]["tip_type"] == "success"
    assert world.stock("SKU-A") == 40


async def test_stock_zeroing_covers_cancelled_package_siblings(caller: SandboxCaller, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec(status="packed", sku="SKU-A"), ItemSpec(status="packed", sku="SKU-B")])
    await _create(caller, order, "Out of Stock", order.items[0].order_item_id)
    assert (world.stock("SKU-A"), world.stock("SKU-B")) == (0, 0)


def test_set_item_status_packs_and_unpacks(world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    item = order.items[0]
    assert item.package_id is None
    world.set_item_status(item.order_item_id, "packed")
    package_id = world.item(item.order_item_id).package_id
    assert package_id is not None
    assert world.package_items(package_id) == [item]
    world.set_item_status(item.order_item_id, "shipped")
    assert world.item(item.order_item_id).status == "shipped"
    with pytest.raises(ValueError, match="unknown item status"):
        world.set_item_status(item.order_item_id, "teleported")
    with pytest.raises(KeyError):
        world.item(1)
