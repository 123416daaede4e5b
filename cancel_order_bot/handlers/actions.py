"""Buttons and selections: Approve, Reject, Withdraw on the approval card, Accept and Refuse of a buyer's
cancellation request (on its card, in the request modal or App Home), and changes inside the request modal."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.buyer.service import BuyerRequestService
from bot.domain import DomainError
from bot.lazada.errors import LazadaError
from bot.slack.buyer_desk import BuyerDesk
from bot.slack.desk import RequestDesk
from bot.slack.payloads import BuyerClick, Click, Selection
from bot.slack.render import buyer_forms as buyer_ids
from bot.slack.render import ids
from bot.workflow.service import CancellationService

__all__ = ["ActionHandlers", "register"]


class ActionHandlers:
    """Listeners for interactive elements."""

    def __init__(
        self, workflow: CancellationService, desk: RequestDesk, buyer: BuyerRequestService, buyer_desk: BuyerDesk
    ) -> None:
        self.workflow = workflow
        self.desk = desk
        self.buyer = buyer
        self.buyer_desk = buyer_desk

    async def on_approve(self, ack: AsyncAck, click: Click | None) -> None:
        """Approve: the first valid click wins; the card changes at once, then Lazada is asked."""
        await ack()
        if click is None:
            return
        try:
            outcome = await self.workflow.approve(click.request_id, click.user_id)
        except DomainError as refusal:
            await self.desk.approved(click, refusal)
            return
        await self.desk.approved(click, outcome)

    async def on_reject(self, ack: AsyncAck, click: Click | None) -> None:
        """Reject: open the reason form right away (the trigger expires in 3 s), then check the clicker."""
        await ack()
        if click is None or not click.trigger_id:
            return
        opened = await self.desk.open_reject_form(click)
        try:
            await self.workflow.check_decider(click.request_id, click.user_id)
        except DomainError as refusal:
            await self.desk.reject_checked(click, opened, refusal)
            return
        await self.desk.reject_checked(click, opened, None)

    async def on_withdraw(self, ack: AsyncAck, click: Click | None) -> None:
        """Withdraw: only the requester, only while pending."""
        await ack()
        if click is None:
            return
        try:
            await self.workflow.withdraw(click.request_id, click.user_id)
        except DomainError as refusal:
            await self.desk.withdrawn(click, refusal)

    async def on_buyer_accept(self, ack: AsyncAck, buyer_click: BuyerClick | None) -> None:
        """Accept the buyer's request: one person suffices (not a seller-fault cancellation); first click wins."""
        await ack()
        if buyer_click is None:
            return
        try:
            request = await self.buyer.decide(buyer_click.key, actor=buyer_click.user_id, agree=True)
        except (DomainError, LazadaError) as refusal:
            await self.buyer_desk.accepted(buyer_click, refusal)
            return
        await self.buyer_desk.accepted(buyer_click, request)

    async def on_buyer_refuse(self, ack: AsyncAck, buyer_click: BuyerClick | None) -> None:
        """Refuse: check the clicker may decide now, then open the form with Lazada's refusal reasons."""
        await ack()
        if buyer_click is None or not buyer_click.trigger_id:
            return
        try:
            request = await self.buyer.check_may_decide(buyer_click.key, buyer_click.user_id)
        except DomainError as refusal:
            await self.buyer_desk.refused_click(buyer_click, refusal)
            return
        await self.buyer_desk.open_refusal_form(buyer_click, request)

    async def on_items_changed(self, ack: AsyncAck, selection: Selection | None) -> None:
        """The selection changed in the request modal: ask Lazada again for the reasons of the new selection."""
        await ack()
        if selection is not None:
            await self.desk.selection_changed(selection)

    async def on_ack_only(self, ack: AsyncAck) -> None:
        """Inputs whose value is read on submit: just acknowledge, so Slack shows no warning."""
        await ack()


def register(
    app: AsyncApp, workflow: CancellationService, desk: RequestDesk, buyer: BuyerRequestService, buyer_desk: BuyerDesk
) -> None:
    """Register the action listeners."""
    handlers = ActionHandlers(workflow, desk, buyer, buyer_desk)
    app.action(ids.REQUEST_APPROVE)(handlers.on_approve)
    app.action(ids.REQUEST_REJECT)(handlers.on_reject)
    app.action(ids.REQUEST_WITHDRAW)(handlers.on_withdraw)
    app.action(buyer_ids.BUYER_ACCEPT)(handlers.on_buyer_accept)
    app.action(buyer_ids.BUYER_REFUSE)(handlers.on_buyer_refuse)
    app.action(ids.MODAL_ITEMS)(handlers.on_items_changed)
    for action_id in (ids.MODAL_REASON, ids.MODAL_PACKAGE_CHOICE, ids.MODAL_JUSTIFICATION, ids.MODAL_ORDER_ID):
        app.action(action_id)(handlers.on_ack_only)
