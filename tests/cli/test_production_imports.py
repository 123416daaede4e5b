"""A production start loads no fake: `serve` and `run` without `--sandbox` import no sandbox, fake Slack, chart or
benchmark code, `run` no HTTP server, and a start on an up-to-date schema no Alembic."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx

from cancel_order_bot.demo.fake_slack import FakeSlack
from tests.cli.socket_mode import run_until_started

FAKES = ("cancel_order_bot.sandbox", "cancel_order_bot.demo", "bot.lazada.sandbox", "benchmarks", "tests")
HEAVY = ("matplotlib", "alembic")
HTTP_SERVER = ("starlette", "uvicorn")

# Runs the CLI as `python -m cancel_order_bot` does and writes the modules loaded by the time it exits.
_WRAPPER = """
import atexit, json, runpy, sys
out = sys.argv[1]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["cancel-order-bot", *sys.argv[2:]]
runpy.run_module("cancel_order_bot", run_name="__main__", alter_sys=True)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(tmp_path: Path, slack: FakeSlack) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "SLACK_API_URL": slack.api_url,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_APP_TOKEN": slack.app_token,
        "SLACK_SIGNING_SECRET": "imports-test-signing-secret",
        "APPROVERS": "S0APPROVERS",
        "LAZADA_APP_KEY": "100100",
        "LAZADA_APP_SECRET": "imports-test-app-secret",
        "LAZADA_ACCESS_TOKEN": "imports-test-access-token",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
    }


async def _read_modules(path: Path) -> list[str]:
    modules: list[str] = json.loads(await asyncio.to_thread(path.read_text))
    return modules


def loaded(modules: Sequence[str], packages: Sequence[str]) -> list[str]:
    """The modules in `modules` that are one of `packages` or inside one."""
    return [m for m in modules if any(m == p or m.startswith(f"{p}.") for p in packages)]


async def _serve_until_ready(tmp_path: Path, slack: FakeSlack, out: Path) -> list[str]:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _WRAPPER,
        str(out),
        "serve",
        "--port",
        str(port),
        env=_env(tmp_path, slack),
        cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            for _ in range(400):
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            assert (await http.get("/readyz")).status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()[-3000:]
    return await _read_modules(out)


async def test_serve_loads_no_fake_and_no_alembic_once_migrated(tmp_path: Path) -> None:
    async with FakeSlack() as slack:
        first = await _serve_until_ready(tmp_path, slack, tmp_path / "first.json")
        again = await _serve_until_ready(tmp_path, slack, tmp_path / "again.json")

    assert "bot.services" in first
    assert "uvicorn" in first
    assert "alembic" in first, "the first start creates the schema"
    assert loaded(first, (*FAKES, "matplotlib")) == []
    assert loaded(again, (*FAKES, *HEAVY)) == []


async def test_run_connects_over_socket_mode_without_loading_a_fake_or_an_http_server(tmp_path: Path) -> None:
    out = tmp_path / "modules.json"
    async with FakeSlack() as slack:

        async def connected() -> None:
            assert slack.socket_connections == 1

        await run_until_started(
            [sys.executable, "-c", _WRAPPER, str(out), "run"], env=_env(tmp_path, slack), cwd=tmp_path, check=connected
        )
    modules = await _read_modules(out)

    assert "slack_bolt.adapter.socket_mode.async_handler" in modules
    assert loaded(modules, (*FAKES, "matplotlib", *HTTP_SERVER)) == []
