"""The approval message in every state."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.domain import OrderStatus, RequestStatus
from bot.slack.render.ids import REQUEST_ACTIONS_BLOCK, REQUEST_APPROVE, REQUEST_REJECT, REQUEST_WITHDRAW, ButtonValue
from bot.slack.render.request_message import render_request_message
from bot.workflow.models import Reason
from tests.render.factories import (
    NOW,
    RATE,
    card,
    check_message,
    decided_card,
    item,
    order_line,
    walk_texts,
)


def _text(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(text for _, text in walk_texts(blocks))


def _actions(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b["type"] == "actions"]


def _fifty_orders(status: RequestStatus) -> Any:
    outcomes = [OrderStatus.EXECUTED] * 40 + [OrderStatus.FAILED] + [OrderStatus.NEEDS_ATTENTION] * 9
    lines = tuple(
        order_line(
            f"88000{n:03d}",
            3,
            siblings=(item(90 + n, "packed", name="Sibling product " * 8),),
            tip_content=f"Tip for order {n}: stock may be set to 0 " + "x" * 200,
            status=outcomes[n] if status in (RequestStatus.EXECUTED, RequestStatus.FAILED) else OrderStatus.PENDING,
            outcome_tip_content="The order has been cancelled " + "y" * 300,
            outcome_tip_type="success",
            error="Lazada answered E0104" if outcomes[n] is OrderStatus.FAILED else None,
        )
        for n in range(50)
    )
    return card(status, orders=lines, rate=RATE, decided_by="U0APP", approver_ids=("U0APP",))


@pytest.mark.parametrize("status", list(RequestStatus))
def test_every_status_renders_a_valid_message(status: RequestStatus) -> None:
    for orders in (1, 3):
        message = render_request_message(decided_card(status, orders=orders), now=NOW)
        check_message(message)
        assert "CR-7K2Q9" in message.text


@pytest.mark.parametrize("status", list(RequestStatus))
def test_buttons_only_while_pending(status: RequestStatus) -> None:
    blocks = check_message(render_request_message(decided_card(status), now=NOW))
    assert bool(_actions(blocks)) is (status is RequestStatus.PENDING)


@pytest.mark.parametrize("status", list(RequestStatus))
def test_fifty_orders_stay_within_fifty_blocks(status: RequestStatus) -> None:
    message = render_request_message(_fifty_orders(status), now=NOW)
    blocks = check_message(message)
    assert len(blocks) <= 50
    text = _text(blocks)
    assert "88000000" in text
    assert "88000049" in text or "more orders" in text


def test_fifty_orders_with_many_long_items_are_summarised() -> None:
    lines = tuple(
        order_line(f"77000{n:03d}", 0, items=tuple(item(k, name="Very long product name " * 10) for k in range(40)))
        for n in range(50)
    )
    blocks = check_message(render_request_message(card(orders=lines), now=NOW))
    assert "2000 items" in _text(blocks)


def test_a_single_order_with_hundreds_of_items_is_summarised() -> None:
    lines = (order_line("123", 0, items=tuple(item(k, name="Product " * 15) for k in range(1000))),)
    blocks = check_message(render_request_message(card(orders=lines), now=NOW))
    assert "more items" in _text(blocks)


def test_pending_buttons_carry_the_request_and_approve_asks_for_confirmation() -> None:
    blocks = check_message(render_request_message(card(), now=NOW))
    (actions,) = _actions(blocks)
    assert actions["block_id"] == REQUEST_ACTIONS_BLOCK
    approve, reject, withdraw = actions["elements"]
    assert [approve["action_id"], reject["action_id"], withdraw["action_id"]] == [
        REQUEST_APPROVE,
        REQUEST_REJECT,
        REQUEST_WITHDRAW,
    ]
    for button in (approve, reject, withdraw):
        assert ButtonValue.unpack(button["value"]).request_id == "CR-7K2Q9"
    assert approve["style"] == "primary"
    assert approve["confirm"]["title"]["text"] == "Cancel 2 items on Lazada?"
    assert approve["confirm"]["style"] == "danger"
    assert "order 123456789" in approve["confirm"]["text"]["text"]
    assert "style" not in reject
    assert "style" not in withdraw


def test_pending_message_shows_everything_an_approver_needs() -> None:
    lines = (order_line("123456789", items=(item(1), item(2, "ready_to_ship"))),)
    text = _text(check_message(render_request_message(card(orders=lines, rate=RATE), now=NOW)))
    assert "SG Main (sg-main)" in text
    assert "*Order*\n123456789" in text
    assert "Cotton T-shirt 1 · SKU TSHIRT_RED_1 · Color:Red, Size:XL · SGD 12.90 · pending · package PKG1" in text
    assert "*Reason*\nOut of Stock" in text
    assert "Supplier ran out; customer informed by chat." in text
    assert "⚠️ *Lazada says:* SKU stock may be set to 0 after cancellation" in text
    assert "Ready to ship" in text
    assert "2.10% now → 3.20%" in text
    assert "<@U0REQ>" in text
    assert "*Expires*\n<!date^1796076000^{date_short_pretty} {time}|2026-11-30 22:00 UTC>" in text
    assert "passed" not in text


def test_pending_message_past_its_expiry_says_so() -> None:
    text = _text(check_message(render_request_message(card(), now=NOW + timedelta(hours=12, seconds=1))))
    assert "UTC> (passed; closing soon)" in text


def test_stock_zeroing_reason_names_the_skus() -> None:
    text = _text(check_message(render_request_message(card(), now=NOW)))
    assert "Stock goes to 0" in text
    assert "SKU TSHIRT_RED_0, TSHIRT_RED_1 to 0" in text


def test_no_stock_warning_for_a_reason_that_keeps_stock() -> None:
    reason = Reason(reason_id="10000019", reason_name="Sourcing Delay")
    assert "Stock goes to 0" not in _text(check_message(render_request_message(card(reason=reason), now=NOW)))


def test_siblings_are_announced_unless_repacking_first() -> None:
    lines = (order_line("123", siblings=(item(7, "packed", name="Blue mug"),)),)
    cancels = _text(check_message(render_request_message(card(orders=lines), now=NOW)))
    assert "Also cancelled — same package" in cancels
    assert "Blue mug" in cancels
    repack = _text(check_message(render_request_message(card(orders=lines, repack_first=True), now=NOW)))
    assert "Repack first:" in repack
    assert "Also cancelled" not in repack


def test_two_approvals_show_how_many_so_far() -> None:
    text = _text(check_message(render_request_message(card(required_approvals=2, approver_ids=("U0APP",)), now=NOW)))
    assert "1 of 2 approvals: <@U0APP>" in text


def test_executing_says_who_approved() -> None:
    text = _text(check_message(render_request_message(decided_card(RequestStatus.EXECUTING), now=NOW)))
    assert "Approved by <@U0APP>, cancelling…" in text


def test_executed_shows_lazadas_outcome_tip() -> None:
    text = _text(check_message(render_request_message(decided_card(RequestStatus.EXECUTED), now=NOW)))
    assert "Cancelled on Lazada" in text
    assert "✅ *Lazada says:* The order has been cancelled" in text


def test_failed_shows_the_explanation() -> None:
    text = _text(check_message(render_request_message(decided_card(RequestStatus.FAILED), now=NOW)))
    assert "Cancellation failed" in text
    assert "Lazada refused" in text
    assert "Lazada answered E0104" in text


def test_needs_attention_says_what_to_check_in_seller_center() -> None:
    text = _text(check_message(render_request_message(decided_card(RequestStatus.NEEDS_ATTENTION), now=NOW)))
    assert "Needs attention" in text
    assert "Open order 10000 in Seller Center" in text


def test_rejected_says_by_whom_and_why() -> None:
    text = _text(check_message(render_request_message(decided_card(RequestStatus.REJECTED), now=NOW)))
    assert "Rejected by <@U0APP>*: Customer wants it after all" in text


def test_withdrawn_and_expired_are_stamped() -> None:
    withdrawn = _text(check_message(render_request_message(decided_card(RequestStatus.WITHDRAWN), now=NOW)))
    assert "Withdrawn by <@U0REQ>" in withdrawn
    expired = _text(
        check_message(render_request_message(decided_card(RequestStatus.EXPIRED), now=NOW + timedelta(hours=13)))
    )
    assert "Expired" in expired
    assert "Nothing was cancelled" in expired


def test_multi_order_outcome_has_a_summary_and_a_line_per_order() -> None:
    statuses = [OrderStatus.EXECUTED] * 12 + [OrderStatus.FAILED] + [OrderStatus.PENDING] * 27
    lines = tuple(order_line(f"55{n:03d}", 1, status=s) for n, s in enumerate(statuses))
    text = _text(check_message(render_request_message(card(RequestStatus.EXECUTING, orders=lines), now=NOW)))
    assert "*Outcome:* 12/40 cancelled, 1 failed, 27 waiting" in text
    assert "• ✅ *55000*" in text
    assert "• ❌ *55012*" in text


def test_fallback_text_names_request_state_and_order() -> None:
    message = render_request_message(card(), now=NOW)
    assert message.text == (
        "Cancellation request CR-7K2Q9 (waiting for approval): 2 items of order 123456789 in SG Main, "
        "reason Out of Stock"
    )


@pytest.mark.parametrize(
    ("siblings", "sentence"),
    [
        (1, "Lazada cancels 1 item that was not selected, because it shares a package with the selected ones"),
        (2, "Lazada cancels 2 items that were not selected, because they share a package with the selected ones"),
    ],
)
def test_the_also_cancelled_sentence_agrees_with_the_count(siblings: int, sentence: str) -> None:
    others = tuple(item(7 + n, "packed") for n in range(siblings))
    text = _text(check_message(render_request_message(card(orders=(order_line("123", siblings=others),)), now=NOW)))
    assert sentence in text


def test_repack_first_names_the_packages_and_says_what_was_done_once_cancelled() -> None:
    sibling = item(7, "packed", name="Blue mug", package="FP0001")
    lines = (order_line("123", siblings=(sibling,)),)
    pending = _text(check_message(render_request_message(card(orders=lines, repack_first=True), now=NOW)))
    assert (
        "*Repack first:* the 1 other item sharing a package with the selected ones is repacked before the "
        "cancellation, so it stays in the order."
    ) in pending
    assert "• package FP0001: Blue mug (TSHIRT_RED_7)" in pending
    executed = card(
        RequestStatus.EXECUTED,
        orders=(order_line("123", siblings=(sibling,), status=OrderStatus.EXECUTED),),
        repack_first=True,
        approver_ids=("U0APP",),
    )
    done = _text(check_message(render_request_message(executed, now=NOW)))
    assert "*Repacked first, then cancelled:* the 1 other item sharing a package with the cancelled ones was" in done
    assert "• package FP0001: Blue mug" in done
    assert "Repack first:" not in done


def test_repack_first_over_several_orders_names_each_orders_packages() -> None:
    lines = (
        order_line("111", siblings=(item(7, "packed", package="FP1"), item(8, "packed", package="FP2"))),
        order_line("222", siblings=(item(9, "packed", package="FP3"),)),
    )
    text = _text(check_message(render_request_message(card(orders=lines, repack_first=True), now=NOW)))
    assert "the 3 other items sharing a package with the selected ones are repacked" in text
    assert "• *111*, packages FP1, FP2:" in text
    assert "• *222*, package FP3:" in text


def test_repack_first_on_a_request_that_never_ran_says_it_was_only_asked() -> None:
    lines = (order_line("123", siblings=(item(7, "packed"),)),)
    text = _text(
        check_message(
            render_request_message(
                decided_card(RequestStatus.REJECTED).model_copy(update={"orders": lines, "repack_first": True}), now=NOW
            )
        )
    )
    assert "*Repack first* was asked for the 1 other item" in text
    assert "Repacked" not in text


@pytest.mark.parametrize("orders", [1, 3])
@pytest.mark.parametrize("status", list(RequestStatus))
def test_lazada_says_is_shown_once_per_message(status: RequestStatus, orders: int) -> None:
    text = _text(check_message(render_request_message(decided_card(status, orders=orders), now=NOW)))
    assert text.count("Lazada says") == 1


def test_lazadas_answer_to_the_cancellation_stands_for_what_it_said_when_asked() -> None:
    done = _text(check_message(render_request_message(decided_card(RequestStatus.EXECUTED), now=NOW)))
    assert "*Lazada says:* The order has been cancelled" in done
    assert "SKU stock may be set to 0 after cancellation" not in done
    failed = _text(check_message(render_request_message(decided_card(RequestStatus.FAILED), now=NOW)))
    assert "*Lazada says:* SKU stock may be set to 0 after cancellation" in failed, "no answer: the tip stays"


def test_different_tips_per_order_are_listed_under_one_lazada_says() -> None:
    lines = tuple(order_line(f"1000{n}", tip_content=f"Tip {n}") for n in range(3))
    text = _text(check_message(render_request_message(card(orders=lines), now=NOW)))
    assert text.count("Lazada says") == 1
    assert all(f"Tip {n}" in text for n in range(3))


def test_a_cancellation_pending_at_lazada_is_stamped_so_and_promises_no_second_cancel() -> None:
    pending = decided_card(RequestStatus.CANCEL_PENDING)
    text = "\n".join(t for _, t in walk_texts(check_message(render_request_message(pending, now=NOW))))
    assert "Cancellation pending at Lazada" in text
    assert "never sends the cancellation again" in text
    assert "cancellation pending at Lazada" in render_request_message(pending, now=NOW).text


def test_a_bulk_card_counts_orders_pending_at_lazada_and_names_them() -> None:
    lines = (
        order_line("10001", status=OrderStatus.EXECUTED),
        order_line("10002", status=OrderStatus.CANCEL_PENDING),
    )
    bulk = card(RequestStatus.CANCEL_PENDING, orders=lines, approver_ids=("U0APP",), decided_by="U0APP")
    text = "\n".join(t for _, t in walk_texts(check_message(render_request_message(bulk, now=NOW))))
    assert "*Outcome:* 1/2 cancelled, 1 pending at Lazada" in text
    assert "for order 10002" in text
    assert "10002* — 2 items: " in text
    assert "— cancellation pending at Lazada" in text


def test_an_applied_cancel_answered_with_an_error_tip_shows_the_tip_and_that_the_items_are_cancelled() -> None:
    done = card(
        RequestStatus.EXECUTED,
        orders=(
            order_line(
                "10001",
                status=OrderStatus.EXECUTED,
                outcome_tip_content="stock will be set as 0",
                outcome_tip_type="error",
            ),
        ),
        approver_ids=("U0APP",),
        decided_by="U0APP",
    )
    text = "\n".join(t for _, t in walk_texts(check_message(render_request_message(done, now=NOW))))
    assert "Cancelled on Lazada" in text
    assert "⛔ *Lazada says:* stock will be set as 0" in text
    assert "yet its items show the cancellation done" in text
