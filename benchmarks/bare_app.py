"""The bound for the bot's footprint and ack latency: a bare Bolt AsyncApp on Starlette and uvicorn, nothing else.

Run as ``python -m benchmarks.bare_app --port P --slack-api-url URL``. It imports nothing of the bot: Bolt's own
Starlette adapter serves ``/slack/events`` (one listener that acks ``/cancel-order``) and ``/readyz`` answers 200, under
uvicorn with the options a plain deployment would use. The bot is measured against what Bolt costs by itself.
"""

from __future__ import annotations

import argparse
import asyncio

import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from benchmarks.credentials import BOT_TOKEN, SIGNING_SECRET

__all__ = ["create_bare_app", "create_bare_asgi", "main"]


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


def create_bare_asgi(slack_api_url: str) -> Starlette:
    """Bolt's Starlette adapter on /slack/events and a /readyz that always answers: the sample apps' shape."""
    handler = AsyncSlackRequestHandler(create_bare_app(slack_api_url))

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    async def ready(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"]), Route("/readyz", ready)])


async def _serve(port: int, slack_api_url: str) -> None:
    config = uvicorn.Config(
        create_bare_asgi(slack_api_url), host="127.0.0.1", port=port, log_config=None, access_log=False
    )
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
