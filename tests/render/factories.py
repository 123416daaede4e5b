"""Representative inputs for the renderer tests: drafts, cards, and a checker for Slack's limits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.domain import Item, OrderStatus, RequestStatus
from bot.slack.render.ids import ModalMetadata
from bot.slack.render.text import Message
from bot.workflow.models import (
    OrderDraft,
    OrderLine,
    PackageConflict,
    RateProjection,
    Reason,
    RequestCard,
)

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
HOSTILE = "<!channel> @here @everyone *bold* _it_ ~s~ `code` <http://evil.example|click> &amp; > quote <@U999>"
REASONS = (
    Reason(reason_id="10000019", reason_name="Sourcing Delay"),
    Reason(reason_id="10000021", reason_name="Out of Stock"),
    Reason(reason_id="10000023", reason_name="Wrong Price or Pricing Error"),
)
RATE = RateProjection(
    rate=0.021,
    projected_rate=0.032,
    warning_rate=0.03,
    limit_rate=0.05,
    cancelled_items=21,
    ordered_items=1000,
    status="ok",
    projected_status="warning",
)


def item(n: int, status: str = "pending", *, package: str | None = "PKG1", name: str | None = None) -> Item:
    """An order item numbered ``n``."""
    return Item(
        order_item_id=f"9{n:05d}",
        name=name if name is not None else f"Cotton T-shirt {n}",
        sku=f"TSHIRT_RED_{n}",
        variation="Color:Red, Size:XL",
        status=status,
        package_id=package,
        paid_price=Decimal("12.90"),
        currency="SGD",
    )


def metadata(order_id: str | None = "123456789") -> ModalMetadata:
    """Metadata as the command handler would pack it."""
    return ModalMetadata(store_code="sg-main", order_id=order_id, channel_id="C0OPS", requester_id="U0REQ")


def draft(**overrides: Any) -> OrderDraft:
    """A submittable draft with a mix of cancellable and shipped items."""
    items = (item(1), item(2, "packed"), item(3, "ready_to_ship", package="PKG2"), item(4, "shipped", package=None))
    values: dict[str, Any] = {
        "store_code": "sg-main",
        "store_label": "SG Main",
        "order_id": "123456789",
        "items": items,
        "selected_ids": (items[0].order_item_id, items[2].order_item_id),
        "reasons": REASONS,
        "tip_content": "SKU stock may be set to 0* after cancellation due to reasons Out of Stock",
        "tip_type": "warning",
    }
    values.update(overrides)
    return OrderDraft(**values)


def conflict_draft() -> OrderDraft:
    """A draft where a packed item shares its package with an item that is not selected."""
    items = (item(1, "packed"), item(2, "packed"), item(3, "packed"))
    return draft(
        items=items,
        selected_ids=(items[0].order_item_id,),
        package_conflicts=(PackageConflict(package_id="PKG1", selected=(items[0],), others=items[1:]),),
        rate=RATE,
    )


def order_line(order_id: str, n_items: int = 2, **overrides: Any) -> OrderLine:
    """One order of a request."""
    values: dict[str, Any] = {
        "order_id": order_id,
        "items": tuple(item(i) for i in range(n_items)),
        "tip_content": "SKU stock may be set to 0 after cancellation",
        "tip_type": "warning",
    }
    values.update(overrides)
    return OrderLine(**values)


def card(status: RequestStatus = RequestStatus.PENDING, **overrides: Any) -> RequestCard:
    """A request card for one order."""
    values: dict[str, Any] = {
        "request_id": "CR-7K2Q9",
        "store_code": "sg-main",
        "store_label": "SG Main",
        "orders": (order_line("123456789"),),
        "reason": REASONS[1],
        "justification": "Supplier ran out; customer informed by chat.",
        "requester_id": "U0REQ",
        "status": status,
        "expires_at": NOW + timedelta(hours=12),
        "created_at": NOW,
    }
    values.update(overrides)
    return RequestCard(**values)


def outcome_for(status: RequestStatus) -> OrderStatus:
    """The order outcome that goes with a request status."""
    return {
        RequestStatus.EXECUTING: OrderStatus.EXECUTING,
        RequestStatus.EXECUTED: OrderStatus.EXECUTED,
        RequestStatus.FAILED: OrderStatus.FAILED,
        RequestStatus.NEEDS_ATTENTION: OrderStatus.NEEDS_ATTENTION,
        RequestStatus.CANCEL_PENDING: OrderStatus.CANCEL_PENDING,
    }.get(status, OrderStatus.PENDING)


def decided_card(status: RequestStatus, *, orders: int = 1) -> RequestCard:
    """A card in ``status`` with the decision fields a real one would carry."""
    outcome = outcome_for(status)
    lines = tuple(
        order_line(
            f"1000{n}",
            status=outcome,
            outcome_tip_content="The order has been cancelled" if outcome is OrderStatus.EXECUTED else None,
            outcome_tip_type="success" if outcome is OrderStatus.EXECUTED else None,
            error="Lazada answered E0104" if outcome is OrderStatus.FAILED else None,
        )
        for n in range(orders)
    )
    decided_by = "U0REQ" if status is RequestStatus.WITHDRAWN else "U0APP"
    note = {RequestStatus.REJECTED: "Customer wants it after all", RequestStatus.FAILED: "Lazada refused"}
    return card(
        status,
        orders=lines,
        decided_by=None if status in (RequestStatus.PENDING, RequestStatus.EXPIRED) else decided_by,
        approver_ids=("U0APP",) if outcome is not OrderStatus.PENDING else (),
        decision_note=note.get(status),
    )


def walk_texts(node: Any) -> Iterator[tuple[str, str]]:
    """Every text object in a Block Kit dict as (type, text)."""
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            yield node["type"], node["text"]
        for value in node.values():
            yield from walk_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk_texts(value)


def view_text(view: dict[str, Any]) -> str:
    """Every text of a rendered view, one per line."""
    return "\n".join(text for _, text in walk_texts(view["blocks"]))


def block_with_id(view: dict[str, Any], block_id: str) -> dict[str, Any] | None:
    """The view's block with ``block_id``, if any."""
    return next((b for b in view["blocks"] if b.get("block_id") == block_id), None)


def check_message(message: Message) -> list[dict[str, Any]]:
    """Slack-validate every block (``to_dict``) and the extra limits the SDK does not check."""
    assert message.text.strip()
    assert 1 <= len(message.blocks) <= 50
    dicts = [block.to_dict() for block in message.blocks]
    _check_extra_limits(dicts)
    return dicts


def check_view(view: View, block_limit: int = 100) -> dict[str, Any]:
    """Slack-validate a view and the extra limits the SDK does not check."""
    assert view.blocks is not None
    assert 1 <= len(view.blocks) <= block_limit
    data = view.to_dict()
    _check_extra_limits(data["blocks"])
    return data


def _check_extra_limits(blocks: list[dict[str, Any]]) -> None:
    for block in blocks:
        for field in block.get("fields", []):
            assert len(field["text"]) <= 2000
        if block["type"] == "context":
            for element in block["elements"]:
                assert len(element["text"]) <= 2000
    for kind, text in walk_texts(blocks):
        if kind == "mrkdwn":
            assert len(text) <= 3000


def block_types(blocks: list[Block]) -> list[str]:
    """The types of some blocks, in order."""
    return [b.type or "" for b in blocks]
