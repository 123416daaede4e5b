"""Named ids for Slack surfaces and the typed payloads carried in button values and view metadata."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

__all__ = [
    "BULK_MODAL",
    "BULK_ORDER_LIMIT",
    "BUTTON_VALUE_LIMIT",
    "ITEMS_BLOCK",
    "JUSTIFICATION_BLOCK",
    "MODAL_ITEMS",
    "MODAL_JUSTIFICATION",
    "MODAL_ORDER_ID",
    "MODAL_PACKAGE_CHOICE",
    "MODAL_REASON",
    "ORDER_ID_BLOCK",
    "PACKAGE_CHOICE_BLOCK",
    "PRIVATE_METADATA_LIMIT",
    "REASON_BLOCK",
    "REJECT_MODAL",
    "REJECT_REASON",
    "REJECT_REASON_BLOCK",
    "REQUEST_ACTIONS_BLOCK",
    "REQUEST_APPROVE",
    "REQUEST_MODAL",
    "REQUEST_REJECT",
    "REQUEST_WITHDRAW",
    "BulkMetadata",
    "ButtonValue",
    "ModalMetadata",
    "PackageChoice",
    "RejectMetadata",
]

# Action ids (block_actions and the inputs of the request modal).
REQUEST_APPROVE = "request.approve"
REQUEST_REJECT = "request.reject"
REQUEST_WITHDRAW = "request.withdraw"
MODAL_ITEMS = "modal.items"
MODAL_REASON = "modal.reason"
MODAL_PACKAGE_CHOICE = "modal.package_choice"
MODAL_JUSTIFICATION = "modal.justification"
MODAL_ORDER_ID = "modal.order_id"
REJECT_REASON = "reject.reason"

# Callback ids of the views.
REQUEST_MODAL = "request_modal"
BULK_MODAL = "bulk_modal"
REJECT_MODAL = "reject_modal"

# Block ids: a view submission's ``state.values`` is keyed by block id, then action id. They stay the same across
# ``views.update`` so Slack keeps what the person already typed or chose.
ITEMS_BLOCK = "items"
REASON_BLOCK = "reason"
PACKAGE_CHOICE_BLOCK = "package_choice"
JUSTIFICATION_BLOCK = "justification"
ORDER_ID_BLOCK = "order_id"
REJECT_REASON_BLOCK = "reject_reason"
REQUEST_ACTIONS_BLOCK = "request.actions"

BUTTON_VALUE_LIMIT = 2000
PRIVATE_METADATA_LIMIT = 3000
BULK_ORDER_LIMIT = 50

RequestId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]
StoreCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,23}$")]
OrderId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
SlackId = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,32}$")]
MessageTs = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}\.[0-9]{1,8}$")]
SelectionDigest = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}$")]


class PackageChoice(StrEnum):
    """What to do when a packed package also holds items that are not selected."""

    REPACK_FIRST = "repack_first"
    WHOLE_PACKAGE = "whole_package"


class _Packed(BaseModel):
    """A frozen payload that travels through Slack as compact JSON tagged with its kind."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    _kind: ClassVar[str]
    _limit: ClassVar[int]

    def pack(self) -> str:
        """Compact JSON for Slack, tagged with the payload's kind."""
        packed = json.dumps({"k": self._kind, **self.model_dump()}, separators=(",", ":"))
        if len(packed) > self._limit:
            raise ValueError(f"{type(self).__name__} packs to {len(packed)} characters, over {self._limit}")
        return packed

    @classmethod
    def unpack(cls, raw: object) -> Self:
        """Parse a value that came back from Slack; `ValueError` for anything malformed or not ours."""
        # The value arrived from outside: never echo it into the error message.
        what = f"not a valid {cls.__name__}"
        if not isinstance(raw, str) or len(raw) > cls._limit:
            raise ValueError(what)
        try:
            data: Any = json.loads(raw)
        except ValueError:
            raise ValueError(what) from None
        if not isinstance(data, dict) or data.pop("k", None) != cls._kind:
            raise ValueError(what)
        try:
            return cls.model_validate(data)
        except ValidationError:
            raise ValueError(what) from None


class ButtonValue(_Packed):
    """The value of the Approve, Reject and Withdraw buttons: which request they act on."""

    _kind = "req"
    _limit = BUTTON_VALUE_LIMIT

    request_id: RequestId


class ModalMetadata(_Packed):
    """The request modal's ``private_metadata``: where the command ran, by whom, for which store and order."""

    _kind = "modal"
    _limit = PRIVATE_METADATA_LIMIT

    store_code: StoreCode
    order_id: OrderId | None
    channel_id: SlackId
    requester_id: SlackId


class RejectMetadata(_Packed):
    """The reject modal's ``private_metadata``: the request and, when known, the approval message to update.

    ``channel_id`` and ``message_ts`` are None when the reject came from the App Home, which has no message.
    """

    _kind = "reject"
    _limit = PRIVATE_METADATA_LIMIT

    request_id: RequestId
    channel_id: SlackId | None = None
    message_ts: MessageTs | None = None


class BulkMetadata(_Packed):
    """The bulk request modal's ``private_metadata``: where and by whom, the store, and the orders as shown.

    ``digests[i]`` fingerprints the items of ``order_ids[i]`` the form showed, so the submit notices an order that
    changed meanwhile. Two flat lists keep 50 orders well inside Slack's 3000 characters.
    """

    _kind = "bulk"
    _limit = PRIVATE_METADATA_LIMIT

    store_code: StoreCode
    channel_id: SlackId
    requester_id: SlackId
    order_ids: list[OrderId] = Field(min_length=1, max_length=BULK_ORDER_LIMIT)
    digests: list[SelectionDigest] = Field(min_length=1, max_length=BULK_ORDER_LIMIT)

    @model_validator(mode="after")
    def _one_digest_per_order(self) -> BulkMetadata:
        if len(self.digests) != len(self.order_ids) or len(set(self.order_ids)) != len(self.order_ids):
            raise ValueError("one digest per distinct order")
        return self

    @property
    def orders(self) -> tuple[tuple[str, str], ...]:
        """``(order_id, digest)`` pairs in the order shown."""
        return tuple(zip(self.order_ids, self.digests, strict=True))
