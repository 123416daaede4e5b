"""The bot's counterparts in a process of their own: a fake Slack and the Lazada sandbox, with a control API.

Run as ``python -m benchmarks.peers [options]``. It prints one JSON line (``slack_api``, ``sandbox_api``,
``control``) and serves until its standard input closes. The control API lets the driver take trigger ids
and response URLs, read the call logs, change the round trip and move the sandbox's clock a day on,
without the driver's own event loop carrying any of the peers' work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from benchmarks.procs import Child
from cancel_order_bot.demo.fake_slack import FakeSlack, FakeWorkspace
from cancel_order_bot.sandbox import CANCELLABLE_STATUSES, SandboxServer, SandboxWorld, generate_history
from cancel_order_bot.sandbox.history import SELLER
from cancel_order_bot.sandbox.showcase import add_showcase_orders

__all__ = [
    "PeersClient",
    "PeersControl",
    "ShiftedClock",
    "build_world",
    "main",
    "next_day",
    "running_peers",
    "window_counts",
]

CANCEL_CREATE = "/order/reverse/cancel/create"
_ADVANCING = {"pending": "packed", "packed": "ready_to_ship", "ready_to_ship": "shipped"}


class ShiftedClock:
    """The real clock moved to start at ``start``: time flows (rate limits work), and it can jump days ahead."""

    def __init__(self, start: datetime) -> None:
        self.offset = start - datetime.now(UTC)

    def __call__(self) -> datetime:
        """The shifted time now."""
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        """Jump ahead, e.g. ``advance(days=1)``."""
        self.offset += timedelta(**delta)


def build_world(
    *, seed: int, orders_per_day: int, days: int, country: str, start: datetime | None
) -> tuple[SandboxWorld, ShiftedClock | None]:
    """A sandbox seller with a seeded history (and the showcase orders), on a shifted clock when ``start`` is set."""
    clock = ShiftedClock(start) if start is not None else None
    world = SandboxWorld(country=country, now=clock) if clock is not None else SandboxWorld(country=country)
    generate_history(world, seed=seed, orders_per_day=orders_per_day, days=days)
    add_showcase_orders(world)
    return world, clock


def window_counts(world: SandboxWorld, created_after: datetime) -> dict[str, int]:
    """Orders created at or after ``created_after``, and how many of them have a cancelled item."""
    orders = [o for o in world.orders_by_created() if o.created_at >= created_after]
    cancelled = sum(1 for o in orders if any(i.status == "canceled" for i in o.items))
    return {"orders": len(orders), "with_cancelled": cancelled}


def next_day(
    world: SandboxWorld, clock: ShiftedClock, *, seed: int, orders_per_day: int, change_share: float
) -> dict[str, int]:
    """Move the seller one day on: a day of new orders, and some recent orders moving along or cancelled.

    Of the orders placed in the last three days, ``change_share`` move one status forward and one in a
    hundred is cancelled by the seller, so an incremental sync has changed orders to find, not only new ones.
    """
    rng = random.Random(seed)
    clock.advance(days=1)
    summary = generate_history(world, seed=seed, orders_per_day=orders_per_day, days=1)
    recent = [o for o in world.orders_by_created() if o.created_at >= world.now() - timedelta(days=3)]
    moved = cancelled = 0
    for order in recent:
        draw = rng.random()
        if draw < 0.01:
            open_items = [item for item in order.items if item.status in CANCELLABLE_STATUSES]
            for item in open_items:
                world.set_item_status(item.order_item_id, "canceled", initiator=SELLER, reason="Out of Stock")
            cancelled += bool(open_items)
        elif draw < 0.01 + change_share:
            for item in order.items:
                if item.status in _ADVANCING:
                    world.set_item_status(item.order_item_id, _ADVANCING[item.status])
            moved += 1
    return {"new_orders": summary.orders, "moved": moved, "cancelled": cancelled}


class PeersControl:
    """The control API over one fake Slack and one sandbox world."""

    def __init__(self, slack: FakeSlack, world: SandboxWorld, server: SandboxServer, clock: ShiftedClock | None):
        self.slack = slack
        self.world = world
        self.server = server
        self.clock = clock

    def app(self) -> web.Application:
        """The aiohttp application of the control API."""
        app = web.Application()
        app.router.add_post("/triggers", self.triggers)
        app.router.add_post("/response-urls", self.response_urls)
        app.router.add_get("/slack-calls", self.slack_calls)
        app.router.add_get("/lazada-calls", self.lazada_calls)
        app.router.add_get("/orders", self.orders)
        app.router.add_post("/rtt", self.rtt)
        app.router.add_get("/now", self.now)
        app.router.add_get("/window", self.window)
        app.router.add_post("/next-day", self.next_day)
        return app

    async def triggers(self, request: web.Request) -> web.Response:
        """Issue ``count`` trigger ids for ``user``."""
        body = await request.json()
        ids = [self.slack.new_trigger_id(body["user"]) for _ in range(int(body["count"]))]
        return web.json_response({"ids": ids})

    async def response_urls(self, request: web.Request) -> web.Response:
        """Issue ``count`` response URLs for ``user`` in ``channel``."""
        body = await request.json()
        urls = [
            self.slack.new_response_url(channel=body["channel"], user=body["user"]) for _ in range(int(body["count"]))
        ]
        return web.json_response({"urls": urls})

    async def slack_calls(self, request: web.Request) -> web.Response:
        """The Web API calls from index ``since`` (of ``method`` if given): time, success, and reasons shown."""
        since = int(request.query.get("since", "0"))
        method = request.query.get("method")
        calls = self.slack.calls
        rows: list[dict[str, Any]] = []
        for index, call in enumerate(calls[since:], start=since):
            if method is not None and call.method != method:
                continue
            view = call.params.get("view")
            rows.append(
                {
                    "index": index,
                    "method": call.method,
                    "at": call.at,
                    "ok": call.ok,
                    "error": call.error,
                    "view_id": call.params.get("view_id"),
                    "has_reasons": isinstance(view, dict | str) and '"reason"' in json.dumps(view),
                }
            )
        return web.json_response({"total": len(calls), "calls": rows})

    async def lazada_calls(self, request: web.Request) -> web.Response:
        """Calls per API path, and cancels per order (a duplicate cancel shows as a count above one)."""
        cancels = Counter(
            r.params.get("order_id", "") for r in self.world.calls if r.path == CANCEL_CREATE and r.applied
        )
        network = self.server.app.state.network
        return web.json_response(
            {"counts": self.world.call_counts(), "cancels_per_order": dict(cancels), "connections": network.connections}
        )

    async def orders(self, request: web.Request) -> web.Response:
        """Up to ``count`` recent orders all of whose items have ``status``, newest first."""
        status = request.query.get("status", "pending")
        count = int(request.query.get("count", "10"))
        found = [
            str(o.order_id) for o in reversed(self.world.orders_by_created()) if o.statuses == [status] and o.items
        ][:count]
        return web.json_response({"orders": found})

    async def rtt(self, request: web.Request) -> web.Response:
        """Set the sandbox's round trip in milliseconds."""
        body = await request.json()
        self.server.app.state.network.rtt_ms = float(body["ms"])
        return web.json_response({"rtt_ms": self.server.app.state.network.rtt_ms})

    async def now(self, request: web.Request) -> web.Response:
        """The sandbox's clock."""
        return web.json_response({"now": self.world.now().isoformat()})

    async def window(self, request: web.Request) -> web.Response:
        """How many orders were created since ``after`` (ISO), and how many of those have a cancelled item."""
        after = datetime.fromisoformat(request.query["after"])
        return web.json_response(window_counts(self.world, after))

    async def next_day(self, request: web.Request) -> web.Response:
        """Move the manual clock a day on with new and changed orders."""
        if self.clock is None:
            return web.json_response({"error": "the sandbox runs on the real clock"}, status=409)
        body = await request.json()
        changed = next_day(
            self.world,
            self.clock,
            seed=int(body.get("seed", 2)),
            orders_per_day=int(body["orders_per_day"]),
            change_share=float(body.get("change_share", 0.3)),
        )
        return web.json_response({**changed, "now": self.world.now().isoformat()})


class PeersClient:
    """The driver's side of the control API."""

    def __init__(self, announced: dict[str, Any]) -> None:
        self.slack_api: str = announced["slack_api"]
        self.sandbox_api: str = announced["sandbox_api"]
        self.control: str = announced["control"]
        self._http = httpx.AsyncClient(base_url=announced["control"], timeout=120.0)

    async def close(self) -> None:
        """Close the control connection."""
        await self._http.aclose()

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._http.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    async def triggers(self, user: str, count: int) -> list[str]:
        """``count`` fresh trigger ids for ``user``."""
        return list((await self._json("POST", "/triggers", json={"user": user, "count": count}))["ids"])

    async def response_urls(self, channel: str, user: str, count: int) -> list[str]:
        """``count`` fresh response URLs for ``user`` in ``channel``."""
        body = {"channel": channel, "user": user, "count": count}
        return list((await self._json("POST", "/response-urls", json=body))["urls"])

    async def slack_calls(self, *, since: int = 0, method: str | None = None) -> tuple[int, list[dict[str, Any]]]:
        """How many Web API calls there were in all, and those from ``since`` (of ``method``)."""
        params = {"since": str(since), **({"method": method} if method else {})}
        body = await self._json("GET", "/slack-calls", params=params)
        return int(body["total"]), list(body["calls"])

    async def lazada_calls(self) -> dict[str, Any]:
        """Calls per API path and cancels per order."""
        return dict(await self._json("GET", "/lazada-calls"))

    async def orders(self, status: str, count: int) -> list[str]:
        """Recent orders whose items all have ``status``."""
        body = await self._json("GET", "/orders", params={"status": status, "count": str(count)})
        return list(body["orders"])

    async def set_rtt(self, ms: float) -> None:
        """Change the sandbox's round trip."""
        await self._json("POST", "/rtt", json={"ms": ms})

    async def now(self) -> datetime:
        """The sandbox's clock."""
        return datetime.fromisoformat((await self._json("GET", "/now"))["now"])

    async def window(self, after: datetime) -> dict[str, int]:
        """Orders created since ``after`` and how many have a cancelled item."""
        return dict(await self._json("GET", "/window", params={"after": after.isoformat()}))

    async def next_day(self, *, orders_per_day: int, change_share: float = 0.3) -> dict[str, Any]:
        """Move the sandbox a day on."""
        body = {"orders_per_day": orders_per_day, "change_share": change_share}
        return dict(await self._json("POST", "/next-day", json=body))

    async def settle(self, *, quiet: float = 1.0, limit: float = 120.0) -> None:
        """Wait until no Slack or Lazada call has come for ``quiet`` seconds (the bots' work after acks is done)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        last_total, last_change = -1, loop.time()
        while loop.time() < deadline:
            slack_total, _ = await self.slack_calls(since=1 << 62)
            total = slack_total + sum((await self.lazada_calls())["counts"].values())
            if total != last_total:
                last_total, last_change = total, loop.time()
            elif loop.time() - last_change >= quiet:
                return
            await asyncio.sleep(0.1)


@asynccontextmanager
async def running_peers(log_dir: Path, *options: str) -> AsyncIterator[PeersClient]:
    """Start ``python -m benchmarks.peers`` with ``options`` and yield its control client."""
    async with Child("peers", ["-m", "benchmarks.peers", *options], log_dir=log_dir, announce=True) as child:
        client = PeersClient(child.announced)
        try:
            yield client
        finally:
            await client.close()


async def _serve(args: argparse.Namespace) -> None:
    start = datetime.fromisoformat(args.start).astimezone(UTC) if args.start else None
    world, clock = build_world(
        seed=args.seed, orders_per_day=args.orders_per_day, days=args.days, country=args.country, start=start
    )
    world.rate_limit = args.rate_limit
    async with FakeSlack(FakeWorkspace.default()) as slack, SandboxServer(world, port=0, rtt_ms=args.rtt_ms) as server:
        control = PeersControl(slack, world, server, clock)
        runner = web.AppRunner(control.app(), access_log=None, handle_signals=False)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(runner, sock)
        await site.start()
        port = sock.getsockname()[1]
        announcement = {
            "slack_api": slack.api_url,
            "sandbox_api": server.base_url,
            "control": f"http://127.0.0.1:{port}",
            "orders": world.order_count,
        }
        print(json.dumps(announcement), flush=True)
        try:
            await asyncio.to_thread(sys.stdin.read)
        finally:
            await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    """Serve the peers until standard input closes."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers", description=__doc__)
    parser.add_argument("--rtt-ms", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--orders-per-day", type=int, default=40)
    parser.add_argument("--days", type=int, default=70)
    parser.add_argument("--rate-limit", type=int, default=None)
    parser.add_argument("--country", default="sg")
    parser.add_argument("--start", default=None, help="run the sandbox on a manual clock starting here (ISO)")
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
