"""The package rule: a selected item takes every unselected, still-cancellable item of its package with it."""

from __future__ import annotations

import pytest

from bot.domain import Item
from bot.workflow.drafting import package_conflicts, shared_packages


def _item(number: int, status: str, package: str | None = "FP1") -> Item:
    return Item(order_item_id=str(number), name=f"Item {number}", status=status, package_id=package)


@pytest.mark.parametrize("status", ["packed", "ready_to_ship"])
def test_a_packaged_item_with_an_unselected_sibling_is_package_bound(status: str) -> None:
    items = [_item(1, status), _item(2, status)]
    (conflict,) = package_conflicts(items, ["1"])
    assert conflict.package_id == "FP1"
    assert [i.order_item_id for i in conflict.selected] == ["1"]
    assert [i.order_item_id for i in conflict.others] == ["2"]


def test_mixed_packed_and_ready_to_ship_siblings_are_both_bound() -> None:
    items = [_item(1, "ready_to_ship"), _item(2, "packed")]
    assert [i.order_item_id for i in package_conflicts(items, ["1"])[0].others] == ["2"]
    assert [i.order_item_id for i in package_conflicts(items, ["2"])[0].others] == ["1"]


@pytest.mark.parametrize("sibling_status", ["canceled", "shipped", "delivered"])
def test_siblings_that_can_no_longer_be_cancelled_are_no_conflict(sibling_status: str) -> None:
    items = [_item(1, "ready_to_ship"), _item(2, sibling_status)]
    assert package_conflicts(items, ["1"]) == ()


def test_selecting_the_whole_package_or_another_package_is_no_conflict() -> None:
    items = [_item(1, "ready_to_ship"), _item(2, "ready_to_ship"), _item(3, "packed", package="FP2")]
    assert package_conflicts(items, ["1", "2"]) == ()
    assert package_conflicts(items, ["3"]) == ()


def test_shared_packages_lists_packages_of_two_or_more_cancellable_items() -> None:
    items = [
        _item(1, "ready_to_ship"),
        _item(2, "ready_to_ship"),
        _item(3, "packed", package="FP2"),
        _item(4, "shipped", package="FP2"),
        _item(5, "pending", package=None),
    ]
    assert {package: [i.order_item_id for i in members] for package, members in shared_packages(items).items()} == {
        "FP1": ["1", "2"]
    }
