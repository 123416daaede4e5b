"""The wheel works on its own: built from the sources, installed into a fresh virtualenv, run from there.

Slow (a wheel build and a virtualenv, about a minute), so marked `slow`; CI runs it. The fresh virtualenv gets the
wheel only; the dependencies come from the test's own environment through a path file, so the test needs no
network and still proves that the installed package (not the checkout) carries everything it reads at run time.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import httpx
import pytest

from cancel_order_bot.demo.fake_slack import FakeSlack

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent.parent
_NOT_SHIPPED = shutil.ignore_patterns(
    ".venv*", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "tests", "benchmarks", "docs"
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding the wheel built from a copy of the sources; yields its bin folder."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SHIPPED)
    wheels = base / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(source)],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("cancel_order_bot-*.whl")
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    bin_dir = env_dir / "bin"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(bin_dir / "python"),
            "install",
            "--quiet",
            "--no-deps",
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    site = Path(
        subprocess.run(
            [str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # The dependencies, without this environment's editable install of the project (a path file adds the folder,
    # but not the path files inside it, so the checkout stays invisible).
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    return bin_dir


def _env(tmp_path: Path, **settings: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), **settings}


def test_the_installed_package_is_the_wheel(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [
            str(installed / "python"),
            "-c",
            "import bot, cancel_order_bot; print(bot.__file__, cancel_order_bot.__file__)",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
    ).stdout.split()
    assert all(path.startswith(str(installed.parent)) for path in where), where


async def test_check_sandbox_passes_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    async with FakeSlack() as slack:
        process = await asyncio.create_subprocess_exec(
            str(installed / "cancel-order-bot"),
            "check",
            "--sandbox",
            cwd=tmp_path,
            env=_env(
                tmp_path,
                SLACK_API_URL=slack.api_url,
                SLACK_BOT_TOKEN=slack.bot_token,
                SLACK_APP_TOKEN="xapp-1-fake",
                APPROVERS="S0APPROVERS",
                APPROVAL_CHANNEL="C0OPS",
            ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    text = out.decode()
    assert process.returncode == 0, text
    assert re.search(r"^✓ slack scopes: all \d+ manifest scopes granted", text, flags=re.MULTILINE), text
    assert "✓ lazada store main" in text
    assert not (tmp_path / "cancel-order-bot.sqlite3").exists(), "check creates no database"


def test_demo_runs_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LOG_LEVEL=loud\n", encoding="utf-8")  # the demo ignores the user's .env
    result = subprocess.run(
        [str(installed / "cancel-order-bot"), "demo"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "bob" in result.stdout


def _dockerfile_json(instruction: str) -> list[str]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(rf"^{instruction}\s+(?:--\S+\s+)*(?:CMD\s+)?(\[.*\])\s*$", text, flags=re.MULTILINE)
    assert match is not None, f"no {instruction} in the Dockerfile"
    value = json.loads(match.group(1))
    assert isinstance(value, list)
    return [str(part) for part in value]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_container_entry_command_serves_and_passes_its_healthcheck(installed: Path, tmp_path: Path) -> None:
    entry, command = _dockerfile_json("ENTRYPOINT"), _dockerfile_json("CMD")
    port = str(_free_port())
    # The image's command as written, on a free port instead of 3000 (a later --port wins in argparse).
    argv = [str(installed / entry[0]), *entry[1:], *command, "--port", port]
    async with FakeSlack() as slack:
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=tmp_path,
            env=_env(
                tmp_path,
                SLACK_API_URL=slack.api_url,
                SLACK_BOT_TOKEN=slack.bot_token,
                SLACK_SIGNING_SECRET="wheel-test-secret",
                LAZADA_APP_KEY="100100",
                LAZADA_APP_SECRET="app-secret",
                APPROVERS="S0APPROVERS",
            ),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            async with httpx.AsyncClient() as client:
                for _ in range(200):
                    try:
                        if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
            healthcheck = [part.replace("3000", port) for part in _dockerfile_json("HEALTHCHECK")]
            probe = await asyncio.create_subprocess_exec(
                str(installed / healthcheck[0]), *healthcheck[1:], cwd=tmp_path, env=_env(tmp_path)
            )
            assert await asyncio.wait_for(probe.wait(), timeout=30) == 0
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err
