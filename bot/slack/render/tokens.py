"""The announcement that a store's Lazada authorization needs an operator: a failed refresh or a near deadline."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import Block, ContextBlock, SectionBlock

from bot.slack.render.text import FALLBACK_TEXT_LIMIT, Message, escape, mrkdwn, oneline, relative, truncate, when
from bot.token_keeper import TokenAlert

__all__ = ["auth_url_command", "exchange_command", "render_token_alert"]

_ERROR_LIMIT = 500


def auth_url_command(store_code: str) -> str:
    """The command that starts a store's authorization."""
    return f"cancel-order-bot lazada auth-url --store {store_code}"


def exchange_command(store_code: str) -> str:
    """The command that finishes a store's authorization with the code Lazada returned."""
    return f"cancel-order-bot lazada exchange --store {store_code} CODE"


def _expiry(moment: datetime, now: datetime) -> str:
    if moment <= now:
        return f"expired {when(moment)} ({relative(moment, now)})"
    return f"expires {when(moment)} ({relative(moment, now)})"


def _failure_text(alert: TokenAlert, error: str) -> str:
    detail = escape(truncate(oneline(error), _ERROR_LIMIT))
    if alert.refresh_refused:
        lines = [f"The store's access token cannot be renewed: {detail}"]
    else:
        lines = [f"The bot could not renew the store's access token and keeps trying: {detail}"]
    if alert.access_expires_at is not None:
        lines.append(f"The current access token {_expiry(alert.access_expires_at, alert.now)}.")
        if alert.access_expires_at <= alert.now:
            lines.append("Until the store is authorized again, its orders cannot be read or cancelled from Slack.")
    return "\n".join(lines)


def _deadline_text(alert: TokenAlert, deadline: datetime) -> str:
    what = "refresh token" if alert.deadline_is_refresh_token else "access token (there is no refresh token)"
    consequence = (
        "the bot can no longer renew the store's access"
        if deadline <= alert.now
        else "after that the bot cannot renew the store's access"
    )
    return (
        f"The store's Lazada {what} {_expiry(deadline, alert.now)}. Lazada does not extend it: "
        f"{consequence} until the seller authorizes the app again."
    )


def render_token_alert(alert: TokenAlert) -> Message:
    """The store-channel announcement: what is wrong with the store's Lazada access and what the operator runs."""
    label = escape(truncate(oneline(alert.store_label), 80))
    country = escape(alert.country.upper())
    head = f"🔑 *Lazada access for store {label} ({country}) needs an operator*"
    parts = [head]
    if alert.refresh_error is not None:
        parts.append(_failure_text(alert, alert.refresh_error))
    if alert.renewal_deadline is not None:
        parts.append(_deadline_text(alert, alert.renewal_deadline))
    todo = (
        f"*What to do:* an operator runs `{auth_url_command(alert.store_code)}`, opens the address it prints "
        "while signed in to Lazada as the seller, and allows the app; then, within 30 minutes, runs "
        f"`{exchange_command(alert.store_code)}` with the code from the address Lazada returns to."
    )
    if alert.refresh_error is not None and not alert.refresh_refused:
        todo += " If Lazada cannot be reached for long, also check the bot's network and LAZADA_AUTH_URL."
    blocks: list[Block] = [
        SectionBlock(text=mrkdwn("\n".join(parts))),
        SectionBlock(text=mrkdwn(todo)),
        ContextBlock(
            elements=[
                mrkdwn(
                    "Announced once a day while this lasts · `cancel-order-bot lazada status` shows every store's "
                    "tokens"
                )
            ]
        ),
    ]
    fallback = f"Lazada access for store {label} needs an operator: run {auth_url_command(alert.store_code)}"
    return Message(text=truncate(fallback, FALLBACK_TEXT_LIMIT), blocks=blocks)
