"""Bad input from people and from Slack: generated command texts and broken interaction payloads, and hostile text.

Whatever arrives, the bot answers without an unhandled error and never with a 5xx; it stores nothing and cancels
nothing unless the input was valid; and no Lazada or user text it shows can ping `@channel`, link, mention someone
else or add formatting.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import structlog
from structlog.typing import EventDict

from bot.devtools.harness import Harness
from bot.devtools.slack_payloads import Action
from bot.lazada.sandbox import SandboxWorld
from bot.lazada.sandbox.showcase import Showcase
from bot.render import ids
from bot.store.models import CancelRequest, RequestStatus
from tests.reliability.conftest import (
    CREATE,
    DAVE,
    request_cancel,
)


@contextmanager
def errors_logged() -> Iterator[list[EventDict]]:
    """Collect the error-level log events (the app's global error handler logs `unhandled_error` at error)."""
    with structlog.testing.capture_logs() as events:
        errors: list[EventDict] = []
        yield errors
        errors.extend(e for e in events if e.get("log_level") in {"error", "critical", "exception"})


async def _state(bot: Harness) -> list[tuple[str, RequestStatus, int]]:
    return [(r.id, r.status, r.version) for r in await bot.services.requests.list_requests(limit=100)]


def _payload_of(body: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(urllib.parse.parse_qs(body)["payload"][0])
    return payload


def _approve_payload(bot: Harness, request: CancelRequest, user: str) -> dict[str, Any]:
    assert request.message_ts is not None
    message = bot.slack.message(request.channel_id, request.message_ts) or {"ts": request.message_ts}
    signed = bot.payloads.block_actions_from_message(
        [Action.button(ids.REQUEST_APPROVE, ids.ButtonValue(request_id=request.id).pack(), block_id="actions")],
        user_id=user,
        channel_id=request.channel_id,
        message=message,
        trigger_id=bot.slack.new_trigger_id(user),
    )
    return _payload_of(signed.body)


async def _send_payload(bot: Harness, payload: Any) -> int:
    """POST a signed interaction payload; an exception out of the app counts as the 500 a server would answer."""
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    signed = bot.payloads.sign(body, "application/x-www-form-urlencoded")
    try:
        response = await bot.http.post("/slack/events", content=signed.body, headers=signed.headers)
    except Exception:
        return 500
    await bot.settle()
    return response.status_code


@pytest.mark.parametrize("field", ["user", "team"])
async def test_click_whose_user_or_team_is_not_an_object_changes_nothing(
    bot: Harness, world: SandboxWorld, showcase: Showcase, field: str
) -> None:
    request = await request_cancel(bot, showcase.pending)
    before = await _state(bot)
    payload = _approve_payload(bot, request, DAVE)  # not an approver: the click may be answered, never obeyed
    payload[field] = DAVE
    with errors_logged() as errors:
        status = await _send_payload(bot, payload)
    assert status < 500
    assert errors == []
    assert await _state(bot) == before
    assert world.call_count(CREATE) == 0


MATCHER_TRAPS = {
    "action_not_an_object": {"actions": [1]},
    "action_without_action_id": {"actions": [{"value": "x"}]},
    "action_id_not_a_string": {"actions": [{"action_id": 5, "value": "x"}]},
    "view_not_an_object": {"type": "view_submission", "view": "request_modal"},
}


@pytest.mark.parametrize("change", list(MATCHER_TRAPS.values()), ids=list(MATCHER_TRAPS))
async def test_payload_that_would_trip_bolts_listener_matching_is_refused_quietly(
    bot: Harness, world: SandboxWorld, showcase: Showcase, change: dict[str, Any]
) -> None:
    request = await request_cancel(bot, showcase.pending)
    before = await _state(bot)
    payload = {**_approve_payload(bot, request, DAVE), **change}
    with errors_logged() as errors:
        status = await _send_payload(bot, payload)
    assert 400 <= status < 500
    assert errors == []
    assert await _state(bot) == before
    assert world.call_count(CREATE) == 0
