"""Frozen models of the Lazada answers the bot reads, tolerant of the API's loose typing.

Lazada sends ids as numbers or strings, optional values as ``""``, booleans as ``"true"``, amounts as strings,
and dates as ``"2026-11-20 10:00:00 +0800"`` or ISO 8601 with an offset. These models normalise all of that:
ids become strings, ``""`` becomes ``None``, dates become aware datetimes, amounts become ``Decimal``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
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
    "ReasonOption",
    "RepackPackage",
    "RepackResult",
    "TokenGrant",
]

CANCELLABLE_STATUSES = frozenset({"pending", "packed", "ready_to_ship"})

_LAZADA_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S %z"
_LAZADA_DATETIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}")


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _blank_to_none(value: object) -> object:
    return None if _is_blank(value) else value


def _blank_to_false(value: object) -> object:
    return False if _is_blank(value) else value


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


def _parse_datetime(value: object) -> object:
    if _is_blank(value):
        return None
    if isinstance(value, str):
        text = value.strip()
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


OptionalStr = Annotated[str | None, BeforeValidator(_blank_to_none)]
OptionalDecimal = Annotated[Decimal | None, BeforeValidator(_parse_decimal)]
OptionalDatetime = Annotated[AwareDatetime | None, BeforeValidator(_parse_datetime)]
LenientBool = Annotated[bool, BeforeValidator(_blank_to_false)]


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
    created_at: OptionalDatetime = None
    updated_at: OptionalDatetime = None

    @property
    def is_cancellable(self) -> bool:
        """Whether the item's status still allows a seller cancellation (pending, packed, ready_to_ship)."""
        return self.status in CANCELLABLE_STATUSES


class OrderItems(LazadaModel):
    """One order's items, as an element of GetMultipleOrderItems' ``data``."""

    order_id: str
    order_number: OptionalStr = None
    order_items: Annotated[tuple[OrderItem, ...], BeforeValidator(_none_to_empty)] = ()

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
    items_count: int = 0
    price: OptionalDecimal = None
    voucher: OptionalDecimal = None
    shipping_fee: OptionalDecimal = None
    payment_method: OptionalStr = None
    warehouse_code: OptionalStr = None
    need_cancel_confirm: LenientBool = False
    is_cancel_pending: LenientBool = False


class OrdersPage(LazadaModel):
    """One page of GetOrders: ``count`` orders here out of ``count_total`` matching."""

    count: int = 0
    count_total: int = Field(default=0, validation_alias=AliasChoices("countTotal", "count_total"))
    orders: Annotated[tuple[Order, ...], BeforeValidator(_none_to_empty)] = ()


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
