"""The App Home tab: what each person sees, gathered from the store and published to Slack.

A change to a request refreshes the tabs of the people it concerns in the background, a few at a time, so a
cancellation never waits for hundreds of `views.publish` calls (slack_sdk's retry handler waits out a 429).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

import structlog

from bot.buyer.events import BuyerRequestChanged, BuyerRequestOpened, BuyerRequestSettled
from bot.buyer.models import BuyerRequest
from bot.buyer.service import BuyerRequestService
from bot.digest.models import IndicatorReading
from bot.events import EventBus
from bot.settings import StoreConfig
from bot.slack.gateway import SlackGateway
from bot.slack.render.home import OpenBuyerRequest, render_home
from bot.store.models import FINAL_REQUEST_STATUSES, CancelRequest, RequestStatus
from bot.store.requests import RequestStore
from bot.workflow.errors import ApproverLookupError
from bot.workflow.models import RateProjection
from bot.workflow.service import CancellationService

__all__ = ["HOME_CONCURRENCY", "HOME_DELAY", "HomeService", "IndicatorsNow", "RateNow"]

log = structlog.get_logger(__name__)

RateNow = Callable[[StoreConfig], Awaitable[RateProjection | None]]
IndicatorsNow = Callable[[StoreConfig], Awaitable[IndicatorReading | None]]

HOME_CONCURRENCY = 4
"""Home tabs published at once: views.publish is Tier 4 (100+ a minute), so a few in flight keep well within it."""
HOME_DELAY = 0.5
"""Seconds a refresh waits first: the cancel goes out meanwhile, and a change that follows soon (approved, then
executed) finds its people still queued, so each tab is published once for both."""

_PENDING_SHOWN = 20
_RECENT_SHOWN = 20


class HomeService:
    """Builds and publishes a person's Home tab; refreshes after a change run in the background."""

    def __init__(
        self,
        *,
        requests: RequestStore,
        workflow: CancellationService,
        slack: SlackGateway,
        rate_now: RateNow | None = None,
        concurrency: int = HOME_CONCURRENCY,
        delay: float = HOME_DELAY,
        indicators_now: IndicatorsNow | None = None,
        buyer: BuyerRequestService | None = None,
    ) -> None:
        self.requests = requests
        self.workflow = workflow
        self.slack = slack
        self.rate_now = rate_now
        self._gate = asyncio.Semaphore(concurrency)
        self._delay = delay
        # People whose tab is queued but not yet being built: a second change before then needs no second publish.
        self._queued: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.indicators_now = indicators_now
        self.buyer = buyer

    async def _approved_stores(self, user_id: str) -> list[StoreConfig]:
        """The stores `user_id` approves for (a store whose approvers cannot be looked up is left out)."""
        stores: list[StoreConfig] = []
        for store in self.workflow.stores.values():
            try:
                if await self.workflow.approvers.is_approver(user_id, self.workflow.approver_ids(store)):
                    stores.append(store)
            except ApproverLookupError:
                log.warning("home_approver_lookup_failed", user=user_id, store=store.code)
        return stores

    async def _latest(
        self, stores: Sequence[StoreConfig], status: list[RequestStatus], limit: int
    ) -> list[CancelRequest]:
        found: list[CancelRequest] = []
        for store in stores:
            found += await self.requests.list_requests(status=status, store_code=store.code, limit=limit)
        found.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return found[:limit]

    async def _open_buyer_requests(self, user_id: str) -> list[OpenBuyerRequest]:
        """The open buyer requests of the stores where `user_id` may answer them, soonest deadline first."""
        if self.buyer is None:
            return []
        found: list[OpenBuyerRequest] = []
        for store in self.workflow.stores.values():
            if not await self.buyer.may_decide(store.code, user_id):
                continue
            for request in await self.buyer.open_requests(store.code):
                found.append(OpenBuyerRequest(request=request, store_label=store.label, tz=store.tz))
        far = self.workflow.clock() + timedelta(days=3650)
        found.sort(key=lambda o: (o.request.deadline or far, o.request.key))
        return found

    async def publish(self, user_id: str) -> None:
        """Publish the Home tab of `user_id`: an approver sees only the stores they approve for."""
        stores = await self._approved_stores(user_id)
        pending = await self._latest(stores, [RequestStatus.PENDING], _PENDING_SHOWN)
        mine = await self.requests.list_requests(requester_id=user_id, limit=10)
        recent = await self._latest(
            stores,
            [*FINAL_REQUEST_STATUSES, RequestStatus.NEEDS_ATTENTION, RequestStatus.CANCEL_PENDING],
            _RECENT_SHOWN,
        )
        rates: list[tuple[str, RateProjection | None]] = []
        for store in stores:
            rates.append((store.label, await self.rate_now(store) if self.rate_now else None))
        indicators = [
            (store.label, await self.indicators_now(store)) for store in stores if self.indicators_now is not None
        ]
        view = render_home(
            pending_for_approver=[self.workflow.card(r) for r in pending if r.requester_id != user_id],
            my_requests=[self.workflow.card(r) for r in mine],
            recent=[self.workflow.card(r) for r in recent],
            store_rates=rates,
            is_approver=bool(stores),
            store_indicators=indicators,
            now=self.workflow.clock(),
            buyer_requests=await self._open_buyer_requests(user_id),
        )
        await self.slack.publish_home(user_id, view)

    async def _publish_queued(self, user_id: str) -> None:
        async with self._gate:
            self._queued.discard(user_id)
            try:
                await self.publish(user_id)
            except Exception:
                # One person's stale tab must not stop the others' (nor the workflow, which is long gone).
                log.exception("home_publish_failed", user=user_id)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def publish_later(self, user_ids: Sequence[str]) -> None:
        """Queue a refresh of these people's Home tabs; at most `concurrency` are published at once."""
        for user_id in dict.fromkeys(user_ids):
            if user_id in self._queued:
                continue
            self._queued.add(user_id)
            self._spawn(self._publish_queued(user_id))

    async def concerned(self, request: CancelRequest) -> list[str]:
        """The people a change to `request` concerns: its requester, its deciders and the approvers of its store."""
        people = [request.requester_id, *request.approver_ids]
        if request.decided_by:
            people.append(request.decided_by)
        store = self.workflow.stores.get(request.store_code)
        for approver in self.workflow.approver_ids(store) if store else self.workflow.default_approvers:
            if approver.startswith("S"):
                try:
                    people.extend(sorted(await self.workflow.approvers.group_members(approver)))
                except ApproverLookupError:
                    log.warning("home_refresh_group_unknown", usergroup=approver)
            else:
                people.append(approver)
        return [p for p in dict.fromkeys(people) if p[:1] in "UW"]

    def request_changed(self, request: CancelRequest) -> None:
        """Refresh, in the background, the Home tabs of the people `request`'s change concerns."""

        async def refresh() -> None:
            await asyncio.sleep(self._delay)
            try:
                self.publish_later(await self.concerned(request))
            except Exception:
                log.exception("home_refresh_failed", request_id=request.id)

        self._spawn(refresh())

    def subscribe_buyer(self, bus: EventBus) -> None:
        """Refresh the Home tabs of a buyer request's deciders when it is posted, being decided, or settled."""
        bus.subscribe(BuyerRequestOpened, self._on_buyer_event)
        bus.subscribe(BuyerRequestChanged, self._on_buyer_event)
        bus.subscribe(BuyerRequestSettled, self._on_buyer_event)

    async def _on_buyer_event(self, event: BuyerRequestOpened | BuyerRequestChanged | BuyerRequestSettled) -> None:
        self.buyer_request_changed(event.request)

    async def buyer_deciders(self, request: BuyerRequest) -> list[str]:
        """The people whose Home tab lists `request`: the store's approvers (user groups expanded).

        When anyone in the approval channel may decide, nobody's tab is refreshed: a channel may hold thousands,
        and each person's tab is rebuilt when they open it.
        """
        if self.buyer is None:
            return []
        people: list[str] = []
        for decider in self.buyer.deciders(request.store_code):
            if decider.startswith("S"):
                try:
                    people.extend(sorted(await self.workflow.approvers.group_members(decider)))
                except ApproverLookupError:
                    log.warning("home_refresh_group_unknown", usergroup=decider)
            else:
                people.append(decider)
        return [p for p in dict.fromkeys(people) if p[:1] in "UW"]

    def buyer_request_changed(self, request: BuyerRequest) -> None:
        """Refresh, in the background, the Home tabs that list (or listed) a buyer's request."""

        async def refresh() -> None:
            await asyncio.sleep(self._delay)
            try:
                self.publish_later(await self.buyer_deciders(request))
            except Exception:
                log.exception("home_refresh_failed", buyer_request=request.key)

        self._spawn(refresh())

    async def idle(self, within: float | None = None) -> bool:
        """Wait until every queued refresh is published (at most `within` s); False when some are still running."""
        loop = asyncio.get_running_loop()
        deadline = None if within is None else loop.time() + within
        while self._tasks:
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=left)
        return True
