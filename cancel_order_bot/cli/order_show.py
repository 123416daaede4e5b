"""`order show`: what the bot sees for an order (items, cancellability, reasons, Lazada's tip, the buyer's open
cancellation requests), read-only on Lazada."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.buyer.models import BuyerRequest
from bot.buyer.timing import store_time, time_left
from bot.workflow.drafting import shared_packages
from bot.workflow.models import OrderDraft

__all__ = ["BuyerRequestsNow", "render_order_json", "render_order_text"]


class BuyerRequestsNow:
    """The order's open buyer cancellation requests, with what it takes to show them: now, the store's zone and
    currency."""

    def __init__(
        self, requests: Sequence[BuyerRequest], *, now: datetime, tz: ZoneInfo, currency: str | None = None
    ) -> None:
        self.requests = tuple(requests)
        self.now = now
        self.tz = tz
        self.currency = currency

    def refund(self, request: BuyerRequest) -> str:
        """The refund Lazada announces, from its minor units (VND whole)."""
        if request.refund_total is None:
            return "-"
        whole = (self.currency or "").upper() == "VND"
        amount = Decimal(request.refund_total) if whole else Decimal(request.refund_total) / 100
        return f"{self.currency or ''} {amount:,.{0 if whole else 2}f}".strip()

    def deadline(self, request: BuyerRequest) -> str:
        """Lazada's deadline in the store's time, and the time left."""
        if request.deadline is None:
            return "no deadline given by Lazada"
        left = time_left(request.deadline, self.now)
        if left == "passed":
            left = "passed; Lazada decides it now"
        return f"{store_time(request.deadline, self.tz)}, {left}"


def _buyer_lines(buyer: BuyerRequestsNow | None) -> list[str]:
    if buyer is None or not buyer.requests:
        return []
    lines = ["", f"The buyer asked to cancel ({len(buyer.requests)} open request(s) waiting for the seller's answer):"]
    for request in buyer.requests:
        items = ", ".join(f"{line.item_name or line.sku or 'item'} [{line.order_item_id}]" for line in request.lines)
        lines.append(f"  reverse order {request.reverse_order_id}: {items}")
        lines.append(f"    buyer's reason: {request.buyer_reason or '(none given)'} · refund {buyer.refund(request)}")
        lines.append(f"    answer by {buyer.deadline(request)}; if nobody answers, Lazada decides by itself")
    lines.append(
        "  Accepting it (Accept on its card in Slack, or in the /cancel-order form) cancels at the buyer's request: "
        "that does not count against the seller's cancellation rate, unlike a cancellation for a seller reason."
    )
    return lines


def _money(amount: object, currency: str | None) -> str:
    if amount is None:
        return "-"
    return f"{currency or ''} {amount}".strip()


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_order_text(draft: OrderDraft, *, sandbox: bool = False, buyer: BuyerRequestsNow | None = None) -> str:
    """A person-readable report of the draft (and the buyer's open requests), for the terminal."""
    lines = [
        f"Order {draft.order_id} · store {draft.store_label}" + (" · SANDBOX (no real order)" if sandbox else ""),
        "",
    ]
    rows = [["ITEM ID", "NAME", "SKU", "PRICE", "STATUS", "PACKAGE", "CAN CANCEL"]]
    for item in draft.items:
        name = _clip(item.name + (f" ({item.variation})" if item.variation else ""), 40)
        why = "cancellation pending at Lazada" if item.is_cancel_pending else item.status.replace("_", " ")
        verdict = "yes" if item.cancellable else f"no ({why})"
        rows.append(
            [
                item.order_item_id,
                name,
                item.sku or "-",
                _money(item.paid_price, item.currency),
                item.status,
                item.package_id or "-",
                verdict,
            ]
        )
    lines += _table(rows)
    lines += _buyer_lines(buyer)
    lines.append("")
    if not draft.cancellable:
        lines.append(draft.nothing_cancellable)
        return "\n".join(lines)
    count = len(draft.selected_ids)
    if draft.refusal:
        lines.append(f"Lazada refuses to cancel the {count} cancellable item(s): {draft.refusal}")
        return "\n".join(lines)
    lines.append(f"Reasons Lazada offers for the {count} cancellable item(s):")
    for reason in draft.reasons:
        note = "   (sets the SKU's stock to 0)" if reason.zeroes_stock else ""
        lines.append(f"  {reason.reason_id}  {reason.reason_name}{note}")
    if draft.tip_content:
        lines += ["", f"Lazada says ({draft.tip_type or 'info'}): {draft.tip_content}"]
    warnings: list[str] = []
    for conflict in draft.package_conflicts:
        others = ", ".join(f"{i.name} [{i.order_item_id}]" for i in conflict.others)
        warnings.append(
            f"package {conflict.package_id} also holds {others}: Lazada cancels them too unless the package is "
            "repacked first (choose “Repack first” on the request form)"
        )
    for package_id, members in shared_packages(draft.items).items():
        listed = ", ".join(f"{i.name} [{i.order_item_id}] ({i.status.replace('_', ' ')})" for i in members)
        warnings.append(
            f"package {package_id} holds {listed}: cancelling only some of them cancels the others too, unless "
            "the package is repacked first (the request form offers “Repack first”)"
        )
    for item in draft.ready_to_ship_selected:
        warnings.append(f"{item.name} [{item.order_item_id}] is ready to ship: a courier pickup may be arranged")
    if warnings:
        lines += ["", "Warnings:"] + [f"  - {w}" for w in warnings]
    return "\n".join(lines)


def _buyer_json(buyer: BuyerRequestsNow | None) -> list[dict[str, Any]]:
    if buyer is None:
        return []
    return [
        {
            "reverse_order_id": r.reverse_order_id,
            "status": r.status.value,
            "order_item_ids": [line.order_item_id for line in r.lines],
            "buyer_reason": r.buyer_reason,
            "refund_total": r.refund_total,
            "refund_currency": buyer.currency,
            "deadline": r.deadline.isoformat() if r.deadline else None,
            "card": {"channel": r.channel_id, "ts": r.message_ts} if r.message_ts else None,
        }
        for r in buyer.requests
    ]


def render_order_json(draft: OrderDraft, *, sandbox: bool = False, buyer: BuyerRequestsNow | None = None) -> str:
    """The draft (and the buyer's open requests, ``buyer_requests``) as one JSON object, for scripts."""
    data: dict[str, Any] = {
        "store": draft.store_code,
        "order_id": draft.order_id,
        "sandbox": sandbox,
        "items": [
            {
                "order_item_id": i.order_item_id,
                "name": i.name,
                "sku": i.sku,
                "variation": i.variation,
                "paid_price": str(i.paid_price) if i.paid_price is not None else None,
                "currency": i.currency,
                "status": i.status,
                "package_id": i.package_id,
                "cancellable": i.cancellable,
            }
            for i in draft.items
        ],
        "cancellable_item_ids": list(draft.selected_ids),
        "reasons": [
            {"reason_id": r.reason_id, "reason_name": r.reason_name, "zeroes_stock": r.zeroes_stock}
            for r in draft.reasons
        ],
        "tip_content": draft.tip_content,
        "tip_type": draft.tip_type,
        "refusal": draft.refusal,
        "package_conflicts": [
            {"package_id": c.package_id, "other_item_ids": [i.order_item_id for i in c.others]}
            for c in draft.package_conflicts
        ],
        "shared_packages": [
            {"package_id": package_id, "item_ids": [i.order_item_id for i in members], "repack_first": True}
            for package_id, members in shared_packages(draft.items).items()
        ],
        "buyer_requests": _buyer_json(buyer),
    }
    return json.dumps(data, ensure_ascii=False, indent=2)
