"""The ack-latency bound: a bare Bolt AsyncApp that only acks `/cancel-order`, behind the bot's own server stack.

Run as ``python -m benchmarks.bare_app --port P --slack-api-url URL``: the same `create_http_app` (Starlette,
Bolt's adapter, metrics) under uvicorn with the same options as `cancel-order-bot serve`.
"""

from __future__ import annotations

import argparse
import asyncio

import uvicorn
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from benchmarks.procs import BOT_TOKEN, SIGNING_SECRET
from bot.http import create_http_app

__all__ = ["create_bare_app", "main"]


def create_bare_app(slack_api_url: str) -> AsyncApp:
    """A Bolt app with one listener that acks `/cancel-order` and does nothing else."""
    app = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=slack_api_url),
        signing_secret=SIGNING_SECRET,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
        logger=None,
    )

    async def on_command(ack: AsyncAck) -> None:
        await ack()

    app.command("/cancel-order")(on_command)
    return app


async def _serve(port: int, slack_api_url: str) -> None:
    async def ping() -> None:
        return None

    asgi = create_http_app(create_bare_app(slack_api_url), ping=ping)
    config = uvicorn.Config(asgi, host="127.0.0.1", port=port, log_config=None, access_log=False)
    await uvicorn.Server(config).serve()


def main(argv: list[str] | None = None) -> None:
    """Serve the bare app until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bare_app", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--slack-api-url", required=True)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.port, args.slack_api_url))


if __name__ == "__main__":
    main()
