"""Lazada's wire protocol over a ``SandboxWorld``: gateway checks, one handler per API path, envelopes."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from bot.lazada.countries import COUNTRIES, Country
from bot.lazada.signing import sign
from cancel_order_bot.sandbox.errors import SandboxApiError, missing_parameter
from cancel_order_bot.sandbox.world import (
    ITEM_STATUSES,
    REFERENCE_ERROR_TIP,
    BuyerCancelRequest,
    CancelMode,
    Item,
    Order,
    ReverseLine,
    SandboxWorld,
)

__all__ = [
    "API_PATHS",
    "MAX_ORDER_IDS",
    "MAX_REPACK_PACKAGES",
    "REVERSE_DECIDE_PATH",
    "REVERSE_ORDERS_PATH",
    "REVERSE_REASONS_PATH",
    "SYSTEM_PARAMS",
    "TIMESTAMP_TOLERANCE_SECONDS",
    "ApiOutcome",
    "format_time",
    "handle_api_call",
    "item_json",
    "order_json",
    "reverse_order_json",
]

SYSTEM_PARAMS = frozenset({"app_key", "timestamp", "sign_method", "sign", "access_token", "partner_id", "debug"})
TIMESTAMP_TOLERANCE_SECONDS = 7200
MAX_ORDER_IDS = 50
MAX_REPACK_PACKAGES = 20
MAX_ORDERS_LIMIT = 100
MAX_ORDERS_OFFSET = 5000
REVERSE_ORDERS_PATH = "/reverse/getreverseordersforseller"
REVERSE_REASONS_PATH = "/order/reverse/reason/list"
REVERSE_DECIDE_PATH = "/order/reverse/cancel/seller/decide"
REVERSE_PAGE_SIZE = 10

_STATUS_GROUPS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "topack": frozenset({"pending"}),
        "toship": frozenset({"packed", "ready_to_ship"}),
        "shipping": frozenset({"shipped"}),
    }
)
_STATUS_FILTERS = ITEM_STATUSES | {"repacked", "ready_to_ship_pending"}
_VALIDATE_TIP = (
    'SKU stock may be set to 0* after cancellation due to reasons "Out of Stock" or "Wrong Price or Pricing '
    'Error". Cancelling for seller reasons counts towards your cancellation rate.'
)
_CREATE_TIP = (
    "The order has been cancelled and SKU stock may have been set to 0 if you chose Out of Stock or Wrong "
    "Price or Pricing Error. Your customer has also been informed about the cancellation."
)
_FIRST_NAMES = ("Alex", "Jamie", "Wei Ling", "Nur", "Arjun", "Mei", "Hafiz", "Siti", "Daniel", "Priya")


@dataclass(frozen=True, slots=True)
class ApiOutcome:
    """The JSON body of an API answer, its ``code`` and whether the call was handled past the checks."""

    body: dict[str, Any]
    code: str
    handled: bool


def format_time(world: SandboxWorld, moment: datetime) -> str:
    """Format a time as Lazada does in order payloads: ``2026-11-20 10:00:00 +0800``, store-local."""
    return moment.astimezone(world.tz).strftime("%Y-%m-%d %H:%M:%S %z")


def _money(value: object) -> str:
    return f"{value:.2f}"


def _date(world: SandboxWorld, moment: datetime | None, order_id: int) -> object:
    """A time in one of Lazada's three documented forms, chosen per order from ``world.date_forms``."""
    if moment is None:
        return _absent(world)
    form = world.date_forms[order_id % len(world.date_forms)]
    if form == "iso":
        return moment.astimezone(world.tz).isoformat(timespec="seconds")
    if form == "epoch_ms":
        return str(int(moment.timestamp() * 1000))
    return format_time(world, moment)


def _absent(world: SandboxWorld) -> str:
    return "null" if world.null_strings else ""


def item_json(world: SandboxWorld, item: Item) -> dict[str, Any]:
    """An order item as GetOrderItems returns it (values as strings, like Lazada's examples)."""
    product_id = 1_000_000_000 + sum(map(ord, item.sku)) * 7919
    package = item.package_id or ""
    shipped = item.status not in {"pending", "unpaid", "packed", "canceled"} and bool(package)
    body: dict[str, Any] = {
        "order_item_id": str(item.order_item_id),
        "order_id": str(item.order_id),
        "status": item.status,
        "package_id": package,
        "tracking_code": f"SBX{package[2:]}" if shipped else _absent(world),
        "tracking_code_pre": _absent(world),
        "shipment_provider": "Sandbox Express" if package else "",
        "shipping_provider_type": "standard",
        "shipping_type": "Dropshipping",
        "sku": item.sku,
        "shop_sku": f"{product_id}_{world.country.upper()}-{product_id + 1}",
        "sku_id": str(product_id + 1),
        "product_id": str(product_id),
        "name": item.name,
        "variation": item.variation,
        "item_price": _money(item.price),
        "paid_price": _money(item.price),
        "currency": world.currency,
        "voucher_amount": "0.00",
        "voucher_seller": "0.00",
        "voucher_platform": "0.00",
        "shipping_amount": "0.00",
        "tax_amount": "0.00",
        "created_at": _date(world, item.created_at, item.order_id),
        "updated_at": _date(world, item.updated_at, item.order_id),
        "reason": item.reason or _absent(world),
        "reason_detail": _absent(world),
        "cancel_return_initiator": item.cancel_return_initiator or _absent(world),
        "return_status": _absent(world),
        "reverse_order_id": str(item.reverse_order_id) if item.reverse_order_id else _absent(world),
        "need_cancel_confirm": item.need_cancel_confirm,
        "is_cancel_pending": item.is_cancel_pending,
        "cancel_trigger_time": (
            ""
            if item.order_item_id in world.items_without_cancel_trigger
            else _date(world, item.cancel_trigger_time, item.order_id)
        ),
        "order_type": "Normal",
        "order_flag": "NORMAL",
        "is_fbl": 0,
        "warehouse_code": "dropshipping",
        "invoice_number": "",
    }
    if item.order_id in world.garbled_items:
        body["status"] = None
    return body


def order_json(world: SandboxWorld, order: Order) -> dict[str, Any]:
    """An order as GetOrders / GetOrder return it."""
    first_name = _FIRST_NAMES[order.order_id % len(_FIRST_NAMES)]
    city = COUNTRIES[Country(world.country)].sandbox_city
    address = {
        "first_name": first_name,
        "last_name": "",
        "city": city,
        "country": city if world.country == Country.SG else world.country.upper(),
        "phone": "",
        "address1": "1 Sandbox Road",
        "post_code": "000000",
    }
    body: dict[str, Any] = {
        "order_id": order.order_id,
        "order_number": order.order_number,
        "created_at": _date(world, order.created_at, order.order_id),
        "updated_at": _date(world, order.updated_at, order.order_id),
        "statuses": order.statuses,
        "items_count": order.items_count,
        "price": _money(order.price),
        "voucher": "0.00",
        "voucher_seller": "0.00",
        "voucher_platform": "0.00",
        "voucher_code": "",
        "shipping_fee": _money(order.shipping_fee),
        "shipping_fee_original": _money(order.shipping_fee),
        "shipping_fee_discount_seller": "0.00",
        "shipping_fee_discount_platform": "0.00",
        "payment_method": order.payment_method,
        "warehouse_code": "dropshipping",
        "need_cancel_confirm": any(item.need_cancel_confirm for item in order.items),
        "is_cancel_pending": any(item.is_cancel_pending for item in order.items),
        "customer_first_name": first_name,
        "customer_last_name": "",
        "gift_option": False,
        "gift_message": "",
        "remarks": "",
        "delivery_info": "",
        "promised_shipping_times": "",
        "extra_attributes": "",
        "national_registration_number": "",
        "tax_code": "",
        "branch_number": "",
        "address_shipping": address,
        "address_billing": address,
    }
    if order.order_id in world.garbled_orders:
        body["items_count"] = "several"
    return body


# -- parameter parsing -------------------------------------------------------------------------------


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise missing_parameter(name)
    return value


def _order_id(params: Mapping[str, str], *, missing: SandboxApiError | None = None) -> int:
    raw = params.get("order_id", "")
    if raw == "":
        raise missing or missing_parameter("order_id")
    if not raw.isdigit():
        raise SandboxApiError("16", f'E016: "{raw}" Invalid Order ID')
    return int(raw)


def _id_list(raw: str) -> list[int] | None:
    """Parse a JSON array of ids (numbers or digit strings); None when it is not one."""
    try:
        decoded = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(decoded, list):
        return None
    ids: list[int] = []
    for element in decoded:
        if isinstance(element, bool):
            return None
        if isinstance(element, int) and element > 0:
            ids.append(element)
        elif isinstance(element, str) and element.isdigit():
            ids.append(int(element))
        else:
            return None
    return ids


def _moment(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise SandboxApiError("17", f'E017: "{raw}" Invalid Date Format')
    return moment


def _bounded_int(params: Mapping[str, str], name: str, default: int, low: int, high: int, code: str) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        label = "Limit" if name == "limit" else "Offset"
        raise SandboxApiError(code, f'E0{code}: "{raw}" Invalid {label}')
    return int(raw)


# -- endpoints -----------------------------------------------------------------------------------------


def _get_order_items(world: SandboxWorld, params: Mapping[str, str]) -> dict[str, Any]:
    order_id = _order_id(params)
    if not world.has_order(order_id):
        raise SandboxApiError("16", f'E016: "{order_id}" Invalid Order ID')
    return {"data": [item_json(world, item) for item in world.order(order_id).items]}


def _get_multiple_order_items(world: SandboxWorld, params: Mapping[str, str]) -> dict[str, Any]:
    raw = _required(params, "order_ids")
    bad_format = SandboxApiError("56", "E056: Invalid OrdersIdList format. Must use array format [1,2]")
    try:
        decoded = json.loads(raw)
    except ValueError:
        raise bad_format from None
    # Number[] (lazada-api.md §3.2): quoted ids are not the documented form, so they get E056 like any bad list.
    if not isinstance(decoded, list) or not decoded or any(isinstance(one, str) for one in decoded):
        raise bad_format
    ids = _id_list(raw)
    if ids is None:
        raise SandboxApiError("37", "E037: One or more order id in the list are incorrect")
    if len(ids) > MAX_ORDER_IDS:
        raise SandboxApiError("38", "E038: Too many orders were requested")
    found = [world.order(order_id) for order_id in dict.fromkeys(ids) if world.has_order(order_id)]
    if not found:
        raise SandboxApiError("39", "E039: No orders were found")
    return {
        "data": [
            {
                "order_id": order.order_id,
                "order_number": order.order_number,
                "order_items": [item_json(world, item) for item in order.items],
            }
            for order in found
        ]
    }


def _cancel_items(world: SandboxWorld, params: Mapping[str, str]) -> list[Item]:
    raw = params.get("order_id", "")
    if raw == "":
        raise SandboxApiError("115", "E0115: order id is null")
    if not raw.isdigit() or not world.has_order(int(raw)):
        # Validate and create list no E016: an order that is not this seller's is an invalid trade order.
        raise SandboxApiError("122", "E0122: invalid trade order")
    order_id = int(raw)
    item_ids = _id_list(params.get("order_item_id_list", ""))
    if not item_ids:
        raise SandboxApiError("102", "E0102: trade order line id is empty or invalid")
    return world.items_for_cancel(order_id, item_ids)


def _validate_cancel(world: SandboxWorld, params: Mapping[str, str]) -> dict[str, Any]:
    items = _cancel_items(world, params)
    refusal = world.cancel_refusal(items)
    if refusal is not None:
        return {"data": {"tip_content": refusal, "tip_type": "error", "reason_options": []}}
    options = [
        {"reason_id": option.reason_id, "reason_name": option.reason_name}
        for option in world.reason_options(items[0].order_id)
    ]
    return {"data": {"tip_content": _VALIDATE_TIP, "tip_type": "warning", "reason_options": options}}


def _create_cancel(world: SandboxWorld, params: Mapping[str, str]) -> dict[str, Any]:
    items = _cancel_items(world, params)
    reason = world.reason_by_id(params.get("reason_id", ""), items[0].order_id)
    refusal = world.cancel_refusal(items)
    if refusal is not None:
        return {"data": {"tip_content": refusal, "tip_type": "error"}}
    mode = world.cancel_modes.get(items[0].order_id, CancelMode.NORMAL)
    if mode is CancelMode.SLOW:
        world.start_slow_cancel(items, reason)
    elif mode is not CancelMode.NOT_APPLIED_WITH_ERROR_TIP:
        world.cancel_items(items, reason)
    if mode in {CancelMode.APPLIED_WITH_ERROR_TIP, CancelMode.NOT_APPLIED_WITH_ERROR_TIP}:
        # Exactly the InitReverseOrderCancel reference example (lazada-api.md §5).
        return {"data": {"tip_content": REFERENCE_ERROR_TIP, "tip_type": "error"}}
    return {"data": {"tip_content": _CREATE_TIP, "tip_type": "success"}}


def _repack_failure(code: str, message: str) -> dict[str, Any]:
    return {"result": {"success": "false", "error_code": code, "error_msg": message, "data": {"packages": []}}}


def _repack(world: SandboxWorld, params: Mapping[str, str]) -> dict[str, Any]:
    raw = _required(params, "rePackReq")
    try:
        request = json.loads(raw)
    except ValueError:
        request = None
    packages = request.get("packages") if isinstance(request, dict) else None
    if not isinstance(packages, list) or not packages:
        return _repack_failure("600010", 'rePackReq must be {"packages":[{"package_id":"…"}]}')
    if len(packages) > MAX_REPACK_PACKAGES:
        return _repack_failure("600011", f"at most {MAX_REPACK_PACKAGES} packages per request")
    results = []
    for entry in packages:
        package_id = entry.get("package_id") if isinstance(entry, dict) else None
        if not isinstance(package_id, str) or not package_id:
            code, message = "600001", "package not found"
            package_id = ""
        else:
            code, message = world.repack(package_id)
        results.append({"package_id": package_id, "item_err_code": code, "msg": message, "retry": "false"})
    failed = [result for result in results if result["item_err_code"] != "0"]
    everything_failed = len(failed) == len(results)
    return {
        "result": {
            "success": "false" if everything_failed else "true",
            "error_code": failed[0]["item_err_code"] if everything_failed else "0",
            "error_msg": failed[0]["msg"] if everything_failed else "",
            "data": {"packages": results},
        }
    }


def _status_filter(params: Mapping[str, str]) -> frozenset[str] | None:
    status = params.get("status", "all") or "all"
    if status == "all":
        return None
    if status in _STATUS_GROUPS:
        return _STATUS_GROUPS[status]
    if status not in _STATUS_FILTERS:
        raise SandboxApiError("36", f'E036: Invalid status filter "{status}"')
    return frozenset({status})


def _get_orders(world: SandboxWorld, params: Mapping[str, str]) -> dict[str, Any]:
    created_after = _moment(params, "created_after")
    created_before = _moment(params, "created_before")
    update_after = _moment(params, "update_after")
    update_before = _moment(params, "update_before")
    if created_after is None and update_after is None:
        raise missing_parameter("created_after or update_after")
    statuses = _status_filter(params)
    sort_by = params.get("sort_by", "") or "created_at"
    if sort_by not in {"created_at", "updated_at"}:
        raise SandboxApiError("75", "E075: Invalid sort filter")
    direction = (params.get("sort_direction", "") or "DESC").upper()
    if direction not in {"ASC", "DESC"}:
        raise SandboxApiError("74", "E074: Invalid sort direction")
    limit = _bounded_int(params, "limit", MAX_ORDERS_LIMIT, 1, MAX_ORDERS_LIMIT, "19")
    offset = _bounded_int(params, "offset", 0, 0, MAX_ORDERS_OFFSET, "14")
    total, orders = world.find_orders(
        created_after=created_after,
        created_before=created_before,
        update_after=update_after,
        update_before=update_before,
        statuses=statuses,
        sort_by=sort_by,
        descending=direction == "DESC",
        offset=offset,
        limit=limit,
    )
    return {
        "data": {
            "count": len(orders),
            "countTotal": total,
            "orders": [order_json(world, order) for order in orders],
        }
    }


def _get_order(world: SandboxWorld, params: Mapping[str, str]) -> dict[str, Any]:
    order_id = _order_id(params)
    if not world.has_order(order_id):
        raise SandboxApiError("16", f'E016: "{order_id}" Invalid Order ID')
    return {"data": order_json(world, world.order(order_id))}


def _seller_performance(world: SandboxWorld, params: Mapping[str, str]) -> dict[str, Any]:
    # What Lazada does with a language outside the documented list is not documented: answer as for none.
    return {"data": {"indicators": list(world.performance_indicators), "success": "true", "error_code": ""}}


# -- buyer cancellation requests (lazada-api.md §8, §8a) ----------------------------------------------------


def _epoch_ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def _reverse_line_json(world: SandboxWorld, request: BuyerCancelRequest, line: ReverseLine) -> dict[str, Any]:
    modified = request.decided_at or request.requested_at
    line_json = {
        "reverse_order_line_id": str(line.reverse_order_line_id),
        "trade_order_line_id": str(line.order_item_id),
        "reverse_status": line.status,
        "ofc_status": _absent(world),
        "reason_code": line.reason.code,
        "reason_text": line.reason.text,
        "refund_amount": str(line.refund_amount),
        "sla": _epoch_ms(line.sla),
        "seller_sku_id": line.seller_sku,
        "platform_sku_id": line.platform_sku_id,
        "buyer": {"buyer_id": line.buyer_id},
        "is_dispute": "false",
        "return_order_line_gmt_create": _epoch_ms(request.requested_at),
        "return_order_line_gmt_modified": _epoch_ms(modified),
    }
    if request.reverse_order_id in world.requests_without_sla:
        del line_json["sla"]
    return line_json


def reverse_order_json(world: SandboxWorld, request: BuyerCancelRequest) -> dict[str, Any]:
    """A reverse order as GetReverseOrdersForSeller lists it: every number a string, as in the reference example."""
    return {
        "reverse_order_id": str(request.reverse_order_id),
        "trade_order_id": str(request.order_id),
        "request_type": request.request_type,
        "is_rtm": "false",
        "shipping_type": "Dropshipping",
        "reverse_order_lines": [_reverse_line_json(world, request, line) for line in request.lines],
    }


def _positive(params: Mapping[str, str], name: str, default: int | None) -> int:
    """A ``Number`` paging parameter; absent or not a positive number is the gateway's MissingParameter."""
    raw = params.get(name, "")
    if raw == "" and default is not None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise missing_parameter(name)
    return int(raw)


def _word_filter(params: Mapping[str, str], name: str) -> frozenset[str] | None:
    """A ``String[]`` filter (``["CANCEL"]``); absent is no filter; anything but a JSON array of strings is refused."""
    raw = params.get(name, "")
    if raw == "":
        return None
    try:
        decoded = json.loads(raw)
    except ValueError:
        decoded = None
    if not isinstance(decoded, list) or not all(isinstance(one, str) for one in decoded):
        raise missing_parameter(name)
    return frozenset(decoded)


def _number_filter(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name, "")
    if raw == "":
        return None
    # Not a number: nothing can match it (an id Lazada does not know lists nothing rather than failing).
    return int(raw) if raw.isdigit() else -1


def _get_reverse_orders(world: SandboxWorld, params: Mapping[str, str]) -> dict[str, Any]:
    if world.mp3_seller:
        raise SandboxApiError("Mp3SellerApiLimit", "MP3 sellers cannot call this API")
    # page_no is required; page_size is listed as required "default 10", so an absent one reads as 10.
    page_no = _positive(params, "page_no", None)
    page_size = _positive(params, "page_size", REVERSE_PAGE_SIZE)
    matching = world.find_buyer_requests(
        request_types=_word_filter(params, "request_type_list"),
        statuses=_word_filter(params, "reverse_status_list"),
        reverse_order_id=_number_filter(params, "reverse_order_id"),
        trade_order_id=_number_filter(params, "trade_order_id"),
    )
    start = (page_no - 1) * page_size
    page = matching[start : start + page_size]
    return {
        "result": {
            "total": str(len(matching)),
            "page_no": str(page_no),
            "page_size": str(page_size),
            "success": "true",
            "items": [reverse_order_json(world, request) for request in page],
        }
    }


def _reverse_reasons(world: SandboxWorld, params: Mapping[str, str]) -> dict[str, Any]:
    raw = params.get("reverse_order_line_id", "")
    if not raw.isdigit():
        raise SandboxApiError("103", "E0103: reverse order line id is empty or invalid")
    options = world.refusal_options(int(raw))
    return {
        "data": [
            {"reason_id": one.reason_id, "text": one.text, "muti_language_text": one.muti_language_text}
            for one in options
        ]
    }


def _decide_buyer_cancel(world: SandboxWorld, params: Mapping[str, str]) -> dict[str, Any]:
    raw = params.get("reverse_order_id", "")
    if not raw.isdigit():
        raise SandboxApiError("105", "E0105: reverse order id is empty or invalid")
    agree = params.get("agree_cancel", "").lower()
    if agree not in {"true", "false"}:
        raise missing_parameter("agree_cancel")
    reason_code = params.get("reason_code") or None
    # reason_code is documented as optional; a refusal without one (or with a non-number) is refused here,
    # the strict reading, so a client that forgets it is caught.
    if agree == "false" and (reason_code is None or not reason_code.isdigit()):
        raise missing_parameter("reason_code")
    world.decide_buyer_request(int(raw), agree=agree == "true", reason_code=reason_code)
    # The documented success answer: {"code":"0","request_id":"…"} with data null.
    return {"data": None}


def _token_body(world: SandboxWorld, access: str, refresh: str, expires_in: int, refresh_in: int) -> dict[str, Any]:
    return {
        "access_token": access,
        "refresh_token": refresh,
        "expires_in": expires_in,
        "refresh_expires_in": refresh_in,
        "country": world.country,
        "account_platform": "seller_center",
        "account": world.account,
        "account_id": None,
        "country_user_info": [
            {
                "country": world.country,
                "seller_id": world.seller_id,
                "user_id": world.seller_id,
                "short_code": f"{world.country.upper()}SANDBOX",
            }
        ],
    }


def _create_token(world: SandboxWorld, params: Mapping[str, str]) -> dict[str, Any]:
    grant = world.exchange_auth_code(_required(params, "code"))
    return _token_body(world, grant.access_token, grant.refresh_token, grant.expires_in, grant.refresh_expires_in)


def _refresh_token(world: SandboxWorld, params: Mapping[str, str]) -> dict[str, Any]:
    grant = world.refresh_access_token(_required(params, "refresh_token"))
    return _token_body(world, grant.access_token, grant.refresh_token, grant.expires_in, grant.refresh_expires_in)


@dataclass(frozen=True, slots=True)
class _Endpoint:
    handler: Callable[[SandboxWorld, Mapping[str, str]], dict[str, Any]]
    needs_token: bool


_ENDPOINTS: Mapping[str, _Endpoint] = MappingProxyType(
    {
        "/order/items/get": _Endpoint(_get_order_items, needs_token=True),
        "/orders/items/get": _Endpoint(_get_multiple_order_items, needs_token=True),
        "/order/reverse/cancel/validate": _Endpoint(_validate_cancel, needs_token=True),
        "/order/reverse/cancel/create": _Endpoint(_create_cancel, needs_token=True),
        "/order/package/repack": _Endpoint(_repack, needs_token=True),
        "/orders/get": _Endpoint(_get_orders, needs_token=True),
        "/order/get": _Endpoint(_get_order, needs_token=True),
        "/seller/performance/get": _Endpoint(_seller_performance, needs_token=True),
        REVERSE_ORDERS_PATH: _Endpoint(_get_reverse_orders, needs_token=True),
        REVERSE_REASONS_PATH: _Endpoint(_reverse_reasons, needs_token=True),
        REVERSE_DECIDE_PATH: _Endpoint(_decide_buyer_cancel, needs_token=True),
        "/auth/token/create": _Endpoint(_create_token, needs_token=False),
        "/auth/token/refresh": _Endpoint(_refresh_token, needs_token=False),
    }
)
API_PATHS = frozenset(_ENDPOINTS)


# -- the gateway -----------------------------------------------------------------------------------------


def _check_timestamp(world: SandboxWorld, raw: str) -> None:
    if raw.isdigit():
        sent_seconds = int(raw) / 1000
    else:
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise SandboxApiError("InvalidTimestamp", f'Invalid timestamp "{raw}"')
        sent_seconds = moment.timestamp()
    if abs(world.now().timestamp() - sent_seconds) > TIMESTAMP_TOLERANCE_SECONDS:
        raise SandboxApiError(
            "InvalidTimestamp",
            f"The timestamp is more than {TIMESTAMP_TOLERANCE_SECONDS} seconds away from the server time",
        )


def _signature_error() -> SandboxApiError:
    return SandboxApiError("IncompleteSignature", "The request signature does not conform to lazop standards")


def _check_gateway(world: SandboxWorld, path: str, params: Mapping[str, str], needs_token: bool) -> None:
    app_key = params.get("app_key", "")
    received = params.get("sign", "")
    if not app_key or not hmac.compare_digest(app_key, world.app_key):
        raise _signature_error()
    if params.get("sign_method", "") != "sha256" or not received:
        raise _signature_error()
    expected = sign(world.app_secret.get_secret_value(), path, params)
    if not hmac.compare_digest(received.upper(), expected):
        raise _signature_error()
    _check_timestamp(world, _required(params, "timestamp"))
    if needs_token and not world.access_token_valid(params.get("access_token", "")):
        raise SandboxApiError("IllegalAccessToken", "The specified access token is invalid or expired")


def handle_api_call(world: SandboxWorld, path: str, params: Mapping[str, str], request_id: str) -> ApiOutcome:
    """Answer one call of API ``path`` (e.g. ``/order/get``) as Lazada would: check, rate-limit, handle."""
    try:
        endpoint = _ENDPOINTS.get(path)
        if endpoint is None:
            raise SandboxApiError("InvalidApiPath", f"The specified API path {path} is invalid")
        _check_gateway(world, path, params, endpoint.needs_token)
        world.settle()
        if not world.admit_call(path):
            raise SandboxApiError(
                "ApiCallLimit",
                "Api access frequency exceeds the limit. this ban will last 1 seconds",
                type="SYSTEM",
            )
        payload = endpoint.handler(world, params)
    except SandboxApiError as error:
        return ApiOutcome(error.envelope(request_id), error.code, handled=False)
    body: dict[str, Any] = {"code": "0", **payload, "request_id": request_id}
    return ApiOutcome(body, "0", handled=True)
