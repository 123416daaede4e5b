"""The sandbox over real HTTP (uvicorn on a free loopback port): faults as a real client sees them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from cancel_order_bot.sandbox import (
    REASON_OPTIONS,
    ItemSpec,
    SandboxServer,
    SandboxWorld,
    describe_sandbox,
    generate_history,
    serve_sandbox,
)
from tests.sandbox.support import SandboxCaller


@pytest.fixture
def world() -> SandboxWorld:
    return SandboxWorld()


@pytest.fixture
async def server(world: SandboxWorld) -> AsyncIterator[SandboxServer]:
    async with SandboxServer(world, port=0) as running:
        yield running


async def test_server_answers_signed_calls(server: SandboxServer, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    assert server.port > 0
    async with httpx.AsyncClient() as http:
        caller = SandboxCaller(http, world, base_url=server.base_url)
        body = await caller.call("/order/items/get", {"order_id": str(order.order_id)})
        posted = await caller.call("/order/items/get", {"order_id": str(order.order_id)}, method="POST")
    assert body["code"] == "0"
    assert posted["code"] == "0"
    assert body["data"][0]["order_item_id"] == str(order.items[0].order_item_id)


async def test_server_timeout_fault_really_waits(server: SandboxServer, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    world.faults.inject("timeout", delay=0.5)
    async with httpx.AsyncClient(timeout=0.1) as http:
        caller = SandboxCaller(http, world, base_url=server.base_url)
        with pytest.raises(httpx.ReadTimeout):
            await caller.call("/order/items/get", {"order_id": str(order.order_id)})


async def test_server_timeout_with_apply_first_cancels_then_answers_late(
    server: SandboxServer, world: SandboxWorld
) -> None:
    order = world.add_order([ItemSpec()])
    reason_id = REASON_OPTIONS["sg"][0].reason_id
    world.faults.inject("timeout", path="/order/reverse/cancel/create", apply_first=True, delay=0.2)
    params = {
        "order_id": str(order.order_id),
        "order_item_id_list": json.dumps([str(order.items[0].order_item_id)]),
        "reason_id": reason_id,
    }
    async with httpx.AsyncClient(timeout=5) as http:
        caller = SandboxCaller(http, world, base_url=server.base_url)
        loop = asyncio.get_running_loop()
        started = loop.time()
        body = await caller.call("/order/reverse/cancel/create", params)
    assert loop.time() - started >= 0.2
    assert body["data"]["tip_type"] == "success"
    assert order.items[0].status == "canceled"


async def test_server_timeout_without_apply_first_answers_504(server: SandboxServer, world: SandboxWorld) -> None:
    world.faults.inject("timeout", delay=0.05)
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{server.base_url}/order/get", params={"order_id": "1"})
    assert response.status_code == 504


async def test_server_connection_reset_drops_the_connection(
    server: SandboxServer, world: SandboxWorld, caplog: pytest.LogCaptureFixture
) -> None:
    order = world.add_order([ItemSpec()])
    world.faults.inject("connection_reset")
    async with httpx.AsyncClient() as http:
        caller = SandboxCaller(http, world, base_url=server.base_url)
        with pytest.raises(httpx.TransportError):
            await caller.call("/order/items/get", {"order_id": str(order.order_id)})
        assert (await caller.call("/order/items/get", {"order_id": str(order.order_id)}))["code"] == "0"
    assert world.calls[0].fault == "connection_reset"
    assert not [record for record in caplog.records if record.exc_info]  # the injected reset is not an error


async def test_server_sees_each_tcp_connection(server: SandboxServer, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    limits = httpx.Limits(max_keepalive_connections=1, max_connections=1)
    for _ in range(2):
        async with httpx.AsyncClient(limits=limits) as http:
            caller = SandboxCaller(http, world, base_url=server.base_url)
            for _ in range(3):
                await caller.call("/order/get", {"order_id": str(order.order_id)})
    network = server.app.state.network
    assert (network.requests, network.connections) == (6, 2)


async def test_server_control_endpoints_for_subprocess_tests(server: SandboxServer, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    root = server.base_url.removesuffix("/rest") + "/_sandbox"
    async with httpx.AsyncClient() as http:
        fault = {"kind": "campaign_disabled", "path": "/order/get", "times": 1, "apply_first": False}
        assert (await http.post(f"{root}/faults", json=fault)).status_code == 201
        caller = SandboxCaller(http, world, base_url=server.base_url)
        assert (await caller.call("/order/get", {"order_id": str(order.order_id)}))["code"] == "998"
        assert (await http.get(f"{root}/calls")).json()["counts"] == {"/order/get": 1}


async def test_serve_sandbox_reports_its_port_and_stops_when_cancelled(world: SandboxWorld) -> None:
    started: asyncio.Queue[str] = asyncio.Queue()
    task = asyncio.create_task(serve_sandbox(world, port=0, on_started=started.put_nowait))
    base_url = await asyncio.wait_for(started.get(), timeout=10)
    assert base_url.startswith("http://127.0.0.1:")
    assert base_url.endswith("/rest")
    async with httpx.AsyncClient() as http:
        body = await SandboxCaller(http, world, base_url=base_url).call("/order/get", {"order_id": "1"})
    assert body["code"] == "16"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_describe_sandbox_lists_credentials_and_orders_to_try() -> None:
    world = SandboxWorld()
    generate_history(world, seed=7, orders_per_day=40, days=10)

    text = describe_sandbox(world, base_url="http://127.0.0.1:9999/rest")

    assert "LAZADA_API_URL=http://127.0.0.1:9999/rest" in text
    assert "LAZADA_APP_KEY=100100" in text
    assert "LAZADA_APP_SECRET=sandbox-app-secret" in text
    assert "LAZADA_ACCESS_TOKEN=sandbox-access-token" in text
    assert "LAZADA_REFRESH_TOKEN=sandbox-refresh-token" in text
    for kind in ("pending", "packed", "delivered", "canceled", "partially_canceled"):
        line = next(line for line in text.splitlines() if line.strip().startswith(kind + " "))
        ids = line.split()[1:]
        assert 1 <= len(ids) <= 3
        assert all(world.has_order(int(order_id)) for order_id in ids)
