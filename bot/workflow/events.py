"""What the workflow emits on the event bus once it has decided: the presenter subscribes and tells Slack.

Each event carries the request as stored after the change. The workflow never waits on Slack for a decision,
with one exception: `RequestSubmitted` must be shown before the request counts as submitted, so a subscriber
that cannot show it raises `NotPostedError` (see `bot.workflow.errors`) and the workflow withdraws the request.
Every other failure of a subscriber propagates to the emitter; the scheduler's tick re-emits `RequestSettled`
for requests whose announcement did not go out (`CancelRequest.card_status` / `announced_status`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.store.models import CancelRequest

__all__ = [
    "ExecutionProgressed",
    "OrdersSettled",
    "ReminderDue",
    "RequestChanged",
    "RequestSettled",
    "RequestSubmitted",
]


@dataclass(frozen=True)
class RequestSubmitted:
    """A request was stored `pending` and must now be posted for approval (its card, in `request.channel_id`)."""

    request: CancelRequest


@dataclass(frozen=True)
class RequestChanged:
    """A request changed without settling (an approval was recorded, or it started executing): show it as stored."""

    request: CancelRequest


@dataclass(frozen=True)
class ExecutionProgressed:
    """More orders of an executing many-order request have settled (emitted at most once per progress interval)."""

    request_id: str


@dataclass(frozen=True)
class RequestSettled:
    """A request reached an outcome (executed, failed, needs attention, pending at Lazada, rejected, withdrawn or
    expired).

    Also re-emitted by the tick for a settled request whose card or thread reply is behind its status.
    """

    request: CancelRequest


@dataclass(frozen=True)
class OrdersSettled:
    """Orders of a request that had already run settled late (a read-back of a cancellation pending at Lazada, or of
    an unclear order), while the request itself did not: show them on the card and reply once about each
    (`RequestOrder.reply_due`). Also re-emitted by the tick for late replies that did not go out.
    """

    request: CancelRequest


@dataclass(frozen=True)
class ReminderDue:
    """A pending request is halfway to expiry: remind its approvers (the workflow claimed the reminder once)."""

    request: CancelRequest
    approver_ids: tuple[str, ...]
