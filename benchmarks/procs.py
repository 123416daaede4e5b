"""Child processes for the benchmarks: the bot served over HTTP, peers, helpers; their memory; free ports."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
from pydantic import SecretStr

from benchmarks.credentials import BOT_TOKEN, SIGNING_SECRET
from bot.lazada.countries import Country
from bot.settings import Settings
from cancel_order_bot.sandbox import SANDBOX_ACCESS_TOKEN, SANDBOX_APP_KEY, SANDBOX_APP_SECRET, SANDBOX_REFRESH_TOKEN

__all__ = [
    "SIGNING_SECRET",
    "Child",
    "bot_env",
    "free_port",
    "rss_mb",
    "sandbox_settings",
    "wait_ready",
]


REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(f"{field} not in /proc/{pid}/status")


def rss_mb(pid: int, *, peak: bool = False) -> float:
    """The resident memory of process ``pid`` in MiB (its peak, VmHWM, when ``peak``)."""
    return _status_kb(pid, "VmHWM" if peak else "VmRSS") / 1024


def bot_env(
    *,
    slack_api_url: str,
    lazada_api_url: str,
    database_url: str,
    calls_per_second: float = 1000.0,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a bot served for a benchmark: fake Slack, the sandbox over HTTP, quiet JSON logs."""
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api_url,
        "DATABASE_URL": database_url,
        "LAZADA_API_URL": lazada_api_url,
        "LAZADA_AUTH_URL": lazada_api_url,
        "LAZADA_APP_KEY": SANDBOX_APP_KEY,
        "LAZADA_APP_SECRET": SANDBOX_APP_SECRET,
        "LAZADA_ACCESS_TOKEN": SANDBOX_ACCESS_TOKEN,
        "LAZADA_REFRESH_TOKEN": SANDBOX_REFRESH_TOKEN,
        "LAZADA_COUNTRY": "sg",
        "LAZADA_CALLS_PER_SECOND": str(calls_per_second),
        "APPROVERS": "S0APPROVERS",
        "DIGEST_CHANNEL": "C0DIGEST",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
        **dict(extra or {}),
    }


class Child:
    """A child process whose output goes to a log file; stopped with SIGTERM (then SIGKILL) on exit.

    With ``announce=True`` its stdout is a pipe and the first line it prints is read as JSON (where it
    listens); its stdin stays open, so a child that waits for end of input stops when the driver dies.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_dir: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        announce: bool = False,
    ) -> None:
        self.name = name
        self.argv = [sys.executable, *argv]
        self.log_path = log_dir / f"{name}.log"
        # Children get a known environment of their own: the suite's package on the path, a private HOME.
        self.env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(log_dir),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(REPO_ROOT),
            **dict(env or {}),
        }
        self.cwd = cwd or log_dir
        self.announce = announce
        self.announced: dict[str, Any] = {}
        self.started_at = 0.0
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        """The child's process id."""
        if self._process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self._process.pid

    async def start(self, *, timeout: float = 600.0) -> None:  # noqa: ASYNC109 - children that hang must not hang the suite
        """Start the child (and read its announcement)."""
        self.started_at = time.perf_counter()
        with self.log_path.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE if self.announce else log,
                stderr=log,
                env=self.env,
                cwd=self.cwd,
            )
        if self.announce:
            assert self._process.stdout is not None
            try:
                line = await asyncio.wait_for(self._process.stdout.readline(), timeout)
            except TimeoutError:
                await self.stop()
                raise RuntimeError(f"{self.name} did not start within {timeout:.0f} s; see {self.log_path}") from None
            if not line:
                await self.stop()
                raise RuntimeError(f"{self.name} exited before it started; see {self.log_path}")
            self.announced = json.loads(line)

    async def stop(self) -> int | None:
        """Stop the child: SIGTERM, then SIGKILL after ten seconds; returns its exit code."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.stdin is not None:
            process.stdin.close()
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10.0)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        return process.returncode

    async def wait(self) -> int:
        """Wait for the child to exit by itself; its exit code."""
        if self._process is None:
            raise RuntimeError(f"{self.name} is not running")
        if self._process.stdin is not None:
            self._process.stdin.close()
        code = await self._process.wait()
        self._process = None
        return code

    def alive(self) -> bool:
        """Whether the child is still running."""
        return self._process is not None and self._process.returncode is None

    def rss_mb(self, *, peak: bool = False) -> float:
        """The child's resident memory in MiB (its peak when ``peak``)."""
        return rss_mb(self.pid, peak=peak)

    async def __aenter__(self) -> Self:
        """Start the child."""
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Stop the child."""
        await self.stop()


async def wait_ready(url: str, child: Child | None = None, *, timeout: float = 60.0) -> float:  # noqa: ASYNC109
    """Poll ``url`` until it answers 200; returns when, in ``time.perf_counter`` seconds."""
    deadline = time.perf_counter() + timeout
    async with httpx.AsyncClient(timeout=2.0) as http:
        while True:
            if child is not None and not child.alive():
                raise RuntimeError(f"{child.name} exited before it was ready; see {child.log_path}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(url)).status_code == 200:
                    return time.perf_counter()
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{url} was not ready within {timeout:.0f} s")
            await asyncio.sleep(0.01)


def sandbox_settings(sandbox_api: str, database_url: str, *, calls_per_second: float, **extra: Any) -> Settings:
    """In-process bot settings for a benchmark: the sandbox served at `sandbox_api`, one store "main", no Slack."""
    return Settings(
        _env_file=None,
        slack_bot_token=SecretStr("xoxb-unused"),
        slack_api_url="http://127.0.0.1:9/api/",
        database_url=database_url,
        lazada_api_url=sandbox_api,
        lazada_auth_url=sandbox_api,
        lazada_app_key=SANDBOX_APP_KEY,
        lazada_app_secret=SecretStr(SANDBOX_APP_SECRET),
        lazada_access_token=SecretStr(SANDBOX_ACCESS_TOKEN),
        lazada_refresh_token=SecretStr(SANDBOX_REFRESH_TOKEN),
        lazada_country=Country.SG,
        lazada_calls_per_second=calls_per_second,
        stores_file=None,
        store_code="main",
        **extra,
    )
