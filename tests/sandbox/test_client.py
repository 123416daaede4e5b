"""The typed client against the sandbox: both sides speak the same wire protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from bot.lazada.client import LazadaClient, RetryPolicy
from bot.lazada.errors import LazadaBusinessError, LazadaServerError, LazadaTransportError
from bot.lazada.limiter import UnlimitedRateLimiter
from bot.lazada.tokens import MemoryTokenStore, StoredTokens
from cancel_order_bot.sandbox import SANDBOX_BASE_URL, ItemSpec, SandboxTransport, SandboxWorld, generate_history

CREATE = "/order/reverse/cancel/create"


@pytest.fixture
def world() -> SandboxWorld:
    return SandboxWorld()


@pytest.fixture
async def client(world: SandboxWorld) -> AsyncIterator[LazadaClient]:
    now = world.now()
    tokens = StoredTokens(
        access_token=SecretStr(world.access_token),
        refresh_token=SecretStr(world.refresh_token),
        access_expires_at=now + timedelta(days=10),
        refresh_expires_at=now + timedelta(days=50),
        country="sg",
    )
    async with httpx.AsyncClient(transport=SandboxTransport(world)) as http:
        yield LazadaClient(
            http=http,
            base_url=SANDBOX_BASE_URL,
            auth_url=SANDBOX_BASE_URL,
            app_key=world.app_key,
            app_secret=world.app_secret,
            store_code="sg",
            tokens=MemoryTokenStore({"sg": tokens}),
            limiter=UnlimitedRateLimiter(),
            retry=RetryPolicy.off(),
        )


async def test_client_cancels_one_item_of_a_packed_package_after_repack(
    client: LazadaClient, world: SandboxWorld
) -> None:
    order = world.add_order(
        [ItemSpec(status="packed", package="P"), ItemSpec(status="packed", sku="SKU-B", package="P")]
    )

    items = await client.get_order_items(order_id=order.order_id)
    validation = await client.validate_cancel(order_id=order.order_id, order_item_ids=[items[0].order_item_id])
    repacked = await client.repack(package_ids=[items[0].package_id or ""])
    reason = next(option for option in validation.reason_options if option.reason_name == "Out of Stock")
    accepted = await client.init_cancel(
        order_id=order.order_id, order_item_ids=[items[0].order_item_id], reason_id=reason.reason_id
    )
    after = await client.get_order_items(order_id=order.order_id)

    assert [item.is_cancellable for item in items] == [True, True]
    assert validation.tip_type == "warning"
    assert repacked.success
    assert accepted.tip_type == "success"
    assert [(item.status, item.cancel_return_initiator) for item in after] == [
        ("canceled", "cancellation-seller"),
        ("pending", None),
    ]
    assert world.stock("SKU-A") == 0
    assert world.call_count(CREATE) == 1


async def test_client_sees_a_refusal_as_a_business_error(client: LazadaClient, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec(status="shipped")])
    with pytest.raises(LazadaBusinessError, match="shipped"):
        await client.validate_cancel(order_id=order.order_id, order_item_ids=[order.items[0].order_item_id])


async def test_client_pages_every_order_past_the_offset_cap(client: LazadaClient, world: SandboxWorld) -> None:
    generate_history(world, seed=11, orders_per_day=300, days=20)
    seen = [order.order_id async for order in client.iter_orders(created_after=datetime(2020, 1, 1, tzinfo=UTC))]
    assert len(seen) == len(set(seen)) == world.order_count == 6000


async def test_client_refreshes_an_expired_token_once(client: LazadaClient, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    world.expire_access_token()
    assert (await client.get_order(order_id=order.order_id)).order_id == str(order.order_id)
    assert world.call_count("/auth/token/refresh") == 1


async def test_client_never_retries_a_cancel_that_timed_out_after_applying(
    client: LazadaClient, world: SandboxWorld
) -> None:
    order = world.add_order([ItemSpec()])
    validation = await client.validate_cancel(order_id=order.order_id, order_item_ids=[order.items[0].order_item_id])
    world.faults.inject("timeout", path=CREATE, apply_first=True)
    with pytest.raises(LazadaTransportError):
        await client.init_cancel(
            order_id=order.order_id,
            order_item_ids=[order.items[0].order_item_id],
            reason_id=validation.reason_options[0].reason_id,
        )
    assert world.call_count(CREATE) == 1
    assert order.items[0].status == "canceled"


async def test_client_maps_a_campaign_shutdown_to_a_server_error(client: LazadaClient, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    world.faults.inject("campaign_disabled")
    with pytest.raises(LazadaServerError):
        await client.get_order_items(order_id=order.order_id)
