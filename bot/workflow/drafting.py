"""Drafting a request: ask Lazada for an order's items and the reasons it allows, and work out the warnings."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog

from bot.domain import Item
from bot.lazada.errors import LazadaBusinessError, LazadaError
from bot.lazada.models import CancelValidation, OrderItem
from bot.settings import StoreConfig
from bot.workflow.models import BulkDraft, LeftOut, OrderDraft, PackageConflict, RateProjection, Reason

__all__ = [
    "NO_REASON_OFFERED",
    "Drafter",
    "ItemsSeen",
    "OrderReader",
    "ReasonGroups",
    "group_by_common_reasons",
    "package_conflicts",
    "shared_packages",
    "why_not_cancellable",
]

NO_REASON_OFFERED = "Lazada offers no cancellation reason for these items."

log = structlog.get_logger(__name__)


ItemsSeen = Callable[[str, str, Sequence[OrderItem]], Awaitable[object]]
"""Told ``(store_code, order_id, items)`` of an order read whose items wait for the seller's answer to a buyer's
cancellation request (`need_cancel_confirm`): the buyer-request service stores and announces such requests."""


class OrderReader(Protocol):
    """The part of the Lazada client that drafting needs."""

    async def get_order_items(self, *, order_id: str) -> tuple[OrderItem, ...]:
        """GetOrderItems."""

    async def validate_cancel(self, *, order_id: str, order_item_ids: Sequence[str]) -> CancelValidation:
        """OrderCancelValidate."""


def package_conflicts(items: Sequence[Item], selected_ids: Sequence[str]) -> tuple[PackageConflict, ...]:
    """Packages where some items are selected and other still-cancellable ones are not: Lazada cancels those too.

    Whatever the selected item's status (packed or ready to ship): Lazada's tutorial says an item "in the packaged
    state" takes its package with it, and a ready-to-ship item sits in its package as much as a packed one.
    """
    selected = set(selected_ids)
    conflicts: list[PackageConflict] = []
    packages = dict.fromkeys(i.package_id for i in items if i.package_id and i.order_item_id in selected)
    for package_id in packages:
        members = [i for i in items if i.package_id == package_id]
        others = tuple(i for i in members if i.order_item_id not in selected and i.cancellable)
        if others:
            chosen = tuple(i for i in members if i.order_item_id in selected)
            conflicts.append(PackageConflict(package_id=package_id, selected=chosen, others=others))
    return tuple(conflicts)


def shared_packages(items: Sequence[Item]) -> dict[str, tuple[Item, ...]]:
    """Packages holding two or more still-cancellable items: cancelling one of them alone cancels the others."""
    packages: dict[str, list[Item]] = {}
    for item in items:
        if item.package_id and item.cancellable:
            packages.setdefault(item.package_id, []).append(item)
    return {package_id: tuple(members) for package_id, members in packages.items() if len(members) > 1}


@dataclass(frozen=True)
class ReasonGroups:
    """Orders split by the reasons they share: those one request can cover, and the others with why."""

    included: tuple[OrderDraft, ...]
    left_out: tuple[LeftOut, ...]
    reasons: tuple[Reason, ...]


def _names(values: Sequence[str], shown: int = 3) -> str:
    more = len(values) - shown
    return ", ".join(values[:shown]) + (f" and {more} more" if more > 0 else "")


def why_not_cancellable(draft: OrderDraft) -> str | None:
    """Why this order cannot be part of a request, in a sentence; None when it can."""
    if not draft.items:
        return "Lazada lists no items for it."
    if not draft.cancellable:
        statuses = dict.fromkeys(
            "pending cancellation at Lazada" if i.is_cancel_pending else i.status.replace("_", " ") for i in draft.items
        )
        return f"Nothing in it can be cancelled: its items are {_names(list(statuses))}."
    if not draft.selected_ids:
        return "None of its items is selected."
    if draft.refusal == NO_REASON_OFFERED or (draft.refusal is None and not draft.reasons):
        return "Lazada offers no cancellation reason for its items."
    if draft.refusal is not None:
        return f"Lazada refuses to cancel it: {draft.refusal}"
    return None


def group_by_common_reasons(drafts: Sequence[OrderDraft]) -> ReasonGroups:
    """Which orders one request can cover, and the reasons common to them (same `reason_id`, in Lazada's order).

    An order Lazada refuses, with nothing cancellable or without any reason is left out. The request covers the
    other orders that share at least one reason with all the others: while some order shares no reason with some
    other one, the order(s) clashing with the most others are left out, naming the orders they share none with.
    Orders clashing equally are left out together, so the bot never picks one group over another. If the orders
    kept still have no reason common to them all (each pair shares one, all together none), every one of them is
    left out as well.
    """
    left: dict[str, LeftOut] = {}
    kept: list[OrderDraft] = []
    for draft in drafts:
        why = why_not_cancellable(draft)
        if why is None:
            kept.append(draft)
        else:
            left[draft.order_id] = LeftOut(order_id=draft.order_id, why=why, draft=draft)
    offered = {d.order_id: {r.reason_id for r in d.reasons} for d in kept}
    while True:
        clashes = {
            d.order_id: [o.order_id for o in kept if not offered[d.order_id] & offered[o.order_id]] for d in kept
        }
        worst = max((len(c) for c in clashes.values()), default=0)
        if worst == 0:
            break
        for draft in [d for d in kept if len(clashes[d.order_id]) == worst]:
            strangers = clashes[draft.order_id]
            word = "order" if len(strangers) == 1 else "orders"
            own = _names([r.reason_name for r in draft.reasons], shown=5)
            left[draft.order_id] = LeftOut(
                order_id=draft.order_id,
                why=f"Lazada offers it no reason in common with {word} {_names(strangers)} (it offers: {own}).",
                draft=draft,
            )
        kept = [d for d in kept if d.order_id not in left]
    common = set.intersection(*(offered[d.order_id] for d in kept)) if kept else set()
    if not common:
        for draft in kept:
            left[draft.order_id] = LeftOut(
                order_id=draft.order_id,
                why="No single reason is offered for all of these orders together; request them in smaller groups.",
                draft=draft,
            )
        kept = []
    reasons = tuple(r for r in kept[0].reasons if r.reason_id in common) if kept else ()
    ordered = tuple(left[d.order_id] for d in drafts if d.order_id in left)
    return ReasonGroups(included=tuple(kept), left_out=ordered, reasons=reasons)


class Drafter:
    """Builds the request modal's content from Lazada's answers; a read-only conversation with Lazada.

    `seen`, when given, hears of every order read whose items carry a buyer's cancellation request, so the form
    and `order show` feed the same store as the scheduler's scan (issue 11); its failures never fail the draft.
    """

    def __init__(self, seen: ItemsSeen | None = None) -> None:
        self.seen = seen

    async def _tell_seen(self, store: StoreConfig, order_id: str, items: Sequence[OrderItem]) -> None:
        if self.seen is None or not any(i.need_cancel_confirm and i.reverse_order_id for i in items):
            return
        try:
            await self.seen(store.code, order_id, items)
        except Exception:
            log.exception("buyer_request_note_failed", store=store.code, order_id=order_id)

    async def draft(
        self,
        client: OrderReader,
        store: StoreConfig,
        order_id: str,
        selected_ids: Sequence[str] | None = None,
        *,
        rate: RateProjection | None = None,
    ) -> OrderDraft:
        """Read the order's items and, for the selection, Lazada's reasons and tip.

        `selected_ids=None` selects every cancellable item. Lazada errors other than a refusal of the cancellation
        itself propagate (unknown order, token, timeouts): the caller tells the person.
        """
        read = await client.get_order_items(order_id=order_id)
        await self._tell_seen(store, order_id, read)
        items = tuple(Item.from_lazada(i) for i in read)
        cancellable = [i.order_item_id for i in items if i.cancellable]
        if selected_ids is None:
            selected = cancellable
        else:
            wanted = set(selected_ids)
            selected = [i for i in cancellable if i in wanted]
        base = OrderDraft(
            store_code=store.code,
            store_label=store.label,
            order_id=order_id,
            items=items,
            selected_ids=tuple(selected),
            package_conflicts=package_conflicts(items, selected),
            rate=rate,
        )
        if not selected:
            return base
        try:
            validation = await client.validate_cancel(order_id=order_id, order_item_ids=selected)
        except LazadaBusinessError as exc:
            return base.model_copy(update={"refusal": exc.user_message, "tip_type": "error"})
        reasons = tuple(Reason(reason_id=o.reason_id, reason_name=o.reason_name) for o in validation.reason_options)
        return base.model_copy(
            update={
                "reasons": reasons,
                "tip_content": validation.tip_content,
                "tip_type": validation.tip_type,
                "refusal": None if reasons else NO_REASON_OFFERED,
            }
        )

    async def draft_orders(
        self,
        client: OrderReader,
        store: StoreConfig,
        order_ids: Sequence[str],
        *,
        concurrency: int = 8,
    ) -> list[OrderDraft | LeftOut]:
        """Draft several orders concurrently, all cancellable items of each; in the order given.

        At most `concurrency` orders are read at once, and the client's shared limiter keeps the pace within
        Lazada's rate limit. An order Lazada cannot tell about (unknown, or an error) becomes a `LeftOut` saying so.
        """
        gate = asyncio.Semaphore(concurrency)

        async def one(order_id: str) -> OrderDraft | LeftOut:
            async with gate:
                try:
                    return await self.draft(client, store, order_id)
                except LazadaBusinessError as exc:
                    return LeftOut(order_id=order_id, why=exc.user_message)
                except LazadaError as exc:
                    log.info("bulk_draft_order_failed", order_id=order_id, error=str(exc))
                    return LeftOut(order_id=order_id, why=f"Lazada could not be asked about it: {exc.user_message}")

        return list(await asyncio.gather(*(one(o) for o in order_ids)))

    async def draft_bulk(
        self,
        client: OrderReader,
        store: StoreConfig,
        order_ids: Sequence[str],
        *,
        concurrency: int = 8,
    ) -> BulkDraft:
        """Draft several orders and keep, for one request, those sharing a reason; list the others apart with why."""
        results = await self.draft_orders(client, store, order_ids, concurrency=concurrency)
        groups = group_by_common_reasons([r for r in results if isinstance(r, OrderDraft)])
        grouped = {o.order_id: o for o in groups.left_out}
        left_out = [r if isinstance(r, LeftOut) else grouped.get(r.order_id) for r in results]
        return BulkDraft(
            store_code=store.code,
            store_label=store.label,
            orders=groups.included,
            left_out=tuple(o for o in left_out if o is not None),
            reasons=groups.reasons,
        )
