"""Refusals of a buyer-request decision: each is a sentence for the person who acted, and changes nothing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.buyer.timing import store_time
from bot.domain import DomainError

__all__ = [
    "BuyerRequestClosedError",
    "BuyerRequestError",
    "BuyerRequestNotFoundError",
    "DeadlinePassedError",
    "DecisionRefusedError",
    "MembershipUnknownError",
    "NotAllowedToDecideError",
    "ReasonNotOfferedError",
    "ReasonRequiredError",
]


class BuyerRequestError(DomainError):
    """Base of the buyer-request refusals; `str(exc)` is the sentence for the person."""


class BuyerRequestNotFoundError(BuyerRequestError, LookupError):
    """No stored buyer request has this key (the button came from elsewhere, or the key is malformed)."""

    def __init__(self, key: str, *, readable: bool = True) -> None:
        if readable:
            sentence = f"I can't find this buyer's cancellation request ({key}): it may belong to another store."
        else:
            sentence = (
                "This button does not name a buyer's cancellation request the bot knows (it may be out of date or "
                "altered). Nothing was sent to Lazada."
            )
        super().__init__(sentence)
        self.key = key


class NotAllowedToDecideError(BuyerRequestError):
    """The person may not answer the store's buyer requests; `who` says who may."""

    def __init__(self, who: str, *, order_id: str | None = None) -> None:
        about = f" for order {order_id}" if order_id else ""
        super().__init__(
            f"Only {who} can accept or refuse a buyer's cancellation request{about}. Nothing was sent to Lazada."
        )
        self.who = who


class MembershipUnknownError(BuyerRequestError):
    """Anyone in the approval channel may decide, but Slack could not say whether the person is in it: refused."""

    def __init__(self, order_id: str) -> None:
        super().__init__(
            f"Slack could not tell whether you are in the store's approval channel, so the buyer's request on order "
            f"{order_id} was not answered. Nothing was sent to Lazada; please try again in a minute."
        )
        self.order_id = order_id


class DeadlinePassedError(BuyerRequestError):
    """Lazada's deadline for the seller's answer has passed: Lazada decides now, so the bot sends nothing."""

    def __init__(self, order_id: str, deadline: datetime, tz: ZoneInfo | None = None) -> None:
        super().__init__(
            f"The deadline to answer the buyer's request on order {order_id} passed at "
            f"{store_time(deadline, tz)}; Lazada decides it now. Nothing was sent."
        )
        self.order_id = order_id
        self.deadline = deadline


class BuyerRequestClosedError(BuyerRequestError):
    """The request was already answered or closed; the sentence says by whom and how."""

    def __init__(self, order_id: str, how: str) -> None:
        super().__init__(f"The buyer's request on order {order_id} was already {how}. Nothing was sent.")
        self.order_id = order_id
        self.how = how


class ReasonRequiredError(BuyerRequestError):
    """A refusal needs one of Lazada's refusal reasons."""

    def __init__(self) -> None:
        super().__init__("Pick one of Lazada's reasons to refuse the buyer's request. Nothing was sent.")


class ReasonNotOfferedError(BuyerRequestError):
    """The refusal reason chosen is not (or no longer) among those Lazada offers for this request."""

    def __init__(self, reason_code: str) -> None:
        super().__init__(
            f"Lazada does not offer reason {reason_code} for refusing this request; pick another. Nothing was sent."
        )
        self.reason_code = reason_code


class DecisionRefusedError(BuyerRequestError):
    """Lazada did not take the decision, and reading the request back shows it still open: nothing was decided yet.

    After a definite refusal (such as 116 or 131) or an unknown outcome (106, no answer) whose read-back shows the
    request still open and undecided. `lazada_says` is Lazada's own words, when it sent any.
    """

    def __init__(self, order_id: str, lazada_says: str | None) -> None:
        said = f" (Lazada's answer: “{lazada_says.strip()}”)" if lazada_says and lazada_says.strip() else ""
        super().__init__(
            f"Lazada did not take the decision on the buyer's request on order {order_id}{said}, and it still shows "
            "the request open and undecided: you can answer it again."
        )
        self.order_id = order_id
