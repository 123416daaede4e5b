"""The announcer: shows the workflow's events in Slack (the approval card, its thread, App Home tabs, reminders).

It subscribes to `bot.workflow.events` on the bus (`subscribe`), renders with the pure renderers and sends
through the gateway. It also keeps the Slack side's own records: where the card was posted (`set_message`) and
which status the card and the thread reply show (`mark_announced`), so a later tick re-announces only what did
not go out, and never posts a thread reply twice.
"""

from __future__ import annotations

import structlog

from bot.buyer.service import BuyerRequestService
from bot.domain import OrderStatus, RequestStatus
from bot.events import EventBus
from bot.slack.gateway import Outgoing, SlackGateway
from bot.slack.home import HomeService
from bot.slack.render import replies
from bot.slack.render.request_message import render_request_message
from bot.slack.render.text import Message
from bot.store.models import CancelRequest
from bot.store.requests import RequestStore
from bot.workflow.errors import NotPostedError
from bot.workflow.events import (
    ExecutionProgressed,
    OrdersSettled,
    ReminderDue,
    RequestChanged,
    RequestSettled,
    RequestSubmitted,
)
from bot.workflow.models import BuyerRequestOnOrder, RequestCard
from bot.workflow.service import CancellationService

__all__ = ["RequestAnnouncer"]

log = structlog.get_logger(__name__)

_REPLIES = {
    RequestStatus.EXECUTED: replies.render_outcome_reply,
    RequestStatus.FAILED: replies.render_outcome_reply,
    RequestStatus.NEEDS_ATTENTION: replies.render_needs_attention_reply,
    RequestStatus.CANCEL_PENDING: replies.render_cancel_pending_reply,
    RequestStatus.REJECTED: replies.render_rejected_reply,
    RequestStatus.WITHDRAWN: replies.render_withdrawn_reply,
    RequestStatus.EXPIRED: replies.render_expired_reply,
}
# Slack's answers to chat.update when the approval message is gone: post the card again instead.
_MESSAGE_GONE = frozenset({"message_not_found", "cant_update_message"})


class RequestAnnouncer:
    """Tells Slack what the workflow decided; every request's card, thread and the App Home tabs it appears on."""

    def __init__(
        self,
        *,
        workflow: CancellationService,
        requests: RequestStore,
        slack: SlackGateway,
        home: HomeService,
        buyer: BuyerRequestService | None = None,
    ) -> None:
        self.workflow = workflow
        self.requests = requests
        self.slack = slack
        self.home = home
        self.buyer = buyer

    def subscribe(self, bus: EventBus) -> None:
        """Listen to every event the workflow emits."""
        bus.subscribe(RequestSubmitted, self.on_submitted)
        bus.subscribe(RequestChanged, self.on_changed)
        bus.subscribe(ExecutionProgressed, self.on_progress)
        bus.subscribe(RequestSettled, self.on_settled)
        bus.subscribe(OrdersSettled, self.on_orders_settled)
        bus.subscribe(ReminderDue, self.on_reminder)

    async def _card_message(self, request: CancelRequest) -> Message:
        card = self.workflow.card(
            request, rate=await self.workflow.rate_for(request), buyer_requests=await self._buyer_requests(request)
        )
        return render_request_message(card, now=self.workflow.clock())

    async def _buyer_requests(self, request: CancelRequest) -> tuple[BuyerRequestOnOrder, ...]:
        """The open buyer requests on a pending request's orders, so the approvers are warned (one query)."""
        if self.buyer is None or request.status is not RequestStatus.PENDING:
            return ()
        wanted = {o.order_id for o in request.orders}
        return tuple(
            BuyerRequestOnOrder(
                order_id=r.order_id, item_count=r.item_count, channel_id=r.channel_id, message_ts=r.message_ts
            )
            for r in await self.buyer.open_requests(request.store_code)
            if r.order_id in wanted
        )

    async def on_submitted(self, event: RequestSubmitted) -> None:
        """Post the new request's card for approval; NotPostedError when Slack refuses (the workflow withdraws it)."""
        request = event.request
        delivery = await self.slack.post(request.channel_id, await self._card_message(request))
        if not delivery.ok or not delivery.ts:
            raise NotPostedError(request.id, request.channel_id, delivery.error)
        await self.requests.set_message(request.id, delivery.channel or request.channel_id, delivery.ts)
        self.home.request_changed(await self.workflow.get(request.id))

    async def on_changed(self, event: RequestChanged) -> None:
        """Show the request as it now stands, on its card and on the App Home tabs."""
        await self._refresh(event.request)

    async def on_progress(self, event: ExecutionProgressed) -> None:
        """Show how far an executing request has got on its card ("12/40 cancelled, 1 failed")."""
        request = await self.workflow.get(event.request_id)
        if request.status is RequestStatus.EXECUTING:
            await self._update_card(request)

    async def on_settled(self, event: RequestSettled) -> None:
        """Stamp the card with the outcome and reply in the thread, each once; remember what was shown."""
        request = event.request
        reply = _REPLIES.get(request.status)
        if reply is None:
            return
        status = request.status.value
        # The card and the thread reply are tracked apart: a failed card update is retried by a later tick
        # without posting the reply twice.
        # Each is claimed first, so two replicas settling or re-announcing the same outcome show it once.
        if request.card_status != status and await self._claim(request, "card"):
            shown = await self._refresh(request)
            if shown:
                await self.requests.mark_announced(request.id, request.status, part="card")
            await self._end_claim(request, "card", shown=shown)
        if request.announced_status != status and await self._claim(request, "reply"):
            try:
                await self._reply(request, reply(self._card(request)))
            except BaseException:
                await self._end_claim(request, "reply", shown=False)
                raise
            if request.status is not RequestStatus.CANCEL_PENDING:
                # The outcome reply speaks of every order: a late reply still due for one would repeat it.
                await self.requests.clear_replies_due(request.id)
            await self.requests.mark_announced(request.id, request.status, part="reply")
            await self._end_claim(request, "reply", shown=True)

    async def on_orders_settled(self, event: OrdersSettled) -> None:
        """Show orders that settled late on the card and reply once about each in the thread (claimed, so two
        replicas post it once); a failed reply is released for a later tick."""
        request = await self.workflow.get(event.request.id)
        card = self._card(request)
        now, replica, lease = self.workflow.clock(), self.workflow.replica_id, self.workflow.lease
        for order, line in zip(request.orders, card.orders, strict=True):
            if order.reply_due is None or order.reply_due != order.status.value:
                continue
            status = OrderStatus(order.reply_due)
            if not await self.requests.claim_order_reply(
                request.id, order.order_id, status, claimer=replica, now=now, lease=lease
            ):
                continue
            try:
                await self._reply(request, replies.render_order_late_reply(card, line))
            except BaseException:
                await self.requests.end_order_reply(request.id, order.order_id, status, claimer=replica, shown=False)
                raise
            await self.requests.end_order_reply(request.id, order.order_id, status, claimer=replica, shown=True)
        await self._refresh(request)

    async def _claim(self, request: CancelRequest, part: str) -> bool:
        now, replica, lease = self.workflow.clock(), self.workflow.replica_id, self.workflow.lease
        return await self.requests.claim_announcement(
            request.id, request.status, part=part, claimer=replica, now=now, lease=lease
        )

    async def _end_claim(self, request: CancelRequest, part: str, *, shown: bool) -> None:
        await self.requests.end_announcement(
            request.id, request.status, part=part, claimer=self.workflow.replica_id, shown=shown
        )

    async def on_reminder(self, event: ReminderDue) -> None:
        """Remind the approvers once, in the request's thread."""
        await self._reply(event.request, replies.render_reminder(self._card(event.request), list(event.approver_ids)))

    def _card(self, request: CancelRequest) -> RequestCard:
        return self.workflow.card(request)

    async def _refresh(self, request: CancelRequest) -> bool:
        """The card, then the App Home tabs in the background; True when Slack now shows the card (or there is none)."""
        shown = await self._update_card(request)
        self.home.request_changed(request)
        return shown

    async def _update_card(self, request: CancelRequest) -> bool:
        if not request.message_ts:
            return True
        message = await self._card_message(request)
        delivery = await self.slack.update(request.channel_id, request.message_ts, message)
        if not delivery.ok and delivery.error in _MESSAGE_GONE:
            posted = await self.slack.post(request.channel_id, message)
            if posted.ok and posted.ts:
                await self.requests.set_message(request.id, posted.channel or request.channel_id, posted.ts)
                return True
        return delivery.ok

    async def _reply(self, request: CancelRequest, message: Outgoing) -> None:
        """Reply under the card; when the channel refuses (bot removed, archived), tell the requester directly."""
        delivery = await self.slack.post(request.channel_id, message, thread_ts=request.message_ts)
        if not delivery.ok:
            log.warning("thread_reply_failed", request_id=request.id, error=delivery.error)
            await self.slack.direct(request.requester_id, message)
