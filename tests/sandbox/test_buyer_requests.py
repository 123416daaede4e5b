"""Buyer cancellation requests in the sandbox (issue 11, lazada-api.md §8a): the real client, a fixed clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from bot.lazada.errors import LazadaBusinessError, LazadaServerError
from cancel_order_bot.sandbox import (
    SANDBOX_BASE_URL,
    FaultKind,
    ItemSpec,
    SandboxTransport,
    SandboxWorld,
    generate_history,
)
from cancel_order_bot.sandbox.history import start_buyer_requests
from cancel_order_bot.sandbox.showcase import SHOWCASE, add_showcase_orders
from cancel_order_bot.sandbox.world import BUYER_CANCEL_INITIATOR, REFUSAL_REASONS, Order
from tests.lazada.test_client_against_sandbox import Sandbox, open_sandbox
from tests.sandbox.support import ManualClock, SandboxCaller

LIST = "/reverse/getreverseordersforseller"
REASONS = "/order/reverse/reason/list"
DECIDE = "/order/reverse/cancel/seller/decide"
ITEMS = "/order/items/get"
REFUSAL = REFUSAL_REASONS[0].reason_id


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with open_sandbox() as opened:
        yield opened


def packed_order(world: SandboxWorld, items: int = 2) -> Order:
    return world.add_order(
        [ItemSpec(status="packed", package="P", sku=f"SKU-{n}", price="12.90") for n in range(items)]
    )


def ask(world: SandboxWorld, order: Order, hours: float = 24) -> int:
    return world.request_buyer_cancel([i.order_item_id for i in order.items], answer_within=timedelta(hours=hours))


async def test_an_open_request_is_listed_and_shows_on_its_items(sandbox: Sandbox) -> None:
    world = sandbox.world
    order = packed_order(world)
    reverse_id = ask(world, order, hours=30)
    client = sandbox.client()

    (request,) = await client.open_buyer_cancel_requests()

    deadline = world.now() + timedelta(hours=30)
    assert (request.reverse_order_id, request.trade_order_id, request.request_type) == (
        str(reverse_id),
        str(order.order_id),
        "CANCEL",
    )
    assert request.order_item_ids == tuple(str(i.order_item_id) for i in order.items)
    assert (request.is_open, request.deadline) == (True, deadline)
    line = request.reverse_order_lines[0]
    assert (line.refund_amount, line.reason_code, line.buyer_id is not None) == (1290, "1000102", True)
    assert line.reason_text == "Found cheaper elsewhere"
    items = await client.get_order_items(order_id=order.order_id)
    assert {(i.need_cancel_confirm, i.reverse_order_id, i.cancel_trigger_time) for i in items} == {
        (True, str(reverse_id), deadline)
    }
    (listed,) = sandbox.sent_params(LIST)
    assert (listed["request_type_list"], listed["reverse_status_list"]) == ('["CANCEL"]', '["REQUEST_INITIATE"]')


async def test_accepting_cancels_the_items_as_the_buyers_with_one_decide_call(sandbox: Sandbox) -> None:
    world = sandbox.world
    order = packed_order(world)
    reverse_id = ask(world, order)
    client = sandbox.client()

    request_id = await client.decide_buyer_cancel(reverse_order_id=reverse_id, agree=True)

    assert request_id
    assert world.call_count(DECIDE) == 1
    items = await client.get_order_items(order_id=order.order_id)
    assert {(i.status, i.cancel_return_initiator, i.need_cancel_confirm) for i in items} == {
        ("canceled", BUYER_CANCEL_INITIATOR, False)
    }
    read_back = await client.get_reverse_order(reverse_id)
    assert read_back is not None
    assert (read_back.reverse_status, read_back.is_open, read_back.is_closed) == ("CANCEL_SUCCESS", False, True)
    assert await client.open_buyer_cancel_requests() == []
    assert world.buyer_request(reverse_id).decided_by == "seller"


async def test_refusing_keeps_the_items_and_records_the_reason(sandbox: Sandbox) -> None:
    world = sandbox.world
    order = packed_order(world)
    reverse_id = ask(world, order)
    client = sandbox.client()
    line_id = (await client.open_buyer_cancel_requests())[0].reverse_order_lines[0].reverse_order_line_id

    reasons = await client.refusal_reasons(reverse_order_line_id=line_id)
    await client.decide_buyer_cancel(reverse_order_id=reverse_id, agree=False, reason_code=reasons[0].reason_id)

    assert [r.reason_id for r in reasons] == [r.reason_id for r in REFUSAL_REASONS]
    (decided,) = [call.params for call in world.calls if call.path == DECIDE]
    assert dict(decided) == {"reverse_order_id": str(reverse_id), "agree_cancel": "false", "reason_code": REFUSAL}
    items = await client.get_order_items(order_id=order.order_id)
    assert {(i.status, i.need_cancel_confirm, i.cancel_trigger_time) for i in items} == {("packed", False, None)}
    read_back = await client.get_reverse_order(reverse_id)
    assert read_back is not None
    assert read_back.reverse_status == "REQUEST_REJECT"


async def test_lazada_accepts_by_itself_at_the_deadline_and_a_later_decision_gets_131(sandbox: Sandbox) -> None:
    world = sandbox.world
    order = packed_order(world)
    reverse_id = ask(world, order, hours=24)
    client = sandbox.client()

    sandbox.clock.advance(hours=23, minutes=59, seconds=59)
    assert [r.reverse_order_id for r in await client.open_buyer_cancel_requests()] == [str(reverse_id)]
    sandbox.clock.advance(seconds=1)
    assert await client.open_buyer_cancel_requests() == []

    read_back = await client.get_reverse_order(reverse_id)
    assert read_back is not None
    assert read_back.reverse_status == "CANCEL_SUCCESS"
    request = world.buyer_request(reverse_id)
    assert (request.decided_by, request.decided_at) == ("lazada", request.deadline)
    items = await client.get_order_items(order_id=order.order_id)
    assert {(i.status, i.cancel_return_initiator, i.need_cancel_confirm) for i in items} == {
        ("canceled", BUYER_CANCEL_INITIATOR, False)
    }
    with pytest.raises(LazadaBusinessError) as caught:
        await client.decide_buyer_cancel(reverse_order_id=reverse_id, agree=True)
    assert (caught.value.code, caught.value.outcome_unknown) == ("131", False)
    assert world.call_count(DECIDE, code="0") == 0


async def test_a_second_decision_is_131_and_changes_nothing(sandbox: Sandbox) -> None:
    world = sandbox.world
    order = packed_order(world)
    reverse_id = ask(world, order)
    client = sandbox.client()
    await client.decide_buyer_cancel(reverse_order_id=reverse_id, agree=False, reason_code=REFUSAL)

    with pytest.raises(LazadaBusinessError) as caught:
        await client.decide_buyer_cancel(reverse_order_id=reverse_id, agree=True)

    assert caught.value.code == "131"
    assert caught.value.user_message.endswith("Lazada says: “E0131: no decision for this reverse order”")
    assert {i.status for i in await client.get_order_items(order_id=order.order_id)} == {"packed"}


async def test_an_unknown_reverse_order_is_105_and_a_sellers_own_cancel_is_131(sandbox: Sandbox) -> None:
    world = sandbox.world
    order = world.add_order([ItemSpec()])
    client = sandbox.client()
    await client.init_cancel(
        order_id=order.order_id, order_item_ids=[order.items[0].order_item_id], reason_id="10000019"
    )
    seller_reverse_id = order.items[0].reverse_order_id
    assert seller_reverse_id is not None

    with pytest.raises(LazadaBusinessError) as unknown:
        await client.decide_buyer_cancel(reverse_order_id=999, agree=True)
    with pytest.raises(LazadaBusinessError) as not_a_request:
        await client.decide_buyer_cancel(reverse_order_id=seller_reverse_id, agree=True)

    assert unknown.value.code == "105"
    assert unknown.value.user_message == (
        "Lazada does not know this buyer cancellation request. "
        "Lazada says: “E0105: reverse order id is empty or invalid”"
    )
    assert not_a_request.value.code == "131"
    assert await client.get_reverse_order(999) is None


async def test_refusal_reasons_119_when_none_or_decided_and_103_for_an_unknown_line(sandbox: Sandbox) -> None:
    world = sandbox.world
    first, second = packed_order(world), packed_order(world)
    first_id, second_id = ask(world, first), ask(world, second)
    client = sandbox.client()
    lines = {r.reverse_order_id: r.reverse_order_lines[0] for r in await client.open_buyer_cancel_requests()}
    world.lines_without_refusal_reasons.add(int(lines[str(first_id)].reverse_order_line_id))

    with pytest.raises(LazadaBusinessError) as none:
        await client.refusal_reasons(reverse_order_line_id=lines[str(first_id)].reverse_order_line_id)
    await client.decide_buyer_cancel(reverse_order_id=second_id, agree=True)
    with pytest.raises(LazadaBusinessError) as decided:
        await client.refusal_reasons(reverse_order_line_id=lines[str(second_id)].reverse_order_line_id)
    with pytest.raises(LazadaBusinessError) as unknown:
        await client.refusal_reasons(reverse_order_line_id=123)

    assert (none.value.code, decided.value.code, unknown.value.code) == ("119", "119", "103")
    assert none.value.user_message.startswith("Lazada has no refusal reasons for this buyer cancellation request.")


async def test_a_106_after_the_decision_took_effect_leaves_the_outcome_to_be_read_back(sandbox: Sandbox) -> None:
    world = sandbox.world
    reverse_id = ask(world, packed_order(world))
    world.faults.inject(FaultKind.ROC_INTERNAL_ERROR, path=DECIDE, apply_first=True)
    client = sandbox.client()

    with pytest.raises(LazadaServerError) as caught:
        await client.decide_buyer_cancel(reverse_order_id=reverse_id, agree=True)

    assert (caught.value.code, caught.value.outcome_unknown) == ("106", True)
    assert world.call_count(DECIDE) == 1, "never retried"
    read_back = await client.get_reverse_order(reverse_id)
    assert read_back is not None
    assert read_back.reverse_status == "CANCEL_SUCCESS", "the read-back tells what happened"


async def test_listing_pages_and_filters_as_documented(sandbox: Sandbox) -> None:
    world = sandbox.world
    orders = [packed_order(world, items=1) for _ in range(23)]
    ids = [ask(world, order) for order in orders]
    client = sandbox.client()
    await client.decide_buyer_cancel(reverse_order_id=ids[0], agree=False, reason_code=REFUSAL)

    found = await client.open_buyer_cancel_requests()
    by_order = await client.get_reverse_orders(trade_order_id=orders[5].order_id, reverse_statuses=None)
    rejected = await client.get_reverse_orders(reverse_statuses=["REQUEST_REJECT"])
    everything = await client.get_reverse_orders(page_no=3, reverse_statuses=None)

    assert [r.reverse_order_id for r in found] == [str(one) for one in ids[1:]]
    assert [p["page_no"] for p in sandbox.sent_params(LIST)[:3]] == ["1", "2", "3"]
    assert [r.reverse_order_id for r in by_order.items] == [str(ids[5])]
    assert [r.reverse_order_id for r in rejected.items] == [str(ids[0])]
    assert (everything.total, everything.page_no, everything.page_size, len(everything.items)) == (23, 3, 10, 3)


async def test_a_sellers_cancel_of_the_items_voids_the_buyers_request(sandbox: Sandbox) -> None:
    world = sandbox.world
    order = world.add_order([ItemSpec()])
    reverse_id = ask(world, order)
    client = sandbox.client()

    await client.init_cancel(
        order_id=order.order_id, order_item_ids=[order.items[0].order_item_id], reason_id="10000019"
    )

    read_back = await client.get_reverse_order(reverse_id)
    assert read_back is not None
    assert (read_back.reverse_status, read_back.is_closed) == ("REQUEST_CANCEL", True)
    sandbox.clock.advance(days=2)
    (item,) = await client.get_order_items(order_id=order.order_id)
    assert item.cancel_return_initiator == "cancellation-seller", "the deadline no longer applies"


async def test_the_showcase_order_has_an_open_buyer_request(sandbox: Sandbox) -> None:
    add_showcase_orders(sandbox.world)

    (request,) = await sandbox.client().open_buyer_cancel_requests()

    assert request.trade_order_id == str(SHOWCASE.buyer_request)
    assert request.deadline == sandbox.world.now() - timedelta(minutes=20) + timedelta(hours=48)
    assert len(request.reverse_order_lines) == 2


async def test_buyers_ask_now_and_then_with_deadlines_24_to_48_hours_on() -> None:
    clock = ManualClock()
    world = SandboxWorld(now=clock)
    generate_history(world, seed=3, orders_per_day=60, days=3)
    start = world.now()
    stream = start_buyer_requests(world, seed=3)

    for _ in range(48):  # two days, an hour at a time
        clock.advance(hours=1)
        world.settle()

    requests = [world.buyer_request(one) for one in stream.opened]
    assert 6 <= len(requests) <= 40, "about eight a day"
    for request in requests:
        assert start < request.requested_at <= world.now()
        assert timedelta(hours=24) <= request.deadline - request.requested_at <= timedelta(hours=48)
        assert len(request.lines) == len(world.order(request.order_id).items)
    decided = [r for r in requests if r.decided_by == "lazada"]
    assert decided, "requests past their deadline were accepted by Lazada"
    assert all(r.decided_at == r.deadline for r in decided)
    assert {r.reverse_order_id for r in world.open_buyer_requests()} == {
        r.reverse_order_id for r in requests if r.deadline > world.now()
    }

    again_clock = ManualClock()
    again = SandboxWorld(now=again_clock)
    generate_history(again, seed=3, orders_per_day=60, days=3)
    same = start_buyer_requests(again, seed=3)
    again_clock.advance(hours=48)
    again.settle()
    assert [again.buyer_request(one).order_id for one in same.opened] == [r.order_id for r in requests]


async def test_the_stream_makes_nothing_before_its_first_arrival_and_catches_up_boundedly() -> None:
    clock = ManualClock()
    world = SandboxWorld(now=clock)
    generate_history(world, seed=5, orders_per_day=200, days=2)
    stream = start_buyer_requests(world, seed=5, per_day=1000)

    world.settle()
    assert stream.opened == []
    clock.advance(days=30)
    world.settle()

    assert len(stream.opened) <= 20
    assert stream.next_at > world.now()


async def test_the_control_endpoint_opens_a_request_on_an_order() -> None:
    clock = ManualClock()
    world = SandboxWorld(now=clock)
    order = world.add_order([ItemSpec(status="ready_to_ship"), ItemSpec(status="ready_to_ship")])
    shipped = world.add_order([ItemSpec(status="shipped")])
    async with httpx.AsyncClient(transport=SandboxTransport(world)) as http:
        root = "http://lazada.sandbox/_sandbox"
        opened = await http.post(
            f"{root}/orders/{order.order_id}/buyer-cancel", json={"hours": 36, "reason": "Duplicate order"}
        )
        refused = await http.post(f"{root}/orders/{shipped.order_id}/buyer-cancel")
        unknown = await http.post(f"{root}/orders/777/buyer-cancel")
        wrong_item = await http.post(f"{root}/orders/{order.order_id}/buyer-cancel", json={"items": [1]})

    assert opened.status_code == 201
    body = opened.json()
    assert body["trade_order_id"] == str(order.order_id)
    assert body["reverse_order_lines"][0]["reason_text"] == "Duplicate order"
    assert body["reverse_order_lines"][0]["sla"] == str(int((world.now() + timedelta(hours=36)).timestamp() * 1000))
    assert {i.need_cancel_confirm for i in order.items} == {True}
    assert (refused.status_code, unknown.status_code, wrong_item.status_code) == (409, 404, 404)


async def test_the_wire_answers_have_the_documented_shapes() -> None:
    clock = ManualClock()
    world = SandboxWorld(now=clock)
    reverse_id = ask(world, packed_order(world, items=1))
    async with httpx.AsyncClient(transport=SandboxTransport(world), base_url=SANDBOX_BASE_URL) as http:
        caller = SandboxCaller(http, world)
        listed = await caller.call(LIST, {"page_no": "1", "request_type_list": '["CANCEL"]'})
        line_id = listed["result"]["items"][0]["reverse_order_lines"][0]["reverse_order_line_id"]
        reasons = await caller.call(REASONS, {"reverse_order_line_id": line_id})
        no_reason = await caller.call(DECIDE, {"reverse_order_id": str(reverse_id), "agree_cancel": "false"})
        decided = await caller.call(DECIDE, {"reverse_order_id": str(reverse_id), "agree_cancel": "true"})

    result = listed["result"]
    assert (result["total"], result["page_no"], result["page_size"], result["success"]) == ("1", "1", "10", "true")
    line = result["items"][0]["reverse_order_lines"][0]
    assert all(isinstance(line[name], str) for name in ("reverse_order_line_id", "refund_amount", "sla"))
    assert line["buyer"]["buyer_id"].isdigit()
    assert set(reasons["data"][0]) == {"reason_id", "text", "muti_language_text"}
    assert no_reason["code"] == "MissingParameter", "a refusal needs its reason_code (the strict reading)"
    assert decided == {"code": "0", "data": None, "request_id": decided["request_id"]}
