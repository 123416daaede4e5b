"""What the buyer-request service emits on the event bus; the presenter (`bot.slack.buyer`) subscribes.

Each event carries the request as stored after the change. A subscriber that cannot post a new card raises, and
the tick announces it again later (the request stays without `message_ts`); every other failure propagates to the
emitter, and the tick re-emits what Slack does not show yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.buyer.models import BuyerRequest

__all__ = [
    "BuyerReminderDue",
    "BuyerRequestChanged",
    "BuyerRequestOpened",
    "BuyerRequestReopened",
    "BuyerRequestSettled",
]


@dataclass(frozen=True)
class BuyerRequestOpened:
    """A new open request was stored: post its card once (the subscriber records where; raises if Slack refused)."""

    request: BuyerRequest


@dataclass(frozen=True)
class BuyerRequestChanged:
    """The request changed without settling (a decision is on its way): show it on its card as stored."""

    request: BuyerRequest


@dataclass(frozen=True)
class BuyerRequestReopened:
    """A decision whose outcome was unknown did not take (Lazada shows the request still undecided): it is open again.

    Show the card with its buttons and say so in its thread (the one conditional update that reopened it emits this).
    """

    request: BuyerRequest


@dataclass(frozen=True)
class BuyerRequestSettled:
    """The request reached an outcome: stamp its card and reply in its thread, each once across replicas."""

    request: BuyerRequest


@dataclass(frozen=True)
class BuyerReminderDue:
    """An open request's deadline is near (half the time left, or 1 h): remind in the thread (claimed once)."""

    request: BuyerRequest
    decider_ids: tuple[str, ...]
