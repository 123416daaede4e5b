"""Tolerant reading (issue 10 point 7): garbage in any field the bot does not need never fails an answer.

Hypothesis fills every such field of a documented answer with anything JSON can hold (and Lazada's own oddities:
``"null"``, ``""``, numbers as strings); the fields the bot relies on must still come through unchanged.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.lazada.envelope import LazadaResponse, decode
from bot.lazada.models import CancelValidation, OrderItem, OrderItems, OrdersPage
from bot.lazada.redaction import Redactor
from bot.lazada.reverse import ReverseOrdersPage

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["null", "", "NULL", " ", "true", "false", "0", "1,299.50", "2014-10-15 19:12:15 +0800"]),
    st.sampled_from(["2014-10-15T19:12:15+08:00", "1413371535000", "not a date", "2026-13-45"]),
)
GARBAGE = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=4,
)

ITEM = {
    "order_item_id": "290000000000001",
    "order_id": "280000000000001",
    "status": "packed",
    "package_id": "FP0001",
    "cancel_return_initiator": "cancellation-seller",
    "reverse_order_id": "7001",
    "is_cancel_pending": "true",
    "need_cancel_confirm": False,
    "name": "Blue mug",
    "sku": "MUG-BLUE",
    "shop_sku": "123_SGAMZ-456",
    "variation": "",
    "item_price": "1,299.50",
    "paid_price": 1199.5,
    "currency": "SGD",
    "tracking_code": "",
    "shipment_provider": "LEX SG",
    "reason": "",
    "reason_detail": "",
    "return_status": "",
    "cancel_trigger_time": "2026-11-21 10:00:00 +0800",
    "created_at": "2026-11-20 10:00:00 +0800",
    "updated_at": "2026-11-20T10:05:00+08:00",
}
ITEM_NEEDED = frozenset(
    {
        "order_item_id",
        "order_id",
        "status",
        "package_id",
        "cancel_return_initiator",
        "reverse_order_id",
        "is_cancel_pending",
        "need_cancel_confirm",
    }
)
ORDER = {
    "order_id": 280000000000001,
    "order_number": "280000000000001",
    "created_at": "2026-11-20 10:00:00 +0800",
    "updated_at": "2026-11-20 10:05:00 +0800",
    "statuses": ["canceled", "pending"],
    "items_count": "3",
    "price": "1,299.50",
    "voucher": "0.00",
    "shipping_fee": "1.00",
    "payment_method": "COD",
    "warehouse_code": "dropshipping",
    "need_cancel_confirm": "false",
    "is_cancel_pending": "false",
}
ORDER_NEEDED = frozenset({"order_id", "created_at", "updated_at", "statuses", "items_count"})


def _garbled(base: dict[str, Any], needed: frozenset[str]) -> st.SearchStrategy[dict[str, Any]]:
    """``base`` with every field outside ``needed`` replaced by garbage or dropped, plus unknown extra fields."""
    optional = {name: GARBAGE for name in base if name not in needed}
    return st.builds(
        lambda garbage, dropped, extra: {
            **{name: value for name, value in base.items() if name not in dropped},
            **{name: value for name, value in garbage.items() if name not in dropped},
            **{f"x_{name}": value for name, value in extra.items()},
        },
        st.fixed_dictionaries(optional),
        st.sets(st.sampled_from(sorted(optional))),
        st.dictionaries(st.text(max_size=6), GARBAGE, max_size=3),
    )


def _decode(envelope: type[LazadaResponse[Any]], body: dict[str, Any]) -> Any:
    response = httpx.Response(200, content=json.dumps(body).encode())
    return decode(envelope, response, api_path="/test", redact=Redactor([])).payload


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(_garbled(ITEM, ITEM_NEEDED))
def test_an_order_item_with_garbage_in_unneeded_fields_reads_its_needed_ones(raw: dict[str, Any]) -> None:
    (item,) = _decode(LazadaResponse[tuple[OrderItem, ...]], {"code": "0", "data": [raw], "request_id": "r"})
    assert (item.order_item_id, item.order_id, item.status) == ("290000000000001", "280000000000001", "packed")
    assert (item.package_id, item.cancel_return_initiator, item.reverse_order_id) == (
        "FP0001",
        "cancellation-seller",
        "7001",
    )
    assert item.is_cancel_pending is True


@FAST
@given(st.lists(_garbled(ITEM, ITEM_NEEDED), min_size=1, max_size=3))
def test_multiple_order_items_with_garbage_keep_every_order_readable(items: list[dict[str, Any]]) -> None:
    body = {"code": "0", "data": [{"order_id": 280000000000001, "order_items": items}], "request_id": "r"}
    (order,) = _decode(LazadaResponse[tuple[OrderItems, ...]], body)
    assert order.readable
    assert [i.status for i in order.order_items] == ["packed"] * len(items)


@FAST
@given(_garbled(ORDER, ORDER_NEEDED))
def test_an_order_with_garbage_in_unneeded_fields_reads_what_the_digest_counts(raw: dict[str, Any]) -> None:
    body = {"code": "0", "data": {"count": "1", "countTotal": 1, "orders": [raw]}, "request_id": "r"}
    page = _decode(LazadaResponse[OrdersPage], body)
    assert page.unreadable == ()
    (order,) = page.orders
    assert (order.order_id, order.items_count, order.statuses) == ("280000000000001", 3, ("canceled", "pending"))
    assert order.created_at is not None


@FAST
@given(st.lists(st.one_of(GARBAGE, _garbled(ORDER, ORDER_NEEDED)), max_size=5))
def test_a_page_of_orders_never_fails_on_one_order_it_names_instead(orders: list[Any]) -> None:
    good = {**ORDER, "order_id": 1}
    body = {"code": "0", "data": {"count": len(orders) + 1, "orders": [good, *orders]}, "request_id": "r"}
    page = _decode(LazadaResponse[OrdersPage], body)
    assert page.orders[0].order_id == "1"
    assert len(page.orders) + len(page.unreadable) == len(orders) + 1


@FAST
@given(GARBAGE, GARBAGE, st.dictionaries(st.text(max_size=6), GARBAGE, max_size=3))
def test_a_validate_answer_with_garbage_beside_its_reasons_still_offers_them(
    stray: object, other: object, extra: dict[str, Any]
) -> None:
    data = {
        **{f"x_{k}": v for k, v in extra.items()},
        "tip_content": "SKU stock may be set to 0",
        "tip_type": "warning",
        "reason_options": [{"reason_id": "10000019", "reason_name": "Sourcing Delay", "stray": stray}],
        "unused": other,
    }
    validation = _decode(LazadaResponse[CancelValidation], {"code": "0", "data": data, "request_id": "r"})
    assert [r.reason_id for r in validation.reason_options] == ["10000019"]


REVERSE_LINE = {
    "reverse_order_line_id": "410000000000001",
    "trade_order_line_id": 290000000000001,
    "reverse_status": "REQUEST_INITIATE",
    "ofc_status": "",
    "reason_code": "1000101",
    "reason_text": "Change of mind",
    "refund_amount": "1290",
    "sla": "1795000000000",
    "seller_sku_id": "MUG-BLUE",
    "platform_sku_id": "456",
    "buyer": {"buyer_id": "100"},
    "is_dispute": "false",
}
REVERSE_LINE_NEEDED = frozenset({"reverse_order_line_id", "trade_order_line_id", "reverse_status", "sla"})
REVERSE_ORDER = {
    "reverse_order_id": 400000000000001,
    "trade_order_id": "280000000000001",
    "request_type": "CANCEL",
    "is_rtm": "false",
    "shipping_type": "Dropshipping",
}


@FAST
@given(
    st.lists(_garbled(REVERSE_LINE, REVERSE_LINE_NEEDED), min_size=1, max_size=3),
    _garbled(REVERSE_ORDER, frozenset({"reverse_order_id", "trade_order_id"})),
    GARBAGE,
)
def test_a_buyer_request_with_garbage_in_unneeded_fields_keeps_its_ids_status_and_deadline(
    lines: list[dict[str, Any]], order: dict[str, Any], total: object
) -> None:
    raw = {**order, "reverse_order_lines": lines}
    body = {"code": "0", "result": {"total": total, "success": "true", "items": [raw]}, "request_id": "r"}
    page = _decode(LazadaResponse[ReverseOrdersPage], body)
    assert page.unreadable == ()
    (request,) = page.items
    assert (request.reverse_order_id, request.trade_order_id) == ("400000000000001", "280000000000001")
    assert request.order_item_ids == ("290000000000001",) * len(lines)
    assert (request.is_open, request.reverse_status) == (True, "REQUEST_INITIATE")
    assert request.deadline is not None
    assert request.deadline.timestamp() == 1795000000
    for line in request.reverse_order_lines:
        assert line.refund_amount is None or isinstance(line.refund_amount, int)
        assert line.buyer_id is None or isinstance(line.buyer_id, str)
