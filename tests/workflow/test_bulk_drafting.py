"""Bulk drafting: which orders one request covers, the reasons they have in common, and reading them concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import pytest

from bot.domain import Item
from bot.lazada.errors import LazadaBusinessError, LazadaTransportError
from bot.lazada.models import CancelValidation, OrderItem, ReasonOption
from bot.settings import Country, StoreConfig
from bot.workflow.drafting import Drafter, group_by_common_reasons
from bot.workflow.models import OrderDraft, Reason

SD = Reason(reason_id="10000019", reason_name="Sourcing Delay")
OOS = Reason(reason_id="10000021", reason_name="Out of Stock")
WP = Reason(reason_id="10000023", reason_name="Wrong Price or Pricing Error")
DUP = Reason(reason_id="10000027", reason_name="Duplicate Order")
STORE = StoreConfig(code="sg-main", country=Country.SG, name="SG Main")


def _draft(order_id: str, *reasons: Reason, status: str = "pending", refusal: str | None = None) -> OrderDraft:
    item = Item(order_item_id=f"{order_id}1", name=f"Item of {order_id}", sku=f"SKU-{order_id}", status=status)
    cancellable = status in {"pending", "packed", "ready_to_ship"}
    return OrderDraft(
        store_code="sg-main",
        store_label="SG Main",
        order_id=order_id,
        items=(item,),
        selected_ids=(item.order_item_id,) if cancellable else (),
        reasons=reasons,
        refusal=refusal,
    )


def _ids(drafts: Sequence[OrderDraft]) -> list[str]:
    return [d.order_id for d in drafts]


def test_orders_offering_the_same_reasons_all_go_with_those_reasons() -> None:
    groups = group_by_common_reasons([_draft("1", SD, OOS, WP), _draft("2", SD, OOS, WP), _draft("3", SD, OOS, WP)])
    assert _ids(groups.included) == ["1", "2", "3"]
    assert groups.reasons == (SD, OOS, WP)
    assert groups.left_out == ()


def test_common_reasons_are_those_offered_for_every_order_in_lazadas_order() -> None:
    groups = group_by_common_reasons([_draft("1", WP, SD, OOS), _draft("2", SD, WP), _draft("3", OOS, WP, SD, DUP)])
    assert _ids(groups.included) == ["1", "2", "3"]
    assert groups.reasons == (WP, SD), "the first order's order, only reasons every order offers"


def test_refused_uncancellable_and_reasonless_orders_are_left_out_with_why() -> None:
    groups = group_by_common_reasons(
        [
            _draft("1", SD, OOS),
            _draft("2", status="shipped"),
            _draft("3", refusal="This order is locked by a campaign."),
            _draft("4"),
            _draft("5", OOS),
        ]
    )
    assert _ids(groups.included) == ["1", "5"]
    assert groups.reasons == (OOS,)
    why = {o.order_id: o.why for o in groups.left_out}
    assert list(why) == ["2", "3", "4"], "left out in the order given"
    assert why["2"] == "Nothing in it can be cancelled: its items are shipped."
    assert why["3"] == "Lazada refuses to cancel it: This order is locked by a campaign."
    assert why["4"] == "Lazada offers no cancellation reason for its items."
    assert all(o.draft is not None for o in groups.left_out)


def test_an_order_sharing_no_reason_with_the_others_is_left_out_and_says_with_which() -> None:
    groups = group_by_common_reasons([_draft("1", SD, OOS), _draft("2", DUP), _draft("3", SD), _draft("4", OOS, SD)])
    assert _ids(groups.included) == ["1", "3", "4"]
    assert groups.reasons == (SD,)
    (odd,) = groups.left_out
    assert odd.order_id == "2"
    assert odd.why == "Lazada offers it no reason in common with orders 1, 3, 4 (it offers: Duplicate Order)."


def test_orders_clashing_equally_are_all_left_out_so_no_group_is_picked() -> None:
    groups = group_by_common_reasons([_draft("1", SD), _draft("2", DUP), _draft("3", SD), _draft("4", DUP)])
    assert groups.included == ()
    assert groups.reasons == ()
    why = {o.order_id: o.why for o in groups.left_out}
    assert list(why) == ["1", "2", "3", "4"]
    assert "no reason in common with orders 2, 4" in why["1"]
    assert "no reason in common with orders 1, 3" in why["2"]


def test_pairwise_shared_reasons_without_one_common_to_all_leave_every_order_out() -> None:
    groups = group_by_common_reasons([_draft("1", SD, OOS), _draft("2", OOS, WP), _draft("3", WP, SD)])
    assert groups.included == ()
    assert [o.order_id for o in groups.left_out] == ["1", "2", "3"]
    assert all("No single reason is offered for all of these orders" in o.why for o in groups.left_out)


def test_an_order_without_items_is_left_out() -> None:
    empty = _draft("1", SD).model_copy(update={"items": (), "selected_ids": ()})
    groups = group_by_common_reasons([empty, _draft("2", SD)])
    assert [(o.order_id, o.why) for o in groups.left_out] == [("1", "Lazada lists no items for it.")]


def test_a_single_cancellable_order_keeps_all_its_reasons() -> None:
    groups = group_by_common_reasons([_draft("1", status="delivered"), _draft("2", SD, OOS)])
    assert _ids(groups.included) == ["2"]
    assert groups.reasons == (SD, OOS)


@pytest.mark.parametrize("count", [0, 1])
def test_nothing_or_one_order_gives_no_surprises(count: int) -> None:
    drafts = [_draft("1", SD)][:count]
    groups = group_by_common_reasons(drafts)
    assert _ids(groups.included) == _ids(drafts)


class _Lazada:
    """A stand-in for the client's two read calls: per-order items and reasons, and how many run at once."""

    def __init__(self, reasons: Mapping[str, Sequence[Reason]], *, unknown: Sequence[str] = (), down: str = "") -> None:
        self.reasons = reasons
        self.unknown = set(unknown)
        self.down = down
        self.in_flight = 0
        self.most_in_flight = 0

    async def _call(self) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.001)
        self.in_flight -= 1

    async def get_order_items(self, *, order_id: str) -> tuple[OrderItem, ...]:
        await self._call()
        if order_id in self.unknown:
            raise LazadaBusinessError("E016", api_path="/order/items/get", code="16")
        if order_id == self.down:
            raise LazadaTransportError("timeout", api_path="/order/items/get", timed_out=True, request_sent=True)
        return (
            OrderItem(order_item_id=f"{order_id}1", order_id=order_id, status="pending", name="Kettle", sku="K-1"),
            OrderItem(order_item_id=f"{order_id}2", order_id=order_id, status="shipped", name="Mug", sku="M-1"),
        )

    async def validate_cancel(self, *, order_id: str, order_item_ids: Sequence[str]) -> CancelValidation:
        await self._call()
        assert list(order_item_ids) == [f"{order_id}1"], "only the cancellable items are validated"
        options = tuple(ReasonOption(reason_id=r.reason_id, reason_name=r.reason_name) for r in self.reasons[order_id])
        return CancelValidation(tip_content="Stock may be set to 0.", tip_type="warning", reason_options=options)


async def test_draft_bulk_reads_orders_concurrently_within_the_bound() -> None:
    order_ids = [str(1000 + n) for n in range(20)]
    lazada = _Lazada(dict.fromkeys(order_ids, (SD, OOS)))
    bulk = await Drafter().draft_bulk(lazada, STORE, order_ids, concurrency=4)
    assert bulk.order_ids == tuple(order_ids)
    assert bulk.item_count == 20, "each order with all (and only) its cancellable items"
    assert bulk.reasons == (SD, OOS)
    assert 1 < lazada.most_in_flight <= 4


async def test_draft_bulk_lists_apart_unknown_unreachable_and_odd_orders_in_the_order_given() -> None:
    lazada = _Lazada({"11": (SD, OOS), "22": (SD,), "44": (DUP,), "55": (SD, WP)}, unknown=["33"], down="66")
    bulk = await Drafter().draft_bulk(lazada, STORE, ["11", "22", "33", "44", "55", "66"])
    assert bulk.order_ids == ("11", "22", "55")
    assert bulk.reasons == (SD,)
    why = {o.order_id: o.why for o in bulk.left_out}
    assert list(why) == ["33", "44", "66"]
    assert "does not know this order" in why["33"]
    assert why["44"].startswith("Lazada offers it no reason in common with orders 11, 22, 55 (")
    assert (
        why["66"]
        == "Lazada could not be asked about it: Lazada did not answer in time; please try again in a few minutes."
    )
    assert bulk.submittable
