"""Typed views of the Slack payloads, and what they mean, decoded once per request before any listener runs.

`decode(body, store_codes)` is called by a Bolt middleware (`cancel_order_bot.app`); it returns the entries the
listeners receive by keyword: `slash` (the command and its parsed text), `click` (a request button),
`buyer_click` (Accept or Refuse of a buyer's cancellation request), `selection` (the request modal's items
changed), `submission` (a submitted form: the workflow's form, a buyer-request refusal, inline errors, an order
prompt, or an expired form) and `opener` (who opened the App Home tab). Anything malformed decodes to None
or `FormExpired`, never to an exception deep in a listener.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.command_text import CommandKind, ParsedCommand, parse_command_text
from bot.domain import PackageChoice
from bot.slack.render import buyer_forms as buyer_ids
from bot.slack.render import ids
from bot.slack.render.modal import (
    ITEMS_MISSING,
    JUSTIFICATION_MAX_LENGTH,
    JUSTIFICATION_MISSING,
    ORDER_PROMPT_INVALID,
    REASON_MISSING,
    REJECT_REASON_MISSING,
    TOO_LONG,
)
from bot.workflow.service import BulkForm, RequestForm

__all__ = [
    "ActionPayload",
    "BuyerClick",
    "BuyerRefusal",
    "BuyerRefusalSubmission",
    "Click",
    "CommandPayload",
    "FormErrors",
    "FormExpired",
    "OrderPrompt",
    "RejectForm",
    "RejectSubmission",
    "RequestSubmission",
    "SelectedOption",
    "Selection",
    "Slash",
    "Submitted",
    "ViewPayload",
    "decode",
    "parse",
]

log = structlog.get_logger(__name__)


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class CommandPayload(_Payload):
    """A slash command invocation."""

    user_id: str = Field(min_length=1, max_length=32)
    channel_id: str = Field(min_length=1, max_length=32)
    team_id: str | None = None
    text: str = ""
    trigger_id: str = Field(min_length=1)
    response_url: str | None = None


class SelectedOption(_Payload):
    """An option picked in a select, checkbox group or radio group."""

    value: str


class _Id(_Payload):
    id: str = Field(min_length=1, max_length=32)


class _Action(_Payload):
    action_id: str
    block_id: str | None = None
    value: str | None = None
    selected_option: SelectedOption | None = None
    selected_options: tuple[SelectedOption, ...] | None = None


class _Container(_Payload):
    type: str
    channel_id: str | None = None
    message_ts: str | None = None
    view_id: str | None = None


class _View(_Payload):
    id: str
    type: str | None = None
    hash: str | None = None
    callback_id: str | None = None
    private_metadata: str = ""
    state: dict[str, Any] = Field(default_factory=dict)


class ActionPayload(_Payload):
    """A block_actions payload: one click or selection, from a message, a modal or App Home."""

    user: _Id
    actions: tuple[_Action, ...] = Field(min_length=1)
    container: _Container | None = None
    channel: _Id | None = None
    trigger_id: str | None = None
    response_url: str | None = None
    view: _View | None = None

    @property
    def action(self) -> _Action:
        """The action that was taken (Slack sends one per payload)."""
        return self.actions[0]

    @property
    def channel_id(self) -> str | None:
        """The channel of the message the action came from, if any."""
        if self.channel is not None:
            return self.channel.id
        return self.container.channel_id if self.container else None


class ViewPayload(_Payload):
    """A view_submission payload."""

    user: _Id
    view: _View

    def values(self) -> dict[str, dict[str, Any]]:
        """The submitted input values by block id and action id."""
        state = self.view.state.get("values", {})
        return state if isinstance(state, dict) else {}

    def value(self, block_id: str, action_id: str) -> dict[str, Any]:
        """One input's state (empty when absent)."""
        block = self.values().get(block_id) or {}
        value = block.get(action_id) if isinstance(block, dict) else None
        return value if isinstance(value, dict) else {}


T = TypeVar("T", bound=BaseModel)


def parse(model: type[T], body: Any) -> T | None:
    """Validate a payload; None when it is malformed (the caller answers politely and changes nothing)."""
    try:
        return model.model_validate(body)
    except ValidationError:
        return None


@dataclass(frozen=True)
class Slash:
    """A `/cancel-order` invocation: who ran it, where, and what its text asks for."""

    user_id: str
    channel_id: str
    trigger_id: str
    parsed: ParsedCommand


@dataclass(frozen=True)
class Click:
    """A click on Approve, Reject or Withdraw: who clicked, on which request, and where (a message or App Home)."""

    request_id: str
    user_id: str
    channel_id: str | None = None
    message_ts: str | None = None
    trigger_id: str | None = None
    response_url: str | None = None


@dataclass(frozen=True)
class BuyerClick:
    """A click on Accept or Refuse of a buyer's cancellation request: on its card, in the request modal or App Home.

    `key` is the request's key (``store:reverse_order_id``) as the button carried it, or "" when its value is not
    one (the person is told so). `view_id` and `form` are set when the click came from the `/cancel-order` modal
    (the form offers accepting the buyer's request): the answer then replaces that modal.
    """

    key: str
    user_id: str
    channel_id: str | None = None
    message_ts: str | None = None
    trigger_id: str | None = None
    response_url: str | None = None
    view_id: str | None = None
    form: ids.ModalMetadata | None = None


@dataclass(frozen=True)
class Selection:
    """The requester changed the item selection of the request modal for `metadata.order_id`."""

    view_id: str
    metadata: ids.ModalMetadata
    order_id: str
    selected: tuple[str, ...]


@dataclass(frozen=True)
class FormExpired:
    """A submitted form that cannot be read (out of date, someone else's, or not ours): ask for a new one."""


@dataclass(frozen=True)
class FormErrors:
    """What is missing or wrong in a submitted form, a sentence per block id, shown inline."""

    errors: dict[str, str]


@dataclass(frozen=True)
class OrderPrompt:
    """The order prompt was answered: fill the open modal for `order_ids` (one: the request form; more: bulk)."""

    view_id: str
    metadata: ids.ModalMetadata
    order_ids: tuple[str, ...]


@dataclass(frozen=True)
class Submitted:
    """A request or bulk form, complete and checked: the workflow's form, and the modal to tell the outcome in."""

    view_id: str
    form: RequestForm | BulkForm


@dataclass(frozen=True)
class RejectForm:
    """A complete reject form: who rejects which request, why, and where to answer them."""

    request_id: str
    user_id: str
    reason: str
    channel_id: str | None


@dataclass(frozen=True)
class BuyerRefusal:
    """A complete refusal form: who refuses which buyer request, with which of Lazada's reasons, in which modal."""

    key: str
    user_id: str
    reason_code: str
    view_id: str


BUYER_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,23}:[A-Za-z0-9_-]{1,64}$")
"""A buyer request's key as buttons and the refusal form carry it: a store code and Lazada's reverse order id."""
_REASON_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def _buyer_key(raw: object) -> str | None:
    return raw if isinstance(raw, str) and BUYER_KEY.match(raw) else None


def _selected(state: dict[str, Any]) -> tuple[str, ...]:
    options = state.get("selected_options") or []
    # dict.fromkeys: a repeated option (never sent by Slack, but possible in a forged payload) counts once.
    return tuple(dict.fromkeys(str(o.get("value")) for o in options if isinstance(o, dict) and o.get("value")))


def _option(state: dict[str, Any]) -> str | None:
    option = state.get("selected_option")
    if isinstance(option, dict) and option.get("value"):
        return str(option["value"])
    return None


def _text(state: dict[str, Any]) -> str:
    value = state.get("value")
    return value.strip() if isinstance(value, str) else ""


def _too_long(text: str) -> bool:
    return len(text) > JUSTIFICATION_MAX_LENGTH


class RequestSubmission:
    """Reads a submitted request form or bulk form: both share the reason, justification and package choice."""

    @staticmethod
    def from_view(
        payload: ViewPayload | None, store_codes: Collection[str]
    ) -> Submitted | OrderPrompt | FormErrors | FormExpired:
        """The form to submit, the order prompt's answer, the inline errors, or `FormExpired`."""
        if payload is None:
            return FormExpired()
        bulk = payload.view.callback_id == ids.BULK_MODAL
        try:
            metadata: ids.ModalMetadata | ids.BulkMetadata = (
                ids.BulkMetadata.unpack(payload.view.private_metadata)
                if bulk
                else ids.ModalMetadata.unpack(payload.view.private_metadata)
            )
        except ValueError:
            return FormExpired()
        if payload.user.id != metadata.requester_id:
            return FormExpired()
        if isinstance(metadata, ids.ModalMetadata) and metadata.order_id is None:
            return _order_prompt(payload, metadata, store_codes)
        errors: dict[str, str] = {}
        items = _selected(payload.value(ids.ITEMS_BLOCK, ids.MODAL_ITEMS))
        if isinstance(metadata, ids.ModalMetadata) and not items:
            errors[ids.ITEMS_BLOCK] = ITEMS_MISSING
        reason_id = _option(payload.value(ids.REASON_BLOCK, ids.MODAL_REASON))
        justification = _text(payload.value(ids.JUSTIFICATION_BLOCK, ids.MODAL_JUSTIFICATION))
        if not reason_id:
            errors[ids.REASON_BLOCK] = REASON_MISSING
        if not justification:
            errors[ids.JUSTIFICATION_BLOCK] = JUSTIFICATION_MISSING
        elif _too_long(justification):
            errors[ids.JUSTIFICATION_BLOCK] = TOO_LONG
        if errors or reason_id is None:
            return FormErrors(errors)
        choice = _option(payload.value(ids.PACKAGE_CHOICE_BLOCK, ids.MODAL_PACKAGE_CHOICE))
        package_choice = PackageChoice(choice) if choice in set(PackageChoice) else PackageChoice.REPACK_FIRST
        form: RequestForm | BulkForm
        if isinstance(metadata, ids.BulkMetadata):
            form = BulkForm(
                metadata.store_code,
                metadata.orders,
                reason_id,
                justification,
                package_choice,
                payload.user.id,
                metadata.channel_id,
            )
        else:
            assert metadata.order_id is not None
            form = RequestForm(
                metadata.store_code,
                metadata.order_id,
                items,
                reason_id,
                justification,
                package_choice,
                payload.user.id,
                metadata.channel_id,
            )
        return Submitted(payload.view.id, form)


def _order_prompt(
    payload: ViewPayload, metadata: ids.ModalMetadata, store_codes: Collection[str]
) -> OrderPrompt | FormErrors:
    """The order prompt's answer: the orders (and store) to fill the modal for, or an inline error."""
    parsed = parse_command_text(_text(payload.value(ids.ORDER_ID_BLOCK, ids.MODAL_ORDER_ID)), store_codes)
    if parsed.kind is not CommandKind.ORDER or not parsed.order_ids:
        error = parsed.error if parsed.kind is CommandKind.INVALID and parsed.error else ORDER_PROMPT_INVALID
        return FormErrors({ids.ORDER_ID_BLOCK: error})
    store_code = parsed.store_code or metadata.store_code
    filled = metadata.model_copy(update={"order_id": parsed.order_ids[0], "store_code": store_code})
    return OrderPrompt(payload.view.id, filled, parsed.order_ids)


class RejectSubmission:
    """Reads a submitted reject form."""

    @staticmethod
    def from_view(payload: ViewPayload | None) -> RejectForm | FormErrors | FormExpired:
        """The rejection to record, the inline error, or `FormExpired`."""
        if payload is None:
            return FormExpired()
        try:
            metadata = ids.RejectMetadata.unpack(payload.view.private_metadata)
        except ValueError:
            return FormExpired()
        reason = _text(payload.value(ids.REJECT_REASON_BLOCK, ids.REJECT_REASON))
        if not reason or _too_long(reason):
            return FormErrors({ids.REJECT_REASON_BLOCK: TOO_LONG if reason else REJECT_REASON_MISSING})
        return RejectForm(metadata.request_id, payload.user.id, reason, metadata.channel_id)


class BuyerRefusalSubmission:
    """Reads a submitted refusal form of a buyer's cancellation request (`private_metadata` is the request's key)."""

    @staticmethod
    def from_view(payload: ViewPayload | None) -> BuyerRefusal | FormErrors | FormExpired:
        """The refusal to send, the inline error (no reason picked), or `FormExpired`."""
        key = _buyer_key(payload.view.private_metadata) if payload is not None else None
        if payload is None or key is None:
            return FormExpired()
        reason = _option(payload.value(buyer_ids.BUYER_REASON_BLOCK, buyer_ids.BUYER_REASON))
        if reason is None or not _REASON_CODE.match(reason):
            return FormErrors({buyer_ids.BUYER_REASON_BLOCK: buyer_ids.BUYER_REASON_MISSING})
        return BuyerRefusal(key=key, user_id=payload.user.id, reason_code=reason, view_id=payload.view.id)


_BUTTONS = frozenset({ids.REQUEST_APPROVE, ids.REQUEST_REJECT, ids.REQUEST_WITHDRAW})
_BUYER_BUTTONS = frozenset({buyer_ids.BUYER_ACCEPT, buyer_ids.BUYER_REFUSE})


def _click(payload: ActionPayload) -> Click | None:
    try:
        request_id = ids.ButtonValue.unpack(payload.action.value).request_id
    except ValueError:
        log.info("malformed_action", action=payload.action.action_id)
        return None
    return Click(
        request_id=request_id,
        user_id=payload.user.id,
        channel_id=payload.channel_id,
        message_ts=payload.container.message_ts if payload.container else None,
        trigger_id=payload.trigger_id,
        response_url=payload.response_url,
    )


def _buyer_click(payload: ActionPayload) -> BuyerClick:
    key = _buyer_key(payload.action.value)
    if key is None:
        # Not a key the bot made (forged, or cut short): still a click someone made, and they are told so in one
        # sentence; the empty key is one no request has, so the service refuses it before anything is stored or sent.
        log.info("malformed_action", action=payload.action.action_id)
        key = ""
    view = payload.view if payload.view is not None and payload.view.type == "modal" else None
    form: ids.ModalMetadata | None = None
    if view is not None:
        try:
            form = ids.ModalMetadata.unpack(view.private_metadata)
        except ValueError:
            form = None
    return BuyerClick(
        key=key,
        user_id=payload.user.id,
        channel_id=payload.channel_id,
        message_ts=payload.container.message_ts if payload.container else None,
        trigger_id=payload.trigger_id,
        response_url=payload.response_url,
        view_id=view.id if view is not None else None,
        # Someone else's form cannot be answered in: only the requester's own modal is told the outcome.
        form=form if form is not None and form.requester_id == payload.user.id else None,
    )


def _selection(payload: ActionPayload) -> Selection | None:
    if payload.view is None:
        return None
    try:
        metadata = ids.ModalMetadata.unpack(payload.view.private_metadata)
    except ValueError:
        return None
    if metadata.order_id is None or payload.user.id != metadata.requester_id:
        return None
    selected = tuple(o.value for o in payload.action.selected_options or ())
    return Selection(payload.view.id, metadata, metadata.order_id, selected)


def _slash(body: Any, store_codes: Collection[str]) -> Slash | None:
    command = parse(CommandPayload, body)
    if command is None:
        return None
    parsed = parse_command_text(command.text, store_codes)
    return Slash(command.user_id, command.channel_id, command.trigger_id, parsed)


def _submission(body: Any, store_codes: Collection[str]) -> object:
    payload = parse(ViewPayload, body)
    callback_id = _field(body.get("view"), "callback_id") if isinstance(body, dict) else None
    if callback_id == ids.REJECT_MODAL:
        return RejectSubmission.from_view(payload)
    if callback_id == buyer_ids.BUYER_REFUSE_FORM:
        return BuyerRefusalSubmission.from_view(payload)
    return RequestSubmission.from_view(payload, store_codes)


def _field(value: object, name: str) -> object:
    return value.get(name) if isinstance(value, dict) else None


def _opener(body: Any) -> str | None:
    event = _field(body, "event")
    user = _field(event, "user")
    if _field(event, "type") != "app_home_opened" or (_field(event, "tab") or "home") != "home":
        return None
    return user if isinstance(user, str) and user else None


def decode(body: Any, store_codes: Collection[str]) -> dict[str, object]:
    """What this request means, keyed by the listener argument that receives it (None where it does not apply)."""
    decoded: dict[str, object] = {
        "slash": None,
        "click": None,
        "buyer_click": None,
        "selection": None,
        "submission": None,
        "opener": None,
    }
    kind = _field(body, "type")
    if isinstance(body, dict) and "command" in body:
        decoded["slash"] = _slash(body, store_codes)
    elif kind == "block_actions":
        action = parse(ActionPayload, body)
        if action is not None and action.action.action_id in _BUTTONS:
            decoded["click"] = _click(action)
        elif action is not None and action.action.action_id in _BUYER_BUTTONS:
            decoded["buyer_click"] = _buyer_click(action)
        elif action is not None and action.action.action_id == ids.MODAL_ITEMS:
            decoded["selection"] = _selection(action)
    elif kind == "view_submission":
        decoded["submission"] = _submission(body, store_codes)
    elif kind == "event_callback":
        decoded["opener"] = _opener(body)
    return decoded
