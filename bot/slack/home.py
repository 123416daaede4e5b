"""The App Home tab: what each person sees, gathered from the store and published to Slack."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import structlog

from bot.settings import StoreConfig
from bot.slack.gateway import SlackGateway
from bot.slack.render.home import render_home
from bot.store.models import FINAL_REQUEST_STATUSES, CancelRequest, RequestStatus
from bot.store.requests import RequestStore
from bot.workflow.errors import ApproverLookupError
from bot.workflow.models import RateProjection
from bot.workflow.service import CancellationService

__all__ = ["HomeService", "RateNow"]

log = structlog.get_logger(__name__)

RateNow = Callable[[StoreConfig], Awaitable[RateProjection | None]]


class HomeService:
    """Builds and publishes a person's Home tab."""

    def __init__(
        self,
        *,
        requests: RequestStore,
        workflow: CancellationService,
        slack: SlackGateway,
        rate_now: RateNow | None = None,
    ) -> None:
        self.requests = requests
        self.workflow = workflow
        self.slack = slack
        self.rate_now = rate_now

    async def _is_approver(self, user_id: str) -> bool:
        for store in self.workflow.stores.values():
            try:
                if await self.workflow.approvers.is_approver(user_id, self.workflow.approver_ids(store)):
                    return True
            except ApproverLookupError:
                log.warning("home_approver_lookup_failed", user=user_id)
        return False

    async def publish(self, user_id: str) -> None:
        """Publish the Home tab of `user_id`."""
        is_approver = await self._is_approver(user_id)
        pending = await self.requests.list_requests(status=RequestStatus.PENDING, limit=20) if is_approver else []
        mine = await self.requests.list_requests(requester_id=user_id, limit=10)
        recent = await self.requests.list_requests(
            status=[*FINAL_REQUEST_STATUSES, RequestStatus.NEEDS_ATTENTION], limit=20
        )
        rates: list[tuple[str, RateProjection | None]] = []
        for store in self.workflow.stores.values():
            rates.append((store.label, await self.rate_now(store) if self.rate_now else None))
        view = render_home(
            pending_for_approver=[self.workflow.card(r) for r in pending if r.requester_id != user_id],
            my_requests=[self.workflow.card(r) for r in mine],
            recent=[self.workflow.card(r) for r in recent],
            store_rates=rates,
            is_approver=is_approver,
            now=self.workflow.clock(),
        )
        await self.slack.publish_home(user_id, view)

    async def publish_many(self, user_ids: Sequence[str]) -> None:
        """Refresh several people's Home tabs (after a transition that concerns them)."""
        for user_id in dict.fromkeys(user_ids):
            await self.publish(user_id)

    async def request_changed(self, request: CancelRequest) -> None:
        """Refresh the Home tabs a request appears on: its requester's, its deciders' and the approvers'."""
        people = [request.requester_id, *request.approver_ids]
        if request.decided_by:
            people.append(request.decided_by)
        store = self.workflow.stores.get(request.store_code)
        ids = self.workflow.approver_ids(store) if store else self.workflow.default_approvers
        for approver in ids:
            if approver.startswith("S"):
                try:
                    people.extend(sorted(await self.workflow.approvers.group_members(approver)))
                except ApproverLookupError:
                    log.warning("home_refresh_group_unknown", usergroup=approver)
            else:
                people.append(approver)
        await self.publish_many([p for p in people if p[:1] in "UW"])
