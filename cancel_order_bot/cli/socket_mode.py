"""Socket Mode that says what it is doing: the tokens are tried before connecting, a refused token stops the bot
with one line, a dropped connection logs one line (slack_sdk would log a traceback and retry a dead token forever).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from cancel_order_bot.cli.errors import CliError

__all__ = ["FATAL_SLACK_ERRORS", "SocketModeLog", "connected_line", "verify_tokens"]

log = structlog.get_logger(__name__)

#: Slack errors no retry can fix: the token is wrong, revoked or of the wrong kind.
FATAL_SLACK_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "not_allowed_token_type"}
)


def _slack_error(exc: BaseException) -> str | None:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return str(exc.response.get("error") or "unknown_error")
    return None


async def verify_tokens(client: AsyncWebClient, app_token: str) -> dict[str, Any]:
    """Try the bot token (auth.test) and the app-level token (apps.connections.open); return auth.test's answer.

    Raises `CliError` naming the setting when Slack refuses one, so `run` stops at start with one line.
    """
    try:
        identity = await client.auth_test()
    except SlackApiError as exc:
        raise CliError(
            f"SLACK_BOT_TOKEN: Slack refused it ({_slack_error(exc)}); copy the Bot User OAuth Token (xoxb-…) again",
            2,
        ) from exc
    except (SlackClientError, OSError, TimeoutError) as exc:
        raise CliError(f"cannot reach Slack at {client.base_url} ({type(exc).__name__}); check the network") from exc
    try:
        await client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        raise CliError(
            f"SLACK_APP_TOKEN: Slack refused it ({_slack_error(exc)}); generate an app-level token with "
            "connections:write and turn Socket Mode on",
            2,
        ) from exc
    return dict(identity.data) if isinstance(identity.data, dict) else {}


def connected_line(identity: dict[str, Any]) -> str:
    """``connected to Slack as @bot in workspace Team (T…)``."""
    return (
        f"connected to Slack as @{identity.get('user')} in workspace {identity.get('team')} ({identity.get('team_id')})"
    )


class SocketModeLog(logging.Logger):
    """The logger given to slack_sdk's Socket Mode client: one line per dropped connection, no tracebacks, and a
    token Slack refuses (revoked while running) ends the bot through `fatal` instead of a retry every 10 seconds."""

    def __init__(self, fatal: asyncio.Future[str]) -> None:
        super().__init__("slack_sdk.socket_mode")
        self.parent = logging.getLogger("slack_sdk")
        self._fatal = fatal

    def exception(self, msg: object, *args: object, exc_info: Any = True, **kwargs: Any) -> None:
        """slack_sdk calls this from its `except` blocks: classify the exception instead of printing it."""
        exc = sys.exc_info()[1]
        error = _slack_error(exc) if exc is not None else None
        if error in FATAL_SLACK_ERRORS:
            if not self._fatal.done():
                self._fatal.set_result(f"SLACK_APP_TOKEN: Slack refused it ({error}) while reconnecting; the bot stops")
            return
        reason = f"{type(exc).__name__}: {exc}" if exc is not None else str(msg)
        super().warning("slack_connection_lost: %s; reconnecting", reason.splitlines()[0] if reason else "unknown")

    def error(self, msg: object, *args: object, **kwargs: Any) -> None:
        """One line, without the traceback slack_sdk sometimes attaches."""
        kwargs.pop("exc_info", None)
        super().warning(msg, *args, **kwargs)
