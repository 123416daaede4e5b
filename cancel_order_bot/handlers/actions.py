"""Buttons and selections: Approve, Reject, Withdraw on the approval card, and changes inside the request modal."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.services import Services
from bot.slack.render import ids
from bot.slack.render.modal import render_modal_message, render_reject_modal
from bot.slack.render.replies import render_ephemeral
from bot.workflow.errors import WorkflowError
from bot.workflow.service import ApprovalRecorded
from cancel_order_bot.handlers.answers import answer_for
from cancel_order_bot.handlers.commands import fill_request_modal
from cancel_order_bot.handlers.payloads import ActionPayload, parse

__all__ = ["ActionHandlers", "register"]

log = structlog.get_logger(__name__)


class ActionHandlers:
    """Listeners for interactive elements."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def _tell(self, payload: ActionPayload, answer: str | WorkflowError) -> None:
        """Answer the person who clicked: privately where they clicked, else in the channel or a direct message."""
        channel = payload.channel_id
        message = answer_for(answer) if isinstance(answer, WorkflowError) else render_ephemeral(answer)
        if payload.response_url and (await self.services.slack.respond(payload.response_url, message)).ok:
            return
        if channel:
            await self.services.slack.ephemeral(channel, payload.user.id, message)
        else:
            await self.services.slack.direct(payload.user.id, message)

    def _request_id(self, payload: ActionPayload | None) -> str | None:
        if payload is None or payload.action.value is None:
            return None
        try:
            return ids.ButtonValue.unpack(payload.action.value).request_id
        except ValueError:
            return None

    async def on_approve(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """Approve: the first valid click wins; the message changes at once, then Lazada is asked."""
        await ack()
        payload = parse(ActionPayload, body)
        request_id = self._request_id(payload)
        if payload is None or request_id is None:
            log.info("malformed_action", action="approve")
            return
        try:
            result = await self.services.workflow.approve(request_id, payload.user.id)
        except WorkflowError as exc:
            await self._tell(payload, exc)
            return
        if isinstance(result, ApprovalRecorded):
            await self._tell(
                payload,
                f"Your approval of {result.request_id} is recorded ({result.approvals} of {result.required}). "
                "It needs another approver before anything is cancelled.",
            )

    async def on_reject(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """Reject: open the reason modal right away (the trigger expires in 3 s), then check the clicker."""
        await ack()
        payload = parse(ActionPayload, body)
        request_id = self._request_id(payload)
        if payload is None or request_id is None or not payload.trigger_id:
            return
        channel = payload.channel_id
        message_ts = payload.container.message_ts if payload.container else None
        metadata = ids.RejectMetadata(request_id=request_id, channel_id=channel, message_ts=message_ts)
        opened = await self.services.slack.open_view(payload.trigger_id, render_reject_modal(metadata))
        workflow = self.services.workflow
        try:
            request = await workflow.get(request_id)
            await workflow.check_approver(request, payload.user.id)
        except WorkflowError as exc:
            if opened.ok and opened.view_id:
                await self.services.slack.update_view(
                    opened.view_id, render_modal_message("Can't reject", answer_for(exc).text, kind="error")
                )
            else:
                await self._tell(payload, exc)
            return
        if not opened.ok:
            await self._tell(payload, f"Slack didn't open the reject form ({opened.error}). Please click Reject again.")

    async def on_withdraw(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """Withdraw: only the requester, only while pending."""
        await ack()
        payload = parse(ActionPayload, body)
        request_id = self._request_id(payload)
        if payload is None or request_id is None:
            return
        try:
            await self.services.workflow.withdraw(request_id, payload.user.id)
        except WorkflowError as exc:
            await self._tell(payload, exc)

    async def on_items_changed(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        """The selection changed in the request modal: ask Lazada again for the reasons of the new selection."""
        await ack()
        payload = parse(ActionPayload, body)
        if payload is None or payload.view is None:
            return
        try:
            metadata = ids.ModalMetadata.unpack(payload.view.private_metadata)
        except ValueError:
            return
        if metadata.order_id is None or payload.user.id != metadata.requester_id:
            return
        selected = [o.value for o in payload.action.selected_options or ()]
        await fill_request_modal(self.services, payload.view.id, metadata, metadata.order_id, selected)

    async def on_ack_only(self, ack: AsyncAck) -> None:
        """Inputs whose value is read on submit: just acknowledge, so Slack shows no warning."""
        await ack()


def register(app: AsyncApp, services: Services) -> None:
    """Register the action listeners."""
    handlers = ActionHandlers(services)
    app.action(ids.REQUEST_APPROVE)(handlers.on_approve)
    app.action(ids.REQUEST_REJECT)(handlers.on_reject)
    app.action(ids.REQUEST_WITHDRAW)(handlers.on_withdraw)
    app.action(ids.MODAL_ITEMS)(handlers.on_items_changed)
    for action_id in (ids.MODAL_REASON, ids.MODAL_PACKAGE_CHOICE, ids.MODAL_JUSTIFICATION, ids.MODAL_ORDER_ID):
        app.action(action_id)(handlers.on_ack_only)
