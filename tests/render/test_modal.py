"""The request modal and its siblings."""

from __future__ import annotations

from typing import Any

import pytest

from bot.slack.render.ids import (
    ITEMS_BLOCK,
    JUSTIFICATION_BLOCK,
    MODAL_ITEMS,
    MODAL_JUSTIFICATION,
    MODAL_ORDER_ID,
    MODAL_PACKAGE_CHOICE,
    MODAL_REASON,
    ORDER_ID_BLOCK,
    PACKAGE_CHOICE_BLOCK,
    REASON_BLOCK,
    REJECT_MODAL,
    REJECT_REASON,
    REJECT_REASON_BLOCK,
    REQUEST_MODAL,
    ModalMetadata,
    RejectMetadata,
)
from bot.slack.render.modal import (
    render_loading_modal,
    render_modal_message,
    render_order_prompt_modal,
    render_reject_modal,
    render_request_modal,
    render_submitting_modal,
)
from bot.workflow.models import PackageConflict, Reason
from tests.render.factories import (
    RATE,
    block_with_id,
    check_view,
    conflict_draft,
    draft,
    item,
    metadata,
    view_text,
)


def _request(**overrides: Any) -> dict[str, Any]:
    return check_view(render_request_modal(draft(**overrides), metadata()))


def test_request_modal_is_a_valid_view_with_its_callback_and_metadata() -> None:
    view = _request()
    assert view["type"] == "modal"
    assert view["callback_id"] == REQUEST_MODAL
    assert len(view["title"]["text"]) <= 24
    assert view["submit"]["text"] == "Request approval"
    assert ModalMetadata.unpack(view["private_metadata"]) == metadata()


def test_request_modal_header_names_order_and_store() -> None:
    header = _request()["blocks"][0]
    assert header["type"] == "header"
    assert header["text"]["text"] == "Order 123456789 · SG Main"


def test_request_modal_shows_every_item_with_its_details() -> None:
    view = _request()
    text = view_text(view)
    for n in (1, 2, 3, 4):
        assert f"Cotton T-shirt {n}" in text
        assert f"TSHIRT_RED_{n}" in text
    assert "Color:Red, Size:XL" in text
    assert "SGD 12.90" in text
    assert "ready to ship" in text
    assert "package PKG2" in text


def test_request_modal_preselects_the_selected_cancellable_items_in_checkboxes() -> None:
    element = block_with_id(_request(), ITEMS_BLOCK)
    assert element is not None
    assert element["dispatch_action"] is True
    assert element["element"]["type"] == "checkboxes"
    assert element["element"]["action_id"] == MODAL_ITEMS
    assert [o["value"] for o in element["element"]["options"]] == ["900001", "900002", "900003"]
    assert [o["value"] for o in element["element"]["initial_options"]] == ["900001", "900003"]


def test_request_modal_lists_other_items_as_not_cancellable_with_their_status() -> None:
    text = view_text(_request())
    listing = text[text.index("*Not cancellable (1)*") :]
    assert "• Cotton T-shirt 4 · SKU TSHIRT_RED_4 · Color:Red, Size:XL · SGD 12.90 · shipped" in listing


def test_request_modal_with_thirty_items_uses_a_multi_select() -> None:
    items = tuple(item(n) for n in range(30))
    view = _request(items=items, selected_ids=tuple(i.order_item_id for i in items))
    element = block_with_id(view, ITEMS_BLOCK)
    assert element is not None
    assert element["dispatch_action"] is True
    assert element["element"]["type"] == "multi_static_select"
    assert len(element["element"]["options"]) == 30
    assert len(element["element"]["initial_options"]) == 30
    assert "Cancellable items (30)" in view_text(view)


def test_request_modal_with_hundreds_of_items_groups_the_options_and_stays_within_a_hundred_blocks() -> None:
    items = tuple(item(n, "shipped" if n % 3 == 0 else "pending", name="Long name " * 20) for n in range(2000))
    cancellable = [i.order_item_id for i in items if i.status == "pending"]
    view = _request(items=items, selected_ids=tuple(cancellable[:5]))
    element = block_with_id(view, ITEMS_BLOCK)
    assert element is not None
    groups = element["element"]["option_groups"]
    assert sum(len(g["options"]) for g in groups) == len(cancellable)
    assert all(len(g["options"]) <= 100 for g in groups)
    assert len(view["blocks"]) <= 100
    assert "more items" in view_text(view)


def test_request_modal_reason_options_are_lazadas_exactly() -> None:
    reasons = (
        Reason(reason_id="30000001", reason_name="Ausverkauft"),
        Reason(reason_id="x-2", reason_name="A very long reason name " * 5),
    )
    element = block_with_id(_request(reasons=reasons), REASON_BLOCK)
    assert element is not None
    select = element["element"]
    assert select["type"] == "static_select"
    assert select["action_id"] == MODAL_REASON
    assert [o["value"] for o in select["options"]] == ["30000001", "x-2"]
    assert select["options"][0]["text"]["text"] == "Ausverkauft"
    assert len(select["options"][1]["text"]["text"]) <= 75
    assert "initial_option" not in select


@pytest.mark.parametrize(
    ("tip_type", "icon"),
    [("error", "⛔"), ("warn", "⚠️"), ("warning", "⚠️"), ("success", "✅"), ("notice", "ℹ️"), (None, "ℹ️")],
)
def test_request_modal_styles_lazadas_tip_by_its_type(tip_type: str | None, icon: str) -> None:
    text = view_text(_request(tip_content="Stock may be set to 0", tip_type=tip_type))
    assert f"{icon} *Lazada says:* Stock may be set to 0" in text


def test_request_modal_warns_about_stock_zeroing_naming_skus_and_reasons() -> None:
    text = view_text(_request())
    warning = next(line for line in text.split("\n") if "Stock goes to 0" in line)
    assert "“Out of Stock”" in warning
    assert "“Wrong Price or Pricing Error”" in warning
    assert "“Sourcing Delay”" not in warning
    assert "TSHIRT_RED_1" in warning
    assert "TSHIRT_RED_3" in warning
    assert "TSHIRT_RED_2" not in warning


def test_request_modal_has_no_stock_warning_without_a_stock_zeroing_reason() -> None:
    text = view_text(_request(reasons=(Reason(reason_id="1", reason_name="Sourcing Delay"),)))
    assert "Stock goes to 0" not in text


def test_request_modal_warns_about_ready_to_ship_items_only_when_selected() -> None:
    assert "Ready to ship" in view_text(_request())
    assert "Ready to ship" not in view_text(_request(selected_ids=("900001",)))


def test_request_modal_offers_repack_or_whole_package_for_a_package_conflict() -> None:
    view = check_view(render_request_modal(conflict_draft(), metadata()))
    choice = block_with_id(view, PACKAGE_CHOICE_BLOCK)
    assert choice is not None
    radios = choice["element"]
    assert radios["type"] == "radio_buttons"
    assert radios["action_id"] == MODAL_PACKAGE_CHOICE
    assert [o["value"] for o in radios["options"]] == ["repack_first", "whole_package"]
    assert radios["initial_option"]["value"] == "repack_first"
    assert radios["options"][0]["text"]["text"] == "Repack first (cancel only the selected items)"
    assert radios["options"][1]["text"]["text"] == "Cancel the whole package (also cancels 2 more items)"
    assert "Cotton T-shirt 2" in radios["options"][1]["description"]["text"]
    assert "Package PKG1* also holds 2 items you did not select: Cotton T-shirt 2" in view_text(view)


def test_request_modal_has_no_package_choice_without_a_conflict() -> None:
    assert block_with_id(_request(), PACKAGE_CHOICE_BLOCK) is None


def test_request_modal_shows_the_rate_projection_when_known() -> None:
    assert "2.10% now → 3.20%" in view_text(check_view(render_request_modal(conflict_draft(), metadata())))
    assert "cancellation rate" not in view_text(_request())
    assert "warning 3.00%, limit 5.00%" in view_text(_request(rate=RATE))


def test_request_modal_asks_for_a_required_justification_of_at_most_500_characters() -> None:
    block = block_with_id(_request(), JUSTIFICATION_BLOCK)
    assert block is not None
    assert block.get("optional", False) is False
    assert block["element"]["action_id"] == MODAL_JUSTIFICATION
    assert block["element"]["multiline"] is True
    assert block["element"]["max_length"] == 500


def test_request_modal_with_a_refusal_shows_it_and_offers_nothing_to_submit() -> None:
    view = _request(refusal="E0113: order is already shipped", tip_content=None)
    assert "submit" not in view
    assert "Lazada refuses this cancellation:* E0113: order is already shipped" in view_text(view)
    assert block_with_id(view, REASON_BLOCK) is None
    assert block_with_id(view, JUSTIFICATION_BLOCK) is None
    # The selection can still be changed, which validates again.
    assert block_with_id(view, ITEMS_BLOCK) is not None


def test_request_modal_with_nothing_selected_says_so_and_offers_nothing_to_submit() -> None:
    view = _request(selected_ids=(), reasons=())
    assert "submit" not in view
    assert "Nothing is selected" in view_text(view)
    element = block_with_id(view, ITEMS_BLOCK)
    assert element is not None
    assert "initial_options" not in element["element"]


def test_request_modal_without_reasons_offers_nothing_to_submit() -> None:
    view = _request(reasons=())
    assert "submit" not in view
    assert "offers no cancellation reason" in view_text(view)


def test_request_modal_without_cancellable_items_has_no_selector() -> None:
    view = _request(items=(item(1, "shipped"), item(2, "delivered")), selected_ids=())
    assert "submit" not in view
    assert block_with_id(view, ITEMS_BLOCK) is None
    assert "No item of this order can be cancelled" in view_text(view)


def test_request_modal_says_a_cancellation_is_already_pending_at_lazada() -> None:
    pending = item(1, "packed").model_copy(update={"is_cancel_pending": True})
    view = _request(items=(pending, item(2, "shipped")), selected_ids=())
    assert "submit" not in view
    assert block_with_id(view, ITEMS_BLOCK) is None
    text = view_text(view)
    assert "a cancellation of 1 item is already pending at Lazada; the other has shipped" in text
    assert "they have shipped, been delivered or been cancelled" not in text


def test_loading_modal_asks_lazada_and_cannot_be_submitted() -> None:
    view = check_view(render_loading_modal("123456789", "SG Main", metadata()))
    assert view["callback_id"] == REQUEST_MODAL
    assert "submit" not in view
    assert "Asking Lazada about order *123456789*" in view_text(view)
    assert ModalMetadata.unpack(view["private_metadata"]) == metadata()


def test_order_prompt_modal_asks_for_the_order_number() -> None:
    view = check_view(render_order_prompt_modal(metadata(order_id=None)))
    assert view["callback_id"] == REQUEST_MODAL
    assert view["submit"]["text"] == "Look up order"
    block = block_with_id(view, ORDER_ID_BLOCK)
    assert block is not None
    assert block["element"]["action_id"] == MODAL_ORDER_ID
    assert ModalMetadata.unpack(view["private_metadata"]).order_id is None


def test_order_prompt_modal_shows_an_error_escaped() -> None:
    view = check_view(render_order_prompt_modal(metadata(order_id=None), error="Order <x> was not found"))
    assert "⛔ Order &lt;x&gt; was not found" in view_text(view)


@pytest.mark.parametrize(("kind", "icon"), [("error", "⛔"), ("info", "ℹ️"), ("success", "✅")])
def test_modal_message_has_an_icon_per_kind_and_nothing_to_submit(kind: str, icon: str) -> None:
    view = check_view(render_modal_message("Order not found", "Order 123 was not found in store sg-main", kind=kind))  # type: ignore[arg-type]
    assert "submit" not in view
    assert view["title"]["text"] == "Order not found"
    assert f"{icon} Order 123 was not found in store sg-main" in view_text(view)


def test_modal_message_cuts_a_long_title() -> None:
    view = check_view(render_modal_message("A title much longer than twenty-four characters", "x"))
    assert len(view["title"]["text"]) <= 24


def test_submitting_modal_cannot_be_submitted() -> None:
    view = check_view(render_submitting_modal("123456789"))
    assert "submit" not in view
    assert "123456789" in view_text(view)


def test_reject_modal_asks_for_a_required_reason() -> None:
    meta = RejectMetadata(request_id="CR-7K2Q9", channel_id="C0OPS", message_ts="1796032800.000100")
    view = check_view(render_reject_modal(meta))
    assert view["callback_id"] == REJECT_MODAL
    assert view["submit"]["text"] == "Reject"
    assert RejectMetadata.unpack(view["private_metadata"]) == meta
    block = block_with_id(view, REJECT_REASON_BLOCK)
    assert block is not None
    assert block.get("optional", False) is False
    assert block["element"]["action_id"] == REJECT_REASON
    assert block["element"]["max_length"] == 500


def test_request_modal_with_two_package_conflicts_offers_to_cancel_both_packages() -> None:
    items = (item(1, "packed"), item(2, "packed"), item(3, "packed", package="PKG2"), item(4, "packed", package="PKG2"))
    conflicts = (
        PackageConflict(package_id="PKG1", selected=items[:1], others=items[1:2]),
        PackageConflict(package_id="PKG2", selected=items[2:3], others=items[3:]),
    )
    view = _request(items=items, selected_ids=("900001", "900003"), package_conflicts=conflicts)
    choice = block_with_id(view, PACKAGE_CHOICE_BLOCK)
    assert choice is not None
    assert choice["element"]["options"][1]["text"]["text"] == "Cancel the packages in full (also cancels 2 more items)"
    text = view_text(view)
    assert "*Package PKG1*" in text
    assert "*Package PKG2*" in text


def test_request_modal_groups_more_than_a_hundred_reasons() -> None:
    reasons = tuple(Reason(reason_id=str(n), reason_name=f"Reason {n}") for n in range(150))
    block = block_with_id(_request(reasons=reasons), REASON_BLOCK)
    assert block is not None
    groups = block["element"]["option_groups"]
    assert [o["value"] for g in groups for o in g["options"]] == [str(n) for n in range(150)]


def test_request_modal_says_an_item_when_one_item_shares_the_package() -> None:
    items = (item(1, "packed"), item(2, "packed"))
    conflicts = (PackageConflict(package_id="PKG1", selected=items[:1], others=items[1:]),)
    text = view_text(_request(items=items, selected_ids=("900001",), package_conflicts=conflicts))
    assert "*Package PKG1* also holds an item you did not select: Cotton T-shirt 2" in text
    assert "(also cancels 1 more item)" in text
