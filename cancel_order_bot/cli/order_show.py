"""`order show`: what the bot sees for an order (items, cancellability, reasons, Lazada's tip), read-only."""

from __future__ import annotations

import json
from typing import Any

from bot.workflow.drafting import shared_packages
from bot.workflow.models import OrderDraft

__all__ = ["render_order_json", "render_order_text"]


def _money(amount: object, currency: str | None) -> str:
    if amount is None:
        return "-"
    return f"{currency or ''} {amount}".strip()


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_order_text(draft: OrderDraft, *, sandbox: bool = False) -> str:
    """A person-readable report of the draft, for the terminal."""
    lines = [
        f"Order {draft.order_id} · store {draft.store_label}" + (" · SANDBOX (no real order)" if sandbox else ""),
        "",
    ]
    rows = [["ITEM ID", "NAME", "SKU", "PRICE", "STATUS", "PACKAGE", "CAN CANCEL"]]
    for item in draft.items:
        name = _clip(item.name + (f" ({item.variation})" if item.variation else ""), 40)
        verdict = "yes" if item.cancellable else f"no ({item.status.replace('_', ' ')})"
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
    lines.append("")
    if not draft.cancellable:
        lines.append("No item of this order can be cancelled: only pending, packed and ready-to-ship items can.")
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


def render_order_json(draft: OrderDraft, *, sandbox: bool = False) -> str:
    """The draft as one JSON object, for scripts."""
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
    }
    return json.dumps(data, ensure_ascii=False, indent=2)
