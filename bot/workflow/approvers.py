"""Who may approve, as the workflow asks it: a protocol the presenter implements with Slack's user groups."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

__all__ = ["Approvers"]


class Approvers(Protocol):
    """Answers "may this user approve?" for a set of user and user-group ids (`bot.slack.approvers` asks Slack)."""

    async def is_approver(self, user_id: str, approver_ids: Iterable[str]) -> bool:
        """Whether `user_id` is one of `approver_ids` or in one of its groups; ApproverLookupError if unknown."""

    async def group_members(self, group_id: str) -> frozenset[str]:
        """The members of a user group; ApproverLookupError when they cannot be known."""
