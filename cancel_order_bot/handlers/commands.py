"""The `/cancel-order` slash command: ack at once, open a loading modal, then fill it from Lazada's answers.

One order opens the request modal; several (`/cancel-order 111 222 333`, up to 50) open the bulk modal, which
makes one request covering them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.views import View

from bot.command_text import CommandKind, parse_command_text
from bot.digest.errors import DigestError
from bot.lazada.errors import LazadaError
from bot.services import Services
from bot.slack.render.bulk import bulk_metadata, render_bulk_loading_modal, render_bulk_modal
from bot.slack.render.digest import render_digest_ephemeral
from bot.slack.render.help import render_help
from bot.slack.render.ids import ModalMetadata
from bot.slack.render.modal import (
    render_loading_modal,
    render_modal_message,
    render_order_prompt_modal,
    render_request_modal,
)
from bot.slack.render.replies import render_ephemeral
from bot.workflow.errors import WorkflowError
from cancel_order_bot.handlers.payloads import CommandPayload, parse

__all__ = ["CommandHandlers", "fill_bulk_modal", "fill_request_modal", "register"]

COMMAND = "/cancel-order"

log = structlog.get_logger(__name__)


class CommandHandlers:
    """Listeners for `/cancel-order`."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def on_cancel_order(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """Answer `/cancel-order …`: help, a prompt for the order, or the request modal for an order."""
        command = parse(CommandPayload, body)
        if command is None:
            await ack(text="I couldn't read that command. Please try again.")
            return
        workflow = self.services.workflow
        parsed = parse_command_text(command.text, workflow.stores.keys())
        if parsed.kind is CommandKind.HELP:
            help_message = render_help(sorted(workflow.stores))
            await ack(text=help_message.text, blocks=help_message.blocks, response_type="ephemeral")
            return
        if parsed.kind is CommandKind.INVALID:
            await ack(text=parsed.error or "I couldn't understand that.", response_type="ephemeral")
            return
        if parsed.kind is CommandKind.DIGEST:
            await ack(text="Working out the cancellation rate…", response_type="ephemeral")
            await respond_with_digest(self.services, respond, parsed.store_code)
            return
        await ack()
        store = workflow.store(parsed.store_code)
        order_id = parsed.order_ids[0] if parsed.order_ids else None
        metadata = ModalMetadata(
            store_code=store.code, order_id=order_id, channel_id=command.channel_id, requester_id=command.user_id
        )
        bulk = len(parsed.order_ids) > 1
        if order_id is None:
            view = render_order_prompt_modal(metadata)
        elif bulk:
            view = render_bulk_loading_modal(parsed.order_ids, store.label)
        else:
            view = render_loading_modal(order_id, store.label, metadata)
        opened = await self.services.slack.open_view(command.trigger_id, view)
        if not opened.ok or not opened.view_id:
            log.warning("modal_not_opened", error=opened.error)
            await respond(
                text=(f"Slack didn't let me open the form in time ({opened.error}). Please run the command again."),
                response_type="ephemeral",
            )
            return
        if bulk:
            await fill_bulk_modal(self.services, opened.view_id, metadata, parsed.order_ids)
        elif order_id is not None:
            await fill_request_modal(self.services, opened.view_id, metadata, order_id)


async def fill_request_modal(
    services: Services,
    view_id: str,
    metadata: ModalMetadata,
    order_id: str,
    selected_ids: list[str] | None = None,
) -> None:
    """Ask Lazada about the order and replace the modal with the items, reasons, tip and warnings."""
    try:
        draft = await services.workflow.draft(metadata.store_code, order_id, selected_ids)
    except LazadaError as exc:
        log.info("draft_failed", order_id=order_id, error=str(exc))
        view = render_modal_message("Can't cancel this order", exc.user_message, kind="error")
    except WorkflowError as exc:
        view = render_modal_message("Can't cancel this order", str(exc), kind="error")
    else:
        view = render_request_modal(draft, metadata)
    await _show(services, view_id, view, metadata)


async def fill_bulk_modal(services: Services, view_id: str, metadata: ModalMetadata, order_ids: Sequence[str]) -> None:
    """Ask Lazada about every order (concurrently) and replace the modal with the bulk request form."""
    try:
        draft = await services.workflow.draft_bulk(metadata.store_code, order_ids)
    except LazadaError as exc:
        log.info("bulk_draft_failed", orders=len(order_ids), error=str(exc))
        view = render_modal_message("Can't cancel these orders", exc.user_message, kind="error")
    except WorkflowError as exc:
        view = render_modal_message("Can't cancel these orders", str(exc), kind="error")
    else:
        submit = bulk_metadata(draft, channel_id=metadata.channel_id, requester_id=metadata.requester_id)
        view = render_bulk_modal(draft, submit)
    await _show(services, view_id, view, metadata)


async def _show(services: Services, view_id: str, view: View, metadata: ModalMetadata) -> None:
    """Replace the open modal; when Slack refuses, tell the requester privately instead of leaving them waiting."""
    shown = await services.slack.update_view(view_id, view)
    if not shown.ok:
        log.warning("modal_not_filled", error=shown.error)
        await services.slack.ephemeral(
            metadata.channel_id,
            metadata.requester_id,
            render_ephemeral(f"Slack didn't let me show the form ({shown.error}). Please run the command again."),
        )


async def respond_with_digest(services: Services, respond: AsyncRespond, store_code: str | None) -> None:
    """Answer `/cancel-order digest [store]` privately with the store's digest (refreshed if older than 10 min)."""
    try:
        store = services.workflow.store(store_code)
        report = await services.digest.refresh(store, max_age=timedelta(minutes=10))
    except (DigestError, LazadaError, WorkflowError) as exc:
        text = exc.user_message if isinstance(exc, LazadaError) else str(exc)
        await respond(text=f"I couldn't work out the cancellation rate: {text}", response_type="ephemeral")
        return
    message = render_digest_ephemeral(report)
    await respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=True)


def register(app: AsyncApp, services: Services) -> None:
    """Register the slash command listener."""
    handlers = CommandHandlers(services)
    app.command(COMMAND)(handlers.on_cancel_order)
