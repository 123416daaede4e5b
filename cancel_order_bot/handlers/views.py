"""Modal submissions: the request and bulk forms (and the order prompt), and the reject form."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.domain import DomainError
from bot.lazada.errors import LazadaError
from bot.slack.desk import RequestDesk
from bot.slack.payloads import FormErrors, FormExpired, OrderPrompt, RejectForm, Submitted
from bot.slack.render import ids
from bot.workflow.service import CancellationService

__all__ = ["ViewHandlers", "register"]


class ViewHandlers:
    """Listeners for modal submissions."""

    def __init__(self, workflow: CancellationService, desk: RequestDesk) -> None:
        self.workflow = workflow
        self.desk = desk

    async def on_request_submitted(
        self, ack: AsyncAck, submission: Submitted | OrderPrompt | FormErrors | FormExpired
    ) -> None:
        """A request or bulk form: inline errors at once, else re-check with Lazada, store and post the request."""
        await ack(**self.desk.submission_ack(submission))
        if isinstance(submission, OrderPrompt):
            await self.desk.prompt_answered(submission)
        if not isinstance(submission, Submitted):
            return
        try:
            request = await self.workflow.submit(submission.form)
        except (DomainError, LazadaError) as refusal:
            await self.desk.submitted(submission, refusal)
            return
        await self.desk.submitted(submission, request)

    async def on_reject_submitted(self, ack: AsyncAck, submission: RejectForm | FormErrors | FormExpired) -> None:
        """Reject with the reason given; the card is stamped and the requester told in the thread."""
        await ack(**self.desk.submission_ack(submission))
        if not isinstance(submission, RejectForm):
            return
        try:
            await self.workflow.reject(submission.request_id, submission.user_id, submission.reason)
        except DomainError as refusal:
            await self.desk.rejected(submission, refusal)


def register(app: AsyncApp, workflow: CancellationService, desk: RequestDesk) -> None:
    """Register the modal submission listeners; the request and bulk forms share one."""
    handlers = ViewHandlers(workflow, desk)
    app.view(ids.REQUEST_MODAL)(handlers.on_request_submitted)
    app.view(ids.BULK_MODAL)(handlers.on_request_submitted)
    app.view(ids.REJECT_MODAL)(handlers.on_reject_submitted)
