"""Only Slack's own, fresh requests are obeyed: everything else gets 401 and changes nothing.

Unsigned, wrongly signed, signed with another secret, dated more than 5 minutes off (either way), replayed with a
fresh timestamp, or altered after signing: every kind of request (slash command, button, modal submission, event)
gets 401, and the bot neither calls Slack or Lazada nor stores anything. Buttons of an expired request, or naming a
request the bot does not have, do nothing but explain.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from bot.slack.render import ids
from bot.store.models import CancelRequest, RequestStatus
from cancel_order_bot.demo.harness import SIGNING_SECRET, Harness
from cancel_order_bot.demo.slack_payloads import Action, Delivery, SignedRequest, SlackRequests
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.reliability.conftest import ALICE, BOB, CREATE, assert_audit_consistent, request_cancel, told

FIVE_MINUTES = 5 * 60


def _untouched(request: SignedRequest) -> SignedRequest:
    return request


def _fresh_timestamp(request: SignedRequest) -> SignedRequest:
    """A replay of an old body and signature with the timestamp header moved to now."""
    return SignedRequest(request.body, {**request.headers, "x-slack-request-timestamp": str(int(time.time()))})


def _altered_body(request: SignedRequest) -> SignedRequest:
    """The body changed after signing (who clicked becomes someone else)."""
    body = request.body.replace(ALICE, "U0MALLORY").replace(BOB, "U0MALLORY")
    assert body != request.body
    return SignedRequest(body, request.headers)


def _no_timestamp(request: SignedRequest) -> SignedRequest:
    return SignedRequest(request.body, {k: v for k, v in request.headers.items() if k != "x-slack-request-timestamp"})


@dataclass(frozen=True)
class Spoil:
    """A way a request can be inauthentic: who signs it, how, when, and what happens to it after signing."""

    name: str
    secret: str = SIGNING_SECRET
    delivery: Delivery = field(default_factory=Delivery)
    age: float = 0.0
    after: Callable[[SignedRequest], SignedRequest] = _untouched


SPOILS = [
    Spoil("unsigned", delivery=Delivery(signature="missing")),
    Spoil("wrong_signature", delivery=Delivery(signature="wrong")),
    Spoil("another_secret", secret="not-the-apps-signing-secret"),
    Spoil("ten_minutes_old", delivery=Delivery(stale=True)),
    Spoil("just_over_five_minutes_old", age=FIVE_MINUTES + 10),
    Spoil("five_minutes_ahead", age=-(FIVE_MINUTES + 10)),
    Spoil("old_body_replayed_with_a_fresh_timestamp", age=FIVE_MINUTES + 10, after=_fresh_timestamp),
    Spoil("altered_after_signing", after=_altered_body),
    Spoil("no_timestamp", after=_no_timestamp),
]


@dataclass
class Scene:
    """A pending request, an open request modal, and what the world looked like before the spoiled requests."""

    request: CancelRequest
    modal: dict[str, Any]
    order_id: int


async def _scene(bot: Harness, showcase: Showcase) -> Scene:
    request = await request_cancel(bot, showcase.pending)
    await bot.command(ALICE, str(showcase.ready_to_ship))
    return Scene(request=request, modal=bot.open_modal(ALICE), order_id=showcase.ready_to_ship)


def _every_kind(bot: Harness, scene: Scene, signer: SlackRequests, delivery: Delivery) -> dict[str, SignedRequest]:
    """One request of each kind the bot answers, built by `signer`."""
    request = scene.request
    assert request.message_ts is not None
    message = bot.slack.message(request.channel_id, request.message_ts) or {"ts": request.message_ts}
    item_ids = [str(i.order_item_id) for i in bot.world.order_items(scene.order_id)]
    values: dict[str, dict[str, Any]] = {
        ids.ITEMS_BLOCK: {
            ids.MODAL_ITEMS: {"type": "checkboxes", "selected_options": [{"value": i} for i in item_ids]}
        },
        ids.REASON_BLOCK: {ids.MODAL_REASON: {"type": "static_select", "selected_option": {"value": "10000019"}}},
        ids.JUSTIFICATION_BLOCK: {ids.MODAL_JUSTIFICATION: {"type": "plain_text_input", "value": "Out of stock"}},
    }
    button = ids.ButtonValue(request_id=request.id).pack()
    return {
        "command": signer.slash_command(
            "/cancel-order",
            str(scene.order_id),
            user_id=ALICE,
            channel_id=bot.channel,
            trigger_id=bot.slack.new_trigger_id(ALICE),
            response_url=bot.slack.new_response_url(channel=bot.channel, user=ALICE),
            delivery=delivery,
        ),
        "approve": signer.block_actions_from_message(
            [Action.button(ids.REQUEST_APPROVE, button, block_id="actions")],
            user_id=BOB,
            channel_id=request.channel_id,
            message=message,
            trigger_id=bot.slack.new_trigger_id(BOB),
            delivery=delivery,
        ),
        "withdraw": signer.block_actions_from_message(
            [Action.button(ids.REQUEST_WITHDRAW, button, block_id="actions")],
            user_id=ALICE,
            channel_id=request.channel_id,
            message=message,
            delivery=delivery,
        ),
        "submit": signer.view_submission(scene.modal, user_id=ALICE, values=values, delivery=delivery),
        "event": signer.app_home_opened(BOB, delivery=delivery),
    }


def _signer(bot: Harness, secret: str, age: float) -> SlackRequests:
    return SlackRequests.for_workspace(secret, bot.slack.workspace, clock=lambda: time.time() - age)


async def _snapshot(bot: Harness) -> tuple[int, int, list[tuple[str, RequestStatus, int]]]:
    requests = await bot.services.requests.list_requests(limit=100)
    return len(bot.slack.calls), len(bot.world.calls), [(r.id, r.status, r.version) for r in requests]


@pytest.mark.parametrize("spoil", SPOILS, ids=[s.name for s in SPOILS])
async def test_inauthentic_requests_get_401_and_change_nothing(
    bot: Harness, world: SandboxWorld, showcase: Showcase, spoil: Spoil
) -> None:
    scene = await _scene(bot, showcase)
    before = await _snapshot(bot)
    signer = _signer(bot, spoil.secret, spoil.age)
    for kind, signed in _every_kind(bot, scene, signer, spoil.delivery).items():
        response = await bot.send(spoil.after(signed))
        await bot.settle()
        assert response.status_code == 401, (kind, response.status_code, response.text)
        assert SIGNING_SECRET not in response.text
    assert await _snapshot(bot) == before, "a request that got 401 still had an effect"
    assert world.call_count(CREATE) == 0


async def test_authentic_requests_within_five_minutes_are_obeyed(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    """The control for the test above: the same requests, properly signed a little under 5 minutes ago, work."""
    scene = await _scene(bot, showcase)
    signer = _signer(bot, SIGNING_SECRET, FIVE_MINUTES - 20)
    requests = _every_kind(bot, scene, signer, Delivery())
    publishes = len(bot.slack.calls_to("views.publish"))
    for kind in ("event", "submit", "approve"):
        response = await bot.send(requests[kind])
        await bot.settle()
        assert response.status_code == 200, (kind, response.text)
    assert len(bot.slack.calls_to("views.publish")) > publishes
    assert (await bot.request_for(str(scene.order_id))).status is RequestStatus.PENDING
    assert (await bot.refreshed(scene.request)).status is RequestStatus.EXECUTED
    assert world.call_count(CREATE) == 1


async def test_replayed_click_within_the_window_has_no_second_effect(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    scene = await _scene(bot, showcase)
    approve = _every_kind(bot, scene, _signer(bot, SIGNING_SECRET, 0), Delivery())["approve"]
    assert (await bot.send(approve)).status_code == 200
    await bot.settle()
    assert (await bot.send(approve)).status_code == 200
    await bot.settle()
    assert world.call_count(CREATE) == 1
    await assert_audit_consistent(bot, scene.request)


async def test_buttons_of_an_expired_request_do_nothing(bot: Harness, world: SandboxWorld, showcase: Showcase) -> None:
    request = await request_cancel(bot, showcase.pending)
    bot.clock.advance(timedelta(hours=13))
    await bot.services.workflow.tick()
    expired = await bot.refreshed(request)
    assert expired.status is RequestStatus.EXPIRED
    for user, action in ((BOB, ids.REQUEST_APPROVE), (ALICE, ids.REQUEST_WITHDRAW), (BOB, ids.REQUEST_REJECT)):
        response = await bot.click(user, action, expired)
        assert response.status_code == 200
    after = await assert_audit_consistent(bot, request)
    assert after.status is RequestStatus.EXPIRED
    assert after.version == expired.version
    assert world.call_count(CREATE) == 0
    assert "expired" in told(bot, BOB)
    assert "expired" in told(bot, ALICE)
    assert "Can't reject" in str(bot.open_modal(BOB))


@pytest.mark.parametrize(
    "request_id",
    ["CR-FOREIGN", "CR-" + "Z" * 29, "T0OTHER-CR-1"],
    ids=["unknown", "longest", "another_workspace"],
)
async def test_buttons_naming_a_request_the_bot_does_not_have_do_nothing(
    bot: Harness, world: SandboxWorld, showcase: Showcase, request_id: str
) -> None:
    request = await request_cancel(bot, showcase.pending)
    assert request.message_ts is not None
    message = bot.slack.message(request.channel_id, request.message_ts) or {}
    value = ids.ButtonValue(request_id=request_id).pack()
    for user, action in ((BOB, ids.REQUEST_APPROVE), (ALICE, ids.REQUEST_WITHDRAW)):
        click = bot.payloads.block_actions_from_message(
            [Action.button(action, value, block_id="actions")],
            user_id=user,
            channel_id=request.channel_id,
            message=message,
            response_url=bot.slack.new_response_url(channel=request.channel_id, user=user),
        )
        assert (await bot.send(click)).status_code == 200
        await bot.settle()
        assert "request does not exist" in told(bot, user)
    after = await assert_audit_consistent(bot, request)
    assert after.status is RequestStatus.PENDING
    assert after.version == request.version
    assert world.call_count(CREATE) == 0


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"[" * 200_000 + b"]" * 200_000, "application/json"),
        (b"payload=" + b"%5B" * 100_000, "application/x-www-form-urlencoded"),
        (b"\xff\xfe not utf-8", "application/x-www-form-urlencoded"),
        (b'{"type":"url_verification","challenge":"unsigned"}', "application/json"),
    ],
    ids=["deep_json", "deep_form_payload", "not_utf8", "url_verification"],
)
async def test_an_unsigned_body_is_refused_before_anything_parses_it(
    bot: Harness, world: SandboxWorld, body: bytes, content_type: str
) -> None:
    before = len(bot.slack.calls), len(world.calls)
    response = await bot.http.post(
        "/slack/events",
        content=body,
        headers={"content-type": content_type, "x-slack-request-timestamp": str(int(time.time()))},
    )
    assert response.status_code == 401
    assert "unsigned" not in response.text
    assert (len(bot.slack.calls), len(world.calls)) == before
