"""The CLI commands behind `cancel-order-bot`; `dispatch` runs the one the arguments name."""

from __future__ import annotations

import argparse
import sys

from bot.settings import Settings
from cancel_order_bot.cli import check, commands, digest, lazada_auth

__all__ = ["dispatch"]


async def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    """Run the command named by `args`; return the process exit code."""
    match args.command:
        case "order":
            return await commands.order_show(args, settings)
        case "demo":
            return await commands.demo()
        case "digest":
            return await digest.digest_command(args, settings)
        case "lazada":
            return await lazada_auth.run(args, settings)
        case "check":
            return await check.run(args, settings)
        case "db":
            return await commands.db_upgrade(settings)
        case "sandbox":
            return await commands.sandbox(args)
        case "run":
            return await commands.run_socket_mode(args, settings)
        case "serve":
            return await commands.serve_http(args, settings)
    print(f"cancel-order-bot: unknown command {args.command!r}", file=sys.stderr)
    return 2
