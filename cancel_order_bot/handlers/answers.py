"""What the person who acted is told when the workflow says no: each domain error to its standard answer."""

from __future__ import annotations

from bot.slack.render.replies import (
    already_approved,
    already_decided,
    error_for_person,
    not_an_approver,
    only_requester_can_withdraw,
    request_not_found,
    self_approval,
)
from bot.slack.render.text import Message
from bot.workflow.errors import (
    AlreadyApprovedError,
    AlreadyDecidedError,
    NotAnApproverError,
    NotRequesterError,
    RequestNotFoundError,
    SelfApprovalError,
    WorkflowError,
)
from bot.workflow.models import RequestStatus

__all__ = ["answer_for"]


def answer_for(error: WorkflowError) -> Message:
    """The ephemeral answer for a domain error (Slack markup is added here, never taken from error text)."""
    match error:
        case AlreadyDecidedError():
            return already_decided(RequestStatus(error.status), error.by)
        case AlreadyApprovedError():
            return already_approved()
        case SelfApprovalError():
            return self_approval()
        case NotAnApproverError():
            return not_an_approver()
        case NotRequesterError():
            return only_requester_can_withdraw()
        case RequestNotFoundError():
            return request_not_found()
    return error_for_person(str(error))
