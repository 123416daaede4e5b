"""`serve --sandbox` end to end: a real process in HTTP mode, talking to a fake Slack through SLACK_API_URL."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import httpx

from cancel_order_bot.demo.fake_slack import FakeSlack
from cancel_order_bot.demo.slack_payloads import Delivery, SlackRequests

SECRET = "serve-test-signing-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_serve_answers_slack_over_http_and_refuses_unsigned_requests(tmp_path: Path) -> None:
    async with FakeSlack() as slack:
        port = _free_port()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
            "SLACK_API_URL": slack.api_url,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "APPROVERS": "S0APPROVERS",
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cancel_order_bot",
            "serve",
            "--port",
            str(port),
            "--sandbox",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(base_url=base, timeout=5) as http:
                for _ in range(200):
                    try:
                        if (await http.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
                assert (await http.get("/readyz")).status_code == 200

                payloads = SlackRequests.for_workspace(SECRET, slack.workspace)
                command = payloads.slash_command(
                    "/cancel-order",
                    "100000000000002",
                    user_id="U0ALICE",
                    channel_id="C0OPS",
                    trigger_id=slack.new_trigger_id("U0ALICE"),
                )
                response = await http.post("/slack/events", content=command.body, headers=dict(command.headers))
                assert response.status_code == 200
                filled = await slack.wait_for(
                    "views.update", lambda call: "Electric Kettle" in str(call.params), timeout=10
                )
                assert "SANDBOX" in str(filled.params)

                for delivery in (Delivery(signature="missing"), Delivery(stale=True)):
                    forged = payloads.slash_command(
                        "/cancel-order", "100000000000002", user_id="U0ALICE", channel_id="C0OPS", delivery=delivery
                    )
                    refused = await http.post("/slack/events", content=forged.body, headers=dict(forged.headers))
                    assert refused.status_code == 401
                metrics = (await http.get("/metrics")).text
                assert 'slack_http_requests_total{status="401"} 2.0' in metrics
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(process.communicate(), timeout=20)
        assert process.returncode == 0, err.decode()
        assert "bot_stopped" in err.decode()
        assert "Traceback" not in err.decode()
        assert SECRET not in err.decode()
        assert slack.bot_token not in err.decode()
