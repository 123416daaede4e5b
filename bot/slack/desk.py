"""The desk: what the person acting sees — the request forms as they fill, and the private answers to their clicks.

The listeners (`cancel_order_bot.handlers`) ack, take the payload the middleware decoded, call one workflow
method and hand its outcome here; this module renders it and sends it through the gateway. A form is opened
with the command's trigger at once (Slack allows 3 s), then filled from Lazada's answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import structlog
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.views import View

from bot.buyer.models import BuyerRequest
from bot.buyer.service import BuyerRequestService
from bot.command_text import CommandKind
from bot.digest.errors import DigestError
from bot.digest.service import DigestService
from bot.domain import DomainError
from bot.lazada.errors import LazadaError
from bot.slack.gateway import Delivery, SlackGateway
from bot.slack.payloads import Click, FormErrors, FormExpired, OrderPrompt, RejectForm, Selection, Slash, Submitted
from bot.slack.render.bulk import (
    bulk_metadata,
    render_bulk_loading_modal,
    render_bulk_modal,
    render_bulk_submitting_modal,
)
from bot.slack.render.digest import render_digest_ephemeral
from bot.slack.render.help import render_help
from bot.slack.render.ids import ModalMetadata, RejectMetadata
from bot.slack.render.modal import (
    render_cannot_reject,
    render_draft_failed,
    render_expired_form,
    render_loading_modal,
    render_not_submitted,
    render_order_prompt_modal,
    render_reject_modal,
    render_request_modal,
    render_request_posted,
    render_submitting_modal,
)
from bot.slack.render.replies import (
    COMMAND_NOT_UNDERSTOOD,
    COMMAND_UNREADABLE,
    DIGEST_WORKING,
    answer_for,
    approval_recorded,
    digest_failed,
    form_not_opened,
    form_not_shown,
    reject_form_not_opened,
    request_posted,
    sentence_for,
)
from bot.slack.render.text import Message, plural
from bot.store.models import CancelRequest
from bot.workflow.service import ApprovalRecorded, BulkForm, CancellationService, RequestForm

__all__ = ["Outcome", "RequestDesk"]

log = structlog.get_logger(__name__)

Outcome = CancelRequest | DomainError | LazadaError
"""What a workflow call came to: the request as stored, or the refusal or Lazada failure to tell the person."""


class RequestDesk:
    """Renders and sends what the person who ran a command, clicked or submitted a form is shown."""

    def __init__(
        self,
        *,
        workflow: CancellationService,
        slack: SlackGateway,
        digest: DigestService,
        buyer: BuyerRequestService | None = None,
    ) -> None:
        self.workflow = workflow
        self.slack = slack
        self.digest = digest
        self.buyer = buyer

    # -- /cancel-order ---------------------------------------------------------------------------------------

    def command_ack(self, slash: Slash | None) -> dict[str, Any]:
        """What the command's ack says at once: help, a correction, a note that the digest is coming, or nothing."""
        if slash is None:
            return {"text": COMMAND_UNREADABLE}
        parsed = slash.parsed
        if parsed.kind is CommandKind.HELP:
            message = render_help(sorted(self.workflow.stores))
            return {"text": message.text, "blocks": message.blocks, "response_type": "ephemeral"}
        if parsed.kind is CommandKind.INVALID:
            return {"text": parsed.error or COMMAND_NOT_UNDERSTOOD, "response_type": "ephemeral"}
        if parsed.kind is CommandKind.DIGEST:
            return {"text": DIGEST_WORKING, "response_type": "ephemeral"}
        return {}

    async def command_follow_up(self, slash: Slash, respond: AsyncRespond) -> None:
        """After the ack: the digest, or the form opened in a loading state and then filled from Lazada."""
        parsed = slash.parsed
        if parsed.kind is CommandKind.DIGEST:
            await self._digest(respond, parsed.store_code)
            return
        if parsed.kind not in {CommandKind.ORDER, CommandKind.PROMPT}:
            return
        store = self.workflow.store(parsed.store_code)
        order_id = parsed.order_ids[0] if parsed.order_ids else None
        metadata = ModalMetadata(
            store_code=store.code, order_id=order_id, channel_id=slash.channel_id, requester_id=slash.user_id
        )
        opened = await self.slack.open_view(slash.trigger_id, self._loading(metadata, parsed.order_ids))
        if not opened.ok or not opened.view_id:
            log.warning("modal_not_opened", error=opened.error)
            await respond(text=form_not_opened(opened.error), response_type="ephemeral")
            return
        await self._fill(opened.view_id, metadata, parsed.order_ids)

    def _loading(self, metadata: ModalMetadata, order_ids: Sequence[str]) -> View:
        label = self.workflow.store(metadata.store_code).label
        if metadata.order_id is None:
            return render_order_prompt_modal(metadata)
        if len(order_ids) > 1:
            return render_bulk_loading_modal(order_ids, label)
        return render_loading_modal(metadata.order_id, label, metadata)

    async def _fill(self, view_id: str, metadata: ModalMetadata, order_ids: Sequence[str]) -> None:
        if len(order_ids) > 1:
            await self.fill_bulk(view_id, metadata, order_ids)
        elif metadata.order_id is not None:
            await self.fill_request(view_id, metadata, metadata.order_id)

    async def _digest(self, respond: AsyncRespond, store_code: str | None) -> None:
        """Answer `/cancel-order digest [store]` privately with the store's digest (refreshed if older than 10 min)."""
        try:
            store = self.workflow.store(store_code)
            report = await self.digest.refresh(store, max_age=timedelta(minutes=10))
        except (DigestError, LazadaError, DomainError) as exc:
            await respond(text=digest_failed(sentence_for(exc)), response_type="ephemeral")
            return
        message = render_digest_ephemeral(report)
        await respond(text=message.text, blocks=message.blocks, response_type="ephemeral", replace_original=True)

    # -- the request forms -----------------------------------------------------------------------------------

    async def fill_request(
        self, view_id: str, metadata: ModalMetadata, order_id: str, selected_ids: Sequence[str] | None = None
    ) -> None:
        """Ask Lazada about the order and replace the modal with the items, reasons, tip and warnings."""
        try:
            draft = await self.workflow.draft(metadata.store_code, order_id, selected_ids)
        except (LazadaError, DomainError) as exc:
            log.info("draft_failed", order_id=order_id, error=str(exc))
            view = render_draft_failed(sentence_for(exc))
        else:
            store = self.workflow.store(draft.store_code)
            view = render_request_modal(
                draft,
                metadata,
                buyer_requests=await self._buyer_requests(draft.store_code, order_id),
                now=self.workflow.clock(),
                tz=store.tz,
            )
        await self._show(view_id, view, metadata)

    async def _buyer_requests(self, store_code: str, order_id: str) -> list[BuyerRequest]:
        """The order's open buyer cancellation requests (the draft just fed any Lazada showed): offered first."""
        if self.buyer is None:
            return []
        return await self.buyer.open_for_order(store_code, order_id)

    async def _buyer_requests_of(self, store_code: str, order_ids: Sequence[str]) -> list[BuyerRequest]:
        """The open buyer requests on any of these orders (the drafts just fed any Lazada showed), in one query."""
        if self.buyer is None:
            return []
        wanted = set(order_ids)
        return [r for r in await self.buyer.open_requests(store_code) if r.order_id in wanted]

    async def fill_bulk(self, view_id: str, metadata: ModalMetadata, order_ids: Sequence[str]) -> None:
        """Ask Lazada about every order (concurrently) and replace the modal with the bulk request form."""
        try:
            draft = await self.workflow.draft_bulk(metadata.store_code, order_ids)
        except (LazadaError, DomainError) as exc:
            log.info("bulk_draft_failed", orders=len(order_ids), error=str(exc))
            view = render_draft_failed(sentence_for(exc), orders=len(order_ids))
        else:
            submit = bulk_metadata(draft, channel_id=metadata.channel_id, requester_id=metadata.requester_id)
            buyer = await self._buyer_requests_of(draft.store_code, draft.order_ids)
            view = render_bulk_modal(draft, submit, buyer_requests=buyer)
        await self._show(view_id, view, metadata)

    async def selection_changed(self, selection: Selection) -> None:
        """The requester changed the selection: ask Lazada again for the reasons of the new one."""
        await self.fill_request(selection.view_id, selection.metadata, selection.order_id, selection.selected)

    async def _show(self, view_id: str, view: View, metadata: ModalMetadata) -> None:
        """Replace the open modal; when Slack refuses, tell the requester privately instead of leaving them waiting."""
        shown = await self.slack.update_view(view_id, view)
        if not shown.ok:
            log.warning("modal_not_filled", error=shown.error)
            await self.slack.ephemeral(metadata.channel_id, metadata.requester_id, form_not_shown(shown.error))

    def submission_ack(self, submission: object) -> dict[str, Any]:
        """What the ack of a submitted form says: inline errors, or the view that replaces the form meanwhile."""
        match submission:
            case FormErrors(errors=errors):
                return {"response_action": "errors", "errors": errors}
            case OrderPrompt():
                return self._replace(self._loading(submission.metadata, submission.order_ids))
            case Submitted(form=RequestForm() as form):
                return self._replace(render_submitting_modal(form.order_id))
            case Submitted(form=BulkForm() as bulk):
                return self._replace(render_bulk_submitting_modal(len(bulk.order_ids)))
            case RejectForm():
                return {}
            case FormExpired() | _:
                return self._replace(render_expired_form())

    def _replace(self, view: View) -> dict[str, Any]:
        return {"response_action": "update", "view": self.slack.mark_view(view)}

    async def prompt_answered(self, prompt: OrderPrompt) -> None:
        """The order prompt was answered: fill the modal (now loading) for the order or orders."""
        await self._fill(prompt.view_id, prompt.metadata, prompt.order_ids)

    async def submitted(self, submission: Submitted, outcome: Outcome) -> None:
        """Tell the requester how the submit went: in the modal, and privately in the channel once it is posted."""
        form = submission.form
        if not isinstance(outcome, CancelRequest):
            sentence = sentence_for(outcome)
            log.info("request_not_submitted", requester=form.requester_id, reason=sentence)
            await self.slack.update_view(submission.view_id, render_not_submitted(sentence))
            return
        scope = f"order {form.order_id}" if isinstance(form, RequestForm) else plural(len(outcome.orders), "order")
        await self.slack.update_view(submission.view_id, render_request_posted(outcome.id, scope))
        posted = request_posted(outcome.id, outcome.channel_id)
        await self.slack.ephemeral(form.channel_id, form.requester_id, posted)

    # -- buttons ---------------------------------------------------------------------------------------------

    async def tell(self, click: Click, message: Message) -> None:
        """Answer the person who clicked: privately where they clicked, else in the channel or a direct message."""
        if click.response_url and (await self.slack.respond(click.response_url, message)).ok:
            return
        if click.channel_id:
            await self.slack.ephemeral(click.channel_id, click.user_id, message)
        else:
            await self.slack.direct(click.user_id, message)

    async def approved(self, click: Click, outcome: ApprovalRecorded | Outcome) -> None:
        """After an Approve click: the refusal, or that another approver is needed (the card shows the rest)."""
        if isinstance(outcome, ApprovalRecorded):
            await self.tell(click, approval_recorded(outcome.request_id, outcome.approvals, outcome.required))
        elif not isinstance(outcome, CancelRequest):
            await self.tell(click, answer_for(outcome))

    async def withdrawn(self, click: Click, outcome: Outcome) -> None:
        """After a Withdraw click: the refusal, if any (the card and the thread show a withdrawal)."""
        if not isinstance(outcome, CancelRequest):
            await self.tell(click, answer_for(outcome))

    async def open_reject_form(self, click: Click) -> Delivery:
        """Open the reject form at once with the click's trigger (it expires in 3 s), before any check."""
        metadata = RejectMetadata(request_id=click.request_id, channel_id=click.channel_id, message_ts=click.message_ts)
        return await self.slack.open_view(click.trigger_id or "", render_reject_modal(metadata))

    async def reject_checked(self, click: Click, opened: Delivery, refusal: DomainError | None) -> None:
        """Once the clicker is checked: replace the open form with the refusal, or say the form did not open."""
        if refusal is not None and opened.ok and opened.view_id:
            await self.slack.update_view(opened.view_id, render_cannot_reject(answer_for(refusal).text))
        elif refusal is not None:
            await self.tell(click, answer_for(refusal))
        elif not opened.ok:
            await self.tell(click, reject_form_not_opened(opened.error))

    async def rejected(self, form: RejectForm, outcome: Outcome) -> None:
        """After a reject form: the refusal, if any, privately in the card's channel (or a direct message)."""
        if isinstance(outcome, CancelRequest):
            return
        if form.channel_id:
            await self.slack.ephemeral(form.channel_id, form.user_id, answer_for(outcome))
        else:
            await self.slack.direct(form.user_id, answer_for(outcome))
