"""Approver membership: user IDs directly, user groups through Slack with a short cache."""

from __future__ import annotations

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.approvers import ApproverDirectory
from bot.workflow.errors import ApproverLookupError
from cancel_order_bot.demo.fake_slack import FakeSlack


class Ticker:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_user_ids_and_groups_with_a_cache() -> None:
    async with FakeSlack() as slack:
        ticker = Ticker()
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        directory = ApproverDirectory(client, ttl_seconds=300, clock=ticker)
        assert await directory.is_approver("U0DAVE", ["U0DAVE"])
        assert slack.calls_to("usergroups.users.list") == []

        assert await directory.is_approver("U0BOB", ["S0APPROVERS"])
        assert await directory.is_approver("U0CAROL", ["S0APPROVERS"])
        assert not await directory.is_approver("U0ALICE", ["S0APPROVERS"])
        assert len(slack.calls_to("usergroups.users.list")) == 1

        ticker.now += 301
        assert await directory.is_approver("U0BOB", ["S0APPROVERS"])
        assert len(slack.calls_to("usergroups.users.list")) == 2


async def test_stale_membership_is_used_when_slack_fails_and_missing_membership_is_an_error() -> None:
    async with FakeSlack() as slack:
        ticker = Ticker()
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        directory = ApproverDirectory(client, ttl_seconds=60, clock=ticker)
        slack.fail("usergroups.users.list", "ratelimited")
        with pytest.raises(ApproverLookupError):
            await directory.is_approver("U0BOB", ["S0APPROVERS"])

        assert await directory.is_approver("U0BOB", ["S0APPROVERS"])
        ticker.now += 61
        slack.fail("usergroups.users.list", "fatal_error")
        assert await directory.is_approver("U0BOB", ["S0APPROVERS"])


async def test_a_cached_membership_is_trusted_only_up_to_its_maximum_age_when_slack_fails() -> None:
    async with FakeSlack() as slack:
        ticker = Ticker()
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        directory = ApproverDirectory(client, ttl_seconds=60, clock=ticker)
        assert await directory.is_approver("U0BOB", ["S0APPROVERS"])

        ticker.now += 14 * 60
        slack.fail("usergroups.users.list", "fatal_error")
        assert await directory.is_approver("U0BOB", ["S0APPROVERS"]), "14 minutes old: still trusted"

        ticker.now += 2 * 60
        slack.fail("usergroups.users.list", "fatal_error")
        with pytest.raises(ApproverLookupError, match="more than 15 minutes old"):
            await directory.is_approver("U0BOB", ["S0APPROVERS"])
