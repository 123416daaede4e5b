"""Lazada's own example answers (lazada-api.md), served by the sandbox and read by the client: one row each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from bot.lazada.client import LazadaClient
from bot.lazada.errors import LazadaBusinessError, LazadaRateLimitedError, LazadaServerError
from bot.lazada.models import CancelAccepted, CancelValidation, OrderItem, OrderItems, OrdersPage, SellerPerformance
from bot.lazada.models import TokenGrant as LazadaTokenGrant
from bot.lazada.reverse import RefusalReason, ReverseOrdersPage
from cancel_order_bot.sandbox import DOCUMENTED_EXAMPLES, DocumentedExample, FaultKind
from tests.lazada.test_client_against_sandbox import Sandbox, open_sandbox

SINCE = datetime(2018, 2, 10, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    """How the client is called for an example, and what it must make of it."""

    call: Callable[[LazadaClient], Awaitable[Any]]
    check: Callable[[Any], None]
    raises: type[Exception] | None = None


def _validation(answer: CancelValidation) -> None:
    assert answer.tip_type == "warning"
    assert [(r.reason_id, r.reason_name) for r in answer.reason_options] == [
        ("10000019", "Sourcing Delay"),
        ("10000021", "Out of Stock"),
        ("10000023", "Wrong Price or Pricing Error"),
    ]


def _success(answer: CancelAccepted) -> None:
    assert answer.tip_type == "success"
    assert answer.tip_content is not None
    assert answer.tip_content.startswith("The order has been cancelled")


def _error_tip(error: LazadaBusinessError) -> None:
    assert (error.code, error.tip_type, error.tip_content) == ("0", "error", "stock will be set as 0")
    assert error.user_message == "stock will be set as 0"


def _repack(error: LazadaBusinessError) -> None:
    assert error.failed_package_ids == ("FP12312321",)
    assert "package not found" in error.user_message


def _item(item: OrderItem) -> None:
    assert (item.order_item_id, item.status, item.package_id) == ("290000000000001", "packed", "FP0000000000001")
    assert item.cancel_return_initiator is None, '"null" reads as no value'
    assert item.item_price == Decimal("12.90")
    assert item.created_at == item.updated_at, "Lazada's date form and ISO with offset are the same instant"
    assert item.need_cancel_confirm is False


def _items(answer: tuple[OrderItem, ...]) -> None:
    (item,) = answer
    _item(item)


def _multiple(answer: tuple[OrderItems, ...]) -> None:
    (order,) = answer
    assert order.readable
    _items(order.order_items)


def _orders(page: OrdersPage) -> None:
    assert (page.count, page.count_total, page.unreadable) == (1, 1, ())
    (order,) = page.orders
    assert (order.order_id, order.items_count, order.statuses) == ("280000000000001", 1, ("canceled",))
    assert order.created_at is not None


def _performance(answer: SellerPerformance) -> None:
    rating, coverage = answer.indicators
    assert (rating.type, rating.formatted_score, rating.formatted_target, rating.target_respected) == (
        "POSITIVE_SELLER_RATING",
        "95%",
        "90%",
        True,
    )
    assert (coverage.type, coverage.score, coverage.target_respected) == ("PRODUCT_RATING_COVERAGE", None, None)


def _token(grant: LazadaTokenGrant) -> None:
    assert (grant.expires_in, grant.refresh_expires_in, grant.country) == (864000, 4320000, "sg")
    assert grant.seller_id == "1152180742"
    assert grant.account_id is None


def _invalid_order(error: LazadaBusinessError) -> None:
    assert error.code == "16"
    assert error.user_message.startswith("Lazada does not know this order in this store.")


def _rate_limited(error: LazadaRateLimitedError) -> None:
    assert error.retry_after == 1.0


def _campaign(error: LazadaServerError) -> None:
    assert error.code == "998"
    assert "campaigns" in error.user_message


def _reverse_page(page: ReverseOrdersPage) -> None:
    assert (page.total, page.page_no, page.page_size, page.success, page.unreadable) == (50, 1, 10, True, ())
    (request,) = page.items
    assert (request.reverse_order_id, request.trade_order_id, request.request_type) == (
        "400000000000001",
        "280000000000001",
        "CANCEL",
    )
    assert (request.is_open, request.reverse_status) == (True, "REQUEST_INITIATE")
    (line,) = request.reverse_order_lines
    assert (line.reverse_order_line_id, line.trade_order_line_id, line.reason_code, line.reason_text) == (
        "410000000000001",
        "290000000000001",
        "1000101",
        "Change of mind",
    )
    assert (line.refund_amount, line.buyer_id, line.ofc_status) == (1290, "100", None)
    assert line.sla == request.deadline == datetime.fromtimestamp(1795000000, UTC)


def _mp3(error: LazadaBusinessError) -> None:
    assert error.code == "Mp3SellerApiLimit"
    assert error.user_message.startswith("Lazada does not let MP3 stores use this function")


def _reasons(reasons: tuple[RefusalReason, ...]) -> None:
    assert [(r.reason_id, r.text) for r in reasons] == [
        ("1000201", "The order has already been packed and handed to the courier")
    ]


def _decision_error(code: str, words: str) -> Callable[[LazadaBusinessError | LazadaServerError], None]:
    def check(error: LazadaBusinessError | LazadaServerError) -> None:
        assert error.code == code
        assert error.user_message.endswith(f"Lazada says: “{words}”")
        assert error.outcome_unknown is (code == "106"), "only 106 leaves the decision's outcome unknown"

    return check


def _decided(request_id: str) -> None:
    assert request_id == "0b0000000000000000000001", "the served request_id, word for word"


def _refuse(client: LazadaClient) -> Awaitable[str]:
    return client.decide_buyer_cancel(reverse_order_id=400000000000001, agree=False, reason_code="1000201")


ROWS: dict[str, Row] = {
    "GetReverseOrdersForSeller: result with numbers as strings": Row(lambda c: c.get_reverse_orders(), _reverse_page),
    "GetReverseOrdersForSeller: Mp3SellerApiLimit": Row(lambda c: c.get_reverse_orders(), _mp3, LazadaBusinessError),
    "GetReverseOrderReasonList: data[] of reason_id, text, muti_language_text": Row(
        lambda c: c.refusal_reasons(reverse_order_line_id=410000000000001), _reasons
    ),
    "GetReverseOrderReasonList: 119 no reasons": Row(
        lambda c: c.refusal_reasons(reverse_order_line_id=410000000000001),
        _decision_error("119", "cannot find any cancel reasons for these orders"),
        LazadaBusinessError,
    ),
    "InitReverseOrderCancelDecide success: data null": Row(
        lambda c: c.decide_buyer_cancel(reverse_order_id=400000000000001, agree=True), _decided
    ),
    "InitReverseOrderCancelDecide: 116 no seller id": Row(
        _refuse, _decision_error("116", "E0116: no seller id"), LazadaBusinessError
    ),
    "InitReverseOrderCancelDecide: 105 invalid reverse order id": Row(
        _refuse, _decision_error("105", "E0105: reverse order id is empty or invalid"), LazadaBusinessError
    ),
    "InitReverseOrderCancelDecide: 131 no decision": Row(
        _refuse, _decision_error("131", "E0131: no decision for this reverse order"), LazadaBusinessError
    ),
    "InitReverseOrderCancelDecide: 106 ROC internal error": Row(
        _refuse, _decision_error("106", "E0106: ROC internal error"), LazadaServerError
    ),
    "OrderCancelValidate reasons and warning tip": Row(
        lambda c: c.validate_cancel(order_id=1, order_item_ids=[2]), _validation
    ),
    "InitReverseOrderCancel tutorial success": Row(
        lambda c: c.init_cancel(order_id=1, order_item_ids=[2], reason_id="10000019"), _success
    ),
    "InitReverseOrderCancel reference example: code 0 with an error tip": Row(
        lambda c: c.init_cancel(order_id=1, order_item_ids=[2], reason_id="10000019"), _error_tip, LazadaBusinessError
    ),
    "RecreatePackage: package not found": Row(
        lambda c: c.repack(package_ids=["FP12312321"]), _repack, LazadaBusinessError
    ),
    "GetOrderItems: an array of items, values as strings": Row(lambda c: c.get_order_items(order_id=1), _items),
    "GetMultipleOrderItems: orders with their items": Row(
        lambda c: c.get_multiple_order_items(order_ids=[280000000000001]), _multiple
    ),
    "GetOrders: count, countTotal and orders": Row(lambda c: c.get_orders(created_after=SINCE), _orders),
    "GetSellerPerformance: indicators": Row(lambda c: c.get_seller_performance(), _performance),
    "GenerateAccessToken: flat, lifetimes as seconds": Row(lambda c: c.create_token(code="0_100100_x"), _token),
    "Error envelope: an ISV business error": Row(
        lambda c: c.get_order_items(order_id=1), _invalid_order, LazadaBusinessError
    ),
    "ApiCallLimit": Row(lambda c: c.get_order_items(order_id=1), _rate_limited, LazadaRateLimitedError),
    "Campaign downgrade 998": Row(lambda c: c.get_orders(created_after=SINCE), _campaign, LazadaServerError),
}


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with open_sandbox() as opened:
        yield opened


def test_every_documented_example_has_a_row() -> None:
    assert sorted(ROWS) == sorted(example.name for example in DOCUMENTED_EXAMPLES)


@pytest.mark.parametrize("example", DOCUMENTED_EXAMPLES, ids=[f"{e.section} {e.name}" for e in DOCUMENTED_EXAMPLES])
async def test_the_client_reads_lazadas_documented_example(sandbox: Sandbox, example: DocumentedExample) -> None:
    row = ROWS[example.name]
    sandbox.world.faults.inject(FaultKind.CANNED, path=example.path, body=example.body)
    client = sandbox.client()

    if row.raises is None:
        row.check(await row.call(client))
    else:
        with pytest.raises(row.raises) as caught:
            await row.call(client)
        row.check(caught.value)
    assert [call.path for call in sandbox.world.calls] == [example.path], "served once, by the sandbox, never retried"
