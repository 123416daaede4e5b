"""Modal submissions: the request and bulk forms (and the order prompt), the reject form, and the refusal form of a
buyer's cancellation request."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.buyer.service import BuyerRequestService
from bot.domain import DomainError
from bot.lazada.errors import LazadaError
from bot.slack.buyer_desk import BuyerDesk
from bot.slack.desk import RequestDesk
from bot.slack.payloads import BuyerRefusal, FormErrors, FormExpired, OrderPrompt, RejectForm, Submitted
from bot.slack.render import buyer_forms as buyer_ids
from bot.slack.render import ids
from bot.workflow.service import CancellationService

__all__ = ["ViewHandlers", "register"]


class ViewHandlers:
    """Listeners for modal submissions."""

    def __init__(
        self, workflow: CancellationService, desk: RequestDesk, buyer: BuyerRequestService, buyer_desk: BuyerDesk
    ) -> None:
        self.workflow = workflow
        self.desk = desk
        self.buyer = buyer
        self.buyer_desk = buyer_desk

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

    async def on_buyer_refusal_submitted(
        self, ack: AsyncAck, submission: BuyerRefusal | FormErrors | FormExpired
    ) -> None:
        """Refuse the buyer's request with Lazada's reason picked; the form says what Lazada was told."""
        await ack(**self.buyer_desk.refusal_ack(submission))
        if not isinstance(submission, BuyerRefusal):
            return
        try:
            request = await self.buyer.decide(
                submission.key, actor=submission.user_id, agree=False, reason_code=submission.reason_code
            )
        except (DomainError, LazadaError) as refusal:
            await self.buyer_desk.refused(submission, refusal)
            return
        await self.buyer_desk.refused(submission, request)


def register(
    app: AsyncApp, workflow: CancellationService, desk: RequestDesk, buyer: BuyerRequestService, buyer_desk: BuyerDesk
) -> None:
    """Register the modal submission listeners; the request and bulk forms share one."""
    handlers = ViewHandlers(workflow, desk, buyer, buyer_desk)
    app.view(ids.REQUEST_MODAL)(handlers.on_request_submitted)
    app.view(ids.BULK_MODAL)(handlers.on_request_submitted)
    app.view(ids.REJECT_MODAL)(handlers.on_reject_submitted)
    app.view(buyer_ids.BUYER_REFUSE_FORM)(handlers.on_buyer_refusal_submitted)
