"""The commands themselves: each builds what it needs from Settings and returns an exit code."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import signal
import sys
from collections.abc import Callable
from typing import Any

import structlog

from bot.command_text import CommandKind, parse_command_text
from bot.lazada.countries import COUNTRIES
from bot.lazada.errors import LazadaError, LazadaTransportError
from bot.logs import configure_logging_for
from bot.scheduler import Tick, create_scheduler
from bot.services import LazadaTarget, Services
from bot.settings import Settings
from bot.store.migrate import current_revision, upgrade_to_head
from bot.workflow.errors import WorkflowError
from cancel_order_bot.cli.errors import CliError, database_errors, opened_services, require_free_port

__all__ = [
    "db_upgrade",
    "demo",
    "describe_upgrade",
    "lazada_for",
    "order_show",
    "run_socket_mode",
    "sandbox",
    "serve_http",
]

log = structlog.get_logger(__name__)


def _fail(message: str, code: int = 1) -> int:
    print(f"cancel-order-bot: {message}", file=sys.stderr)
    return code


def lazada_for(args: argparse.Namespace, settings: Settings) -> LazadaTarget | None:
    """The sandbox's Lazada behind `--sandbox` (imported only then), else None: the one the settings name."""
    if not getattr(args, "sandbox", False):
        return None
    from cancel_order_bot.sandbox.target import sandbox_target

    return sandbox_target(settings)


async def order_show(args: argparse.Namespace, settings: Settings) -> int:
    """Print what the bot sees for an order; read-only on Lazada (a buyer's request it shows is stored, as the
    scheduler's scan would)."""
    from cancel_order_bot.cli.order_show import BuyerRequestsNow, render_order_json, render_order_text

    configure_logging_for(settings, level="ERROR")
    parsed = parse_command_text(args.order_id, ())
    if parsed.kind is not CommandKind.ORDER or len(parsed.order_ids) != 1:
        raise CliError(f"ORDER_ID: `{args.order_id}` is not a Lazada order number (4 to 20 digits)", 2)
    lazada = lazada_for(args, settings)
    async with opened_services(settings, lazada=lazada) as services:
        try:
            draft = await services.workflow.draft(args.store, parsed.order_ids[0])
        except WorkflowError as exc:
            return _fail(str(exc), 2)
        except LazadaTransportError as exc:
            log.info("order_show_failed", error=str(exc))
            if lazada is not None:
                return _fail(f"order {parsed.order_ids[0]}: {exc.user_message}")
            store = services.workflow.store(args.store)
            url = store.api_url or settings.lazada_api_url or COUNTRIES[store.country].gateway
            setting = "LAZADA_API_URL" if settings.lazada_api_url else "LAZADA_COUNTRY"
            said = "did not answer in time" if exc.timed_out else "could not be reached"
            return _fail(f"order {parsed.order_ids[0]}: Lazada at {url} {said}; check {setting} and the network")
        except LazadaError as exc:
            log.info("order_show_failed", error=str(exc))
            return _fail(f"order {parsed.order_ids[0]}: {exc.user_message}")
        store = services.workflow.store(draft.store_code)
        buyer = BuyerRequestsNow(
            await services.buyer.open_for_order(store.code, draft.order_id),
            now=services.clock(),
            tz=store.tz,
            currency=COUNTRIES[store.country].currency,
        )
    render = render_order_json if args.json else render_order_text
    print(render(draft, sandbox=lazada is not None, buyer=buyer))
    return 0


async def demo() -> int:
    """Play the offline demo and print its transcript."""
    from cancel_order_bot.cli.demo import run_demo

    await run_demo()
    return 0


def describe_upgrade(before: str | None, after: str | None) -> str:
    """What `db upgrade` did, from the schema revision before and after it."""
    if before is None:
        return f"created the schema at {after}"
    if before == after:
        return f"already at {after}"
    return f"upgraded {before} → {after}"


async def db_upgrade(settings: Settings) -> int:
    """Apply the database migrations and say what was done."""
    url = settings.database_url
    async with database_errors(url):
        before = await current_revision(url)
        await upgrade_to_head(url)
        after = await current_revision(url)
    print(describe_upgrade(before, after))
    return 0


async def sandbox(args: argparse.Namespace) -> int:
    """Serve the Lazada sandbox until interrupted."""
    require_free_port(args.host, args.port)
    from cancel_order_bot.sandbox import SandboxWorld, describe_sandbox, generate_history, serve_sandbox
    from cancel_order_bot.sandbox.history import start_buyer_requests
    from cancel_order_bot.sandbox.showcase import add_showcase_orders

    world = SandboxWorld(country=args.country)
    world.use_documented_oddities()
    summary = generate_history(world, seed=args.seed, orders_per_day=args.orders_per_day, days=args.days)
    showcase = add_showcase_orders(world)
    start_buyer_requests(world, seed=args.seed)
    world.rate_limit = args.rate_limit

    def started(base_url: str) -> None:
        print(describe_sandbox(world, base_url=base_url), flush=True)
        print(
            f"  showcase orders: {showcase.packed} (packed, shares a package), {showcase.pending} (pending), "
            f"{showcase.ready_to_ship} (ready to ship), {showcase.shipped} (shipped), "
            f"{showcase.buyer_request} (packed, the buyer asked to cancel)",
            flush=True,
        )
        print(f"  ({summary.orders} generated orders, {summary.items} items; Ctrl-C stops)", flush=True)

    with contextlib.suppress(asyncio.CancelledError):
        await serve_sandbox(world, host=args.host, port=args.port, rtt_ms=args.rtt_ms, on_started=started)
    return 0


def _ticks(services: Services) -> list[Tick]:
    return [
        Tick("requests", services.workflow.tick, seconds=60.0),
        Tick("tokens", services.token_keeper.tick, seconds=600.0),
        Tick("digest", services.digest.tick, seconds=60.0),
        Tick("events", services.prune_events, seconds=3600.0),
        # Each store is listed at its own interval (the service skips a store not due); the tick wakes at the shortest.
        Tick("buyer_requests", services.buyer.tick, seconds=services.buyer.tick_seconds(), at_start=True),
        Tick("claims", services.prune_claims, seconds=3600.0),
    ]


async def _until_stopped(started: Callable[[], None], fatal: asyncio.Future[str] | None = None) -> str | None:
    """Wait for SIGINT/SIGTERM (returns None) or a fatal Socket Mode error (returns its message)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    started()  # only now: a stop signal sent by whoever waits for this line is handled, not fatal
    signalled: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    waiters: list[asyncio.Future[Any]] = [signalled, *([fatal] if fatal is not None else [])]
    done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    signalled.cancel()
    return fatal.result() if fatal is not None and fatal in done else None


async def run_socket_mode(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot over Socket Mode until interrupted, or until Slack refuses its token."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from cancel_order_bot.app import create_app
    from cancel_order_bot.cli.socket_mode import SocketModeLog, connected_line, verify_tokens

    settings.require("slack_bot_token", "slack_app_token")
    configure_logging_for(settings)
    lazada = lazada_for(args, settings)
    async with opened_services(settings, lazada=lazada) as services, contextlib.AsyncExitStack() as health:
        if args.health_port is not None:
            from bot.http import create_health_app, serve_side_port  # Starlette and uvicorn only when asked for

            # Up before the socket connects, so a probe sees the process alive while it connects.
            asgi = create_health_app(services.db.ping, services.metrics)
            await health.enter_async_context(serve_side_port(asgi, host=args.health_host, port=args.health_port))
        app = create_app(services, verify_requests=False)
        assert settings.slack_app_token is not None
        app_token = settings.slack_app_token.get_secret_value()
        identity = await verify_tokens(app.client, app_token)
        fatal: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        handler = AsyncSocketModeHandler(app, app_token, logger=SocketModeLog(fatal))
        scheduler = create_scheduler(_ticks(services), services.metrics)
        await handler.connect_async()  # type: ignore[no-untyped-call]
        log.info(connected_line(identity), team_id=identity.get("team_id"), bot_user_id=identity.get("user_id"))
        scheduler.start()
        # As in HTTP mode: what is built at start lives as long as the process; keep the GC's full passes off it.
        gc.collect()
        gc.freeze()
        stores = [s.code for s in services.stores]
        try:
            refused = await _until_stopped(
                lambda: log.info("bot_started", mode="socket", sandbox=services.lazada.sandbox, stores=stores), fatal
            )
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]
            deadline = settings.shutdown_deadline_seconds
            await asyncio.gather(scheduler.stop(deadline), services.drain(deadline))
    if refused is not None:
        raise CliError(refused, 2)  # a token to fix: exit 2, so systemd does not restart into the same refusal
    return 0


async def serve_http(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot over HTTP until interrupted."""
    import uvicorn

    from bot.http import HttpLimits, create_http_app, server_config
    from cancel_order_bot.app import create_app

    settings.require("slack_bot_token", "slack_signing_secret")
    require_free_port(args.host, args.port)
    configure_logging_for(settings)
    async with opened_services(settings, lazada=lazada_for(args, settings)) as services:
        scheduler = create_scheduler(_ticks(services), services.metrics)

        async def startup() -> None:
            scheduler.start()

        async def shutdown() -> None:
            deadline = settings.shutdown_deadline_seconds
            await asyncio.gather(scheduler.stop(deadline), services.drain(deadline))

        limits = HttpLimits.from_settings(settings)
        asgi = create_http_app(
            create_app(services, verify_requests=False),  # create_http_app checks each signature first
            ping=services.db.ping,
            on_startup=startup,
            on_shutdown=shutdown,
            metrics=services.metrics,
            limits=limits,
        )
        config = server_config(asgi, host=args.host, port=args.port, limits=limits)
        log.info("bot_started", mode="http", host=args.host, port=args.port, sandbox=services.lazada.sandbox)
        # uvicorn re-raises the signal that stopped it once it has shut down; catch that one, so the services
        # below still close (database connections, the HTTP pool) and the process exits 0.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: None)
        await uvicorn.Server(config).serve()
        log.info("bot_stopped", mode="http")
    return 0
