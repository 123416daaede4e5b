"""The fake Slack credentials shared by the benchmark driver, the bot it starts and the bare Bolt app."""

from __future__ import annotations

__all__ = ["BOT_TOKEN", "SIGNING_SECRET"]

SIGNING_SECRET = "bench-signing-secret"  # noqa: S105 - a fake secret shared by the driver and the bots it starts
BOT_TOKEN = "xoxb-fake"  # noqa: S105 - the fake Slack's token
