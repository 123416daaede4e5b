"""Who may approve, asked of Slack: user IDs and user-group IDs, with group membership cached for a short time.

The workflow only knows the `bot.workflow.approvers.Approvers` protocol; this is its Slack implementation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.workflow.errors import ApproverLookupError

__all__ = ["ApproverDirectory", "ApproverLookupError"]

log = structlog.get_logger(__name__)


class ApproverDirectory:
    """Answers "may this user approve?" from user IDs and user groups (`usergroups.users.list` is Tier 2: cached)."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl_seconds: float = 300.0,
        max_age_seconds: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl_seconds
        # When Slack fails, a cached membership is trusted this long: someone removed from the group must not
        # keep approving for as long as Slack stays down.
        self._max_age = max_age_seconds
        self._clock = clock
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def is_approver(self, user_id: str, approver_ids: Iterable[str]) -> bool:
        """Whether `user_id` is one of `approver_ids` or a member of one of its groups."""
        ids = list(approver_ids)
        if user_id in ids:
            return True
        for group_id in (i for i in ids if i.startswith("S")):
            if user_id in await self.group_members(group_id):
                return True
        return False

    async def group_members(self, group_id: str) -> frozenset[str]:
        """The members of a user group, from the cache when fresh; when Slack fails, a copy up to the maximum age."""
        cached = self._groups.get(group_id)
        if cached is not None and self._clock() - cached[0] < self._ttl:
            return cached[1]
        lock = self._locks.setdefault(group_id, asyncio.Lock())
        async with lock:
            cached = self._groups.get(group_id)
            if cached is not None and self._clock() - cached[0] < self._ttl:
                return cached[1]
            try:
                response = await self._client.usergroups_users_list(usergroup=group_id, include_disabled=False)
            except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
                error = str(exc.response.get("error")) if isinstance(exc, SlackApiError) else type(exc).__name__
                log.warning("usergroup_lookup_failed", usergroup=group_id, error=error)
                if cached is not None and self._clock() - cached[0] < self._max_age:
                    return cached[1]
                if cached is not None:
                    minutes = max(1, round(self._max_age / 60))
                    raise ApproverLookupError(
                        f"I couldn't check who may approve (Slack said {error}), and the list I kept is more than "
                        f"{minutes} minutes old. Nothing was changed; please try again in a minute."
                    ) from None
                raise ApproverLookupError(
                    f"I couldn't check who may approve (Slack said {error}). Nothing was changed; "
                    "please try again in a minute."
                ) from None
            members = frozenset(str(u) for u in response.get("users") or [])
            self._groups[group_id] = (self._clock(), members)
            return members

    def forget(self) -> None:
        """Drop every cached membership (tests, or after a configuration change)."""
        self._groups.clear()
