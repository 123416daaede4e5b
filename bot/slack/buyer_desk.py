"""The buyer-request desk: what the person who clicked Accept or Refuse, or submitted the refusal form, is shown.

The listeners (`cancel_order_bot.handlers`) ack, call one method of `BuyerRequestService` and hand the outcome here.
The card itself is stamped by `bot.slack.buyer`'s announcer; this module only answers the person: privately where
they clicked, or in the modal they acted in (the refusal form, or the `/cancel-order` form that offered accepting).
A refusal (not allowed, too late, already decided) changes nothing, and the person is told why in one sentence.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import structlog

from bot.buyer.models import BuyerRequest, BuyerRequestStatus
from bot.buyer.service import BuyerRequestService
from bot.domain import DomainError
from bot.lazada.errors import LazadaError
from bot.slack.gateway import SlackGateway
from bot.slack.payloads import BuyerClick, BuyerRefusal, FormErrors
from bot.slack.render.buyer_forms import (
    buyer_answer_for,
    buyer_decided_answer,
    refusal_form_not_opened,
    refusal_reasons_unread,
    render_buyer_decided_modal,
    render_buyer_not_decided_modal,
    render_refusal_expired,
    render_refusal_loading_modal,
    render_refusal_modal,
    render_refusal_sending_modal,
)
from bot.slack.render.text import Message

__all__ = ["BuyerDesk", "BuyerOutcome"]

log = structlog.get_logger(__name__)

BuyerOutcome = BuyerRequest | DomainError | LazadaError
"""What a decision came to: the request as settled, or the refusal or Lazada failure to tell the person."""


class BuyerDesk:
    """Renders and sends what the person deciding a buyer's cancellation request is shown."""

    def __init__(self, *, buyer: BuyerRequestService, slack: SlackGateway) -> None:
        self.buyer = buyer
        self.slack = slack

    def _tz(self, store_code: str) -> ZoneInfo:
        store = self.buyer.store_config(store_code)
        return store.tz if store is not None else ZoneInfo("UTC")

    async def tell(self, click: BuyerClick, message: Message) -> None:
        """Answer the person who clicked: privately where they clicked, else where their form ran, else by DM."""
        if click.response_url and (await self.slack.respond(click.response_url, message)).ok:
            return
        channel = click.channel_id or (click.form.channel_id if click.form is not None else None)
        if channel:
            await self.slack.ephemeral(channel, click.user_id, message)
        else:
            await self.slack.direct(click.user_id, message)

    async def refused_click(self, click: BuyerClick, refusal: DomainError | LazadaError) -> None:
        """A click that may not decide (not allowed, too late, already decided): say why; nothing changed."""
        log.info("buyer_click_refused", key=click.key, user=click.user_id, reason=type(refusal).__name__)
        if click.view_id is not None:
            await self.slack.update_view(click.view_id, render_buyer_not_decided_modal(buyer_answer_for(refusal)))
            return
        await self.tell(click, buyer_answer_for(refusal))

    async def accepted(self, click: BuyerClick, outcome: BuyerOutcome) -> None:
        """After an Accept click: the refusal, or the outcome where the card is not in sight (modal, App Home)."""
        if not isinstance(outcome, BuyerRequest):
            await self.refused_click(click, outcome)
        elif click.view_id is not None:
            await self.slack.update_view(click.view_id, render_buyer_decided_modal(outcome))
        elif click.message_ts != outcome.message_ts or outcome.status is not BuyerRequestStatus.ACCEPTED:
            # Clicked away from the card (App Home), or it did not go as asked (Lazada's outcome unknown, or the
            # request closed meanwhile): the card shows it, and the clicker is told too.
            await self.tell(click, buyer_decided_answer(outcome))

    async def open_refusal_form(self, click: BuyerClick, request: BuyerRequest) -> None:
        """Open the refusal form at once (the trigger expires in 3 s), then fill it with Lazada's refusal reasons."""
        opened = await self.slack.open_view(click.trigger_id or "", render_refusal_loading_modal(request))
        if not opened.ok or not opened.view_id:
            log.warning("buyer_refusal_form_not_opened", key=click.key, error=opened.error)
            await self.tell(click, refusal_form_not_opened(opened.error))
            return
        try:
            reasons = await self.buyer.refusal_reasons(click.key)
        except (DomainError, LazadaError) as exc:
            log.info("buyer_refusal_reasons_unread", key=click.key, error=str(exc))
            await self.slack.update_view(opened.view_id, render_buyer_not_decided_modal(refusal_reasons_unread(exc)))
            return
        view = render_refusal_modal(request, reasons, now=self.buyer.clock(), tz=self._tz(request.store_code))
        await self.slack.update_view(opened.view_id, view)

    def refusal_ack(self, submission: object) -> dict[str, Any]:
        """What the refusal form's ack says: the inline error, the form saying it is sending, or that it expired."""
        if isinstance(submission, FormErrors):
            return {"response_action": "errors", "errors": submission.errors}
        view = render_refusal_sending_modal() if isinstance(submission, BuyerRefusal) else render_refusal_expired()
        return {"response_action": "update", "view": self.slack.mark_view(view)}

    async def refused(self, submission: BuyerRefusal, outcome: BuyerOutcome) -> None:
        """After a refusal form: its modal says what Lazada was told, or why nothing was sent."""
        if isinstance(outcome, BuyerRequest):
            view = render_buyer_decided_modal(outcome)
        else:
            log.info("buyer_refusal_not_sent", key=submission.key, reason=type(outcome).__name__)
            view = render_buyer_not_decided_modal(buyer_answer_for(outcome))
        shown = await self.slack.update_view(submission.view_id, view)
        if not shown.ok and not (isinstance(outcome, BuyerRequest) and outcome.status is BuyerRequestStatus.REFUSED):
            # The modal is gone (closed meanwhile): a refusal of the decision must still reach the person.
            message = buyer_decided_answer(outcome) if isinstance(outcome, BuyerRequest) else buyer_answer_for(outcome)
            await self.slack.direct(submission.user_id, message)
