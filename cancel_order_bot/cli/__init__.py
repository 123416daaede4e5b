"""The CLI commands behind `cancel-order-bot`; `dispatch` runs the one the arguments name."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bot.settings import Settings
from cancel_order_bot.cli import check, commands, digest, lazada_auth
from cancel_order_bot.cli.errors import CliError

__all__ = ["SettingsLoader", "dispatch"]

SettingsLoader = Callable[[], Settings]


async def dispatch(args: argparse.Namespace, settings: SettingsLoader) -> int:
    """Run the command named by `args`, loading the settings only when it needs them; return the exit code."""
    match args.command:
        case "demo":
            return await commands.demo()
        case "sandbox":
            return await commands.sandbox(args)
        case "order":
            return await commands.order_show(args, settings())
        case "digest":
            return await digest.digest_command(args, settings())
        case "lazada":
            return await lazada_auth.run(args, settings())
        case "check":
            return await check.run(args, settings())
        case "db":
            return await commands.db_upgrade(settings())
        case "run":
            return await commands.run_socket_mode(args, settings())
        case "serve":
            return await commands.serve_http(args, settings())
    raise CliError(f"unknown command {args.command!r}", 2)
