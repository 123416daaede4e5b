"""The token alerts' presenter: renders a `TokenAlertDue` and posts it to the store's channel through the gateway."""

from __future__ import annotations

import structlog

from bot.events import EventBus
from bot.slack.gateway import SlackGateway
from bot.slack.render.tokens import render_token_alert
from bot.token_keeper import TokenAlertDue, TokenAlertPosted

__all__ = ["TokenAlertPoster"]

log = structlog.get_logger(__name__)


class TokenAlertPoster:
    """Posts the token keeper's alerts; one instance per app."""

    def __init__(self, gateway: SlackGateway) -> None:
        self._gateway = gateway

    def subscribe(self, bus: EventBus) -> None:
        """Post every token alert the keeper emits on ``bus``."""
        bus.subscribe(TokenAlertDue, self.on_token_alert_due)

    async def on_token_alert_due(self, event: TokenAlertDue) -> None:
        """Post the alert and answer the event with where it went; leave it unanswered when Slack refused."""
        delivery = await self._gateway.post(event.channel, render_token_alert(event.alert))
        if not delivery.ok:
            log.warning(
                "token_alert.post_failed",
                store_code=event.alert.store_code,
                channel=event.channel,
                error=delivery.error,
            )
            return
        event.receipt.answer(TokenAlertPosted(channel=delivery.channel or event.channel, ts=delivery.ts))
