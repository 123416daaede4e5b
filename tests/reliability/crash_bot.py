"""The real bot in HTTP mode as a process that SIGKILLs itself at one named point of execution (crash tests).

Run as ``python -m tests.reliability.crash_bot`` with the bot's settings in the environment (``SLACK_API_URL``,
``LAZADA_API_URL``, ``DATABASE_URL``, …) plus:

- ``CRASH_BOT_FD``: a listening TCP socket inherited from the test, served by uvicorn, so a restart answers on
  the same address as the process it replaces;
- ``CRASH_AT`` (optional): one of the executor's checkpoints; the process kills itself with SIGKILL there.

Besides ``/slack/events``, ``/healthz`` and ``/readyz`` it serves two test controls on the same socket:
``POST /_crash/tick`` runs one scheduler tick of the workflow and ``POST /_crash/clock`` with
``{"advance_seconds": n}`` moves the bot's clock forward, so a test can let the 5-minute lease run out in no time.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta

import uvicorn
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.http import create_http_app
from bot.logs import configure_logging_for
from bot.services import Services, open_services
from bot.settings import load_settings
from cancel_order_bot.app import create_app

__all__ = ["CONTROL_PREFIX", "CRASH_POINTS", "ShiftedClock", "crash_checkpoint", "main"]

CRASH_POINTS = frozenset({"after_claim", "before_cancel", "after_cancel", "after_outcome"})
"""The executor's checkpoints (bot/workflow/execution.py)."""

CONTROL_PREFIX = "/_crash/"


class ShiftedClock:
    """The real UTC time plus an offset that only moves forward: the time a restart and a wait would take."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        """The current time as the bot sees it."""
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        """Move the bot's time forward by `delta`."""
        self.offset += delta


class _Advance(BaseModel):
    """The body of ``POST /_crash/clock``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    advance_seconds: float = Field(gt=0)


def crash_checkpoint(point: str | None) -> Callable[[str], Awaitable[None]]:
    """An executor checkpoint that SIGKILLs this process when it reaches `point` (never when `point` is None)."""

    async def checkpoint(name: str) -> None:
        if name == point:
            # Written straight to the file descriptor: buffered output would die with the process.
            os.write(sys.stderr.fileno(), f"crash_bot: SIGKILL at {name}\n".encode())
            os.kill(os.getpid(), signal.SIGKILL)

    return checkpoint


def _controls(services: Services, clock: ShiftedClock) -> Starlette:
    async def tick(_: Request) -> Response:
        await services.workflow.tick()
        return JSONResponse({"now": clock().isoformat()})

    async def advance(request: Request) -> Response:
        try:
            body = _Advance.model_validate_json(await request.body())
        except ValidationError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        clock.advance(timedelta(seconds=body.advance_seconds))
        return JSONResponse({"now": clock().isoformat()})

    return Starlette(
        routes=[
            Route(f"{CONTROL_PREFIX}tick", tick, methods=["POST"]),
            Route(f"{CONTROL_PREFIX}clock", advance, methods=["POST"]),
        ]
    )


async def _drain(services: Services, deadline: float) -> None:
    await services.drain(deadline)


def _with_controls(bot: ASGIApp, controls: ASGIApp) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope["path"]).startswith(CONTROL_PREFIX):
            await controls(scope, receive, send)
        else:
            await bot(scope, receive, send)

    return app


async def main(environ: Mapping[str, str]) -> int:
    """Serve the bot on the inherited socket until SIGTERM (or until it kills itself at ``CRASH_AT``)."""
    crash_at = environ.get("CRASH_AT") or None
    if crash_at is not None and crash_at not in CRASH_POINTS:
        print(f"crash_bot: CRASH_AT={crash_at!r} is not one of {sorted(CRASH_POINTS)}", file=sys.stderr)
        return 2
    listener = socket.socket(fileno=int(environ["CRASH_BOT_FD"]))
    settings = load_settings(env_file=None)
    configure_logging_for(settings)
    clock = ShiftedClock()
    async with open_services(settings, clock=clock) as services:
        services.executor.checkpoint = crash_checkpoint(crash_at)
        # As `serve` does: on SIGTERM, executions in flight finish before the services close.
        bot = create_http_app(
            create_app(services),
            ping=services.db.ping,
            on_shutdown=lambda: _drain(services, settings.shutdown_deadline_seconds),
        )
        config = uvicorn.Config(
            _with_controls(bot, _controls(services, clock)),
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        await uvicorn.Server(config).serve(sockets=[listener])
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(os.environ)))
