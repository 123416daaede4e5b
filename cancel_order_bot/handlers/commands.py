"""The `/cancel-order` slash command: ack at once, then the desk opens the form and fills it from Lazada's answers.

One order opens the request modal; several (`/cancel-order 111 222 333`, up to 50) open the bulk modal, which
makes one request covering them all; `help` and `digest` are answered privately.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.slack.desk import RequestDesk
from bot.slack.payloads import Slash

__all__ = ["COMMAND", "CommandHandlers", "register"]

COMMAND = "/cancel-order"


class CommandHandlers:
    """Listeners for `/cancel-order`."""

    def __init__(self, desk: RequestDesk) -> None:
        self.desk = desk

    async def on_cancel_order(self, ack: AsyncAck, respond: AsyncRespond, slash: Slash | None) -> None:
        """Answer `/cancel-order …`: help, a prompt for the order, the request form, or the digest."""
        await ack(**self.desk.command_ack(slash))
        if slash is not None:
            await self.desk.command_follow_up(slash, respond)


def register(app: AsyncApp, desk: RequestDesk) -> None:
    """Register the slash command listener."""
    app.command(COMMAND)(CommandHandlers(desk).on_cancel_order)
