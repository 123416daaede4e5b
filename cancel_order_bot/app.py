"""The composition root of the Slack app: one AsyncApp with its middleware and every listener registered.

Pure, so tests build the real thing. The middleware refuses unreadable payloads, binds the log context, skips
redelivered events and decodes each payload once (`bot.slack.payloads.decode`), so listeners receive typed
arguments (`slash`, `click`, `buyer_click`, `selection`, `submission`, `opener`) instead of reading the body themselves.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.response import BoltResponse

from bot.services import Services
from bot.slack.buyer_desk import BuyerDesk
from bot.slack.desk import RequestDesk
from bot.slack.payloads import decode
from cancel_order_bot.handlers import actions, commands, events, views

__all__ = ["create_app"]

log = structlog.get_logger(__name__)


def _field(value: object, name: str) -> object:
    """`value[name]` when `value` is an object; None for anything else a malformed payload may hold."""
    return value.get(name) if isinstance(value, dict) else None


def _unreadable(body: object) -> str | None:
    """Why Bolt's own listener matchers would crash on this payload (Slack never sends such), or None."""
    if not isinstance(body, dict):
        return "the payload is not an object"
    kind = body.get("type")
    if not isinstance(kind, str):
        return None  # no listener matches a type that is not a string: Bolt answers 404 by itself
    if kind == "block_actions" and "actions" in body:
        found = body["actions"]
        if not isinstance(found, list) or not found:
            return "actions is not a list of actions"
        if not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in found):
            return "an action has no action_id"
    if kind in {"view_submission", "view_closed"} and "view" in body and not isinstance(body["view"], dict):
        return "view is not an object"
    if kind == "event_callback" and not isinstance(body.get("event"), dict):
        return "event is not an object"
    return None


class _OwnClientGiven(logging.Filter):
    """Drop Bolt's "`token` will be unused" warning: we always hand Bolt our own client (with its retry handlers).

    Bolt reads SLACK_BOT_TOKEN from the environment whenever no `token` is passed, and then warns that the `client`
    wins, although that client holds the very same token: a warning at every start that asks nothing of anyone.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_BOLT_LOGGER = logging.getLogger("slack_bolt.AsyncApp")
_BOLT_LOGGER.addFilter(_OwnClientGiven())


def create_app(services: Services, *, verify_requests: bool = True) -> AsyncApp:
    """Build the AsyncApp; `verify_requests=False` only where Slack is authenticated before Bolt sees a request.

    That is Socket Mode (Slack authenticates the socket) and `bot.http.create_http_app` (which checks the
    signature on the raw body): a second check by Bolt would only repeat the work on every request.
    """
    secret = services.settings.slack_signing_secret
    app = AsyncApp(
        # Named, Bolt does not call inspect.stack() to name the app, which reads the source of every caller frame.
        name="cancel-order-bot",
        client=services.slack_client,
        signing_secret=secret.get_secret_value() if secret else "",
        request_verification_enabled=verify_requests,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
        ignoring_self_events_enabled=True,
        logger=_BOLT_LOGGER,
    )

    async def skip_duplicate_events(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        """Slack redelivers events it thinks were lost; each event_id is handled once, on one replica."""
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if isinstance(event_id, str) and event_id:
            first = await services.events.claim_event(event_id, services.clock())
            if not first:
                log.info("duplicate_event_skipped", event_id=event_id)
                return BoltResponse(status=200, body="")
        await next()
        return None

    async def bind_log_context(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> None:
        """Every log line of this request says who acted, where, and what kind of payload it was."""
        structlog.contextvars.clear_contextvars()
        if isinstance(body, dict):
            user = body.get("user_id") or _field(body.get("user"), "id") or _field(body.get("event"), "user")
            structlog.contextvars.bind_contextvars(
                slack_user=user,
                slack_team=body.get("team_id") or _field(body.get("team"), "id"),
                payload=body.get("type") or body.get("command"),
            )
        await next()

    async def refuse_unreadable(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        """A signed payload of a shape Slack never sends gets 400 here, before a listener matcher trips on it."""
        reason = _unreadable(body)
        if reason is not None:
            log.info("unreadable_payload_refused", reason=reason)
            return BoltResponse(status=400, body="invalid payload")
        await next()
        return None

    async def decode_payload(
        body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> None:
        """Decode the payload once; Bolt hands each entry to the listener argument of the same name."""
        context.update(decode(body, services.workflow.stores.keys()))
        await next()

    app.use(refuse_unreadable)
    app.use(bind_log_context)
    app.use(skip_duplicate_events)
    app.use(decode_payload)

    async def on_error(error: Exception, body: dict[str, Any], respond: AsyncRespond | None) -> None:
        reference = uuid.uuid4().hex[:8]
        log.error("unhandled_error", reference=reference, exc_info=error)
        if respond is not None and isinstance(body, dict) and body.get("response_url"):
            try:
                await respond(
                    text=(
                        f"Sorry, something went wrong on my side (reference {reference}). It is logged; "
                        "check the request's thread before trying again."
                    ),
                    response_type="ephemeral",
                    replace_original=False,
                )
            except Exception:
                log.exception("error_reply_failed", reference=reference)

    app.error(on_error)

    desk = RequestDesk(workflow=services.workflow, slack=services.slack, digest=services.digest, buyer=services.buyer)
    buyer_desk = BuyerDesk(buyer=services.buyer, slack=services.slack)
    commands.register(app, desk)
    actions.register(app, services.workflow, desk, services.buyer, buyer_desk)
    views.register(app, services.workflow, desk, services.buyer, buyer_desk)
    events.register(app, services.home)
    return app
