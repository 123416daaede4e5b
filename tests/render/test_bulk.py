"""The bulk request modal, its metadata, and the approval message of many orders."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from bot.domain import Item, OrderStatus, RequestStatus
from bot.slack.render.bulk import (
    bulk_metadata,
    render_bulk_loading_modal,
    render_bulk_modal,
    render_bulk_submitting_modal,
)
from bot.slack.render.ids import (
    BULK_MODAL,
    JUSTIFICATION_BLOCK,
    PACKAGE_CHOICE_BLOCK,
    PRIVATE_METADATA_LIMIT,
    REASON_BLOCK,
    BulkMetadata,
    ModalMetadata,
)
from bot.slack.render.request_message import render_request_message
from bot.workflow.models import (
    BulkDraft,
    LeftOut,
    OrderDraft,
    PackageConflict,
    Reason,
)
from tests.render.factories import (
    HOSTILE,
    NOW,
    RATE,
    REASONS,
    block_with_id,
    card,
    check_message,
    check_view,
    order_line,
    view_text,
    walk_texts,
)

_OUR_MARKUP = re.compile(r"<@[UW][A-Z0-9]+>")


def _item(order: int, n: int, status: str = "pending", *, name: str | None = None) -> Item:
    return Item(
        order_item_id=f"{order}{n:03d}",
        name=name if name is not None else f"Cotton T-shirt {n} " + "long name " * 8,
        sku=f"TSHIRT_RED_{order}_{n}",
        status=status,
        package_id=f"FP{order}",
        paid_price=Decimal("12.90"),
        currency="SGD",
    )


def _order(n: int, *, items: int = 3, status: str = "pending", text: str | None = None) -> OrderDraft:
    lines = tuple(_item(n, i, status, name=text) for i in range(items))
    return OrderDraft(
        store_code="sg-main",
        store_label="SG Main",
        order_id=f"2000000000{n:05d}",
        items=lines,
        selected_ids=tuple(i.order_item_id for i in lines),
        reasons=REASONS,
        tip_content=text or "SKU stock may be set to 0* after cancellation",
        tip_type="warning",
    )


def _bulk(included: int = 30, left_out: int = 20, **overrides: Any) -> BulkDraft:
    values: dict[str, Any] = {
        "store_code": "sg-main",
        "store_label": "SG Main",
        "orders": tuple(_order(n) for n in range(included)),
        "left_out": tuple(
            LeftOut(order_id=f"3000000000{n:05d}", why="Nothing in it can be cancelled: its items are shipped. " * 6)
            for n in range(left_out)
        ),
        "reasons": REASONS,
        "rate": RATE,
    }
    values.update(overrides)
    return BulkDraft(**values)


def _metadata(draft: BulkDraft) -> BulkMetadata:
    packed = bulk_metadata(draft, channel_id="C0OPS", requester_id="U0REQ")
    assert packed is not None
    return packed


def test_fifty_orders_fit_one_view_with_their_metadata() -> None:
    draft = _bulk(included=50, left_out=0)
    metadata = _metadata(draft)
    view = check_view(render_bulk_modal(draft, metadata))
    assert view["callback_id"] == BULK_MODAL
    assert view["submit"]["text"] == "Request approval"
    assert len(view["blocks"]) <= 100
    assert len(view["private_metadata"]) <= PRIVATE_METADATA_LIMIT
    assert BulkMetadata.unpack(view["private_metadata"]) == metadata
    assert metadata.order_ids == [o.order_id for o in draft.orders]
    assert metadata.digests == [o.selection_digest for o in draft.orders]
    text = view_text(view)
    assert "One request for *50 orders* (150 items)" in text
    assert all(f"*{o.order_id}* — 3 items" in text or "more orders" in text for o in draft.orders)


def test_included_and_left_out_orders_are_summarised_in_compact_lines() -> None:
    view = check_view(render_bulk_modal(_bulk(included=30, left_out=20), _metadata(_bulk(30, 20))))
    assert len(view["blocks"]) <= 100
    text = view_text(view)
    assert "*In this request (30)*" in text
    assert "*Left out (20)*: not part of this request." in text
    assert "*300000000000000* — Nothing in it can be cancelled" in text


def test_the_form_offers_only_the_common_reasons_and_asks_for_a_justification() -> None:
    draft = _bulk(3, 0, reasons=REASONS[:2])
    view = check_view(render_bulk_modal(draft, _metadata(draft)))
    reason = block_with_id(view, REASON_BLOCK)
    assert reason is not None
    assert [o["value"] for o in reason["element"]["options"]] == [r.reason_id for r in REASONS[:2]]
    assert block_with_id(view, JUSTIFICATION_BLOCK) is not None
    assert block_with_id(view, PACKAGE_CHOICE_BLOCK) is None, "no shared package, no choice"


def test_stock_zeroing_and_ready_to_ship_are_warned_about_for_all_orders() -> None:
    orders = (_order(1), _order(2, status="ready_to_ship"))
    draft = _bulk(orders=orders, left_out=0)
    text = view_text(check_view(render_bulk_modal(draft, _metadata(draft))))
    assert "Stock goes to 0" in text
    assert "TSHIRT_RED_1_0" in text
    assert "TSHIRT_RED_2_0" in text
    assert "Ready to ship" in text
    assert "(3 ready to ship)" in text


def test_shared_packages_get_one_repack_choice_for_the_whole_request() -> None:
    first, second = _order(1), _order(2)
    sibling = _item(1, 99, "shipped", name="Phone Case")
    with_conflict = first.model_copy(
        update={"package_conflicts": (PackageConflict(package_id="FP1", selected=first.items[:1], others=(sibling,)),)}
    )
    draft = _bulk(orders=(with_conflict, second), left_out=0)
    view = check_view(render_bulk_modal(draft, _metadata(draft)))
    choice = block_with_id(view, PACKAGE_CHOICE_BLOCK)
    assert choice is not None
    assert [o["value"] for o in choice["element"]["options"]] == ["repack_first", "whole_package"]
    assert choice["element"]["initial_option"]["value"] == "repack_first"
    assert "Phone Case" in view_text(view)
    assert "package FP1, also holds an item that is not in the request: Phone Case" in view_text(view)


def test_nothing_to_submit_carries_no_metadata_and_says_why() -> None:
    draft = _bulk(included=0, left_out=3, reasons=())
    assert bulk_metadata(draft, channel_id="C0OPS", requester_id="U0REQ") is None
    view = check_view(render_bulk_modal(draft, None))
    assert "submit" not in view
    assert "private_metadata" not in view or not view["private_metadata"]
    assert "None of these orders can be cancelled" in view_text(view)


def test_orders_without_a_common_reason_say_so() -> None:
    left = tuple(
        LeftOut(order_id=o.order_id, why="Lazada offers it no reason in common with order 1.", draft=o)
        for o in (_order(1), _order(2))
    )
    draft = BulkDraft(store_code="sg-main", store_label="SG Main", orders=(), left_out=left)
    view = check_view(render_bulk_modal(draft, None))
    assert "cannot go in one request: no reason is offered for all of them" in view_text(view)


def test_differing_lazada_tips_are_listed_per_order_and_equal_ones_once() -> None:
    same = _bulk(3, 0)
    text = view_text(check_view(render_bulk_modal(same, _metadata(same))))
    assert text.count("SKU stock may be set to 0") == 1
    differing = _bulk(orders=(_order(1), _order(2, text="Order two is in a campaign")), left_out=0)
    text = view_text(check_view(render_bulk_modal(differing, _metadata(differing))))
    assert "*Lazada says:*" in text
    assert "*200000000000002*" in text


def test_hostile_lazada_and_user_text_is_escaped_in_the_bulk_modal() -> None:
    orders = (_order(1, text=HOSTILE), _order(2, text=HOSTILE))
    draft = _bulk(
        orders=orders,
        left_out=0,
        reasons=(Reason(reason_id="1", reason_name=HOSTILE),),
        store_label=HOSTILE,
    ).model_copy(update={"left_out": (LeftOut(order_id="999", why=HOSTILE),)})
    view = check_view(render_bulk_modal(draft, _metadata(draft)))
    for kind, text in walk_texts(view):
        assert not re.search(r"(?<![\u200b])[@＠](channel|here|everyone)", text, re.IGNORECASE), text
        if kind == "mrkdwn":
            rest = _OUR_MARKUP.sub("", text)
            assert "<" not in rest, rest
            assert ">" not in rest, rest
            assert "*bold*" not in rest


def test_loading_and_submitting_modals_name_the_orders() -> None:
    loading = check_view(render_bulk_loading_modal([str(100000 + n) for n in range(12)], "SG <Main>"))
    text = view_text(loading)
    assert "12 orders" in text
    assert "100000" in text
    assert "and 2 more" in text
    assert "SG &lt;Main&gt;" in text
    assert "submit" not in loading
    assert "3 orders" in view_text(check_view(render_bulk_submitting_modal(3)))


@pytest.mark.parametrize(
    "data",
    [
        {"order_ids": ["1", "2"], "digests": ["abcdef12"]},
        {"order_ids": ["1", "1"], "digests": ["abcdef12", "abcdef12"]},
        {"order_ids": [], "digests": []},
        {"order_ids": ["1"], "digests": ["not-hex!"]},
        {"order_ids": [str(n) for n in range(51)], "digests": ["abcdef12"] * 51},
    ],
)
def test_bulk_metadata_refuses_what_the_bot_never_packs(data: dict[str, Any]) -> None:
    raw = '{"k":"bulk","store_code":"sg-main","channel_id":"C0OPS","requester_id":"U0REQ",' + (
        f'"order_ids":{_json(data["order_ids"])},"digests":{_json(data["digests"])}}}'
    )
    with pytest.raises(ValueError, match="not a valid BulkMetadata"):
        BulkMetadata.unpack(raw)


def _json(values: list[str]) -> str:
    return "[" + ",".join(f'"{v}"' for v in values) + "]"


def test_bulk_and_request_metadata_are_not_interchangeable() -> None:
    draft = _bulk(2, 0)
    packed = _metadata(draft).pack()
    with pytest.raises(ValueError, match="not a valid ModalMetadata"):
        ModalMetadata.unpack(packed)
    single = ModalMetadata(store_code="sg-main", order_id="1", channel_id="C0OPS", requester_id="U0REQ").pack()
    with pytest.raises(ValueError, match="not a valid BulkMetadata"):
        BulkMetadata.unpack(single)


def test_a_selection_digest_changes_with_the_items() -> None:
    order = _order(1)
    fewer = order.model_copy(update={"selected_ids": order.selected_ids[:2]})
    reordered = order.model_copy(update={"selected_ids": tuple(reversed(order.selected_ids))})
    assert order.selection_digest != fewer.selection_digest
    assert order.selection_digest == reordered.selection_digest


@pytest.mark.parametrize("status", list(RequestStatus))
def test_the_approval_message_of_fifty_orders_fits_in_every_state(status: RequestStatus) -> None:
    outcome = {
        RequestStatus.EXECUTED: OrderStatus.EXECUTED,
        RequestStatus.FAILED: OrderStatus.FAILED,
        RequestStatus.NEEDS_ATTENTION: OrderStatus.NEEDS_ATTENTION,
        RequestStatus.EXECUTING: OrderStatus.EXECUTING,
    }.get(status, OrderStatus.PENDING)
    lines = tuple(
        order_line(f"2000000000{n:05d}", 5, status=outcome, error="Lazada refused: E0104 " * 5) for n in range(50)
    )
    blocks = check_message(render_request_message(card(status, orders=lines, rate=RATE), now=NOW))
    assert len(blocks) <= 50


def test_the_same_outcome_tip_of_many_orders_is_shown_once() -> None:
    tip = "The order has been cancelled and SKU stock may have been set to 0."
    lines = tuple(
        order_line(f"55{n:03d}", 1, status=OrderStatus.EXECUTED, outcome_tip_content=tip, outcome_tip_type="success")
        for n in range(20)
    )
    text = "\n".join(
        t
        for _, t in walk_texts(
            check_message(render_request_message(card(RequestStatus.EXECUTED, orders=lines), now=NOW))
        )
    )
    assert text.count(tip) == 1
    assert "*Outcome:* 20/20 cancelled" in text
    differing = tuple(
        line.model_copy(update={"outcome_tip_content": f"{tip} ({n})"}) for n, line in enumerate(lines[:3])
    )
    text = "\n".join(
        t
        for _, t in walk_texts(
            check_message(render_request_message(card(RequestStatus.EXECUTED, orders=differing), now=NOW))
        )
    )
    assert f"{tip} (0)" in text
    assert f"{tip} (2)" in text


def test_bulk_modal_offers_every_reason_past_the_hundredth_in_groups() -> None:
    reasons = tuple(Reason(reason_id=str(n), reason_name=f"Reason {n}") for n in range(150))
    draft = _bulk(included=2, left_out=0, reasons=reasons)
    view = check_view(render_bulk_modal(draft, _metadata(draft)))
    select = block_with_id(view, REASON_BLOCK)
    assert select is not None
    groups = select["element"]["option_groups"]
    assert [o["value"] for g in groups for o in g["options"]] == [str(n) for n in range(150)]
    assert all(len(g["options"]) <= 100 for g in groups)
