"""Shared pieces of the reliability suite: the flow fixtures, what people see in Slack, and the stored-state checks.

The fixtures `clock`, `world`, `showcase` and `bot` are the flow tests' own (the real app in HTTP mode over the
Lazada sandbox and the fake Slack, on SQLite). The helpers read the outcome the way a person and an auditor would:
every text the bot showed in Slack, the request with its audit trail, and the cancellations Lazada received.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

from bot.store.models import CancelRequest, OrderStatus, RequestStatus
from bot.workflow.execution import final_status
from cancel_order_bot.demo.harness import Harness
from cancel_order_bot.sandbox import SandboxWorld
from tests.flow.conftest import (
    ALICE,
    BOB,
    CAROL,
    CREATE,
    DAVE,
    bot,
    clock,
    request_cancel,
    showcase,
    stored_count,
    told,
    world,
)

__all__ = [
    "ALICE",
    "BOB",
    "CAROL",
    "CREATE",
    "DAVE",
    "SHOWING_METHODS",
    "assert_audit_consistent",
    "assert_no_internals",
    "bot",
    "cancels_per_item",
    "clock",
    "readable",
    "request_cancel",
    "settle_later",
    "showcase",
    "shown",
    "stored_count",
    "told",
    "world",
]

SHOWING_METHODS = frozenset(
    {"chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "views.update", "views.publish"}
)
"""Web API methods whose content people read (plus the `response_url` answers)."""

# Internals that must never reach a person: tracebacks, exception class names, library names, raw Lazada envelopes.
_INTERNALS = re.compile(
    r"Traceback|File \"|\bline \d+, in\b|[A-Z][A-Za-z]+(Error|Exception)\b|\b(Read|Connect|Pool|Write)Timeout\b"
    r"|\bhttpx\b|\baiohttp\b|sqlalchemy|request_id=|\"code\"\s*:|/rest/|/order/reverse|\bNone\b|\bnull\b|\{'"
)


def shown(bot: Harness, *, since: int = 0) -> str:
    """Every text the bot sent for people to read (messages, ephemerals, modals, Home, response_url) as JSON."""
    texts = [
        json.dumps(call.params, ensure_ascii=False)
        for call in bot.slack.calls[since:]
        if call.method in SHOWING_METHODS or call.method == "response_url"
    ]
    return "\n".join(texts)


def readable(text: str) -> str:
    """The human-readable strings inside Slack JSON (ids, keys and block structure left out)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in {"text", "fallback"} and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for line in text.splitlines():
        try:
            walk(json.loads(line))
        except ValueError:
            found.append(line)
    return "\n".join(found)


def assert_no_internals(text: str) -> None:
    """Fail when the human-readable parts of `text` hold a stack trace, an exception name or a raw envelope."""
    words = readable(text)
    match = _INTERNALS.search(words)
    assert match is None, f"internal detail {match.group(0)!r} shown to a person in: {words[:2000]}"


async def assert_audit_consistent(bot: Harness, request: CancelRequest) -> CancelRequest:
    """Check the stored request against its audit trail and Lazada's view of the items; return it as stored.

    The trail starts with `requested`; every status change of the request and of each order is one row whose
    `from_status` is the previous row's `to_status`; the last rows match the stored statuses; a settled request has
    settled orders; an `executed` request's items are cancelled on Lazada and a `failed` one's are not.
    """
    current = await bot.refreshed(request)
    trail = await bot.services.requests.audit_trail(request.id)
    assert trail, "no audit trail"
    assert trail[0].action == "requested"
    assert trail[0].to_status == RequestStatus.PENDING
    status: str | None = None
    orders: dict[str, str] = {o.order_id: OrderStatus.PENDING.value for o in current.orders}
    for entry in trail:
        if entry.to_status is None or entry.from_status == entry.to_status:
            continue
        if entry.order_id is None:
            assert entry.from_status == status, f"request audit jumps from {status} via {entry}"
            status = entry.to_status
        else:
            assert entry.from_status == orders[entry.order_id], f"order audit jumps via {entry}"
            orders[entry.order_id] = entry.to_status
    assert status == current.status.value, f"audit ends at {status}, stored {current.status}"
    for order in current.orders:
        assert orders[order.order_id] == order.status.value, f"order {order.order_id} audit disagrees"
    if current.status in {RequestStatus.EXECUTED, RequestStatus.FAILED, RequestStatus.NEEDS_ATTENTION}:
        assert all(o.status is not OrderStatus.EXECUTING for o in current.orders), "a settled request left an order"
        expected = final_status(current.orders)
        assert current.status is expected, f"request {current.status} but its orders make it {expected}"
    world = bot.world
    for order in current.orders:
        cancelled = [world.item(int(i)).status == "canceled" for i in order.item_ids]
        if order.status is OrderStatus.EXECUTED:
            assert all(cancelled), f"order {order.order_id} is stored executed but Lazada shows {cancelled}"
        if order.status is OrderStatus.FAILED or current.status in {
            RequestStatus.REJECTED,
            RequestStatus.WITHDRAWN,
            RequestStatus.EXPIRED,
        }:
            assert not any(cancelled), f"order {order.order_id} is stored {order.status} but Lazada cancelled items"
    return current


def cancels_per_item(world: SandboxWorld) -> dict[str, int]:
    """How many InitReverseOrderCancel calls named each item, for every item ever named in one."""
    counts: dict[str, int] = {}
    for call in world.calls:
        if call.path == CREATE:
            for item_id in json.loads(call.params.get("order_item_id_list", "[]")):
                counts[str(item_id)] = counts.get(str(item_id), 0) + 1
    return counts


async def settle_later(bot: Harness, *, ticks: int = 2) -> None:
    """Let every lease run out and run the scheduler's tick a few times, as the bot would over the next hour."""
    for _ in range(ticks):
        bot.clock.advance(timedelta(minutes=20))
        await bot.services.workflow.tick()
        await bot.settle()
