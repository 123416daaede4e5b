"""Every example answer `../shared/docs/lazada-api.md` quotes, as data the sandbox can serve word for word.

Each is served through a ``canned`` fault (``FaultPlan.inject("canned", path=…, body=…)``), so a test can check
that the client reads Lazada's own examples, not only the sandbox's answers. The ``…`` placeholders of the docs are
kept where they stand for free text; ``request_id`` is filled in when served.

§8 and §8a quote the reverse APIs' field names, shapes and error messages rather than whole answers: those
examples hold exactly the quoted parts (``result`` with ``"total":"50"`` and ``"success":"true"``, the decision's
``{"code":"0","request_id":"…"}``, the error messages word for word), with every other value written as a string
as the reference example does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DOCUMENTED_EXAMPLES", "DocumentedExample"]


@dataclass(frozen=True, slots=True)
class DocumentedExample:
    """One example answer: where the docs quote it, the API path it answers, and the body itself."""

    name: str
    section: str
    path: str
    body: Mapping[str, Any]


_ITEM = {
    # §3.1: "all values are strings in the examples"; the fields the docs list, most relevant first.
    "order_item_id": "290000000000001",
    "order_id": "280000000000001",
    "status": "packed",
    "package_id": "FP0000000000001",
    "tracking_code": "",
    "tracking_code_pre": "",
    "shipment_provider": "LEX SG",
    "shipping_provider_type": "standard",
    "shipping_type": "Dropshipping",
    "sku": "MUG-BLUE",
    "shop_sku": "123_SGAMZ-456",
    "sku_id": "456",
    "product_id": "123",
    "name": "Blue mug",
    "variation": "",
    "item_price": "12.90",
    "paid_price": "12.90",
    "currency": "SGD",
    "voucher_seller": "0.00",
    "shipping_amount": "0.00",
    "tax_amount": "0.00",
    "created_at": "2014-10-15 19:12:15 +0800",
    "updated_at": "2014-10-15T19:12:15+08:00",
    "promised_shipping_time": "",
    "sla_time_stamp": "1413371535000",
    "reason": "",
    "reason_detail": "",
    "cancel_return_initiator": "null",
    "return_status": "",
    "reverse_order_id": "",
    "need_cancel_confirm": "false",
    "is_cancel_pending": "false",
    "cancel_trigger_time": "",
    "order_type": "Normal",
    "order_flag": "NORMAL",
    "is_fbl": "0",
    "warehouse_code": "dropshipping",
    "buyer_id": "100",
    "payment_time": "1413371535000",
    "invoice_number": "",
    "biz_group": "70100",
    "mp3_order": "false",
}

_REVERSE_LINE = {
    # §8 / §8a: the fields the docs list for a line, numbers as strings, sla in epoch milliseconds.
    "reverse_order_line_id": "410000000000001",
    "trade_order_line_id": "290000000000001",
    "reverse_status": "REQUEST_INITIATE",
    "ofc_status": "",
    "reason_code": "1000101",
    "reason_text": "Change of mind",
    "refund_amount": "1290",
    "sla": "1795000000000",
    "seller_sku_id": "MUG-BLUE",
    "platform_sku_id": "456",
    "buyer": {"buyer_id": "100"},
}


def _error_answer(code: str, message: str, error_type: str = "ISV") -> dict[str, Any]:
    return {"type": error_type, "code": code, "message": message, "request_id": "…"}


_REVERSE_EXAMPLES: tuple[DocumentedExample, ...] = (
    DocumentedExample(
        name="GetReverseOrdersForSeller: result with numbers as strings",
        section="§8, §8a",
        path="/reverse/getreverseordersforseller",
        body={
            "code": "0",
            "request_id": "…",
            "result": {
                "total": "50",
                "page_no": "1",
                "page_size": "10",
                "success": "true",
                "items": [
                    {
                        "reverse_order_id": "400000000000001",
                        "trade_order_id": "280000000000001",
                        "request_type": "CANCEL",
                        "is_rtm": "false",
                        "shipping_type": "Dropshipping",
                        "reverse_order_lines": [_REVERSE_LINE],
                    }
                ],
            },
        },
    ),
    DocumentedExample(
        name="GetReverseOrdersForSeller: Mp3SellerApiLimit",
        section="§8",
        path="/reverse/getreverseordersforseller",
        body=_error_answer("Mp3SellerApiLimit", "…"),
    ),
    DocumentedExample(
        name="GetReverseOrderReasonList: data[] of reason_id, text, muti_language_text",
        section="§8a",
        path="/order/reverse/reason/list",
        body={
            "code": "0",
            "data": [
                {
                    "reason_id": "1000201",
                    "text": "The order has already been packed and handed to the courier",
                    "muti_language_text": "Order already packed",
                }
            ],
            "request_id": "…",
        },
    ),
    DocumentedExample(
        name="GetReverseOrderReasonList: 119 no reasons",
        section="§8a",
        path="/order/reverse/reason/list",
        body=_error_answer("119", "cannot find any cancel reasons for these orders"),
    ),
    DocumentedExample(
        name="InitReverseOrderCancelDecide success: data null",
        section="§8a",
        path="/order/reverse/cancel/seller/decide",
        body={"code": "0", "request_id": "…"},
    ),
    DocumentedExample(
        name="InitReverseOrderCancelDecide: 116 no seller id",
        section="§8a",
        path="/order/reverse/cancel/seller/decide",
        body=_error_answer("116", "E0116: no seller id"),
    ),
    DocumentedExample(
        name="InitReverseOrderCancelDecide: 105 invalid reverse order id",
        section="§8a",
        path="/order/reverse/cancel/seller/decide",
        body=_error_answer("105", "E0105: reverse order id is empty or invalid"),
    ),
    DocumentedExample(
        name="InitReverseOrderCancelDecide: 131 no decision",
        section="§8a",
        path="/order/reverse/cancel/seller/decide",
        body=_error_answer("131", "E0131: no decision for this reverse order"),
    ),
    DocumentedExample(
        name="InitReverseOrderCancelDecide: 106 ROC internal error",
        section="§8a",
        path="/order/reverse/cancel/seller/decide",
        body=_error_answer("106", "E0106: ROC internal error", "ISP"),
    ),
)

DOCUMENTED_EXAMPLES: tuple[DocumentedExample, ...] = (
    DocumentedExample(
        name="OrderCancelValidate reasons and warning tip",
        section="§4",
        path="/order/reverse/cancel/validate",
        body={
            "code": "0",
            "request_id": "…",
            "data": {
                "tip_content": "SKU stock may be set to 0* after cancellation due to reasons …",
                "tip_type": "warning",
                "reason_options": [
                    {"reason_id": "10000019", "reason_name": "Sourcing Delay"},
                    {"reason_id": "10000021", "reason_name": "Out of Stock"},
                    {"reason_id": "10000023", "reason_name": "Wrong Price or Pricing Error"},
                ],
            },
        },
    ),
    DocumentedExample(
        name="InitReverseOrderCancel tutorial success",
        section="§5",
        path="/order/reverse/cancel/create",
        body={
            "code": "0",
            "data": {
                "tip_content": "The order has been cancelled and SKU stock may have been set to 0 … Your customer "
                "has also been informed …",
                "tip_type": "success",
            },
            "request_id": "…",
        },
    ),
    DocumentedExample(
        name="InitReverseOrderCancel reference example: code 0 with an error tip",
        section="§5",
        path="/order/reverse/cancel/create",
        body={"code": "0", "data": {"tip_content": "stock will be set as 0", "tip_type": "error"}},
    ),
    DocumentedExample(
        name="RecreatePackage: package not found",
        section="§6",
        path="/order/package/repack",
        body={
            "code": "0",
            "request_id": "…",
            "result": {
                "success": "false",
                "error_code": "2342",
                "error_msg": "package not found",
                "data": {
                    "packages": [
                        {
                            "package_id": "FP12312321",
                            "item_err_code": "600001",
                            "msg": "package not found",
                            "retry": "true",
                        }
                    ]
                },
            },
        },
    ),
    DocumentedExample(
        name="GetOrderItems: an array of items, values as strings",
        section="§3.1",
        path="/order/items/get",
        body={"code": "0", "data": [_ITEM], "request_id": "…"},
    ),
    DocumentedExample(
        name="GetMultipleOrderItems: orders with their items",
        section="§3.2",
        path="/orders/items/get",
        body={
            "code": "0",
            "data": [{"order_id": "280000000000001", "order_number": "280000000000001", "order_items": [_ITEM]}],
            "request_id": "…",
        },
    ),
    DocumentedExample(
        name="GetOrders: count, countTotal and orders",
        section="§7.1",
        path="/orders/get",
        body={
            "code": "0",
            "data": {
                "count": "1",
                "countTotal": "1",
                "orders": [
                    {
                        "order_id": 280000000000001,
                        "order_number": "280000000000001",
                        "created_at": "2018-02-10T16:00:00+08:00",
                        "updated_at": "2018-02-10 16:05:00 +0800",
                        "statuses": ["canceled"],
                        "items_count": "1",
                        "price": "12.90",
                        "voucher": "0.00",
                        "shipping_fee": "1.00",
                        "payment_method": "COD",
                        "warehouse_code": "dropshipping",
                        "need_cancel_confirm": "false",
                        "is_cancel_pending": "false",
                        "addressDsitrict": "",
                    }
                ],
            },
            "request_id": "…",
        },
    ),
    DocumentedExample(
        name="GetSellerPerformance: indicators",
        section="§7.4",
        path="/seller/performance/get",
        body={
            "code": "0",
            "data": {
                "indicators": [
                    {
                        "type": "POSITIVE_SELLER_RATING",
                        "name": "Positive Seller Rating",
                        "tip": "…",
                        "score": "95",
                        "score_format": "PERCENTAGE",
                        "formatted_score": "95%",
                        "target": "90",
                        "target_format": "PERCENTAGE",
                        "formatted_target": "90%",
                        "target_respected": "true",
                        "action_url": "",
                    },
                    {"type": "PRODUCT_RATING_COVERAGE", "name": "Product Rating Coverage"},
                ],
                "success": "true",
                "error_code": "",
            },
            "request_id": "…",
        },
    ),
    DocumentedExample(
        name="GenerateAccessToken: flat, lifetimes as seconds",
        section="§9.2",
        path="/auth/token/create",
        body={
            "code": "0",
            "request_id": "…",
            "access_token": "50000…",
            "refresh_token": "50001…",
            "expires_in": 864000,
            "refresh_expires_in": 4320000,
            "country": "sg",
            "account_platform": "seller_center",
            "account": "seller@example.com",
            "account_id": None,
            "country_user_info": [
                {"country": "sg", "seller_id": "1152180742", "user_id": "1152180742", "short_code": "SGLYT0OS"}
            ],
        },
    ),
    DocumentedExample(
        name="Error envelope: an ISV business error",
        section="§10.1",
        path="/order/items/get",
        body={"type": "ISV", "code": "16", "message": 'E016: "280000000000001" Invalid Order ID', "request_id": "…"},
    ),
    DocumentedExample(
        name="ApiCallLimit",
        section="§10.2",
        path="/order/items/get",
        body={
            "type": "SYSTEM",
            "code": "ApiCallLimit",
            "message": "Api access frequency exceeds the limit. this ban will last 1 seconds",
            "request_id": "…",
        },
    ),
    DocumentedExample(
        name="Campaign downgrade 998",
        section="§10.2",
        path="/orders/get",
        body={
            "type": "ISP",
            "code": "998",
            "message": "To ensure stability of service, this API service is disabled",
            "request_id": "…",
        },
    ),
    *_REVERSE_EXAMPLES,
)
