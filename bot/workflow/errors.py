"""Domain errors of the workflow: each is an answer for the person who acted, and changes nothing."""

from __future__ import annotations

from bot.domain import DomainError, RequestNotFoundError

__all__ = [
    "AlreadyApprovedError",
    "AlreadyDecidedError",
    "ApproverLookupError",
    "DomainError",
    "NoApproversError",
    "NotAnApproverError",
    "NotPostedError",
    "NotRequesterError",
    "RequestNotFoundError",
    "RequestNotPossibleError",
    "SelfApprovalError",
    "ShuttingDownError",
    "UnknownStoreError",
    "WorkflowError",
]


class WorkflowError(DomainError):
    """Base of the workflow's refusals: the request cannot go on as asked; `str(exc)` is a sentence for the person.

    `RequestNotFoundError` (from `bot.domain`, raised by the store too) is a `DomainError` beside these.
    """


class ApproverLookupError(WorkflowError):
    """Who may approve could not be known (Slack could not tell who is in an approver group, nothing was cached)."""


class UnknownStoreError(WorkflowError):
    """The command named a store that is not configured."""

    def __init__(self, code: str, known: list[str]) -> None:
        super().__init__(f"There is no store {code!r}. Configured stores: {', '.join(known)}.")
        self.code = code


class AlreadyDecidedError(WorkflowError):
    """The request is no longer pending."""

    def __init__(self, request_id: str, status: str, by: str | None) -> None:
        super().__init__(f"Request {request_id} was already decided: it is {status.replace('_', ' ')}.")
        self.request_id = request_id
        self.status = status
        self.by = by


class SelfApprovalError(WorkflowError):
    """The requester tried to approve their own request."""

    def __init__(self) -> None:
        super().__init__("You can't approve your own request: a second person has to approve it.")


class ShuttingDownError(WorkflowError):
    """This replica is stopping (a deploy): it takes no new work; another replica, or this one restarted, will."""

    def __init__(self) -> None:
        super().__init__("The bot is restarting, so nothing was changed. Please click again in a minute.")


class NotAnApproverError(WorkflowError):
    """The person is not in the approver set."""

    def __init__(self) -> None:
        super().__init__("Only approvers can approve or reject cancellation requests. Nothing was changed.")


class NoApproversError(WorkflowError):
    """No approver is configured, so nobody could ever approve."""

    def __init__(self) -> None:
        super().__init__("No approvers are configured (APPROVERS), so nobody can approve. Ask the bot's operator.")


class AlreadyApprovedError(WorkflowError):
    """The approver already gave their approval; a second, different approver is needed."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"You already approved request {request_id}; it needs another approver.")


class NotRequesterError(WorkflowError):
    """Only the requester may withdraw."""

    def __init__(self) -> None:
        super().__init__("Only the person who asked for this cancellation can withdraw it.")


class RequestNotPossibleError(WorkflowError):
    """Lazada's answer rules the request out (items changed, reason gone, refused); the text says why."""


class NotPostedError(WorkflowError):
    """The request was stored but could not be posted for approval, so it was withdrawn."""

    def __init__(self, request_id: str, channel: str, error: str | None) -> None:
        hint = {
            "not_in_channel": "invite me to the channel (/invite @cancel-order)",
            "channel_not_found": "run the command in a channel I'm in, or set APPROVAL_CHANNEL",
            "is_archived": "the channel is archived; set another APPROVAL_CHANNEL",
        }.get(error or "", "try again, or ask the bot's operator")
        super().__init__(
            f"I couldn't post request {request_id} for approval in channel {channel} ({error}); nothing will be "
            f"cancelled. To fix it, {hint}."
        )
        self.request_id = request_id
        self.channel = channel
        self.error = error
