"""A mixed load of people's interactions, shared by the footprint and replica benchmarks."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from benchmarks.workload import APPROVER, REQUESTER, SECOND_APPROVER, SlackDriver
from cancel_order_bot.demo.fake_slack import FakeSlack, FakeWorkspace
from cancel_order_bot.sandbox import ItemSpec, SandboxServer, SandboxWorld, generate_history
from cancel_order_bot.sandbox.showcase import add_showcase_orders

__all__ = ["SCENARIOS", "LocalPeers", "local_peers", "play"]

SCENARIOS = ("approve", "home", "reject", "home", "approve_twice", "help")
"""One cycle of the mix: a request approved, one rejected, one approved by two people at once, App Home opens."""
REQUESTS_PER_SCENARIO = {"approve": 3, "reject": 4, "approve_twice": 4, "home": 1, "help": 1}


@dataclass
class LocalPeers:
    """The fake Slack and the sandbox, served from the driver's process."""

    slack: FakeSlack
    world: SandboxWorld
    sandbox_api: str
    orders: Iterator[str]


@asynccontextmanager
async def local_peers(*, pending_orders: int, rtt_ms: float = 0.0) -> AsyncIterator[LocalPeers]:
    """Start both, with ``pending_orders`` fresh pending orders (one or two items) for requests to use."""
    world = SandboxWorld(country="sg")
    generate_history(world, seed=1, orders_per_day=40, days=10)
    add_showcase_orders(world)
    fresh = [
        str(world.add_order([ItemSpec(status="pending", sku=f"SKU-{n % 7}")] * (1 + n % 2)).order_id)
        for n in range(pending_orders)
    ]
    async with FakeSlack(FakeWorkspace.default()) as slack, SandboxServer(world, port=0, rtt_ms=rtt_ms) as server:
        yield LocalPeers(slack=slack, world=world, sandbox_api=server.base_url, orders=iter(fresh))


async def scenario(driver: SlackDriver, kind: str, orders: Iterator[str]) -> None:
    """Play one scenario of the mix."""
    if kind == "home":
        await driver.open_home(next(itertools.cycle((REQUESTER, APPROVER, SECOND_APPROVER))))
        return
    if kind == "help":
        await driver.post(driver.requests.slash_command("/cancel-order", "help", user_id=REQUESTER, channel_id="C0OPS"))
        return
    order_id = next(orders)
    view = await driver.open_request_modal(order_id)
    if view is None:
        return
    posted = await driver.submit_request(view, order_id)
    if posted is None:
        return
    if kind == "reject":
        await driver.reject(posted)
    else:
        await driver.approve(posted, double=kind == "approve_twice")


async def play(driver: SlackDriver, orders: Iterator[str], *, requests: int, workers: int) -> None:
    """Play scenarios from the mix with ``workers`` people at once until ``requests`` requests were sent."""
    kinds = itertools.cycle(SCENARIOS)

    async def worker() -> None:
        while driver.sent < requests:
            await scenario(driver, next(kinds), orders)

    await asyncio.gather(*(worker() for _ in range(workers)))


async def paced(driver: SlackDriver, orders: Iterator[str], *, per_minute: float, seconds: float) -> None:
    """Start scenarios at a steady pace so that about ``per_minute`` requests a minute are sent for ``seconds``."""
    kinds = itertools.cycle(SCENARIOS)
    mean = sum(REQUESTS_PER_SCENARIO[k] for k in SCENARIOS) / len(SCENARIOS)
    interval = 60.0 / (per_minute / mean)
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    running: set[asyncio.Task[None]] = set()
    while loop.time() < end:
        task = asyncio.create_task(scenario(driver, next(kinds), orders))
        running.add(task)
        task.add_done_callback(running.discard)
        await asyncio.sleep(interval)
    if running:
        await asyncio.gather(*running)
