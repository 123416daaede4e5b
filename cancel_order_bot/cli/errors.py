"""The CLI's one error boundary: every failure becomes one or two lines that name the setting or argument to fix.

`CliError` is what commands raise for a problem a person can fix; `explain` turns any exception into the line
printed by `__main__`, and `database_errors` names DATABASE_URL when the database cannot be opened.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.services import Services, open_services
from bot.settings import Settings, SettingsError

__all__ = [
    "CliError",
    "Explanation",
    "database_errors",
    "describe_database_failure",
    "explain",
    "opened_services",
    "require_free_port",
    "shown_database_url",
]

# Raised by the database drivers when the server cannot be reached or refuses the login.
# What the drivers raise when the server cannot be reached or refuses the login (asyncpg's errors arrive wrapped
# in SQLAlchemy's; a refused connection arrives as a plain OSError).
_DATABASE_FAILURES: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError, TimeoutError)


class CliError(Exception):
    """A problem the person running the command can fix; the message names what to change."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Explanation:
    """What to print for a failure, and the exit code."""

    message: str
    code: int


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    text = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__


def shown_database_url(url: str) -> str:
    """The database URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a URL)"


def _sqlite_folder(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database).parent


def describe_database_failure(url: str, exc: BaseException) -> str:
    """One line: the database at `url` could not be used, why, and what to check."""
    folder = _sqlite_folder(url)
    if folder is not None and not folder.is_dir():
        return (
            f"DATABASE_URL: the folder {folder} of {shown_database_url(url)} does not exist; "
            "create it or pick another path"
        )
    return (
        f"DATABASE_URL: cannot use the database at {shown_database_url(url)} ({_first_line(exc)}); "
        "check the URL, that the server runs and accepts this user"
    )


@asynccontextmanager
async def database_errors(url: str) -> AsyncIterator[None]:
    """Turn a failure to reach or open the database inside the block into a `CliError` naming DATABASE_URL."""
    folder = _sqlite_folder(url)
    if folder is not None and not folder.is_dir():
        # Said before connecting: aiosqlite's failed connect can outlive the event loop and print from its thread.
        raise CliError(describe_database_failure(url, FileNotFoundError(folder)))
    try:
        yield
    except SettingsError:
        raise
    except _DATABASE_FAILURES as exc:
        raise CliError(describe_database_failure(url, exc)) from exc


@asynccontextmanager
async def opened_services(settings: Settings, **options: Any) -> AsyncIterator[Services]:
    """`open_services`, with a database that cannot be opened reported as its setting's problem."""
    lazada = options.get("lazada")
    url = lazada.database_url if lazada is not None else settings.database_url
    async with AsyncExitStack() as stack:
        async with database_errors(url):
            services = await stack.enter_async_context(open_services(settings, **options))
        yield services


def require_free_port(host: str, port: int, *, argument: str = "--port") -> None:
    """Fail with one line naming `argument` when `port` on `host` is taken (before a server starts on it)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CliError(f"--host: cannot use {host!r} ({exc.strerror})", 2) from exc
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CliError(
                    f"{argument}: port {port} on {host} is already in use; stop what holds it or pick another port"
                ) from exc
            raise CliError(f"--host/{argument}: cannot listen on {host}:{port} ({exc.strerror})") from exc


def explain(exc: BaseException) -> Explanation:
    """The line to print for `exc` and the exit code: 2 for settings and arguments, 1 otherwise."""
    if isinstance(exc, CliError):
        return Explanation(str(exc), exc.code)
    if isinstance(exc, SettingsError):
        return Explanation(str(exc), 2)
    if isinstance(exc, SQLAlchemyError):
        return Explanation(f"the database failed: {_first_line(exc)}; check DATABASE_URL", 1)
    return Explanation(f"unexpected error: {_first_line(exc)} (run again with --debug to see where it happened)", 1)
