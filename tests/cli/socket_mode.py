"""Run `cancel-order-bot run` as a process until it says it started, then stop it as a service manager would."""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path


async def run_until_started(
    argv: list[str], *, env: Mapping[str, str], cwd: Path, check: Callable[[], Awaitable[None]] | None = None
) -> str:
    """Start `argv`, wait for its `bot_started` line, run `check`, send SIGTERM; assert a clean exit, return stderr."""
    process = await asyncio.create_subprocess_exec(*argv, env=dict(env), cwd=cwd, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    seen = b""
    try:
        while b"bot_started" not in seen:
            line = await asyncio.wait_for(process.stderr.readline(), timeout=60)
            assert line, seen.decode()[-3000:]
            seen += line
        if check is not None:
            await check()
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    output = (seen + err).decode()
    assert process.returncode == 0, output[-3000:]
    # A clean stop logs no error: not even a tick that the stop let finish (APScheduler reports a cancelled job).
    assert "Traceback" not in output, output[-3000:]
    assert not re.search(r'"level": ?"(error|critical)"|\[(error|critical) *\]', output), output[-3000:]
    return output
