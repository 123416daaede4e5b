"""The sandbox as the services' Lazada: built here, behind `--sandbox` and the demo, so production never loads it."""

from __future__ import annotations

from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from bot.services import LazadaTarget
from bot.settings import Settings, SettingsError
from bot.store.db import default_sqlite_url
from cancel_order_bot.sandbox.history import generate_history, start_buyer_requests
from cancel_order_bot.sandbox.showcase import add_showcase_orders
from cancel_order_bot.sandbox.transport import SANDBOX_BASE_URL, SandboxTransport
from cancel_order_bot.sandbox.world import (
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_APP_KEY,
    SANDBOX_APP_SECRET,
    SANDBOX_REFRESH_TOKEN,
    SandboxWorld,
)

__all__ = ["SANDBOX_SEED", "sandbox_database_url", "sandbox_target", "sandbox_world"]

SANDBOX_SEED = 1
_ORDERS_PER_DAY = 40
_DAYS = 70  # the digest's chart needs 65 days of history


def sandbox_world(
    *, seed: int = SANDBOX_SEED, orders_per_day: int = _ORDERS_PER_DAY, days: int = _DAYS, country: str = "sg"
) -> SandboxWorld:
    """A sandbox seller with a generated, seeded order history (the same seed gives the same orders).

    Buyers ask to cancel a packed or ready-to-ship order now and then as time passes (``start_buyer_requests``).
    """
    world = SandboxWorld(country=country)
    # Always on here, so every sandbox run reads them.
    world.use_documented_oddities()
    generate_history(world, seed=seed, orders_per_day=orders_per_day, days=days)
    add_showcase_orders(world)
    # Buyers ask to cancel now and then while the run lasts, so a running bot sees requests come and go.
    start_buyer_requests(world, seed=seed)
    return world


def sandbox_database_url(settings: Settings) -> str:
    """`SANDBOX_DATABASE_URL`, else a SQLite file beside `DATABASE_URL`'s (`name.sandbox.sqlite3`).

    A PostgreSQL `DATABASE_URL` has no file to sit beside, and a local file would split replicas: then
    `SANDBOX_DATABASE_URL` must be given.
    """
    if settings.sandbox_database_url:
        return settings.sandbox_database_url
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise SettingsError(
            "SANDBOX_DATABASE_URL: sandbox runs keep their data apart, beside a SQLite DATABASE_URL; "
            "with PostgreSQL, set SANDBOX_DATABASE_URL to a database of their own"
        )
    path = Path(url.database)
    return default_sqlite_url(path.with_name(f"{path.stem}.sandbox{path.suffix}"))


def sandbox_target(
    settings: Settings,
    world: SandboxWorld | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    database_url: str | None = None,
) -> LazadaTarget:
    """The configured stores on the in-process sandbox `world` (default: `sandbox_world()`), with its own database.

    `database_url` overrides `sandbox_database_url(settings)`; `transport` replaces the in-process one (tests
    that record or break the traffic).
    """
    stores = [
        store.model_copy(
            update={
                "api_url": SANDBOX_BASE_URL,
                "access_token": SecretStr(SANDBOX_ACCESS_TOKEN),
                "refresh_token": SecretStr(SANDBOX_REFRESH_TOKEN),
            }
        )
        for store in settings.stores()
    ]
    return LazadaTarget(
        stores=stores,
        app_key=SANDBOX_APP_KEY,
        app_secret=SecretStr(SANDBOX_APP_SECRET),
        auth_url=SANDBOX_BASE_URL,
        database_url=database_url or sandbox_database_url(settings),
        database_setting="SANDBOX_DATABASE_URL",
        sandbox=True,
        transport=transport or SandboxTransport(world if world is not None else sandbox_world()),
    )
