"""Turning a stored request into what Slack shows: the approval card model."""

from __future__ import annotations

from bot.store.models import CancelRequest, RequestOrder
from bot.workflow.drafting import package_conflicts
from bot.workflow.models import BuyerRequestOnOrder, OrderLine, RateProjection, Reason, RequestCard

__all__ = ["card_for"]


def _order_line(order: RequestOrder) -> OrderLine:
    chosen = set(order.item_ids)
    selected = tuple(i for i in order.items if i.order_item_id in chosen)
    # The drafting rule, so the card warns about exactly the items the form and the execution treat as siblings.
    siblings = tuple(i for conflict in package_conflicts(order.items, order.item_ids) for i in conflict.others)
    return OrderLine(
        order_id=order.order_id,
        items=selected,
        siblings=siblings,
        status=order.status,
        tip_content=order.validate_tip_content,
        tip_type=order.validate_tip_type,
        outcome_tip_content=order.outcome_tip_content,
        outcome_tip_type=order.outcome_tip_type,
        error=order.error,
    )


def card_for(
    request: CancelRequest,
    *,
    store_label: str,
    rate: RateProjection | None = None,
    buyer_requests: tuple[BuyerRequestOnOrder, ...] = (),
) -> RequestCard:
    """The approval card for a stored request (with the open buyer requests on its orders, when the caller knows)."""
    return RequestCard(
        request_id=request.id,
        store_code=request.store_code,
        store_label=store_label,
        orders=tuple(_order_line(o) for o in request.orders),
        reason=Reason(reason_id=request.reason_id, reason_name=request.reason_name),
        justification=request.justification,
        requester_id=request.requester_id,
        status=request.status,
        required_approvals=request.required_approvals,
        approval_basis=request.approval_basis,
        approver_ids=request.approver_ids,
        decided_by=request.decided_by,
        decision_note=request.decision_note,
        repack_first=request.repack_first,
        expires_at=request.expires_at,
        created_at=request.created_at,
        rate=rate,
        buyer_requests=buyer_requests,
    )
