"""Drafting a request: ask Lazada for an order's items and the reasons it allows, and work out the warnings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.lazada.errors import LazadaBusinessError
from bot.lazada.models import CancelValidation, OrderItem
from bot.settings import StoreConfig
from bot.workflow.models import ItemLine, OrderDraft, PackageConflict, RateProjection, Reason

__all__ = ["Drafter", "OrderReader", "item_line", "package_conflicts"]


class OrderReader(Protocol):
    """The part of the Lazada client that drafting needs."""

    async def get_order_items(self, *, order_id: str) -> tuple[OrderItem, ...]:
        """GetOrderItems."""

    async def validate_cancel(self, *, order_id: str, order_item_ids: Sequence[str]) -> CancelValidation:
        """OrderCancelValidate."""


def item_line(item: OrderItem) -> ItemLine:
    """The bot's view of a Lazada order item."""
    return ItemLine(
        order_item_id=item.order_item_id,
        name=item.name or item.sku or item.order_item_id,
        sku=item.sku,
        variation=item.variation,
        status=item.status,
        package_id=item.package_id,
        paid_price=item.paid_price,
        currency=item.currency,
    )


def package_conflicts(items: Sequence[ItemLine], selected_ids: Sequence[str]) -> tuple[PackageConflict, ...]:
    """Packed packages where some items are selected and others are not: Lazada would cancel the others too."""
    selected = set(selected_ids)
    conflicts: list[PackageConflict] = []
    packages = dict.fromkeys(
        i.package_id for i in items if i.package_id and i.order_item_id in selected and i.status == "packed"
    )
    for package_id in packages:
        members = [i for i in items if i.package_id == package_id]
        others = tuple(i for i in members if i.order_item_id not in selected and i.status != "canceled")
        if others:
            chosen = tuple(i for i in members if i.order_item_id in selected)
            conflicts.append(PackageConflict(package_id=package_id, selected=chosen, others=others))
    return tuple(conflicts)


class Drafter:
    """Builds the request modal's content from Lazada's answers; a read-only conversation with Lazada."""

    def __init__(self, *, sandbox: bool = False) -> None:
        self._sandbox = sandbox

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
        items = tuple(item_line(i) for i in await client.get_order_items(order_id=order_id))
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
            sandbox=self._sandbox,
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
                "refusal": None if reasons else "Lazada offers no cancellation reason for these items.",
            }
        )
