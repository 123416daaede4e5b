"""Lazada models: loose wire typing in, frozen normalised values out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.lazada.models import (
    CANCELLABLE_STATUSES,
    CancelAccepted,
    CancelValidation,
    Order,
    OrderItem,
    OrderItems,
    OrdersPage,
    RepackResult,
    TokenGrant,
)

SGT = timezone(timedelta(hours=8))


def wire_item(**overrides: Any) -> dict[str, Any]:
    """An order item as GetOrderItems sends it, with fields the models do not know about."""
    return {
        "order_item_id": 290000000000001,
        "order_id": 280000000000001,
        "status": "packed",
        "name": "Blue mug",
        "sku": "MUG-BLUE",
        "shop_sku": "123_SGAMZ-456",
        "variation": "",
        "item_price": "1,299.50",
        "paid_price": 1199.5,
        "currency": "SGD",
        "package_id": "FP0001",
        "tracking_code": "",
        "shipment_provider": "LEX SG",
        "cancel_return_initiator": "",
        "reason": "",
        "reason_detail": "",
        "return_status": "",
        "reverse_order_id": "",
        "is_cancel_pending": "false",
        "created_at": "2026-11-20 10:00:00 +0800",
        "updated_at": "2026-11-20T10:05:00+08:00",
        "voucher_seller": "0.00",
        "sla_time_stamp": "2026-11-22T23:59:59+08:00",
        **overrides,
    }


def test_order_item_normalises_lazada_values() -> None:
    item = OrderItem.model_validate(wire_item())

    assert item.order_item_id == "290000000000001"
    assert item.order_id == "280000000000001"
    assert item.item_price == Decimal("1299.50")
    assert item.paid_price == Decimal("1199.5")
    assert item.variation is None
    assert item.tracking_code is None
    assert item.cancel_return_initiator is None
    assert item.is_cancel_pending is False
    assert item.created_at == datetime(2026, 11, 20, 10, 0, tzinfo=SGT)
    assert item.updated_at == datetime(2026, 11, 20, 2, 5, tzinfo=UTC)
    assert item.created_at is not None
    assert item.created_at.utcoffset() == timedelta(hours=8)


def test_order_item_is_frozen() -> None:
    item = OrderItem.model_validate(wire_item())

    with pytest.raises(ValidationError, match="frozen"):
        item.status = "canceled"  # type: ignore[misc]


@pytest.mark.parametrize(
    "status",
    ["unpaid", "pending", "packed", "ready_to_ship", "shipped", "delivered", "canceled", "returned", "repacked"],
)
def test_order_item_is_cancellable_only_before_shipping(status: str) -> None:
    item = OrderItem.model_validate(wire_item(status=status))

    assert item.is_cancellable == (status in {"pending", "packed", "ready_to_ship"})


def test_cancellable_statuses_are_the_documented_three() -> None:
    assert frozenset({"pending", "packed", "ready_to_ship"}) == CANCELLABLE_STATUSES


def test_order_item_reads_cancellation_details() -> None:
    item = OrderItem.model_validate(
        wire_item(
            status="canceled",
            cancel_return_initiator="cancellation-seller",
            reason="Out of Stock",
            is_cancel_pending=True,
            reverse_order_id=7001,
        )
    )

    assert item.cancel_return_initiator == "cancellation-seller"
    assert item.reason == "Out of Stock"
    assert item.is_cancel_pending is True
    assert item.reverse_order_id == "7001"


@pytest.mark.parametrize("stamp", ["2026-11-20 10:00:00", "2026-11-20T10:00:00", "yesterday", "null", {"at": 1}])
def test_order_item_reads_an_unreadable_or_offsetless_date_as_unknown(stamp: object) -> None:
    """A date without an offset is ambiguous and the bot does not need an item's dates: unknown, never a failure."""
    assert OrderItem.model_validate(wire_item(created_at=stamp)).created_at is None


@pytest.mark.parametrize(
    "stamp",
    ["2014-10-15 19:12:15 +0800", "2014-10-15T19:12:15+08:00", "1413371535000", 1413371535000],
    ids=["lazada", "iso", "epoch-ms-string", "epoch-ms-number"],
)
def test_order_item_reads_the_three_documented_date_forms(stamp: object) -> None:
    created = OrderItem.model_validate(wire_item(created_at=stamp)).created_at
    assert created == datetime(2014, 10, 15, 11, 12, 15, tzinfo=UTC)


@pytest.mark.parametrize("missing", ["order_item_id", "order_id", "status"])
def test_order_item_needs_its_identity(missing: str) -> None:
    raw = wire_item()
    del raw[missing]

    with pytest.raises(ValidationError, match=missing):
        OrderItem.model_validate(raw)


def test_order_items_fill_the_order_id_of_their_items() -> None:
    without_order = {k: v for k, v in wire_item().items() if k != "order_id"}

    grouped = OrderItems.model_validate(
        {"order_id": 280000000000009, "order_number": 300000000009, "order_items": [without_order]}
    )

    assert grouped.order_id == "280000000000009"
    assert grouped.order_number == "300000000009"
    assert grouped.order_items[0].order_id == "280000000000009"


def test_cancel_validation_reads_reasons_and_tolerates_null() -> None:
    validation = CancelValidation.model_validate(
        {
            "tip_content": "SKU stock may be set to 0* after cancellation",
            "tip_type": "warning",
            "reason_options": [{"reason_id": 10000019, "reason_name": "Sourcing Delay"}],
        }
    )
    refused = CancelValidation.model_validate(
        {"tip_content": "Not allowed", "tip_type": "error", "reason_options": None}
    )

    assert validation.reason_options[0].reason_id == "10000019"
    assert refused.reason_options == ()


def test_cancel_accepted_blank_tip_is_none() -> None:
    accepted = CancelAccepted.model_validate({"tip_content": "", "tip_type": "success", "request_id": "r1"})

    assert accepted.tip_content is None
    assert accepted.request_id == "r1"


def test_repack_result_reads_the_documented_example() -> None:
    result = RepackResult.model_validate(
        {
            "success": "false",
            "error_code": "2342",
            "error_msg": "package not found",
            "data": {
                "packages": [
                    {"package_id": "FP12312321", "item_err_code": "600001", "msg": "package not found", "retry": "true"}
                ]
            },
        }
    )

    assert result.success is False
    assert result.error_code == "2342"
    [package] = result.failed
    assert package.package_id == "FP12312321"
    assert package.retry is True
    assert package.ok is False


def test_repack_result_failed_lists_only_failed_packages() -> None:
    result = RepackResult.model_validate(
        {
            "success": True,
            "data": {
                "packages": [
                    {"package_id": "FP1", "item_err_code": "0"},
                    {"package_id": "FP2", "item_err_code": 600002, "msg": "package already cancelled"},
                ]
            },
        }
    )

    assert [p.package_id for p in result.failed] == ["FP2"]
    assert result.failed[0].item_err_code == "600002"


def test_order_reads_getorders_fields() -> None:
    order = Order.model_validate(
        {
            "order_id": 280000000000001,
            "order_number": 300000000001,
            "created_at": "2026-11-20 10:00:00 +0800",
            "updated_at": "2026-11-20 11:00:00 +0800",
            "statuses": ["pending", "canceled"],
            "items_count": "3",
            "price": "99.00",
            "voucher": "0.00",
            "shipping_fee": 2,
            "payment_method": "COD",
            "address_billing": {"first_name": "A"},
            "need_cancel_confirm": "",
        }
    )

    assert order.order_id == "280000000000001"
    assert order.statuses == ("pending", "canceled")
    assert order.items_count == 3
    assert order.price == Decimal("99.00")
    assert order.shipping_fee == Decimal(2)
    assert order.need_cancel_confirm is False


def test_orders_page_reads_count_total() -> None:
    page = OrdersPage.model_validate({"count": 1, "countTotal": 5432, "orders": [{"order_id": 1}]})

    assert (page.count, page.count_total) == (1, 5432)
    assert page.orders[0].order_id == "1"


def grant(**overrides: Any) -> dict[str, Any]:
    """A GenerateAccessToken answer, flat as Lazada sends it."""
    return {
        "code": "0",
        "request_id": "0ba2887315178178017221100",
        "access_token": "50000601c30atpedfgu3LVvik87Ixlsvle3mSoB7701ceb156fPunYZ43GBg",
        "refresh_token": "500016000300bwa2WteaQyfwBMnPxurcA0mXGhQdTt18356663CfcDTYpWoi",
        "expires_in": 864000,
        "refresh_expires_in": 4320000,
        "country": "sg",
        "account_platform": "seller_center",
        "account": "seller@example.com",
        "account_id": None,
        "country_user_info": [
            {"country": "sg", "seller_id": "1152180742", "user_id": "1152180742", "short_code": "SGLYT0OS"}
        ],
        **overrides,
    }


@pytest.mark.parametrize(("expires_in", "seconds"), [(864000, 864000), ("10", 10), ("60", 60)])
def test_token_grant_reads_number_or_string_lifetimes(expires_in: object, seconds: int) -> None:
    token = TokenGrant.model_validate(grant(expires_in=expires_in, refresh_expires_in=str(seconds * 5)))
    now = datetime(2026, 11, 20, tzinfo=UTC)

    assert token.expires_in == seconds
    assert token.access_expires_at(now) == now + timedelta(seconds=seconds)
    assert token.refresh_expires_at(now) == now + timedelta(seconds=seconds * 5)


def test_token_grant_hides_tokens_and_names_the_seller() -> None:
    token = TokenGrant.model_validate(grant())

    assert "50000601c30" not in repr(token)
    assert "500016000300" not in str(token)
    assert token.access_token.get_secret_value().startswith("50000601c30")
    assert token.seller_id == "1152180742"
    assert token.account_id is None


def test_token_grant_without_refresh_lifetime() -> None:
    token = TokenGrant.model_validate({k: v for k, v in grant().items() if k != "refresh_expires_in"})

    assert token.refresh_expires_at(datetime(2026, 11, 20, tzinfo=UTC)) is None


def test_token_grant_cross_border_seller_is_the_first_listed() -> None:
    token = TokenGrant.model_validate(
        grant(
            country="cb",
            country_user_info=[{"country": "my", "seller_id": "200"}, {"country": "sg", "seller_id": "100"}],
        )
    )

    assert token.seller_id == "200"


@given(
    moment=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31)),
    offset_minutes=st.integers(min_value=-12 * 60, max_value=14 * 60),
)
def test_order_item_reads_lazadas_date_format_as_strptime_does(moment: datetime, offset_minutes: int) -> None:
    text = moment.replace(microsecond=0, tzinfo=timezone(timedelta(minutes=offset_minutes))).strftime(
        "%Y-%m-%d %H:%M:%S %z"
    )

    parsed = OrderItem.model_validate({"order_item_id": 1, "order_id": 2, "status": "pending", "created_at": text})

    expected = datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
    assert parsed.created_at == expected
    assert parsed.created_at is not None
    assert parsed.created_at.utcoffset() == expected.utcoffset()
