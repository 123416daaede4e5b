"""Buyer cancellation requests as Lazada's reverse-order APIs answer them (lazada-api.md §8, §8a).

GetReverseOrdersForSeller answers under ``result``: ``total``, ``page_no``, ``page_size``, ``success`` and
``items[]``, each a reverse order (``reverse_order_id``, ``trade_order_id``, ``request_type``) with its
``reverse_order_lines[]``. Every number arrives as a string in the reference example; the models read them
as tolerantly as the order models do (``"null"``, ``""``, missing optional fields, unknown fields ignored).

Statuses, as read here (the docs do not list the values after a decision, §8a "Not documented"):

- open: ``REQUEST_INITIATE`` (the seller must still answer; the value the docs list requests with);
- closed: ``REQUEST_REJECT`` (the seller refused), ``CANCEL_SUCCESS`` (cancelled: accepted by the seller or by
  Lazada at the deadline), ``REQUEST_CANCEL`` (the request itself was withdrawn or voided);
- any other value is neither: the request is left as it is and read again later, never answered nor stamped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationError, WrapValidator, model_validator

from bot.lazada.models import (
    LazadaModel,
    LenientBool,
    LenientCount,
    OptionalDatetime,
    OptionalStr,
    RequiredId,
    _blank_to_none,
    _is_blank,
    _none_to_empty,
    _or_none,
)

__all__ = [
    "CLOSED_REVERSE_STATUSES",
    "OPEN_REVERSE_STATUS",
    "REVERSE_PAGE_SIZE",
    "DecisionAnswer",
    "RefusalReason",
    "RefusalReasons",
    "ReverseOrder",
    "ReverseOrderLine",
    "ReverseOrdersPage",
]

REVERSE_PAGE_SIZE = 10
"""GetReverseOrdersForSeller's page size: the documented default. The docs give no maximum, and a larger size
that Lazada silently capped would make a full page look short and end the paging early, so the bot asks for
exactly what Lazada documents."""

OPEN_REVERSE_STATUS = "REQUEST_INITIATE"
"""The one status in which a buyer cancellation request awaits the seller's answer."""

CLOSED_REVERSE_STATUSES = frozenset({"REQUEST_REJECT", "CANCEL_SUCCESS", "REQUEST_CANCEL"})
"""Statuses after which nobody can answer the request any more (refused, cancelled, withdrawn)."""

# When the lines of one request disagree, the summary names the first of these present (see ReverseOrder).
_SUMMARY_PRECEDENCE = ("REQUEST_INITIATE", "CANCEL_SUCCESS", "REQUEST_REJECT", "REQUEST_CANCEL")


def _minor_units(value: object) -> object:
    """An integer amount as Lazada sends it (``"1290"``, ``1290``, ``1290.0``); anything else reads as unknown."""
    if _is_blank(value) or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        return int(text) if text.lstrip("-").isdigit() else None
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    return value


def _in_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


# Epoch milliseconds on the wire (the other documented date forms read too), always held in UTC.
UtcDatetime = Annotated[OptionalDatetime, AfterValidator(_in_utc)]

# An amount in the currency's minor units, kept as Lazada's integer (VN: whole dong, since the dong has none).
OptionalMinorUnits = Annotated[int | None, BeforeValidator(_minor_units), WrapValidator(_or_none)]


class ReverseOrderLine(LazadaModel):
    """One line of a reverse order: one order item the buyer asks to cancel.

    ``refund_amount`` is Lazada's integer as sent: minor units (cents) everywhere except VN, where it is whole
    dong (lazada-api.md §8); the bot never turns it into a decimal by guessing. ``sla`` is the seller's deadline
    (epoch milliseconds on the wire), read as an aware UTC datetime; ``buyer_id`` comes from ``buyer.buyer_id``.
    """

    reverse_order_line_id: RequiredId
    trade_order_line_id: RequiredId
    reverse_status: OptionalStr = None
    ofc_status: OptionalStr = None
    reason_code: OptionalStr = None
    reason_text: OptionalStr = None
    refund_amount: OptionalMinorUnits = None
    sla: UtcDatetime = None
    seller_sku_id: OptionalStr = None
    platform_sku_id: OptionalStr = None
    buyer_id: OptionalStr = None

    @model_validator(mode="before")
    @classmethod
    def _lift_buyer_id(cls, data: Any) -> Any:
        """Lazada nests the buyer as ``buyer: {buyer_id}``; lift it to ``buyer_id``."""
        if isinstance(data, Mapping) and "buyer_id" not in data:
            buyer = data.get("buyer")
            if isinstance(buyer, Mapping):
                return {**data, "buyer_id": buyer.get("buyer_id")}
        return data

    @property
    def is_open(self) -> bool:
        """Whether this line still awaits the seller's answer."""
        return self.reverse_status == OPEN_REVERSE_STATUS


class ReverseOrder(LazadaModel):
    """One reverse order (for the bot: a buyer's cancellation request) with its lines.

    A line that cannot be read makes the whole request unreadable (the page names it in ``unreadable``): a
    deadline or status taken from part of a request would be wrong.
    """

    reverse_order_id: RequiredId
    trade_order_id: RequiredId
    request_type: OptionalStr = None
    is_rtm: LenientBool = False
    shipping_type: OptionalStr = None
    reverse_order_lines: Annotated[tuple[ReverseOrderLine, ...], BeforeValidator(_none_to_empty)] = ()

    @property
    def deadline(self) -> datetime | None:
        """The earliest ``sla`` of its lines: when Lazada decides by itself; None when no line says."""
        deadlines = [line.sla for line in self.reverse_order_lines if line.sla is not None]
        return min(deadlines) if deadlines else None

    @property
    def is_open(self) -> bool:
        """Whether any line is still ``REQUEST_INITIATE``: someone may still accept or refuse the request."""
        return any(line.is_open for line in self.reverse_order_lines)

    @property
    def is_closed(self) -> bool:
        """Whether every line is in a known closed status: nobody can answer the request any more.

        A request neither open nor closed (no lines, a status the bot does not know) is left as it is.
        """
        statuses = [line.reverse_status for line in self.reverse_order_lines]
        return bool(statuses) and all(status in CLOSED_REVERSE_STATUSES for status in statuses)

    @property
    def reverse_status(self) -> str | None:
        """One status for the whole request: the lines' status when they agree.

        When they differ: ``REQUEST_INITIATE`` if any line is open, else the first of ``CANCEL_SUCCESS``,
        ``REQUEST_REJECT``, ``REQUEST_CANCEL`` present (something cancelled outweighs something refused), else
        the first line's status. None when no line has a status.
        """
        statuses = [line.reverse_status for line in self.reverse_order_lines if line.reverse_status]
        if not statuses:
            return None
        if len(set(statuses)) == 1:
            return statuses[0]
        return next((status for status in _SUMMARY_PRECEDENCE if status in statuses), statuses[0])

    @property
    def order_item_ids(self) -> tuple[str, ...]:
        """The order items the request covers (its lines' ``trade_order_line_id``), in line order."""
        return tuple(line.trade_order_line_id for line in self.reverse_order_lines)


def _label_of(raw: object, position: int) -> str:
    """How to name a reverse order that could not be read: its id when that much is readable."""
    if isinstance(raw, Mapping):
        reverse_id = raw.get("reverse_order_id")
        if isinstance(reverse_id, str | int) and not isinstance(reverse_id, bool) and not _is_blank(reverse_id):
            return str(reverse_id).strip()
    return f"entry {position + 1}"


class ReverseOrdersPage(LazadaModel):
    """One page of GetReverseOrdersForSeller's ``result``: ``items`` here out of ``total`` matching.

    A reverse order that cannot be read (or one of whose lines cannot) is left out of ``items`` and named in
    ``unreadable``, so one odd request never hides the others. ``success`` is None when Lazada did not say.
    """

    total: LenientCount = 0
    page_no: LenientCount = 0
    page_size: LenientCount = 0
    success: Annotated[bool | None, BeforeValidator(_blank_to_none), WrapValidator(_or_none)] = None
    items: Annotated[tuple[ReverseOrder, ...], BeforeValidator(_none_to_empty)] = ()
    unreadable: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _skip_unreadable_items(cls, data: Any) -> Any:
        """Read each reverse order on its own; name the ones that fail instead of failing the page."""
        if not isinstance(data, Mapping) or not isinstance(data.get("items"), list):
            return data
        items: list[ReverseOrder] = []
        unreadable: list[str] = []
        for position, raw in enumerate(data["items"]):
            try:
                items.append(ReverseOrder.model_validate(raw))
            except ValidationError:
                unreadable.append(_label_of(raw, position))
        return {**data, "items": items, "unreadable": tuple(unreadable)}


class RefusalReason(LazadaModel):
    """A reason the seller may give for refusing a buyer's request (GetReverseOrderReasonList's ``data[]``).

    ``text`` is Lazada's English ``text``, else its ``muti_language_text`` (spelled so by Lazada).
    """

    reason_id: RequiredId
    text: str

    @model_validator(mode="before")
    @classmethod
    def _text_or_translation(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and _is_blank(data.get("text")):
            return {**data, "text": _blank_to_none(data.get("muti_language_text"))}
        return data


def _only_readable_reasons(raw: object) -> object:
    """The entries of ``data[]`` that read as a reason; one unreadable reason never hides the others."""
    if _is_blank(raw):
        return ()
    if not isinstance(raw, list):
        return raw
    reasons: list[RefusalReason] = []
    for one in raw:
        try:
            reasons.append(RefusalReason.model_validate(one))
        except ValidationError:
            continue
    return reasons


RefusalReasons = Annotated[tuple[RefusalReason, ...], BeforeValidator(_only_readable_reasons)]
"""GetReverseOrderReasonList's ``data``: the readable reasons, in Lazada's order."""


class DecisionAnswer(LazadaModel):
    """InitReverseOrderCancelDecide's ``data``: documented as null; a tip is read if Lazada ever sends one.

    Anything but an object reads as an empty answer: once code is "0", the decision has been taken.
    """

    tip_content: OptionalStr = None
    tip_type: OptionalStr = None

    @model_validator(mode="before")
    @classmethod
    def _code_zero_is_enough(cls, data: Any) -> Any:
        return data if isinstance(data, Mapping) else {}
