"""Modal submissions: the request form (and its order-number prompt), the bulk form, and the reject form."""

from __future__ import annotations

from typing import Any, TypeVar

import structlog
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.command_text import CommandKind, parse_command_text
from bot.lazada.errors import LazadaError
from bot.services import Services
from bot.slack.render import ids
from bot.slack.render.bulk import render_bulk_loading_modal, render_bulk_submitting_modal
from bot.slack.render.modal import render_loading_modal, render_modal_message, render_submitting_modal
from bot.slack.render.replies import request_posted
from bot.slack.render.text import plural
from bot.workflow.errors import WorkflowError
from bot.workflow.service import BulkForm, PackageChoice, RequestForm
from cancel_order_bot.handlers.answers import answer_for
from cancel_order_bot.handlers.commands import fill_bulk_modal, fill_request_modal
from cancel_order_bot.handlers.payloads import ViewPayload, parse

__all__ = ["ViewHandlers", "register"]

log = structlog.get_logger(__name__)

JUSTIFICATION_LIMIT = 500
_CLOSE_NOTICE = "This form is out of date. Please close it and run /cancel-order again."
_ORDER_PROMPT_ERROR = (
    "Enter a Lazada order number (digits only), or up to 50 of them separated by spaces, commas or new lines."
)


def _selected(state: dict[str, Any]) -> list[str]:
    options = state.get("selected_options") or []
    # dict.fromkeys: a repeated option (never sent by Slack, but possible in a forged payload) counts once.
    return list(dict.fromkeys(str(o.get("value")) for o in options if isinstance(o, dict) and o.get("value")))


def _option(state: dict[str, Any]) -> str | None:
    option = state.get("selected_option")
    if isinstance(option, dict) and option.get("value"):
        return str(option["value"])
    return None


def _text(state: dict[str, Any]) -> str:
    value = state.get("value")
    return value.strip() if isinstance(value, str) else ""


def _choice(payload: ViewPayload) -> PackageChoice:
    choice = _option(payload.value(ids.PACKAGE_CHOICE_BLOCK, ids.MODAL_PACKAGE_CHOICE))
    return PackageChoice(choice) if choice in set(PackageChoice) else PackageChoice.REPACK_FIRST


def _reason_and_justification(payload: ViewPayload, errors: dict[str, str]) -> tuple[str | None, str]:
    """The chosen reason and the justification; what is missing or too long goes into `errors` by block."""
    reason_id = _option(payload.value(ids.REASON_BLOCK, ids.MODAL_REASON))
    justification = _text(payload.value(ids.JUSTIFICATION_BLOCK, ids.MODAL_JUSTIFICATION))
    if not reason_id:
        errors[ids.REASON_BLOCK] = "Choose the reason Lazada should record."
    if not justification:
        errors[ids.JUSTIFICATION_BLOCK] = "Say briefly why these items must be cancelled."
    elif len(justification) > JUSTIFICATION_LIMIT:
        errors[ids.JUSTIFICATION_BLOCK] = f"At most {JUSTIFICATION_LIMIT} characters, please."
    return reason_id, justification


M = TypeVar("M", ids.ModalMetadata, ids.BulkMetadata, ids.RejectMetadata)


def _submission(body: Any, kind: type[M]) -> tuple[ViewPayload | None, M | None]:
    """The submitted view and its private metadata, each None when missing, malformed or foreign."""
    payload = parse(ViewPayload, body)
    if payload is None:
        return None, None
    try:
        return payload, kind.unpack(payload.view.private_metadata)
    except ValueError:
        return payload, None


class ViewHandlers:
    """Listeners for modal submissions."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def on_request_submitted(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """Check the form, answer inline errors at once, then store and post the request."""
        payload, metadata = _submission(body, ids.ModalMetadata)
        if payload is None or metadata is None or payload.user.id != metadata.requester_id:
            await ack(response_action="update", view=render_modal_message("Form expired", _CLOSE_NOTICE, kind="error"))
            return
        if metadata.order_id is None:
            await self._order_prompt_submitted(ack, payload, metadata)
            return
        items = _selected(payload.value(ids.ITEMS_BLOCK, ids.MODAL_ITEMS))
        errors: dict[str, str] = {}
        if not items:
            errors[ids.ITEMS_BLOCK] = "Select at least one item to cancel."
        reason_id, justification = _reason_and_justification(payload, errors)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        assert reason_id is not None
        await ack(response_action="update", view=render_submitting_modal(metadata.order_id))
        form = RequestForm(
            store_code=metadata.store_code,
            order_id=metadata.order_id,
            item_ids=tuple(items),
            reason_id=reason_id,
            justification=justification,
            package_choice=_choice(payload),
            requester_id=payload.user.id,
            channel_id=metadata.channel_id,
        )
        slack = self.services.slack
        try:
            request = await self.services.workflow.submit(form)
        except (WorkflowError, LazadaError) as exc:
            sentence = exc.user_message if isinstance(exc, LazadaError) else str(exc)
            log.info("request_not_submitted", order_id=form.order_id, reason=sentence)
            await slack.update_view(payload.view.id, render_modal_message("Not submitted", sentence, kind="error"))
            return
        posted = render_modal_message(
            "Request posted",
            f"Request {request.id} for order {form.order_id} is waiting for a second person's approval in the "
            "approval channel. You'll hear back in its thread.",
            kind="success",
        )
        await slack.update_view(payload.view.id, posted)
        await slack.ephemeral(metadata.channel_id, payload.user.id, request_posted(request.id, request.channel_id))

    async def _order_prompt_submitted(self, ack: AsyncAck, payload: ViewPayload, metadata: ids.ModalMetadata) -> None:
        text = _text(payload.value(ids.ORDER_ID_BLOCK, ids.MODAL_ORDER_ID))
        parsed = parse_command_text(text, self.services.workflow.stores.keys())
        if parsed.kind is not CommandKind.ORDER or not parsed.order_ids:
            error = parsed.error if parsed.kind is CommandKind.INVALID and parsed.error else _ORDER_PROMPT_ERROR
            await ack(response_action="errors", errors={ids.ORDER_ID_BLOCK: error})
            return
        order_id = parsed.order_ids[0]
        store = self.services.workflow.store(parsed.store_code or metadata.store_code)
        filled = metadata.model_copy(update={"order_id": order_id, "store_code": store.code})
        if len(parsed.order_ids) > 1:
            await ack(response_action="update", view=render_bulk_loading_modal(parsed.order_ids, store.label))
            await fill_bulk_modal(self.services, payload.view.id, filled, parsed.order_ids)
            return
        await ack(response_action="update", view=render_loading_modal(order_id, store.label, filled))
        await fill_request_modal(self.services, payload.view.id, filled, order_id)

    async def on_bulk_submitted(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """Check the bulk form, answer inline errors at once, then re-validate every order, store and post."""
        payload, metadata = _submission(body, ids.BulkMetadata)
        if payload is None or metadata is None or payload.user.id != metadata.requester_id:
            await ack(response_action="update", view=render_modal_message("Form expired", _CLOSE_NOTICE, kind="error"))
            return
        errors: dict[str, str] = {}
        reason_id, justification = _reason_and_justification(payload, errors)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        assert reason_id is not None
        await ack(response_action="update", view=render_bulk_submitting_modal(len(metadata.order_ids)))
        form = BulkForm(
            store_code=metadata.store_code,
            orders=metadata.orders,
            reason_id=reason_id,
            justification=justification,
            package_choice=_choice(payload),
            requester_id=payload.user.id,
            channel_id=metadata.channel_id,
        )
        slack = self.services.slack
        try:
            request = await self.services.workflow.submit_bulk(form)
        except (WorkflowError, LazadaError) as exc:
            sentence = exc.user_message if isinstance(exc, LazadaError) else str(exc)
            log.info("bulk_request_not_submitted", orders=len(form.orders), reason=sentence)
            await slack.update_view(payload.view.id, render_modal_message("Not submitted", sentence, kind="error"))
            return
        posted = render_modal_message(
            "Request posted",
            f"Request {request.id} for {plural(len(request.orders), 'order')} is waiting for a second person's "
            "approval in the approval channel. You'll hear back in its thread.",
            kind="success",
        )
        await slack.update_view(payload.view.id, posted)
        await slack.ephemeral(metadata.channel_id, payload.user.id, request_posted(request.id, request.channel_id))

    async def on_reject_submitted(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """Reject with the reason given; the card is stamped and the requester told in the thread."""
        payload, metadata = _submission(body, ids.RejectMetadata)
        if payload is None or metadata is None:
            await ack(response_action="update", view=render_modal_message("Form expired", _CLOSE_NOTICE, kind="error"))
            return
        reason = _text(payload.value(ids.REJECT_REASON_BLOCK, ids.REJECT_REASON))
        if not reason:
            await ack(response_action="errors", errors={ids.REJECT_REASON_BLOCK: "Give the requester a reason."})
            return
        if len(reason) > JUSTIFICATION_LIMIT:
            await ack(
                response_action="errors",
                errors={ids.REJECT_REASON_BLOCK: f"At most {JUSTIFICATION_LIMIT} characters, please."},
            )
            return
        await ack()
        try:
            await self.services.workflow.reject(metadata.request_id, payload.user.id, reason)
        except WorkflowError as exc:
            answer = answer_for(exc)
            if metadata.channel_id:
                await self.services.slack.ephemeral(metadata.channel_id, payload.user.id, answer)
            else:
                await self.services.slack.direct(payload.user.id, answer)


def register(app: AsyncApp, services: Services) -> None:
    """Register the modal submission listeners."""
    handlers = ViewHandlers(services)
    app.view(ids.REQUEST_MODAL)(handlers.on_request_submitted)
    app.view(ids.BULK_MODAL)(handlers.on_bulk_submitted)
    app.view(ids.REJECT_MODAL)(handlers.on_reject_submitted)
