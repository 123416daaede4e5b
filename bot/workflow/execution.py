"""Executing an approved request safely: re-validate, repack if asked (then look again), cancel once, read back,
record what Lazada's items show.

Each order of a request moves `pending → executing` in the database *before* InitReverseOrderCancel is sent
(the recovery point). So after a crash:

- an order still `pending` was never sent to Lazada: it is executed from the start, re-validated first;
- an order left `executing` may or may not have been cancelled: it is only read back, never cancelled again.

The outcome never follows from the cancel's answer alone (issue 10): Lazada's reference example answers code "0"
with `tip_type: "error"`, and the sandbox, like Lazada, may have applied a cancel it answered that way. Unless the
answer is a refusal that stops the call before the API runs (`definite_refusal`), the items are read back and decide:

| the items show                                  | Lazada accepted | Lazada refused  | no clear answer |
|-------------------------------------------------|-----------------|-----------------|-----------------|
| all cancelled                                   | executed        | executed        | executed        |
| a cancellation under way (pending, or partly)   | cancel_pending  | cancel_pending  | cancel_pending  |
| unchanged (still cancellable, nothing pending)  | cancel_pending  | failed          | needs_attention |
| anything else (shipped meanwhile, gone)         | needs_attention | needs_attention | needs_attention |

"Accepted" is code "0" without an error tip (a tip type the documents do not name included: they define success as
code "0" and `tip_type != "error"`); "refused" is an error tip or a business error code Lazada answered; "no clear
answer" is a timeout, a reset, an unreadable body, or Lazada's own failure (5xx, ServiceTimeout, E0106, 998), after
which Lazada may still carry the cancel out: a person checks, and `recheck` notices a late success. When the items
cannot be read back at all, a person checks too (needs_attention), and `recheck` reads them again for a day.

A `cancel_pending` order is never sent again: the scheduler reads it back (`reread`) with a doubling backoff until
its items settle (cancelled → executed), show it dropped or moved on (needs_attention), or `pending_bound` passes
(needs_attention). Its items stay claimed meanwhile (`open_items`), so no other request asks for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog

from bot.domain import CANCELLABLE_STATUSES, Item, OrderStatus, RequestStatus
from bot.lazada.client import LazadaClient
from bot.lazada.errors import (
    LazadaAuthError,
    LazadaBusinessError,
    LazadaError,
    LazadaRateLimitedError,
)
from bot.lazada.models import CancelAccepted, OrderItem
from bot.store.models import CancelRequest, OrderAnswers, RequestOrder
from bot.store.requests import RequestFields, RequestStore
from bot.workflow.drafting import package_conflicts

__all__ = ["Executor", "Reread", "definite_refusal", "final_status"]

log = structlog.get_logger(__name__)

# The documented error codes of InitReverseOrderCancel (lazada-api.md §4-§5): each names an input that is missing
# or invalid (no order id, no seller, an invalid order, line or reason), so the API refused before changing anything.
# E0106 ("ROC internal error") is left out on purpose: an internal error may come after the cancel was applied.
_VALIDATION_CODES = frozenset({"102", "104", "115", "116", "117", "118", "122", "123", "124"})
# Refusals of the call itself, whatever the API: a missing parameter and an API the seller may not call at all.
_CALL_REFUSALS = frozenset({"MissingParameter", "Mp3SellerApiLimit"})

_DISSOLVED = (
    "The package was dissolved (repacked) before the cancellation, so its items must be packed again in Seller Center."
)


async def _no_checkpoint(_: str) -> None:
    return None


def _plain_code(code: str) -> str:
    """A numeric business code in one spelling: `E0102` and `102` are the same code, as are `E016` and `16`."""
    text = code.strip()
    digits = text[1:] if text[:1] in {"E", "e"} else text
    return str(int(digits)) if digits.isdigit() else text


def definite_refusal(error: LazadaError) -> bool:
    """Whether a failed InitReverseOrderCancel surely did nothing, so the order fails without reading it back.

    Only refusals before the API ran: `ApiCallLimit` at the gateway, a token or signature refused (the gateway
    checks them before the API), a missing parameter or an API closed to the seller, and the validation codes the
    API's page documents. Everything else (an error tip, an undocumented code, E0106, 998, a 5xx, a timeout, an
    unreadable body) is read back: the documents say nothing of what those leave behind, so the items tell.
    """
    if isinstance(error, LazadaRateLimitedError | LazadaAuthError):
        return True
    if isinstance(error, LazadaBusinessError) and error.code not in (None, "0") and not error.failed_package_ids:
        code = _plain_code(error.code)
        return code in _VALIDATION_CODES or code in _CALL_REFUSALS
    return False


def final_status(orders: Sequence[RequestOrder]) -> RequestStatus:
    """The request's status from its orders' outcomes: pending at Lazada while any order is, else a person must
    look if any order is unclear."""
    statuses = {o.status for o in orders}
    if OrderStatus.CANCEL_PENDING in statuses:
        return RequestStatus.CANCEL_PENDING
    if OrderStatus.NEEDS_ATTENTION in statuses or OrderStatus.EXECUTING in statuses:
        return RequestStatus.NEEDS_ATTENTION
    if OrderStatus.EXECUTED in statuses:
        return RequestStatus.EXECUTED
    return RequestStatus.FAILED


def _summary(orders: Sequence[RequestOrder]) -> str:
    done = sum(o.status is OrderStatus.EXECUTED for o in orders)
    failed = [o for o in orders if o.status is OrderStatus.FAILED]
    unclear = [o for o in orders if o.status in {OrderStatus.NEEDS_ATTENTION, OrderStatus.EXECUTING}]
    waiting = [o for o in orders if o.status is OrderStatus.CANCEL_PENDING]
    if len(orders) == 1:
        order = orders[0]
        if order.status is OrderStatus.CANCEL_PENDING:
            return "cancellation pending at Lazada"
        return order.error or order.outcome_tip_content or ("cancelled" if done else order.status.value)
    parts = [f"{done}/{len(orders)} orders cancelled"]
    if waiting:
        parts.append(f"{len(waiting)} pending at Lazada")
    if failed:
        parts.append(f"{len(failed)} failed")
    if unclear:
        parts.append(f"{len(unclear)} need attention")
    return ", ".join(parts)


class _Answer(StrEnum):
    """What InitReverseOrderCancel answered, as far as the outcome goes."""

    ACCEPTED = "accepted"
    REFUSED = "refused"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class _Said:
    """Lazada's answer to the cancel: its kind, its tip and request id, and its words for a person."""

    answer: _Answer
    words: str = ""
    tip_content: str | None = None
    tip_type: str | None = None
    request_id: str | None = None

    @classmethod
    def accepted(cls, answer: CancelAccepted) -> _Said:
        return cls(
            _Answer.ACCEPTED,
            tip_content=answer.tip_content,
            tip_type=answer.tip_type,
            request_id=answer.request_id,
        )

    @classmethod
    def failed(cls, error: LazadaError) -> _Said:
        if isinstance(error, LazadaBusinessError):
            return cls(
                _Answer.REFUSED,
                words=error.user_message,
                tip_content=error.tip_content,
                tip_type=error.tip_type or ("error" if error.tip_content else None),
                request_id=error.request_id,
            )
        return cls(_Answer.UNKNOWN, words=_what_happened(error), tip_content=error.tip_content)

    @property
    def answers(self) -> OrderAnswers:
        return OrderAnswers(
            outcome_tip_content=self.tip_content, outcome_tip_type=self.tip_type, lazada_request_id=self.request_id
        )

    @property
    def phrase(self) -> str:
        """How the answer reads in a sentence: "Lazada accepted the cancellation", …"""
        if self.answer is _Answer.ACCEPTED:
            return "Lazada accepted the cancellation"
        if self.answer is _Answer.REFUSED:
            return f"Lazada answered the cancellation with “{self.words.rstrip('.')}”"
        return f"Lazada did not confirm the cancellation ({self.words})"


class _Shows(StrEnum):
    """What a read-back shows of the items to cancel."""

    CANCELLED = "cancelled"
    UNDER_WAY = "under_way"
    UNCHANGED = "unchanged"
    ELSEWHERE = "elsewhere"


@dataclass(frozen=True)
class _ReadBack:
    shows: _Shows
    pending: bool
    """Some item shows Lazada's `is_cancel_pending`."""
    still: str
    """The items not cancelled, with what they show, for a sentence."""


def _read_back(order: RequestOrder, items: Sequence[OrderItem]) -> _ReadBack:
    """What Lazada's items show of an order's items to cancel (its other items do not count)."""
    by_id = {i.order_item_id: i for i in items}
    names = {i.order_item_id: i.name for i in order.items}
    mine = [by_id.get(item_id) for item_id in order.item_ids]
    shown = [i for i in mine if i is not None]
    pending = any(i.is_cancel_pending for i in shown)
    parts: list[str] = []
    for item_id, item in zip(order.item_ids, mine, strict=True):
        name = names.get(item_id, item_id)
        if item is None:
            parts.append(f"{name} is no longer in the order")
        elif item.status != "canceled":
            state = item.status.replace("_", " ") + (" with a cancellation pending" if item.is_cancel_pending else "")
            parts.append(f"{name} {state}")
    still = ", ".join(parts)
    if len(shown) == len(mine) and all(i.status == "canceled" for i in shown):
        return _ReadBack(_Shows.CANCELLED, pending, still)
    if len(shown) < len(mine) or any(i.status not in CANCELLABLE_STATUSES | {"canceled"} for i in shown):
        return _ReadBack(_Shows.ELSEWHERE, pending, still)
    if pending or any(i.status == "canceled" for i in shown):
        return _ReadBack(_Shows.UNDER_WAY, pending, still)
    return _ReadBack(_Shows.UNCHANGED, pending, still)


@dataclass(frozen=True)
class Reread:
    """What a read-back of a request's pending or unclear orders changed."""

    request: CancelRequest
    """The request as stored after it."""
    settled: bool
    """The request itself left `cancel_pending` or `needs_attention` (its own outcome is to be shown); otherwise only
    some of its orders settled (each has a late reply due)."""


class Executor:
    """Carries out approved requests; every Lazada write is preceded by a recorded recovery point."""

    def __init__(
        self,
        *,
        requests: RequestStore,
        clients: Mapping[str, LazadaClient],
        clock: Callable[[], datetime],
        concurrency: int = 8,
        lease: timedelta = timedelta(minutes=5),
        checkpoint: Callable[[str], Awaitable[None]] | None = None,
        pending_bound: timedelta = timedelta(hours=24),
        recheck_first: timedelta = timedelta(minutes=1),
        recheck_cap: timedelta = timedelta(minutes=30),
    ) -> None:
        self.requests = requests
        self.clients = clients
        self.clock = clock
        self.concurrency = concurrency
        self.lease = lease
        # Crash tests kill the process at these named points; in production it does nothing.
        self.checkpoint = checkpoint or _no_checkpoint
        # How long a cancellation may stay pending at Lazada before a person is asked to look.
        self.pending_bound = pending_bound
        self.recheck_first = recheck_first
        self.recheck_cap = recheck_cap

    def backoff(self, rechecks: int) -> timedelta:
        """The wait before the next read-back of a pending cancellation, after `rechecks` of them: 1, 2, 4 … min,
        at most `recheck_cap`."""
        factor: int = 2 ** min(max(rechecks, 0), 30)
        return min(self.recheck_cap, self.recheck_first * factor)

    async def execute(
        self,
        request_id: str,
        *,
        actor: str,
        progress: Callable[[], Awaitable[None]] | None = None,
        attempt: int | None = None,
    ) -> CancelRequest:
        """Run (or resume) an `executing` request to its final state and return it as stored.

        `progress` is awaited each time one order has settled (outside the concurrency gate); the caller may
        show how far the request has got or renew its lease there. `attempt` is the request's `attempts` when
        the caller claimed it: the lease is renewed under it before every Lazada write, and once another
        execution has taken the request over, this one stops and leaves the rest to it.
        """
        request = await self.requests.get_request(request_id)
        if request is None:
            raise LookupError(request_id)
        if request.status is not RequestStatus.EXECUTING or (attempt is not None and request.attempts != attempt):
            return request
        await self.checkpoint("after_claim")
        client = self.clients[request.store_code]
        gate = asyncio.Semaphore(self.concurrency)

        async def run(order: RequestOrder) -> None:
            async with gate:
                if order.status is OrderStatus.PENDING:
                    await self._execute_order(client, request, order, actor=actor)
                elif order.status is OrderStatus.EXECUTING and order.updated_at <= self.clock() - self.lease:
                    said = _Said(_Answer.UNKNOWN, words="an interrupted execution")
                    await self._settle_order(client, request, order, said=said, repacked=False)
                else:
                    # Settled already, or another execution holds it (marked within the lease): leave it to them.
                    return
            if progress is not None:
                try:
                    await progress()
                except Exception:
                    # Showing progress must never stop a cancellation half-way.
                    log.exception("progress_failed", request_id=request_id, order_id=order.order_id)

        await asyncio.gather(*(run(o) for o in request.orders))
        current = await self.requests.get_request(request_id)
        assert current is not None
        # An order still pending here was left to whoever holds the lease now.
        still_held = any(o.status in {OrderStatus.EXECUTING, OrderStatus.PENDING} for o in current.orders)
        to = final_status(current.orders)
        # Another execution may have said "needs attention" while this one saw the items cancelled: the truth wins.
        movable = current.status is RequestStatus.EXECUTING or (
            current.status is RequestStatus.NEEDS_ATTENTION and to is not RequestStatus.CANCEL_PENDING
        )
        if movable and to is not current.status and not still_held:
            now = self.clock()
            fields: RequestFields = {"decision_note": _summary(current.orders)}
            if to is RequestStatus.CANCEL_PENDING:
                # The first read-back soon; each later one waits twice as long (`backoff`).
                fields["recheck_at"] = now + self.recheck_first
                fields["rechecks"] = 0
            await self.requests.transition(
                request_id, expected=current.status, to=to, actor=actor, action=to.value, now=now, **fields
            )
            current = await self.requests.get_request(request_id)
            assert current is not None
        log.info("request_settled", request_id=request_id, status=current.status.value)
        await self.checkpoint("after_outcome")
        return current

    async def reread(self, request_id: str, *, actor: str) -> Reread | None:
        """Read back a `cancel_pending` request's pending orders and record what Lazada's items show now.

        Never sends anything to Lazada. An order whose items now show cancelled becomes `executed`; one whose items
        moved elsewhere, show the pending cancellation dropped, or are still not cancelled once `pending_bound` has
        passed since the cancel becomes `needs_attention`; any other stays pending. Returns what changed (None when
        nothing did); once no order is pending, the request takes its outcome.
        """
        request = await self.requests.get_request(request_id)
        if request is None or request.status is not RequestStatus.CANCEL_PENDING:
            return None
        client = self.clients[request.store_code]
        changed = False
        for order in request.orders:
            if order.status is OrderStatus.CANCEL_PENDING:
                changed |= await self._reread_order(client, request, order, actor=actor)
        current = await self.requests.get_request(request_id)
        assert current is not None
        to = final_status(current.orders)
        if to is RequestStatus.CANCEL_PENDING:
            return Reread(current, settled=False) if changed else None
        settled = await self.requests.transition(
            request_id,
            expected=RequestStatus.CANCEL_PENDING,
            to=to,
            actor=actor,
            now=self.clock(),
            decision_note=_summary(current.orders),
        )
        if not settled:
            return None
        log.info("pending_settled", request_id=request_id, status=to.value)
        current = await self.requests.get_request(request_id)
        assert current is not None
        return Reread(current, settled=True)

    async def recheck(self, request_id: str, *, actor: str) -> Reread | None:
        """Read back a `needs_attention` request's unclear orders; record those Lazada now shows cancelled.

        A late success (Lazada carried the cancellation out after the bot stopped waiting) becomes `executed`, with
        its own thread reply due; the request becomes `executed` (or `failed`) once no order is unclear. Never sends
        anything to Lazada. Returns what changed, or None when nothing did.
        """
        request = await self.requests.get_request(request_id)
        if request is None or request.status is not RequestStatus.NEEDS_ATTENTION:
            return None
        client = self.clients[request.store_code]
        changed = False
        for order in request.orders:
            if order.status is OrderStatus.NEEDS_ATTENTION and await _shows_cancelled(client, order):
                changed |= await self.requests.set_order_status(
                    request.id,
                    order.order_id,
                    expected=OrderStatus.NEEDS_ATTENTION,
                    to=OrderStatus.EXECUTED,
                    now=self.clock(),
                    actor=actor,
                    details={"late": True},
                    answers=OrderAnswers(error=None),
                    late=True,
                )
        current = await self.requests.get_request(request_id)
        assert current is not None
        to = final_status(current.orders)
        if to is RequestStatus.NEEDS_ATTENTION or not await self.requests.transition(
            request_id,
            expected=RequestStatus.NEEDS_ATTENTION,
            to=to,
            actor=actor,
            action=f"late_{to.value}",
            now=self.clock(),
            decision_note=_summary(current.orders),
        ):
            return Reread(current, settled=False) if changed else None
        log.info("late_outcome", request_id=request_id, status=to.value)
        current = await self.requests.get_request(request_id)
        assert current is not None
        return Reread(current, settled=True)

    async def _holds_lease(self, request: CancelRequest, order: RequestOrder) -> bool:
        """Renew this execution's lease before a Lazada write; False once another execution took the request over."""
        if await self.requests.renew_lease(request.id, now=self.clock(), lease=self.lease, attempt=request.attempts):
            return True
        log.warning("lease_lost", request_id=request.id, order_id=order.order_id)
        return False

    async def _fail(self, request: CancelRequest, order: RequestOrder, message: str) -> None:
        log.info("order_failed", request_id=request.id, order_id=order.order_id, reason=message)
        await self.requests.set_order_status(
            request.id,
            order.order_id,
            expected=order.status,
            to=OrderStatus.FAILED,
            now=self.clock(),
            answers=OrderAnswers(error=message),
        )

    async def _revalidate(self, client: LazadaClient, request: CancelRequest, order: RequestOrder) -> str | None:
        """Why Lazada would no longer take this cancellation, in a sentence; None when it still would."""
        try:
            validation = await client.validate_cancel(order_id=order.order_id, order_item_ids=list(order.item_ids))
        except LazadaBusinessError as exc:
            return f"Lazada now refuses the cancellation: {exc.user_message}"
        except LazadaError as exc:
            return f"Could not re-validate with Lazada: {exc.user_message}"
        if request.reason_id not in {r.reason_id for r in validation.reason_options}:
            return f"Lazada no longer offers the reason “{request.reason_name}” for these items. Nothing was cancelled."
        return None

    async def _look_again(self, client: LazadaClient, request: CancelRequest, order: RequestOrder) -> str | None:
        """After a repack, read the order and validate the cancellation again (issue 10 point 4): what stops it."""
        try:
            items = await client.get_order_items(order_id=order.order_id)
        except LazadaError as exc:
            return (
                f"Could not re-check the order with Lazada after repacking: {exc.user_message} Nothing was cancelled."
            )
        changed = _changes(order, items)
        if changed:
            return f"After repacking, the order changed: {changed}. Nothing was cancelled."
        left = package_conflicts([Item.from_lazada(i) for i in items], order.item_ids)
        if left:
            names = ", ".join(i.name for c in left for i in c.others)
            return (
                f"After repacking, Lazada still shows {names} in a package with the items to cancel, so cancelling "
                "now would take them too. Nothing was cancelled."
            )
        return await self._revalidate(client, request, order)

    async def _execute_order(
        self, client: LazadaClient, request: CancelRequest, order: RequestOrder, *, actor: str
    ) -> None:
        item_ids = list(order.item_ids)
        try:
            items = await client.get_order_items(order_id=order.order_id)
        except LazadaError as exc:
            await self._fail(request, order, f"Could not re-check the order with Lazada: {exc.user_message}")
            return
        changed = _changes(order, items)
        if changed:
            await self._fail(request, order, f"The order changed since the request: {changed}. Nothing was cancelled.")
            return
        refusal = await self._revalidate(client, request, order)
        if refusal is not None:
            await self._fail(request, order, refusal)
            return
        if not await self._holds_lease(request, order):
            return
        lines = [Item.from_lazada(i) for i in items]
        conflicts = package_conflicts(lines, item_ids)
        repacked = False
        if conflicts and request.repack_first:
            try:
                await client.repack(package_ids=[c.package_id for c in conflicts])
            except LazadaError as exc:
                await self._fail(request, order, f"Repacking failed, so nothing was cancelled: {exc.user_message}")
                return
            repacked = True
            # The repack changed the order at Lazada: what the approver saw is not what Lazada holds any more.
            problem = await self._look_again(client, request, order)
            if problem is not None:
                await self._fail(request, order, f"{problem} {_DISSOLVED}")
                return
            if not await self._holds_lease(request, order):
                return
        elif conflicts:
            known = {i.order_item_id for i in order.items}
            surprise = [i.name for c in conflicts for i in c.others if i.order_item_id not in known]
            if surprise:
                await self._fail(
                    request,
                    order,
                    "The order was repacked since the request; cancelling now would also cancel "
                    f"{', '.join(surprise)}. Nothing was cancelled.",
                )
                return
        # The recovery point: from here on, this order is never sent to Lazada again.
        marked = await self.requests.set_order_status(
            request.id, order.order_id, expected=OrderStatus.PENDING, to=OrderStatus.EXECUTING, now=self.clock()
        )
        if not marked:
            return
        await self.checkpoint("before_cancel")
        try:
            try:
                accepted = await client.init_cancel(
                    order_id=order.order_id, order_item_ids=item_ids, reason_id=request.reason_id
                )
            except LazadaRateLimitedError as limited:
                # Refused at Lazada's gateway, before the API ran: the one case where a cancel is sent again,
                # once, after the ban and only while the items are still cancellable.
                await client.wait_out(limited)
                items = await client.get_order_items(order_id=order.order_id)
                if _changes(order, items) or not await self._holds_lease(request, order):
                    raise
                accepted = await client.init_cancel(
                    order_id=order.order_id, order_item_ids=item_ids, reason_id=request.reason_id
                )
        except LazadaError as exc:
            if definite_refusal(exc):
                await self._refused(request, order, exc, repacked=repacked)
                return
            log.warning("cancel_answer_unclear", request_id=request.id, order_id=order.order_id, error=str(exc))
            await self._settle_order(client, request, order, said=_Said.failed(exc), repacked=repacked)
            return
        await self.checkpoint("after_cancel")
        await self._settle_order(client, request, order, said=_Said.accepted(accepted), repacked=repacked)

    async def _refused(self, request: CancelRequest, order: RequestOrder, exc: LazadaError, *, repacked: bool) -> None:
        """Record a cancel refused before the API ran: nothing happened at Lazada, so no read-back is needed."""
        text = f"Lazada refused the cancellation: {exc.user_message}" + (f" {_DISSOLVED}" if repacked else "")
        await self.requests.set_order_status(
            request.id,
            order.order_id,
            expected=OrderStatus.EXECUTING,
            to=OrderStatus.FAILED,
            now=self.clock(),
            answers=OrderAnswers(error=text, outcome_tip_type="error", lazada_request_id=exc.request_id),
        )

    async def _settle_order(
        self,
        client: LazadaClient,
        request: CancelRequest,
        order: RequestOrder,
        *,
        said: _Said,
        repacked: bool,
    ) -> None:
        """Read the items back and record what they show (the table in the module's docstring); never cancels."""
        dissolved = f" {_DISSOLVED}" if repacked else ""
        try:
            items = await client.get_order_items(order_id=order.order_id)
        except LazadaError as exc:
            # Not knowing what the items show, a person looks; the reconciler's `recheck` still reads them back
            # for a day and records a cancellation Lazada did carry out.
            text = (
                f"{said.phrase}, {'but' if said.answer is _Answer.ACCEPTED else 'and'} reading the items back failed "
                f"({exc.user_message}). "
                f"Check the order in Seller Center.{dissolved}"
            )
            await self._move(request, order, OrderStatus.NEEDS_ATTENTION, said, error=text)
            return
        seen = _read_back(order, items)
        if seen.shows is _Shows.CANCELLED:
            await self._move(request, order, OrderStatus.EXECUTED, said, error=None)
        elif seen.shows is _Shows.UNDER_WAY or (seen.shows is _Shows.UNCHANGED and said.answer is _Answer.ACCEPTED):
            await self._move(request, order, OrderStatus.CANCEL_PENDING, said, error=None, seen_pending=seen.pending)
        elif seen.shows is _Shows.UNCHANGED and said.answer is _Answer.REFUSED:
            # Lazada's own words are on the card as its tip when it sent one; otherwise they go in the sentence.
            why = "" if said.tip_content else f" ({said.words.rstrip('.')})"
            text = (
                f"Lazada refused the cancellation{why} and the items still show: {seen.still}. "
                f"Nothing was cancelled.{dissolved}"
            )
            await self._move(request, order, OrderStatus.FAILED, said, error=text)
        elif seen.shows is _Shows.UNCHANGED:
            text = (
                f"{said.phrase} and the items still show: {seen.still}. "
                f"It may not have happened; check Seller Center before asking again.{dissolved}"
            )
            await self._move(request, order, OrderStatus.NEEDS_ATTENTION, said, error=text)
        else:
            text = f"{said.phrase}, but the items now show: {seen.still}. Check the order in Seller Center.{dissolved}"
            await self._move(request, order, OrderStatus.NEEDS_ATTENTION, said, error=text)

    async def _move(
        self,
        request: CancelRequest,
        order: RequestOrder,
        to: OrderStatus,
        said: _Said,
        *,
        error: str | None,
        seen_pending: bool | None = None,
    ) -> None:
        if to is not OrderStatus.EXECUTED:
            log.warning("order_not_cancelled_yet", request_id=request.id, order_id=order.order_id, to=to.value)
        answers = said.answers.model_copy(update={"error": error, "seen_pending": seen_pending})
        await self.requests.set_order_status(
            request.id,
            order.order_id,
            expected={OrderStatus.EXECUTING, OrderStatus.NEEDS_ATTENTION}
            if to is OrderStatus.EXECUTED
            else OrderStatus.EXECUTING,
            to=to,
            now=self.clock(),
            answers=answers,
        )

    async def _reread_order(
        self, client: LazadaClient, request: CancelRequest, order: RequestOrder, *, actor: str
    ) -> bool:
        """Read one pending order back; True when it settled (executed or needs_attention)."""
        now = self.clock()
        waited = now - order.updated_at
        overdue = waited >= self.pending_bound
        hours = f"{self.pending_bound.total_seconds() / 3600:g} h"
        try:
            items = await client.get_order_items(order_id=order.order_id)
        except LazadaError as exc:
            log.info("pending_read_back_failed", request_id=request.id, order_id=order.order_id, error=str(exc))
            if not overdue:
                return False
            text = (
                f"Lazada accepted the cancellation, but after {hours} its items still could not be read back "
                f"({exc.user_message}). The bot did not send it again; check the order in Seller Center."
            )
            return await self._late(request, order, OrderStatus.NEEDS_ATTENTION, text, actor=actor)
        seen = _read_back(order, items)
        if seen.shows is _Shows.CANCELLED:
            return await self._late(request, order, OrderStatus.EXECUTED, None, actor=actor)
        if seen.shows is _Shows.ELSEWHERE:
            text = (
                f"Lazada accepted the cancellation, but the items now show: {seen.still}. "
                "The bot did not send it again; check the order in Seller Center."
            )
            return await self._late(request, order, OrderStatus.NEEDS_ATTENTION, text, actor=actor)
        if seen.shows is _Shows.UNCHANGED and order.seen_pending:
            # Lazada showed the cancellation pending and no longer does, yet nothing was cancelled: it seems to have
            # dropped it. Failing the order would invite a new request while Lazada may still act: a person looks.
            text = (
                f"Lazada showed the cancellation pending, but no longer does and the items still show: {seen.still}. "
                "The bot did not send it again; check the order in Seller Center before asking again."
            )
            return await self._late(request, order, OrderStatus.NEEDS_ATTENTION, text, actor=actor)
        if overdue:
            text = (
                f"Lazada accepted the cancellation, but after {hours} the items still show: {seen.still}. "
                "The bot did not send it again; check the order in Seller Center."
            )
            return await self._late(request, order, OrderStatus.NEEDS_ATTENTION, text, actor=actor)
        return False

    async def _late(
        self, request: CancelRequest, order: RequestOrder, to: OrderStatus, error: str | None, *, actor: str
    ) -> bool:
        log.info("pending_order_settled", request_id=request.id, order_id=order.order_id, to=to.value)
        return await self.requests.set_order_status(
            request.id,
            order.order_id,
            expected=OrderStatus.CANCEL_PENDING,
            to=to,
            now=self.clock(),
            actor=actor,
            details={"late": True},
            answers=OrderAnswers(error=error),
            late=True,
        )


async def _shows_cancelled(client: LazadaClient, order: RequestOrder) -> bool:
    """Whether Lazada shows every item to cancel of the order cancelled now (False when it cannot be read)."""
    try:
        items = await client.get_order_items(order_id=order.order_id)
    except LazadaError:
        return False
    return _read_back(order, items).shows is _Shows.CANCELLED


def _what_happened(error: LazadaError) -> str:
    """What went wrong with a cancel whose outcome is unknown: Lazada's sentence without its advice to try again
    (the person must check Seller Center first, not simply retry)."""
    return error.user_message.split(";")[0].strip().rstrip(".")


def _changes(order: RequestOrder, items: Sequence[OrderItem]) -> str:
    """What changed for the items to cancel since the request, in words ('' when nothing did)."""
    by_id = {i.order_item_id: i for i in items}
    names = {i.order_item_id: i.name for i in order.items}
    changes: list[str] = []
    for item_id in order.item_ids:
        item = by_id.get(item_id)
        if item is None:
            changes.append(f"{names.get(item_id, item_id)} is no longer in the order")
        elif not item.is_cancellable:
            changes.append(f"{names.get(item_id, item_id)} is now {item.status.replace('_', ' ')}")
        elif item.is_cancel_pending:
            changes.append(f"{names.get(item_id, item_id)} already has a cancellation pending at Lazada")
    return "; ".join(changes)
