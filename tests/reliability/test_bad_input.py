"""Bad input from people and from Slack: generated command texts and broken interaction payloads, and hostile text.

Whatever arrives, the bot answers without an unhandled error and never with a 5xx; it stores nothing and cancels
nothing unless the input was valid; and no Lazada or user text it shows can ping `@channel`, link, mention someone
else or add formatting.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import structlog
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from structlog.typing import EventDict

from bot.slack.render import ids
from bot.store.models import CancelRequest, RequestStatus
from cancel_order_bot.demo.harness import Harness
from cancel_order_bot.demo.slack_payloads import Action
from cancel_order_bot.sandbox import FaultKind, ItemSpec, SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.reliability.conftest import (
    ALICE,
    BOB,
    CREATE,
    DAVE,
    SHOWING_METHODS,
    assert_audit_consistent,
    request_cancel,
)

# Shared across the examples of one test: each example runs against the same bot, which must stay unchanged.
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: each example drives the whole bot
)

SQL = [
    "'; DROP TABLE cancel_requests; --",
    "1 OR 1=1",
    "100000000000002; DELETE FROM audit_log",
    '" OR ""="',
    "1' UNION SELECT access_token FROM lazada_tokens --",
    "%' AND 1=1 --",
]
MRKDWN = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "@channel",
    "@here",
    "＠everyone",
    "*bold*",
    "_it_",
    "~s~",
    "`code`",
    "```block```",
    "<http://evil.example|click>",
    "<@U0MALLORY>",
    "<#C0EVIL>",
    "<!subteam^S0EVIL>",
    "> quote",
    "&amp;",
    "\u202e\u2066@here\u2069",
]
NUMBERS = st.one_of(
    st.integers(min_value=-(10**31), max_value=10**31).map(str),
    st.from_regex(r"-?[0-9]{25,35}", fullmatch=True),
    st.from_regex(r"#?[0-9]{4,20}", fullmatch=True),
)
TOKENS = st.one_of(
    st.sampled_from([*SQL, *MRKDWN, "help", "digest", "main", "nowhere", "100000000000002"]),
    NUMBERS,
    st.text(max_size=30),
)
COMMAND_TEXTS = st.one_of(
    st.text(max_size=300),
    st.lists(TOKENS, max_size=8).map(" ".join),
    st.lists(st.integers(min_value=10**14, max_value=10**15).map(str), min_size=2, max_size=120).map(" ".join),
    st.builds(lambda piece, n: piece * n, st.sampled_from(["9", "<!channel> ", "é", "x "]), st.integers(900, 3000)),
)

KNOWN_USERS = {ALICE, BOB, "U0CAROL", DAVE}
KNOWN_GROUPS = {"S0APPROVERS"}
KNOWN_CHANNELS = {"C0OPS", "C0DIGEST"}
_OUR_MARKUP = re.compile(
    r"<@(?P<user>[UW][A-Z0-9]+)>|<#(?P<channel>[CDG][A-Z0-9]+)>"
    r"|<!date\^\d+\^\{date_short_pretty\} \{time\}\|[0-9: -]+UTC>|<!subteam\^(?P<group>S[A-Z0-9]+)>"
)
_BROADCAST = re.compile(r"[@＠](channel|here|everyone)", re.IGNORECASE)
_INJECTED = ("*bold*", "_it_", "~s~", "`code`", "*x*")


def _texts(node: Any, kind: str = "mrkdwn") -> Iterator[tuple[str, str]]:
    """Every text Slack would render in a call's parameters, as (mrkdwn | plain_text, text)."""
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            yield node["type"], node["text"]
        elif isinstance(node.get("text"), str):
            yield kind, node["text"]  # a message's fallback text, rendered as mrkdwn
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                yield from _texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value)


def assert_safe(kind: str, text: str, where: str) -> None:
    """No ping, no foreign mention or link, no injected formatting, no bidi trick, in text Slack renders."""
    assert not _BROADCAST.search(text), (where, text)
    assert not re.search(r"<!(channel|here|everyone)", text), (where, text)
    assert not re.search("[\u202a-\u202e\u2066-\u2069]", text), (where, text)
    if kind == "plain_text":
        assert not re.search(r"<[!@#]", text), (where, text)
        return
    for match in _OUR_MARKUP.finditer(text):
        assert match.group("user") is None or match.group("user") in KNOWN_USERS, (where, match.group(0))
        assert match.group("channel") is None or match.group("channel") in KNOWN_CHANNELS, (where, match.group(0))
        assert match.group("group") is None or match.group("group") in KNOWN_GROUPS, (where, match.group(0))
    rest = _OUR_MARKUP.sub("", text)
    assert not re.search("[<>]", rest), (where, rest[:500])
    assert not any(marker in rest for marker in _INJECTED), (where, rest[:500])
    for line in rest.split("\n"):
        assert not line.lstrip(" \t").startswith(("&gt;", "＞", ">")), (where, line)


def assert_everything_shown_is_safe(bot: Harness, since: int = 0) -> None:
    """Check every message, ephemeral, modal, Home tab and response_url answer the bot sent since `since`."""
    for call in bot.slack.calls[since:]:
        if call.method in SHOWING_METHODS or call.method == "response_url":
            for kind, text in _texts(call.params):
                assert_safe(kind, text, call.method)


@contextmanager
def errors_logged() -> Iterator[list[EventDict]]:
    """Collect the error-level log events (the app's global error handler logs `unhandled_error` at error)."""
    with structlog.testing.capture_logs() as events:
        errors: list[EventDict] = []
        yield errors
        errors.extend(e for e in events if e.get("log_level") in {"error", "critical", "exception"})


async def _state(bot: Harness) -> list[tuple[str, RequestStatus, int]]:
    return [(r.id, r.status, r.version) for r in await bot.services.requests.list_requests(limit=100)]


# -- command texts ------------------------------------------------------------------------------------------------


@EXAMPLES
@given(text=COMMAND_TEXTS)
async def test_any_command_text_is_answered_and_stores_nothing(bot: Harness, world: SandboxWorld, text: str) -> None:
    since = len(bot.slack.calls)
    with errors_logged() as errors:
        response = await bot.command(ALICE, text)
    assert response.status_code == 200, response.text
    assert errors == []
    assert await _state(bot) == []
    assert world.call_count(CREATE) == 0
    assert_everything_shown_is_safe(bot, since)


@EXAMPLES
@given(text=st.lists(st.one_of(st.sampled_from(MRKDWN), TOKENS), min_size=1, max_size=4).map(" ".join))
async def test_any_command_text_is_quoted_back_harmlessly(bot: Harness, text: str) -> None:
    response = await bot.command(ALICE, text)
    assert response.status_code == 200
    if response.content:
        for kind, reply in _texts(response.json()):
            assert_safe(kind, reply, "ack")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("<!channel> 100000000000002", "channel"),
        ("*bold* 100000000000002 main", "bold"),
        ("<@U0MALLORY>", "U0MALLORY"),
        ("digest <!here>", "here"),
        ("`code`", "code"),
    ],
)
async def test_bad_command_text_is_quoted_back_harmlessly(bot: Harness, text: str, shown: str) -> None:
    response = await bot.command(ALICE, text)
    assert response.status_code == 200
    reply = response.json()["text"]
    assert shown in reply, "the person sees what they typed"
    assert_safe("mrkdwn", reply, "ack")


# -- interaction payloads ------------------------------------------------------------------------------------------


def _sign_payload(bot: Harness, payload: Any) -> tuple[str, dict[str, str]]:
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    signed = bot.payloads.sign(body, "application/x-www-form-urlencoded")
    return signed.body, signed.headers


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
        response_url=bot.slack.new_response_url(channel=request.channel_id, user=user, message_ts=request.message_ts),
    )
    return _payload_of(signed.body)


def _submit_values(item_ids: list[str]) -> dict[str, dict[str, Any]]:
    """A request modal's `state.values`: these items, the first sandbox reason, a justification."""
    return {
        ids.ITEMS_BLOCK: {
            ids.MODAL_ITEMS: {"type": "checkboxes", "selected_options": [{"value": i} for i in item_ids]}
        },
        ids.REASON_BLOCK: {ids.MODAL_REASON: {"type": "static_select", "selected_option": {"value": "10000019"}}},
        ids.JUSTIFICATION_BLOCK: {ids.MODAL_JUSTIFICATION: {"type": "plain_text_input", "value": "Out of stock."}},
    }


def _submit_payload(bot: Harness, modal: dict[str, Any], user: str, item_ids: list[str]) -> dict[str, Any]:
    return _payload_of(bot.payloads.view_submission(modal, user_id=user, values=_submit_values(item_ids)).body)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a JSON value (message blocks left out: the bot never reads them)."""
    found: list[tuple[Any, ...]] = []
    if isinstance(node, dict):
        items: list[tuple[Any, Any]] = [(k, v) for k, v in node.items() if k not in {"message", "blocks"}]
    elif isinstance(node, list):
        items = list(enumerate(node))
    else:
        return found
    for key, value in items:
        found.append((*prefix, key))
        found.extend(_paths(value, (*prefix, key)))
    return found


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _wrong_type(value: Any) -> st.SearchStrategy[Any]:
    """A JSON value of another type than `value` (or nothing at all)."""
    choices: list[Any] = [None, 0, -1, 10**40, 1.5, True, [], {}, "", "x" * 3001, [value], {"value": value}]
    return st.sampled_from([c for c in choices if type(c) is not type(value)])


def _mutate(payload: dict[str, Any], path: tuple[Any, ...], replacement: Any, delete: bool) -> dict[str, Any]:
    broken = copy.deepcopy(payload)
    node: Any = broken
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = replacement
    return broken


async def _send_payload(bot: Harness, payload: Any) -> int:
    """POST a signed interaction payload; an exception out of the app counts as the 500 a server would answer."""
    body, headers = _sign_payload(bot, payload)
    try:
        response = await bot.http.post("/slack/events", content=body, headers=headers)
    except Exception:
        return 500
    await bot.settle()
    return response.status_code


# The fields of an approval click the bot relies on; breaking any one must make the click do nothing.
APPROVE_NEEDS = [
    ("type",),
    ("user",),
    ("user", "id"),
    ("actions",),
    ("actions", 0),
    ("actions", 0, "action_id"),
    ("actions", 0, "value"),
]


@EXAMPLES
@given(data=st.data())
async def test_approval_click_with_a_needed_field_broken_does_nothing(
    bot: Harness, world: SandboxWorld, showcase: Showcase, data: st.DataObject
) -> None:
    request = await _pending(bot, showcase)
    before = await _state(bot)
    payload = _approve_payload(bot, request, BOB)
    path = data.draw(st.sampled_from(APPROVE_NEEDS))
    delete = data.draw(st.booleans())
    node: Any = payload
    for key in path:
        node = node[key]
    replacement = None if delete else data.draw(_wrong_type(node))
    since = len(bot.slack.calls)
    with errors_logged() as errors:
        await _send_payload(bot, _mutate(payload, path, replacement, delete))
    assert errors == []
    assert await _state(bot) == before
    assert world.call_count(CREATE) == 0
    assert_everything_shown_is_safe(bot, since)


@EXAMPLES
@given(data=st.data())
async def test_any_broken_click_or_submission_from_someone_without_rights_changes_nothing(
    bot: Harness, world: SandboxWorld, showcase: Showcase, data: st.DataObject
) -> None:
    request = await _pending(bot, showcase)
    modal = await _open_modal(bot, showcase)
    before = await _state(bot)
    kind = data.draw(st.sampled_from(["approve", "submit"]))
    if kind == "approve":
        payload = _approve_payload(bot, request, DAVE)  # not an approver
    else:
        item_ids = [str(i.order_item_id) for i in world.order_items(showcase.ready_to_ship)]
        payload = _submit_payload(bot, modal, DAVE, item_ids)  # not the requester of this modal
    for _ in range(data.draw(st.integers(1, 4))):
        paths = _paths(payload)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        delete = data.draw(st.booleans())
        payload = _mutate(payload, path, None if delete else data.draw(JSON_VALUES), delete)
    since = len(bot.slack.calls)
    with errors_logged() as errors:
        await _send_payload(bot, payload)
    assert errors == []
    assert await _state(bot) == before
    assert world.call_count(CREATE) == 0
    assert_everything_shown_is_safe(bot, since)


@EXAMPLES
@given(payload=JSON_VALUES)
async def test_payloads_that_are_not_objects_at_all_are_refused(bot: Harness, payload: Any) -> None:
    with errors_logged() as errors:
        await _send_payload(bot, payload)
    assert errors == []
    assert await _state(bot) == []


def _form(payload: Any) -> bytes:
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


UNREADABLE = {
    "payload_is_a_list": (_form([1, 2]), False),
    "payload_is_a_string": (_form("approve"), False),
    "payload_is_null": (_form(None), False),
    "payload_is_not_json": (b"payload=%7Bnot+json", False),
    "body_is_not_utf8": (b"payload=\xff\xfe", False),
    "actions_empty": (_form({"type": "block_actions", "user": {"id": DAVE}, "actions": []}), True),
    "actions_not_a_list": (_form({"type": "block_actions", "user": {"id": DAVE}, "actions": {"0": {}}}), True),
}


@pytest.mark.parametrize(("body", "signed"), list(UNREADABLE.values()), ids=list(UNREADABLE))
async def test_unreadable_bodies_get_a_4xx_not_a_500(bot: Harness, body: bytes, signed: bool) -> None:
    headers = dict(bot.payloads.sign(body.decode("latin-1"), "application/x-www-form-urlencoded").headers)
    if not signed:
        del headers["x-slack-signature"]
    response = await bot.http.post("/slack/events", content=body, headers=headers)
    assert 400 <= response.status_code < 500


@EXAMPLES
@given(data=st.data())
async def test_no_broken_payload_gets_a_5xx(bot: Harness, showcase: Showcase, data: st.DataObject) -> None:
    request = await _pending(bot, showcase)
    payload: Any = _approve_payload(bot, request, DAVE)
    for _ in range(data.draw(st.integers(1, 4))):
        paths = _paths(payload)
        path = data.draw(st.sampled_from(paths))
        delete = data.draw(st.booleans())
        payload = _mutate(payload, path, None if delete else data.draw(JSON_VALUES), delete)
    assert await _send_payload(bot, payload) < 500


SUBMISSION_NEEDS = [
    ("user", "id"),
    ("view", "id"),
    ("view", "private_metadata"),
    ("view", "state", "values", ids.ITEMS_BLOCK, ids.MODAL_ITEMS, "selected_options"),
    ("view", "state", "values", ids.ITEMS_BLOCK, ids.MODAL_ITEMS, "selected_options", 0, "value"),
    ("view", "state", "values", ids.REASON_BLOCK, ids.MODAL_REASON, "selected_option"),
    ("view", "state", "values", ids.REASON_BLOCK, ids.MODAL_REASON, "selected_option", "value"),
    ("view", "state", "values", ids.JUSTIFICATION_BLOCK, ids.MODAL_JUSTIFICATION, "value"),
]


@EXAMPLES
@given(data=st.data())
async def test_request_submission_with_a_needed_field_broken_stores_nothing(
    bot: Harness, world: SandboxWorld, showcase: Showcase, data: st.DataObject
) -> None:
    modal = await _open_modal(bot, showcase)
    item_ids = [str(i.order_item_id) for i in world.order_items(showcase.ready_to_ship)]
    payload = _submit_payload(bot, modal, ALICE, item_ids)
    path = data.draw(st.sampled_from(SUBMISSION_NEEDS))
    delete = data.draw(st.booleans())
    node: Any = payload
    for key in path:
        node = node[key]
    replacement = None if delete else data.draw(_wrong_type(node))
    since = len(bot.slack.calls)
    with errors_logged() as errors:
        await _send_payload(bot, _mutate(payload, path, replacement, delete))
    assert errors == []
    assert await _state(bot) == []
    assert_everything_shown_is_safe(bot, since)


async def _pending(bot: Harness, showcase: Showcase) -> CancelRequest:
    """The one pending request the payload tests act on (made by the first example, reused by the others)."""
    for request in await bot.services.requests.list_requests(limit=10):
        if request.status is RequestStatus.PENDING:
            return request
    return await request_cancel(bot, showcase.pending)


async def _open_modal(bot: Harness, showcase: Showcase) -> dict[str, Any]:
    """Alice's request modal for the ready-to-ship order, filled by Lazada (opened once, then reused)."""
    order = str(showcase.ready_to_ship)
    with contextlib.suppress(LookupError):
        modal = bot.open_modal(ALICE)
        if order in modal.get("private_metadata", "") and modal.get("submit"):
            return modal
    await bot.command(ALICE, order)
    return bot.open_modal(ALICE)


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


# -- values from elsewhere ------------------------------------------------------------------------------------------


async def test_click_from_another_workspace_changes_nothing(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    payload = _approve_payload(bot, request, "U0EVE")
    payload["team"] = {"id": "T0OTHER", "domain": "elsewhere"}
    payload["user"]["team_id"] = "T0OTHER"
    assert await _send_payload(bot, payload) == 200
    current = await assert_audit_consistent(bot, request)
    assert current.version == request.version
    assert world.call_count(CREATE) == 0


async def test_someone_elses_modal_cannot_be_submitted(bot: Harness, showcase: Showcase) -> None:
    modal = await _open_modal(bot, showcase)
    item_ids = [str(i.order_item_id) for i in bot.world.order_items(showcase.ready_to_ship)]
    response = await bot.send(bot.payloads.view_submission(modal, user_id=BOB, values=_submit_values(item_ids)))
    await bot.settle()
    assert response.status_code == 200
    assert response.json()["response_action"] == "update"
    assert "Form expired" in json.dumps(response.json())
    assert await _state(bot) == []


@pytest.mark.parametrize("case", ["items_of_another_order", "reason_of_another_country"])
async def test_modal_values_from_elsewhere_store_nothing(
    bot: Harness, world: SandboxWorld, showcase: Showcase, case: str
) -> None:
    modal = await _open_modal(bot, showcase)
    (lamp,) = world.order_items(showcase.ready_to_ship)
    (kettle,) = world.order_items(showcase.pending)
    items, reason = [str(lamp.order_item_id)], "10000019"
    if case == "items_of_another_order":
        items = [str(kettle.order_item_id)]
    else:
        reason = "20000031"  # Malaysia's "Sourcing Delay"; this store is in Singapore
    with errors_logged() as errors:
        response = await bot.submit(ALICE, modal, item_ids=items, reason_id=reason)
    assert response.status_code == 200
    assert errors == []
    assert await _state(bot) == []
    assert "Not submitted" in json.dumps(bot.open_modal(ALICE))


async def test_modal_naming_an_item_twice_requests_it_once(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    modal = await _open_modal(bot, showcase)
    (lamp,) = world.order_items(showcase.ready_to_ship)
    with errors_logged() as errors:
        response = await bot.submit(ALICE, modal, item_ids=[str(lamp.order_item_id)] * 2, reason_id="10000019")
    assert response.status_code == 200
    assert errors == []
    (request,) = await bot.services.requests.list_requests(limit=10)
    assert request.orders[0].item_ids == (str(lamp.order_item_id),)


async def test_reject_form_of_a_decided_request_changes_nothing(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    request = await request_cancel(bot, showcase.pending)
    await bot.click(BOB, ids.REQUEST_REJECT, request)
    stale_form = bot.open_modal(BOB)
    await bot.click(ALICE, ids.REQUEST_WITHDRAW, request)
    withdrawn = await bot.refreshed(request)
    values = {ids.REJECT_REASON_BLOCK: {ids.REJECT_REASON: {"value": "Too late"}}}
    assert (await bot.send(bot.payloads.view_submission(stale_form, user_id=BOB, values=values))).status_code == 200
    await bot.settle()
    current = await assert_audit_consistent(bot, request)
    assert current.status is RequestStatus.WITHDRAWN
    assert current.version == withdrawn.version
    assert world.call_count(CREATE) == 0


# -- hostile text end to end ----------------------------------------------------------------------------------------

HOSTILE = "<!channel> @here @everyone *bold* _it_ ~s~ `code` <http://evil.example|click> &amp; <@U0MALLORY>\n> quote"
RTL = "\u202e\u05e9\u05dc\u05d5\u05dd <!here> \u2066@channel\u2069"


@pytest.mark.parametrize("text", [HOSTILE, RTL, "*x*" * 150], ids=["hostile", "rtl", "long"])
async def test_lazada_and_user_text_cannot_ping_link_or_format_anywhere(
    bot: Harness, world: SandboxWorld, text: str
) -> None:
    order = world.add_order(
        [
            ItemSpec(status="pending", sku=f"SKU {text[:60]}", name=f"Mug {text}", variation=text[:80]),
            ItemSpec(status="packed", package="P", sku=f"{text[:30]}_2", name=text, variation=text[:80]),
            ItemSpec(status="packed", package="P", sku="PLAIN_3", name="Plain", variation=""),
        ]
    )
    first, second, _third = world.order_items(order.order_id)
    request = await request_cancel(
        bot,
        order.order_id,
        item_ids=[str(first.order_item_id), str(second.order_item_id)],
        package_choice=ids.PackageChoice.WHOLE_PACKAGE,
        justification=text[:500],
    )
    assert request.status is RequestStatus.PENDING
    world.faults.inject(FaultKind.TIP_ERROR, path=CREATE, text=text)
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    failed = await bot.refreshed(request)
    assert failed.status is RequestStatus.FAILED

    other = await request_cancel(bot, showcase_pending(world), justification=text[:500])
    await bot.click(BOB, ids.REQUEST_REJECT, other)
    values = {ids.REJECT_REASON_BLOCK: {ids.REJECT_REASON: {"value": text[:500]}}}
    await bot.send(bot.payloads.view_submission(bot.open_modal(BOB), user_id=BOB, values=values))
    await bot.settle()
    assert (await bot.refreshed(other)).status is RequestStatus.REJECTED
    await bot.send(bot.payloads.app_home_opened(BOB))
    await bot.settle()

    assert all(c.ok for c in bot.slack.calls if c.method in SHOWING_METHODS), [
        (c.method, c.error) for c in bot.slack.calls if not c.ok
    ]
    assert_everything_shown_is_safe(bot)
    card = bot.message_json(failed)
    assert "Mug" in card, "Lazada's item name is shown, not dropped"
    if text == HOSTILE:
        assert "&lt;http://evil.example|click&gt;" in card
        assert "\u2217bold\u2217" in card


def showcase_pending(world: SandboxWorld) -> int:
    """The showcase's pending order (its id, as the sandbox knows it)."""
    from cancel_order_bot.sandbox.showcase import SHOWCASE

    assert world.has_order(SHOWCASE.pending)
    return SHOWCASE.pending
