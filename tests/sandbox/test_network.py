"""The network model: one round trip per request, two more for the handshakes of a new connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from cancel_order_bot.sandbox import SANDBOX_BASE_URL, ItemSpec, NetworkModel, SandboxTransport, SandboxWorld
from tests.sandbox.support import ManualClock, SandboxCaller

RTT_MS = 30.0


class FakeSleep:
    """Records the delays asked for; ``gate`` lets a test hold requests in flight."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.gate: asyncio.Event | None = None
        self.waiting = 0
        self.all_waiting = asyncio.Event()
        self.expected_waiters = 0

    async def __call__(self, seconds: float) -> None:
        self.delays.append(round(seconds, 6))
        if self.gate is not None:
            self.waiting += 1
            if self.waiting == self.expected_waiters:
                self.all_waiting.set()
            await self.gate.wait()


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
def world() -> SandboxWorld:
    return SandboxWorld(now=ManualClock())


@pytest.fixture
async def transport(world: SandboxWorld, sleep: FakeSleep) -> AsyncIterator[SandboxTransport]:
    transport = SandboxTransport(world, rtt_ms=RTT_MS, sleep=sleep)
    yield transport
    await transport.aclose()


async def test_network_model_charges_handshakes_on_a_new_connection_only(sleep: FakeSleep) -> None:
    model = NetworkModel(RTT_MS, sleep=sleep)

    await model.delay(("10.0.0.1", 5000))
    await model.delay(("10.0.0.1", 5000))
    await model.delay(("10.0.0.1", 5001))
    await model.delay(("10.0.0.1", 5000))

    assert sleep.delays == [0.09, 0.03, 0.09, 0.03]
    assert (model.requests, model.connections, model.round_trips) == (4, 2, 8)


async def test_network_model_with_zero_rtt_does_not_sleep(sleep: FakeSleep) -> None:
    model = NetworkModel(0, sleep=sleep)
    await model.delay(("10.0.0.1", 5000))
    assert sleep.delays == []
    assert model.round_trips == 3


def test_network_model_refuses_a_negative_rtt() -> None:
    with pytest.raises(ValueError, match="rtt_ms"):
        NetworkModel(-1)


async def test_transport_reuses_a_keep_alive_connection(
    world: SandboxWorld, transport: SandboxTransport, sleep: FakeSleep
) -> None:
    order = world.add_order([ItemSpec()])
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_BASE_URL) as http:
        caller = SandboxCaller(http, world)
        for _ in range(3):
            assert (await caller.call("/order/get", {"order_id": str(order.order_id)}))["code"] == "0"
    assert sleep.delays == [0.09, 0.03, 0.03]
    assert transport.network.connections == 1


async def test_transport_opens_new_connections_for_concurrent_requests(
    world: SandboxWorld, transport: SandboxTransport, sleep: FakeSleep
) -> None:
    order = world.add_order([ItemSpec()])
    sleep.gate = asyncio.Event()
    sleep.expected_waiters = 3
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_BASE_URL) as http:
        caller = SandboxCaller(http, world)
        calls = [asyncio.create_task(caller.call("/order/get", {"order_id": str(order.order_id)})) for _ in range(3)]
        await sleep.all_waiting.wait()
        sleep.gate.set()
        bodies = await asyncio.gather(*calls)
        sleep.gate = None
        await caller.call("/order/get", {"order_id": str(order.order_id)})
    assert [body["code"] for body in bodies] == ["0", "0", "0"]
    assert sleep.delays == [0.09, 0.09, 0.09, 0.03]
    assert transport.network.connections == 3


async def test_transport_drops_a_connection_after_a_network_fault(
    world: SandboxWorld, transport: SandboxTransport, sleep: FakeSleep
) -> None:
    order = world.add_order([ItemSpec()])
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_BASE_URL) as http:
        caller = SandboxCaller(http, world)
        await caller.call("/order/get", {"order_id": str(order.order_id)})
        world.faults.inject("connection_reset")
        with pytest.raises(httpx.ReadError):
            await caller.call("/order/get", {"order_id": str(order.order_id)})
        await caller.call("/order/get", {"order_id": str(order.order_id)})
    assert sleep.delays == [0.09, 0.03, 0.09]


async def test_short_real_rtt_is_paid_in_wall_time(world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(transport=SandboxTransport(world, rtt_ms=20), base_url=SANDBOX_BASE_URL) as http:
        caller = SandboxCaller(http, world)
        started = loop.time()
        await caller.call("/order/get", {"order_id": str(order.order_id)})
        first = loop.time() - started
        started = loop.time()
        await caller.call("/order/get", {"order_id": str(order.order_id)})
        second = loop.time() - started
    assert first >= 0.06
    assert second >= 0.02
