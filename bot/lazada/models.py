"""Frozen models of the Lazada answers the bot reads, tolerant of the API's loose typing.

Lazada sends ids as numbers or strings, optional values as ``""``, booleans as ``"true"``, amounts as strings,
and dates as ``"2026-11-20 10:00:00 +0800"`` or ISO 8601 with an offset. These models normalise all of that:
ids become strings, ``""`` becomes ``None``, dates become aware datetimes, amounts become ``Decimal``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)

__all__ = [
    "CANCELLABLE_STATUSES",
    "CancelAccepted",
    "CancelValidation",
    "CountryUserInfo",
    "LazadaModel",
    "Order",
    "OrderItem",
    "OrderItems",
    "OrdersPage",
    "PerformanceIndicator",
    "ReasonOption",
    "RepackPackage",
    "RepackResult",
    "SellerPerformance",
    "TokenGrant",
]

CANCELLABLE_STATUSES = frozenset({"pending", "packed", "ready_to_ship"})

_LAZADA_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S %z"
_LAZADA_DATETIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}")


# Lazada writes "no value" as null, "", or the string "null" (lazada-api.md §3.1 examples).
_NULL_WORDS = frozenset({"", "null", "none", "nil", "undefined"})


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in _NULL_WORDS)


def _blank_to_none(value: object) -> object:
    return None if _is_blank(value) else value


def _blank_to_false(value: object) -> object:
    return False if _is_blank(value) else value


def _blank_to_zero(value: object) -> object:
    return 0 if _is_blank(value) else value


def _or_none(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    """The value read, or None when it cannot be: an optional field never fails a whole answer."""
    try:
        return handler(value)
    except ValidationError:
        return None


def _or_false(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    try:
        return handler(value)
    except ValidationError:
        return False


def _or_zero(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    try:
        return handler(value)
    except ValidationError:
        return 0


def _none_to_empty(value: object) -> object:
    return () if value is None else value


def _parse_decimal(value: object) -> object:
    if _is_blank(value):
        return None
    if isinstance(value, str):
        return value.strip().replace(",", "")
    if isinstance(value, float):
        # via str so 0.1 stays 0.1 rather than its binary expansion
        return str(value)
    return value


def _from_epoch_ms(milliseconds: float) -> object:
    try:
        return datetime.fromtimestamp(milliseconds / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        # Past what a datetime holds: left as it came, so validation calls it unreadable.
        return milliseconds


def _parse_datetime(value: object) -> object:
    """Lazada's three date forms: ``2014-10-15 19:12:15 +0800``, ISO 8601 with an offset, epoch milliseconds."""
    if _is_blank(value):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_epoch_ms(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return _from_epoch_ms(int(text))
        if _LAZADA_DATETIME.fullmatch(text):
            # The same instant as strptime reads, about 25 times faster: a page of orders holds hundreds of dates.
            try:
                return datetime.fromisoformat(text[:19] + text[20:])
            except ValueError:
                pass
        try:
            return datetime.strptime(text, _LAZADA_DATETIME_FORMAT)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return value
    return value


# Validators listed last run first: the fallback wraps the normalising step and the type check.
OptionalStr = Annotated[str | None, BeforeValidator(_blank_to_none), WrapValidator(_or_none)]
OptionalDecimal = Annotated[Decimal | None, BeforeValidator(_parse_decimal), WrapValidator(_or_none)]
OptionalDatetime = Annotated[AwareDatetime | None, BeforeValidator(_parse_datetime), WrapValidator(_or_none)]
LenientBool = Annotated[bool, BeforeValidator(_blank_to_false), WrapValidator(_or_false)]
LenientCount = Annotated[int, BeforeValidator(_blank_to_zero), WrapValidator(_or_zero)]
RequiredId = Annotated[str, BeforeValidator(_blank_to_none)]


class LazadaModel(BaseModel):
    """Base of every Lazada model: frozen, ignores unknown fields, ids coerced to strings."""

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        coerce_numbers_to_str=True,
        populate_by_name=True,
    )


class OrderItem(LazadaModel):
    """One order item (one unit) as GetOrderItems and GetMultipleOrderItems return it."""

    order_item_id: str
    order_id: str
    status: str
    name: OptionalStr = None
    sku: OptionalStr = None
    shop_sku: OptionalStr = None
    variation: OptionalStr = None
    item_price: OptionalDecimal = None
    paid_price: OptionalDecimal = None
    currency: OptionalStr = None
    package_id: OptionalStr = None
    tracking_code: OptionalStr = None
    shipment_provider: OptionalStr = None
    cancel_return_initiator: OptionalStr = None
    reason: OptionalStr = None
    reason_detail: OptionalStr = None
    return_status: OptionalStr = None
    reverse_order_id: OptionalStr = None
    is_cancel_pending: LenientBool = False
    need_cancel_confirm: LenientBool = False
    cancel_trigger_time: OptionalDatetime = None
    created_at: OptionalDatetime = None
    updated_at: OptionalDatetime = None

    @property
    def is_cancellable(self) -> bool:
        """Whether the item's status still allows a seller cancellation (pending, packed, ready_to_ship)."""
        return self.status in CANCELLABLE_STATUSES


def _label_of(raw: object, position: int) -> str:
    """How to name an entry that could not be read: its order id when that much is readable."""
    if isinstance(raw, Mapping):
        order_id = raw.get("order_id")
        if isinstance(order_id, str | int) and not isinstance(order_id, bool) and not _is_blank(order_id):
            return str(order_id).strip()
    return f"entry {position + 1}"


class OrderItems(LazadaModel):
    """One order's items, as an element of GetMultipleOrderItems' ``data``.

    ``readable`` is False when some item of the order could not be read: its items are then left out entirely,
    since counting only part of an order would be wrong, and the caller names the order instead.
    """

    order_id: str
    order_number: OptionalStr = None
    order_items: Annotated[tuple[OrderItem, ...], BeforeValidator(_none_to_empty)] = ()
    readable: bool = True

    @model_validator(mode="wrap")
    @classmethod
    def _unreadable_is_named(cls, data: Any, handler: Callable[[Any], OrderItems]) -> OrderItems:
        """An order whose items cannot be read becomes an empty, unreadable entry rather than failing the call."""
        try:
            return handler(data)
        except ValidationError:
            return cls.model_construct(order_id=_label_of(data, 0), order_items=(), readable=False)

    @model_validator(mode="before")
    @classmethod
    def _items_know_their_order(cls, data: Any) -> Any:
        """Fill each item's ``order_id`` from the enclosing order when Lazada leaves it out."""
        if isinstance(data, Mapping) and isinstance(data.get("order_items"), list):
            order_id = data.get("order_id")
            items = [
                {**item, "order_id": order_id}
                if isinstance(item, Mapping) and _is_blank(item.get("order_id"))
                else item
                for item in data["order_items"]
            ]
            return {**data, "order_items": items}
        return data


class ReasonOption(LazadaModel):
    """A cancellation reason Lazada offers for an order; ids differ per country, so never hard-code them."""

    reason_id: str
    reason_name: str


class CancelValidation(LazadaModel):
    """OrderCancelValidate's answer: Lazada's tip and the reasons it allows for these items."""

    tip_content: OptionalStr = None
    tip_type: OptionalStr = None
    reason_options: Annotated[tuple[ReasonOption, ...], BeforeValidator(_none_to_empty)] = ()


class CancelAccepted(LazadaModel):
    """InitReverseOrderCancel's answer; confirm by re-reading the items' status."""

    tip_content: OptionalStr = None
    tip_type: OptionalStr = None
    request_id: OptionalStr = None

    @model_validator(mode="before")
    @classmethod
    def _code_zero_is_enough(cls, data: Any) -> Any:
        """Read anything but an object as an empty answer: once code is "0", the cancel has happened."""
        return data if isinstance(data, Mapping) else {}


class RepackPackage(LazadaModel):
    """One package's outcome in a RecreatePackage answer; ``item_err_code == "0"`` means it worked."""

    package_id: str
    item_err_code: str = "0"
    msg: OptionalStr = None
    retry: LenientBool = False

    @property
    def ok(self) -> bool:
        """Whether Lazada re-created this package."""
        return self.item_err_code == "0"


class RepackResult(LazadaModel):
    """RecreatePackage's ``result``: batch success plus per-package outcomes."""

    success: LenientBool
    packages: Annotated[tuple[RepackPackage, ...], BeforeValidator(_none_to_empty)] = ()
    error_code: OptionalStr = None
    error_msg: OptionalStr = None

    @model_validator(mode="before")
    @classmethod
    def _lift_packages(cls, data: Any) -> Any:
        """Lazada nests the packages as ``result.data.packages``; lift them to ``packages``."""
        if isinstance(data, Mapping) and "packages" not in data:
            inner = data.get("data")
            if isinstance(inner, Mapping):
                return {**data, "packages": inner.get("packages")}
        return data

    @property
    def failed(self) -> tuple[RepackPackage, ...]:
        """The packages Lazada did not re-create."""
        return tuple(package for package in self.packages if not package.ok)


class Order(LazadaModel):
    """One order as GetOrders and GetOrder return it (Lazada has no order status: see ``statuses``)."""

    order_id: str
    order_number: OptionalStr = None
    created_at: OptionalDatetime = None
    updated_at: OptionalDatetime = None
    statuses: Annotated[tuple[str, ...], BeforeValidator(_none_to_empty)] = ()
    # The digest counts ordered items with it: an unreadable count makes the order unreadable, never a silent 0.
    items_count: Annotated[int, BeforeValidator(_blank_to_none)] = 0
    price: OptionalDecimal = None
    voucher: OptionalDecimal = None
    shipping_fee: OptionalDecimal = None
    payment_method: OptionalStr = None
    warehouse_code: OptionalStr = None
    need_cancel_confirm: LenientBool = False
    is_cancel_pending: LenientBool = False


class OrdersPage(LazadaModel):
    """One page of GetOrders: ``count`` orders here out of ``count_total`` matching.

    An order that cannot be read is left out of ``orders`` and named in ``unreadable`` (its id, or its place
    in the page), so one odd order never fails the page.
    """

    count: LenientCount = 0
    count_total: LenientCount = Field(default=0, validation_alias=AliasChoices("countTotal", "count_total"))
    orders: Annotated[tuple[Order, ...], BeforeValidator(_none_to_empty)] = ()
    unreadable: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _skip_unreadable_orders(cls, data: Any) -> Any:
        """Read each order on its own; name the ones that fail instead of failing the page."""
        if not isinstance(data, Mapping) or not isinstance(data.get("orders"), list):
            return data
        orders: list[Order] = []
        unreadable: list[str] = []
        for position, raw in enumerate(data["orders"]):
            try:
                orders.append(Order.model_validate(raw))
            except ValidationError:
                unreadable.append(_label_of(raw, position))
        return {**data, "orders": orders, "unreadable": tuple(unreadable)}


class PerformanceIndicator(LazadaModel):
    """One indicator of GetSellerPerformance (``data.indicators[]``); every field is optional and read leniently."""

    type: OptionalStr = None
    name: OptionalStr = None
    tip: OptionalStr = None
    score: OptionalDecimal = None
    score_format: OptionalStr = None
    formatted_score: OptionalStr = None
    target: OptionalDecimal = None
    target_format: OptionalStr = None
    formatted_target: OptionalStr = None
    target_respected: Annotated[bool | None, BeforeValidator(_blank_to_none), WrapValidator(_or_none)] = None
    action_url: OptionalStr = None


class SellerPerformance(LazadaModel):
    """GetSellerPerformance's ``data``: the store's indicators (whichever Lazada returns), ``success``, ``error_code``.

    An indicator that cannot be read at all is left out rather than failing the answer.
    """

    indicators: tuple[PerformanceIndicator, ...] = ()
    success: Annotated[bool | None, BeforeValidator(_blank_to_none), WrapValidator(_or_none)] = None
    error_code: OptionalStr = None

    @model_validator(mode="before")
    @classmethod
    def _readable_indicators(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        raw = data.get("indicators")
        listed = raw if isinstance(raw, list) else []
        return {**data, "indicators": [one for one in listed if isinstance(one, Mapping)]}


class CountryUserInfo(LazadaModel):
    """The seller identity a token covers in one country (several for cross-border authorizations)."""

    country: OptionalStr = None
    seller_id: OptionalStr = None
    user_id: OptionalStr = None
    short_code: OptionalStr = None


class TokenGrant(LazadaModel):
    """The flat answer of ``/auth/token/create`` and ``/auth/token/refresh``; lifetimes in seconds from now."""

    access_token: SecretStr
    refresh_token: SecretStr
    expires_in: int
    # Required in the documented answer; tolerated when missing so a refresh never fails on it.
    refresh_expires_in: int | None = None
    country: OptionalStr = None
    account: OptionalStr = None
    account_platform: OptionalStr = None
    account_id: OptionalStr = None
    country_user_info: Annotated[tuple[CountryUserInfo, ...], BeforeValidator(_none_to_empty)] = ()

    def access_expires_at(self, now: datetime) -> datetime:
        """When the access token expires, counting ``expires_in`` from ``now`` (the time of the answer)."""
        return now + timedelta(seconds=self.expires_in)

    def refresh_expires_at(self, now: datetime) -> datetime | None:
        """When the refresh token expires, counting ``refresh_expires_in`` from ``now``."""
        if self.refresh_expires_in is None:
            return None
        return now + timedelta(seconds=self.refresh_expires_in)

    @property
    def seller_id(self) -> str | None:
        """The seller id for the token's country (the first one listed for cross-border grants)."""
        for info in self.country_user_info:
            if info.country == self.country and info.seller_id:
                return info.seller_id
        return next((info.seller_id for info in self.country_user_info if info.seller_id), None)
