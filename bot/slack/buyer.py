"""The buyer-request announcer: shows `bot.buyer.events` in Slack (the card, its stamp, thread replies, reminders).

It posts a request's card in the store's approval channel and records where (`record_posted`); a card Slack refuses
raises `CardNotPostedError`, so the service releases its claim and the next tick tries again. Stamping the card and
replying in the thread are each claimed first, so however many replicas settle or re-announce one outcome, Slack
shows it once. It also answers the service's "is this person in the channel?" with `conversations.members`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from slack_sdk.web.async_client import AsyncWebClient

from bot.buyer.events import (
    BuyerReminderDue,
    BuyerRequestChanged,
    BuyerRequestOpened,
    BuyerRequestReopened,
    BuyerRequestSettled,
)
from bot.buyer.models import BuyerRequest
from bot.buyer.service import BuyerRequestService
from bot.events import EventBus
from bot.lazada.countries import COUNTRIES
from bot.slack.gateway import SlackGateway
from bot.slack.render.buyer import (
    render_buyer_reminder,
    render_buyer_reopened_reply,
    render_buyer_request_card,
    render_buyer_settled_reply,
)
from bot.slack.render.text import Message

__all__ = ["MEMBERS_CACHE", "BuyerRequestAnnouncer", "CardNotPostedError", "SlackChannelMembers"]

log = structlog.get_logger(__name__)

# Slack's answers to chat.update when the card is gone: post it again instead.
_MESSAGE_GONE = frozenset({"message_not_found", "cant_update_message"})


class CardNotPostedError(Exception):
    """Slack refused the card (not in the channel, archived …); the tick posts it again later."""

    def __init__(self, key: str, channel: str | None, error: str | None) -> None:
        super().__init__(f"buyer request {key}: card not posted in {channel}: {error}")
        self.error = error


class BuyerRequestAnnouncer:
    """Tells Slack what the buyer-request service found and decided."""

    def __init__(self, *, service: BuyerRequestService, slack: SlackGateway) -> None:
        self.service = service
        self.slack = slack

    def subscribe(self, bus: EventBus) -> None:
        """Listen to every event the service emits."""
        bus.subscribe(BuyerRequestOpened, self.on_opened)
        bus.subscribe(BuyerRequestChanged, self.on_changed)
        bus.subscribe(BuyerRequestReopened, self.on_reopened)
        bus.subscribe(BuyerRequestSettled, self.on_settled)
        bus.subscribe(BuyerReminderDue, self.on_reminder)

    def _tz(self, request: BuyerRequest) -> ZoneInfo:
        store = self.service.store_config(request.store_code)
        return store.tz if store is not None else ZoneInfo("UTC")

    def card(self, request: BuyerRequest) -> Message:
        """The card of a request as it stands."""
        store = self.service.store_config(request.store_code)
        return render_buyer_request_card(
            request,
            now=self.service.clock(),
            tz=self._tz(request),
            store_label=store.label if store is not None else request.store_code,
            currency=COUNTRIES[store.country].currency if store is not None else None,
        )

    async def on_opened(self, event: BuyerRequestOpened) -> None:
        """Post the card in the store's approval channel and record where; CardNotPostedError when Slack refuses."""
        request = event.request
        store = self.service.store_config(request.store_code)
        channel = store.approval_channel if store is not None else None
        if channel is None:
            raise CardNotPostedError(request.key, None, "no_approval_channel")
        delivery = await self.slack.post(channel, self.card(request))
        if not delivery.ok or not delivery.ts:
            log.warning("buyer_card_not_posted", key=request.key, error=delivery.error)
            raise CardNotPostedError(request.key, channel, delivery.error)
        await self.service.record_posted(request, delivery.channel or channel, delivery.ts)

    async def on_changed(self, event: BuyerRequestChanged) -> None:
        """Show the request as it now stands on its card (a decision on its way, or back to open)."""
        await self._update_card(event.request)

    async def on_reopened(self, event: BuyerRequestReopened) -> None:
        """A decision that did not take: the card offers its buttons again, and the thread says why."""
        await self._update_card(event.request)
        await self._post_in_thread(event.request, render_buyer_reopened_reply(event.request))

    async def on_settled(self, event: BuyerRequestSettled) -> None:
        """Stamp the card and reply in the thread, each once across replicas; remember what Slack shows."""
        request = event.request
        if request.message_ts is None:
            return  # never posted: the card will be posted as it stands, stamped, and nothing is owed in a thread
        for part in ("card", "reply"):
            if await self.service.is_shown(request, part) or not await self.service.claim_shown(request, part):
                continue
            shown = False
            try:
                shown = await (self._update_card(request) if part == "card" else self._reply(request))
            finally:
                await self.service.end_shown(request, part, shown=shown)

    async def on_reminder(self, event: BuyerReminderDue) -> None:
        """Remind in the request's thread (the service claimed the reminder once), and redraw the card's time left."""
        request = event.request
        message = render_buyer_reminder(request, event.decider_ids, now=self.service.clock(), tz=self._tz(request))
        await self._post_in_thread(request, message)
        await self._update_card(request)

    async def _reply(self, request: BuyerRequest) -> bool:
        return await self._post_in_thread(request, render_buyer_settled_reply(request, tz=self._tz(request)))

    async def _post_in_thread(self, request: BuyerRequest, message: Message) -> bool:
        if request.channel_id is None or request.message_ts is None:
            return False
        delivery = await self.slack.post(request.channel_id, message, thread_ts=request.message_ts)
        if not delivery.ok:
            log.warning("buyer_thread_reply_failed", key=request.key, error=delivery.error)
        return delivery.ok

    async def _update_card(self, request: BuyerRequest) -> bool:
        """Show the request on its card; True when Slack now shows it (a card gone is posted again)."""
        if request.channel_id is None or request.message_ts is None:
            return True
        message = self.card(request)
        delivery = await self.slack.update(request.channel_id, request.message_ts, message)
        if not delivery.ok and delivery.error in _MESSAGE_GONE:
            posted = await self.slack.post(request.channel_id, message)
            if posted.ok and posted.ts:
                await self.service.record_posted(request, posted.channel or request.channel_id, posted.ts)
                return True
        return delivery.ok


MEMBERS_CACHE = timedelta(seconds=60)
"""How long a channel's member list, once read, answers "is this person in it?" (a click costs no Slack call
then; someone who just left is still counted in for at most this long)."""


class SlackChannelMembers:
    """Whether a person is in a channel, asked of Slack (`conversations.members`, every page), cached briefly."""

    def __init__(
        self, client: AsyncWebClient, *, clock: Callable[[], datetime], max_age: timedelta = MEMBERS_CACHE
    ) -> None:
        self.client = client
        self.clock = clock
        self.max_age = max_age
        self._members: dict[str, tuple[datetime, frozenset[str]]] = {}

    async def is_member(self, channel_id: str, user_id: str) -> bool | None:
        """Whether `user_id` is a member of `channel_id`; None when Slack cannot tell (the caller then refuses)."""
        now = self.clock()
        cached = self._members.get(channel_id)
        if cached is not None and now - cached[0] < self.max_age:
            return user_id in cached[1]
        members: set[str] = set()
        cursor: str | None = None
        try:
            while True:
                answer = await self.client.conversations_members(channel=channel_id, cursor=cursor, limit=1000)
                members.update(m for m in (answer.get("members") or []) if isinstance(m, str))
                cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except Exception as exc:  # Slack could not tell: never allow, and say so
            log.warning("channel_members_unknown", channel=channel_id, error=type(exc).__name__)
            return None
        self._members[channel_id] = (now, frozenset(members))
        return user_id in members
