"""The cancellation workflow: submit a request, approve, reject or withdraw it, execute it, and say what happened.

It decides and records; it never renders or sends. Each outcome is returned to the caller and emitted on the
event bus (`bot.workflow.events`), where the presenter (`bot.slack.requests`) shows it in Slack.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from bot.domain import PackageChoice, RequestNotFoundError, RequestStatus
from bot.events import EventBus
from bot.lazada.client import LazadaClient
from bot.settings import StoreConfig
from bot.store.models import ApproveResult, CancelRequest, NewOrder, NewRequest
from bot.store.requests import RequestStore
from bot.workflow.approvers import Approvers
from bot.workflow.cards import card_for
from bot.workflow.drafting import Drafter, ItemsSeen, why_not_cancellable
from bot.workflow.errors import (
    AlreadyApprovedError,
    AlreadyDecidedError,
    NoApproversError,
    NotAnApproverError,
    NotPostedError,
    NotRequesterError,
    RequestNotPossibleError,
    SelfApprovalError,
    ShuttingDownError,
    UnknownStoreError,
)
from bot.workflow.events import (
    ExecutionProgressed,
    OrdersSettled,
    ReminderDue,
    RequestChanged,
    RequestSettled,
    RequestSubmitted,
)
from bot.workflow.execution import Executor, Reread
from bot.workflow.models import (
    BulkDraft,
    BuyerRequestOnOrder,
    LeftOut,
    OrderDraft,
    RateProjection,
    Reason,
    RequestCard,
)
from bot.workflow.progress import ProgressReporter
from bot.workflow.rules import approval_requirement

__all__ = ["ApprovalRecorded", "BulkForm", "CancellationService", "RequestForm"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RequestForm:
    """What a requester submitted in the modal."""

    store_code: str
    order_id: str
    item_ids: tuple[str, ...]
    reason_id: str
    justification: str
    package_choice: PackageChoice
    requester_id: str
    channel_id: str


@dataclass(frozen=True)
class BulkForm:
    """What a requester submitted in the bulk modal: the orders as shown (id and selection digest) and the rest."""

    store_code: str
    orders: tuple[tuple[str, str], ...]
    reason_id: str
    justification: str
    package_choice: PackageChoice
    requester_id: str
    channel_id: str

    @property
    def order_ids(self) -> tuple[str, ...]:
        """The ids of the orders, in the order shown."""
        return tuple(order_id for order_id, _ in self.orders)


@dataclass(frozen=True)
class ApprovalRecorded:
    """An approval counted but more are needed."""

    request_id: str
    approvals: int
    required: int


RateLookup = Callable[[StoreConfig, int], Awaitable[RateProjection | None]]
SyncLookup = Callable[[StoreConfig], Awaitable[datetime | None]]

# How many orders a bulk problem message names before it counts the rest.
_PROBLEMS_SHOWN = 10


def _new_order(draft: OrderDraft, item_ids: Sequence[str]) -> NewOrder:
    """One order of a new request: every item as Lazada showed it, and those to cancel."""
    return NewOrder(
        order_id=draft.order_id,
        items=draft.items,
        item_ids=tuple(item_ids),
        validate_tip_content=draft.tip_content,
        validate_tip_type=draft.tip_type,
    )


def _why_not_submittable(result: OrderDraft | LeftOut, digest: str, reason_id: str) -> str | None:
    """Why an order of a bulk form can no longer be submitted as shown; None when it still can."""
    if isinstance(result, LeftOut):
        return result.why
    why = why_not_cancellable(result)
    if why is not None:
        return why
    if result.selection_digest != digest:
        return "Its cancellable items changed since the form was filled in."
    if reason_id not in {r.reason_id for r in result.reasons}:
        return "Lazada no longer offers the chosen reason for it."
    return None


def _bulk_problems(problems: Sequence[tuple[str, str]], fine: Sequence[str]) -> str:
    """The sentence that says which orders of a bulk form changed, and how to ask again for the others."""
    lines = [f"• {order_id}: {why}" for order_id, why in problems[:_PROBLEMS_SHOWN]]
    if len(problems) > _PROBLEMS_SHOWN:
        lines.append(f"• and {len(problems) - _PROBLEMS_SHOWN} more orders")
    text = "Nothing was submitted: these orders changed since the form was filled in.\n" + "\n".join(lines)
    if fine:
        text += f"\nTo ask for the others, run /cancel-order {' '.join(fine)}"
    return text


class CancellationService:
    """Every decision about a request goes through here; the database decides, the bus tells the presenter after."""

    def __init__(
        self,
        *,
        requests: RequestStore,
        stores: Sequence[StoreConfig],
        clients: Mapping[str, LazadaClient],
        bus: EventBus,
        approvers: Approvers,
        default_approvers: Sequence[str],
        executor: Executor,
        clock: Callable[[], datetime],
        request_ttl: timedelta = timedelta(hours=12),
        lease: timedelta = timedelta(minutes=5),
        replica_id: str = "local",
        rates: RateLookup | None = None,
        synced_at: SyncLookup | None = None,
        draft_concurrency: int = 8,
        items_seen: ItemsSeen | None = None,
        progress_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.requests = requests
        self.stores = {s.code: s for s in stores}
        self.clients = clients
        self.bus = bus
        self.approvers = approvers
        self.default_approvers = tuple(default_approvers)
        self.executor = executor
        self.clock = clock
        self.request_ttl = request_ttl
        self.lease = lease
        self.replica_id = replica_id
        self.rates = rates
        # When the store's rate was last read from Lazada: what the bot cancelled since is not in it yet.
        self.synced_at = synced_at
        self.draft_concurrency = draft_concurrency
        # Progress of a many-order execution is emitted at most once per interval (monotonic seconds).
        self.progress_interval = progress_interval
        self.monotonic = monotonic
        self.sleep = sleep
        self.drafter = Drafter(seen=items_seen)
        # Work in flight (approvals that execute, ticks), so a stopping replica can let it finish first.
        self.draining = False
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()

    # -- shutdown --------------------------------------------------------------------------------------------

    @asynccontextmanager
    async def _work(self) -> AsyncIterator[None]:
        if self.draining:
            raise ShuttingDownError()
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._idle.set()

    def stop_taking_work(self) -> None:
        """Refuse new approvals and ticks from now on (SIGTERM); work already started runs on."""
        self.draining = True

    async def idle(self, within: float) -> bool:
        """Wait up to `within` seconds for the work in flight to finish; False when some is still running."""
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True

    # -- lookups ---------------------------------------------------------------------------------------------

    def store(self, code: str | None) -> StoreConfig:
        """The store with this code (or the first one); UnknownStoreError otherwise."""
        if code is None:
            return next(iter(self.stores.values()))
        try:
            return self.stores[code]
        except KeyError:
            raise UnknownStoreError(code, sorted(self.stores)) from None

    def client(self, store_code: str) -> LazadaClient:
        """The Lazada client of a store."""
        return self.clients[store_code]

    def approver_ids(self, store: StoreConfig | None) -> tuple[str, ...]:
        """The approver set of a store: its own when configured, else the global one."""
        return tuple(store.approvers) if store and store.approvers else self.default_approvers

    async def get(self, request_id: str) -> CancelRequest:
        """The stored request, or RequestNotFoundError."""
        request = await self.requests.get_request(request_id)
        if request is None:
            raise RequestNotFoundError(request_id)
        return request

    def card(
        self,
        request: CancelRequest,
        *,
        rate: RateProjection | None = None,
        buyer_requests: tuple[BuyerRequestOnOrder, ...] = (),
    ) -> RequestCard:
        """The approval card for a request (warning of the open buyer requests on its orders, when given)."""
        store = self.stores.get(request.store_code)
        label = store.label if store else request.store_code
        return card_for(request, store_label=label, rate=rate, buyer_requests=buyer_requests)

    async def rate_for(self, request: CancelRequest) -> RateProjection | None:
        """The store's rate now and with this request's items, while the request is still to be decided."""
        store = self.stores.get(request.store_code)
        if (
            self.rates is None
            or store is None
            or request.status not in {RequestStatus.PENDING, RequestStatus.EXECUTING}
        ):
            return None
        return await self._projection(store, sum(len(o.item_ids) for o in request.orders), excluding=request.id)

    async def _projection(
        self, store: StoreConfig, items: int, *, excluding: str | None = None
    ) -> RateProjection | None:
        """The store's rate after `items` more, counting every other open request and what was cancelled unread."""
        if self.rates is None:
            return None
        synced = await self.synced_at(store) if self.synced_at is not None else None
        in_flight = await self.requests.items_in_flight(store.code, executed_since=synced, excluding=excluding)
        return await self.rates(store, items + in_flight)

    # -- drafting --------------------------------------------------------------------------------------------

    async def draft(
        self, store_code: str | None, order_id: str, selected_ids: Sequence[str] | None = None
    ) -> OrderDraft:
        """Ask Lazada about an order for the request modal (read-only)."""
        store = self.store(store_code)
        draft = await self.drafter.draft(self.client(store.code), store, order_id, selected_ids)
        if self.rates is not None and draft.selected_ids:
            draft = draft.model_copy(update={"rate": await self._projection(store, len(draft.selected_ids))})
        return draft

    async def draft_bulk(self, store_code: str | None, order_ids: Sequence[str]) -> BulkDraft:
        """Ask Lazada about several orders at once for the bulk modal (read-only), grouped by common reasons."""
        store = self.store(store_code)
        draft = await self.drafter.draft_bulk(
            self.client(store.code), store, order_ids, concurrency=self.draft_concurrency
        )
        if self.rates is not None and draft.orders:
            draft = draft.model_copy(update={"rate": await self._projection(store, draft.item_count)})
        return draft

    # -- submit ----------------------------------------------------------------------------------------------

    async def submit(self, form: RequestForm | BulkForm) -> CancelRequest:
        """Validate the form with Lazada again, store the request, then have it posted for approval.

        The request is in the database before anything is posted. If it cannot be posted it is withdrawn and
        NotPostedError says why; if Lazada's answer changed, RequestNotPossibleError says what changed (for a
        bulk form: which orders and why, so the person can ask again for the others; nothing is submitted).
        """
        store = self.store(form.store_code)
        if isinstance(form, RequestForm):
            orders, reason = await self._recheck_order(store, form)
        else:
            orders, reason = await self._recheck_orders(store, form)
        return await self._store_and_announce(await self._new_request(store, form, orders, reason))

    async def _recheck_order(
        self, store: StoreConfig, form: RequestForm
    ) -> tuple[list[tuple[OrderDraft, Sequence[str]]], Reason]:
        """The order of a one-order form as Lazada shows it now; RequestNotPossibleError when it changed."""
        draft = await self.drafter.draft(self.client(store.code), store, form.order_id, form.item_ids)
        gone = [i for i in form.item_ids if i not in draft.selected_ids]
        if gone:
            names = ", ".join(f"{i.name} ({i.status})" for i in draft.items if i.order_item_id in gone) or ", ".join(
                gone
            )
            raise RequestNotPossibleError(f"These items can no longer be cancelled: {names}. Nothing was submitted.")
        if draft.refusal:
            raise RequestNotPossibleError(f"Lazada refuses this cancellation: {draft.refusal}")
        reason = next((r for r in draft.reasons if r.reason_id == form.reason_id), None)
        if reason is None:
            raise RequestNotPossibleError("Lazada no longer offers the chosen reason for these items; pick another.")
        return [(draft, form.item_ids)], reason

    async def _recheck_orders(
        self, store: StoreConfig, form: BulkForm
    ) -> tuple[list[tuple[OrderDraft, Sequence[str]]], Reason]:
        """Every order of a bulk form as Lazada shows it now; RequestNotPossibleError when any changed."""
        results = await self.drafter.draft_orders(
            self.client(store.code), store, form.order_ids, concurrency=self.draft_concurrency
        )
        shown = dict(form.orders)
        drafts: list[OrderDraft] = []
        problems: list[tuple[str, str]] = []
        for result in results:
            why = _why_not_submittable(result, shown[result.order_id], form.reason_id)
            if why is not None:
                problems.append((result.order_id, why))
            elif isinstance(result, OrderDraft):
                drafts.append(result)
        if problems:
            raise RequestNotPossibleError(_bulk_problems(problems, [d.order_id for d in drafts]))
        reason = next(r for r in drafts[0].reasons if r.reason_id == form.reason_id)
        return [(d, d.selected_ids) for d in drafts], reason

    async def _new_request(
        self,
        store: StoreConfig,
        form: RequestForm | BulkForm,
        orders: Sequence[tuple[OrderDraft, Sequence[str]]],
        reason: Reason,
    ) -> NewRequest:
        """The request to store for re-checked orders (each with the item ids to cancel) and the chosen reason."""
        item_count = sum(len(item_ids) for _, item_ids in orders)
        projection = None
        if self.rates is not None and store.two_approvers_near_limit:
            projection = await self._projection(store, item_count)
        requirement = approval_requirement(store, projection)
        conflicts = any(draft.package_conflicts for draft, _ in orders)
        return NewRequest(
            store_code=store.code,
            requester_id=form.requester_id,
            reason_id=reason.reason_id,
            reason_name=reason.reason_name,
            justification=form.justification,
            zeroes_stock=reason.zeroes_stock,
            repack_first=form.package_choice is PackageChoice.REPACK_FIRST and conflicts,
            required_approvals=requirement.approvals,
            approval_basis=requirement.basis,
            channel_id=store.approval_channel or form.channel_id,
            expires_at=self.clock() + self.request_ttl,
            orders=tuple(_new_order(draft, item_ids) for draft, item_ids in orders),
        )

    async def _store_and_announce(self, new: NewRequest) -> CancelRequest:
        """Store the request, then have it posted; withdraw it (NotPostedError) when it cannot be posted."""
        request = await self.requests.create_request(new, now=self.clock())
        log.info(
            "request_created",
            request_id=request.id,
            store=new.store_code,
            order_id=new.orders[0].order_id,
            orders=len(new.orders),
        )
        try:
            await self.bus.emit(RequestSubmitted(request))
        except NotPostedError as exc:
            await self.requests.transition(
                request.id,
                expected=RequestStatus.PENDING,
                to=RequestStatus.WITHDRAWN,
                actor="system",
                action="not_posted",
                now=self.clock(),
                decision_note=f"could not be posted for approval: {exc.error}",
            )
            await self.requests.mark_announced(request.id, RequestStatus.WITHDRAWN)
            raise
        return await self.get(request.id)

    # -- decisions -------------------------------------------------------------------------------------------

    async def check_approver(self, request: CancelRequest, user_id: str) -> None:
        """Raise unless `user_id` may decide on `request` now."""
        if request.status is not RequestStatus.PENDING:
            raise AlreadyDecidedError(request.id, request.status.value, request.decided_by)
        if user_id == request.requester_id:
            raise SelfApprovalError()
        ids = self.approver_ids(self.stores.get(request.store_code))
        if not ids:
            raise NoApproversError()
        if not await self.approvers.is_approver(user_id, ids):
            raise NotAnApproverError()

    async def check_decider(self, request_id: str, user_id: str) -> CancelRequest:
        """The request, when `user_id` may approve or reject it now; the refusal (a WorkflowError) otherwise."""
        request = await self.get(request_id)
        await self.check_approver(request, user_id)
        return request

    async def approve(self, request_id: str, user_id: str) -> ApprovalRecorded | CancelRequest:
        """Record an approval; the click that completes the approvals executes the request and returns it.

        The two-approver rule is evaluated again first: a request that now needs two says so and waits.
        """
        async with self._work():
            return await self._approve(request_id, user_id)

    async def _approve(self, request_id: str, user_id: str) -> ApprovalRecorded | CancelRequest:
        await self._reevaluate(await self.check_decider(request_id, user_id))
        outcome = await self.requests.approve(request_id, user_id, now=self.clock(), lease=self.lease)
        current = outcome.request
        if outcome.result is ApproveResult.ALREADY_DECIDED:
            raise AlreadyDecidedError(request_id, current.status.value, current.decided_by)
        if outcome.result is ApproveResult.ALREADY_APPROVED_BY_YOU:
            raise AlreadyApprovedError(request_id)
        if outcome.result is ApproveResult.SELF_APPROVAL:
            raise SelfApprovalError()
        if outcome.result is ApproveResult.EXPIRED:
            raise await self._refuse_expired(current)
        await self.bus.emit(RequestChanged(current))
        if outcome.result is ApproveResult.RECORDED:
            return ApprovalRecorded(request_id, current.approval_count, current.required_approvals)
        log.info("request_approved", request_id=request_id, approver=user_id)
        settled = await self.execute(current, actor=user_id)
        await self.bus.emit(RequestSettled(settled))
        return settled

    async def _reevaluate(self, request: CancelRequest) -> None:
        """Raise a pending request to two approvals when the store's open requests now take the rate too far."""
        store = self.stores.get(request.store_code)
        if store is None or request.required_approvals >= 2 or not store.two_approvers_near_limit:
            return
        projection = await self._projection(store, sum(len(o.item_ids) for o in request.orders), excluding=request.id)
        requirement = approval_requirement(store, projection)
        if requirement.approvals <= request.required_approvals:
            return
        if await self.requests.require_approvals(
            request.id, approvals=requirement.approvals, basis=requirement.basis, now=self.clock()
        ):
            log.info("approvals_raised", request_id=request.id, required=requirement.approvals)
            await self.bus.emit(RequestChanged(await self.get(request.id)))

    async def execute(self, request: CancelRequest, *, actor: str) -> CancelRequest:
        """Run an `executing` request with the executor, renewing its lease and reporting progress as orders settle.

        Progress of a many-order request is emitted (`ExecutionProgressed`) at most once per `progress_interval`;
        the caller emits the final state (`RequestSettled`).
        """
        reporter: ProgressReporter | None = None
        if len(request.orders) > 1 and request.message_ts:
            reporter = ProgressReporter(
                lambda: self.bus.emit(ExecutionProgressed(request.id)),
                interval=self.progress_interval,
                clock=self.monotonic,
                sleep=self.sleep,
            )

        async def progress() -> None:
            if not await self.requests.renew_lease(
                request.id, now=self.clock(), lease=self.lease, attempt=request.attempts
            ):
                log.warning("lease_not_renewed", request_id=request.id)
            if reporter is not None:
                reporter.changed()

        try:
            return await self.executor.execute(request.id, actor=actor, progress=progress, attempt=request.attempts)
        finally:
            if reporter is not None:
                await reporter.close()

    async def reject(self, request_id: str, user_id: str, reason: str) -> CancelRequest:
        """Reject a pending request with a reason; the requester is told in the thread."""
        request = await self.check_decider(request_id, user_id)
        return await self._decide(
            request, to=RequestStatus.REJECTED, actor=user_id, action="rejected", note=reason.strip()
        )

    async def withdraw(self, request_id: str, user_id: str) -> CancelRequest:
        """Withdraw a pending request; only its requester may."""
        request = await self.get(request_id)
        if user_id != request.requester_id:
            raise NotRequesterError()
        if request.status is not RequestStatus.PENDING:
            raise AlreadyDecidedError(request.id, request.status.value, request.decided_by)
        return await self._decide(request, to=RequestStatus.WITHDRAWN, actor=user_id, action="withdrawn", note=None)

    async def _decide(
        self, request: CancelRequest, *, to: RequestStatus, actor: str, action: str, note: str | None
    ) -> CancelRequest:
        changed = await self.requests.transition(
            request.id,
            expected=RequestStatus.PENDING,
            to=to,
            actor=actor,
            action=action,
            now=self.clock(),
            decided_by=actor,
            decided_at=self.clock(),
            decision_note=note,
        )
        current = await self.get(request.id)
        if not changed and current.status is RequestStatus.PENDING and current.expires_at <= self.clock():
            raise await self._refuse_expired(current)
        if not changed:
            raise AlreadyDecidedError(request.id, current.status.value, current.decided_by)
        await self.bus.emit(RequestSettled(current))
        return current

    async def _refuse_expired(self, request: CancelRequest) -> AlreadyDecidedError:
        """Expire a request whose time ran out before any tick did, have its card say so; the refusal to raise."""
        if await self.requests.transition(
            request.id, expected=RequestStatus.PENDING, to=RequestStatus.EXPIRED, actor="system", now=self.clock()
        ):
            log.info("request_expired", request_id=request.id, on="decision")
            request = await self.get(request.id)
            await self.bus.emit(RequestSettled(request))
        else:
            request = await self.get(request.id)
        return AlreadyDecidedError(request.id, request.status.value, request.decided_by)

    # -- scheduler -------------------------------------------------------------------------------------------

    async def tick(self) -> None:
        """One scheduler tick: expire, remind, settle interrupted executions, read back cancellations pending at
        Lazada and unclear ones. Safe on every replica."""
        if self.draining:
            return
        async with self._work():
            await self._tick()

    async def _announce(self, reread: Reread | None) -> None:
        """Tell the presenter what a read-back changed: the request's outcome, or only some of its orders'."""
        if reread is None:
            return
        await self.bus.emit(RequestSettled(reread.request) if reread.settled else OrdersSettled(reread.request))

    async def _tick(self) -> None:
        now = self.clock()
        for request in await self.requests.expire_due(now=now):
            log.info("request_expired", request_id=request.id)
            await self.bus.emit(RequestSettled(request))
        for request in await self.requests.due_for_reminder(now=now):
            if await self.requests.mark_reminded(request.id, now):
                ids = self.approver_ids(self.stores.get(request.store_code))
                await self.bus.emit(ReminderDue(request, ids))
        for request in await self.requests.claim_stale_executing(now=now, lease=self.lease, claimer=self.replica_id):
            log.warning("reconciling_request", request_id=request.id)
            await self.bus.emit(RequestSettled(await self.execute(request, actor="reconciler")))
        # Cancellations pending at Lazada: read back with a doubling backoff, each due read-back by one replica.
        for request in await self.requests.claim_pending_rechecks(now=now, backoff=self.executor.backoff):
            await self._announce(await self.executor.reread(request.id, actor="reconciler"))
        rechecks = await self.requests.claim_attention_recheck(
            now=now, every=self.lease, within=timedelta(days=1), claimer=self.replica_id
        )
        for request in rechecks:
            await self._announce(await self.executor.recheck(request.id, actor="reconciler"))
        for request in await self.requests.unannounced(settled_before=now - timedelta(minutes=1)):
            log.warning("announcing_late", request_id=request.id, status=request.status.value)
            await self.bus.emit(RequestSettled(request))
        for request in await self.requests.late_replies_due(settled_before=now - timedelta(minutes=1)):
            log.warning("announcing_late_orders", request_id=request.id)
            await self.bus.emit(OrdersSettled(request))
