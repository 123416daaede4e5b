"""Executing an approved request safely: re-validate, repack if asked, cancel once, read back, record.

Each order of a request moves `pending → executing` in the database *before* InitReverseOrderCancel is sent
(the recovery point). So after a crash:

- an order still `pending` was never sent to Lazada: it is executed from the start, re-validated first;
- an order left `executing` may or may not have been cancelled: it is only read back, never cancelled again —
  `executed` when Lazada shows the items cancelled, otherwise `needs_attention` for a person.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta

import structlog

from bot.domain import Item, OrderStatus, RequestStatus
from bot.lazada.client import LazadaClient
from bot.lazada.errors import (
    LazadaAuthError,
    LazadaBusinessError,
    LazadaError,
    LazadaRateLimitedError,
)
from bot.lazada.models import CancelAccepted, OrderItem
from bot.store.models import CancelRequest, OrderAnswers, RequestOrder
from bot.store.requests import RequestStore
from bot.workflow.drafting import package_conflicts

__all__ = ["Executor", "final_status"]

log = structlog.get_logger(__name__)

_DEFINITE_REFUSALS = (LazadaBusinessError, LazadaRateLimitedError, LazadaAuthError)


async def _no_checkpoint(_: str) -> None:
    return None


def final_status(orders: Sequence[RequestOrder]) -> RequestStatus:
    """The request's status from its orders' outcomes: a person must look if any order is unclear."""
    statuses = {o.status for o in orders}
    if OrderStatus.NEEDS_ATTENTION in statuses or OrderStatus.EXECUTING in statuses:
        return RequestStatus.NEEDS_ATTENTION
    if OrderStatus.EXECUTED in statuses:
        return RequestStatus.EXECUTED
    return RequestStatus.FAILED


def _summary(orders: Sequence[RequestOrder]) -> str:
    done = sum(o.status is OrderStatus.EXECUTED for o in orders)
    failed = [o for o in orders if o.status is OrderStatus.FAILED]
    unclear = [o for o in orders if o.status in {OrderStatus.NEEDS_ATTENTION, OrderStatus.EXECUTING}]
    if len(orders) == 1:
        order = orders[0]
        return order.error or order.outcome_tip_content or ("cancelled" if done else order.status.value)
    parts = [f"{done}/{len(orders)} orders cancelled"]
    if failed:
        parts.append(f"{len(failed)} failed")
    if unclear:
        parts.append(f"{len(unclear)} need attention")
    return ", ".join(parts)


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
    ) -> None:
        self.requests = requests
        self.clients = clients
        self.clock = clock
        self.concurrency = concurrency
        self.lease = lease
        # Crash tests kill the process at these named points; in production it does nothing.
        self.checkpoint = checkpoint or _no_checkpoint

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
                    await self._settle_order(client, request, order, accepted=None, cause="an interrupted execution")
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
        settling = {RequestStatus.EXECUTING, RequestStatus.NEEDS_ATTENTION}
        to = final_status(current.orders)
        # Another execution may have said "needs attention" while this one saw the items cancelled: the truth wins.
        if current.status in settling and to is not current.status and not still_held:
            await self.requests.transition(
                request_id,
                expected=current.status,
                to=to,
                actor=actor,
                action=to.value,
                now=self.clock(),
                decision_note=_summary(current.orders),
            )
            current = await self.requests.get_request(request_id)
            assert current is not None
        log.info("request_settled", request_id=request_id, status=current.status.value)
        await self.checkpoint("after_outcome")
        return current

    async def recheck(self, request_id: str, *, actor: str) -> CancelRequest | None:
        """Read back a `needs_attention` request's unclear orders; settle it when Lazada now shows them cancelled.

        A late success (Lazada carried the cancellation out after the bot stopped waiting) becomes `executed`.
        Never sends anything to Lazada. Returns the request when it left `needs_attention`, else None.
        """
        request = await self.requests.get_request(request_id)
        if request is None or request.status is not RequestStatus.NEEDS_ATTENTION:
            return None
        client = self.clients[request.store_code]
        for order in request.orders:
            if order.status is OrderStatus.NEEDS_ATTENTION and await _shows_cancelled(client, order):
                await self.requests.set_order_status(
                    request.id,
                    order.order_id,
                    expected=OrderStatus.NEEDS_ATTENTION,
                    to=OrderStatus.EXECUTED,
                    now=self.clock(),
                    actor=actor,
                    details={"late": True},
                    answers=OrderAnswers(error=None),
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
            return None
        log.info("late_outcome", request_id=request_id, status=to.value)
        return await self.requests.get_request(request_id)

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
        try:
            validation = await client.validate_cancel(order_id=order.order_id, order_item_ids=item_ids)
        except LazadaBusinessError as exc:
            await self._fail(request, order, f"Lazada now refuses the cancellation: {exc.user_message}")
            return
        except LazadaError as exc:
            await self._fail(request, order, f"Could not re-validate with Lazada: {exc.user_message}")
            return
        if request.reason_id not in {r.reason_id for r in validation.reason_options}:
            await self._fail(
                request,
                order,
                f"Lazada no longer offers the reason “{request.reason_name}” for these items. Nothing was cancelled.",
            )
            return
        if not await self._holds_lease(request, order):
            return
        lines = [Item.from_lazada(i) for i in items]
        conflicts = package_conflicts(lines, item_ids)
        if conflicts and request.repack_first:
            try:
                await client.repack(package_ids=[c.package_id for c in conflicts])
            except LazadaError as exc:
                await self._fail(request, order, f"Repacking failed, so nothing was cancelled: {exc.user_message}")
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
        except _DEFINITE_REFUSALS as exc:
            await self.requests.set_order_status(
                request.id,
                order.order_id,
                expected=OrderStatus.EXECUTING,
                to=OrderStatus.FAILED,
                now=self.clock(),
                answers=OrderAnswers(
                    error=f"Lazada refused the cancellation: {exc.user_message}", outcome_tip_type="error"
                ),
            )
            return
        except LazadaError as exc:
            log.warning("cancel_outcome_unknown", request_id=request.id, order_id=order.order_id, error=str(exc))
            await self._settle_order(client, request, order, accepted=None, cause=_what_happened(exc))
            return
        await self.checkpoint("after_cancel")
        await self._settle_order(client, request, order, accepted=accepted, cause=None)

    async def _settle_order(
        self,
        client: LazadaClient,
        request: CancelRequest,
        order: RequestOrder,
        *,
        accepted: CancelAccepted | None,
        cause: str | None,
    ) -> None:
        """Read the items back and record what Lazada shows; never sends a cancellation."""
        tip = OrderAnswers(
            outcome_tip_content=accepted.tip_content if accepted else None,
            outcome_tip_type=accepted.tip_type if accepted else None,
            lazada_request_id=accepted.request_id if accepted else None,
        )
        try:
            items = await client.get_order_items(order_id=order.order_id)
        except LazadaError as exc:
            said = "accepted the cancellation" if accepted else f"did not confirm it ({cause})"
            await self._attention(
                request,
                order,
                f"Lazada {said}, but reading the items back failed ({exc.user_message}). "
                "Check the order in Seller Center.",
                tip,
            )
            return
        by_id = {i.order_item_id: i for i in items}
        states = {i: by_id[i].status if i in by_id else "missing" for i in order.item_ids}
        if all(s == "canceled" for s in states.values()):
            await self.requests.set_order_status(
                request.id,
                order.order_id,
                expected={OrderStatus.EXECUTING, OrderStatus.NEEDS_ATTENTION},
                to=OrderStatus.EXECUTED,
                now=self.clock(),
                answers=tip,
            )
            return
        still = ", ".join(f"{i} {s}" for i, s in states.items() if s != "canceled")
        if accepted:
            text = f"Lazada accepted the cancellation, but these items still show: {still}."
        else:
            text = (
                f"Lazada did not confirm the cancellation ({cause}) and the items still show: {still}. "
                "It may not have happened; check Seller Center before asking again."
            )
        await self._attention(request, order, text, tip)

    async def _attention(self, request: CancelRequest, order: RequestOrder, text: str, tip: OrderAnswers) -> None:
        log.warning("order_needs_attention", request_id=request.id, order_id=order.order_id, detail=text)
        await self.requests.set_order_status(
            request.id,
            order.order_id,
            expected=OrderStatus.EXECUTING,
            to=OrderStatus.NEEDS_ATTENTION,
            now=self.clock(),
            answers=tip.model_copy(update={"error": text}),
        )


async def _shows_cancelled(client: LazadaClient, order: RequestOrder) -> bool:
    """Whether Lazada shows every item to cancel of the order cancelled now (False when it cannot be read)."""
    try:
        items = await client.get_order_items(order_id=order.order_id)
    except LazadaError:
        return False
    states = {i.order_item_id: i.status for i in items}
    return all(states.get(item_id) == "canceled" for item_id in order.item_ids)


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
    return "; ".join(changes)
