"""The command line and the one composition root: `cancel-order-bot <command>` (also `python -m cancel_order_bot`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.lazada.countries import Country
from bot.settings import Settings, SettingsError, load_settings
from cancel_order_bot import cli
from cancel_order_bot.cli import check, lazada_auth

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="cancel-order-bot",
        description="Cancel unshipped Lazada order items from Slack, after a second person approves.",
    )
    parser.add_argument("--env-file", type=Path, default=Path(".env"), help="settings file (default: .env)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the bot over Socket Mode")
    run.add_argument("--sandbox", action="store_true", help="use the built-in Lazada sandbox (messages say SANDBOX)")
    run.add_argument(
        "--health-port", type=int, default=None, help="serve /healthz, /readyz and /metrics on this port (default: off)"
    )
    run.add_argument("--health-host", default="127.0.0.1", help="address of the health port (default: 127.0.0.1)")

    serve = commands.add_parser("serve", help="run the bot over HTTP (/slack/events, /healthz, /readyz, /metrics)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--sandbox", action="store_true", help="use the built-in Lazada sandbox")

    commands.add_parser("demo", help="the whole flow offline, printed as a transcript (no Slack or Lazada needed)")

    sandbox = commands.add_parser("sandbox", help="serve the Lazada sandbox on its own")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument("--seed", type=int, default=1)
    sandbox.add_argument("--orders-per-day", type=int, default=40)
    sandbox.add_argument("--days", type=int, default=60)
    sandbox.add_argument("--rtt-ms", type=float, default=0.0, help="simulated network round trip per request")
    sandbox.add_argument("--rate-limit", type=int, default=None, help="calls per second before ApiCallLimit")
    sandbox.add_argument("--country", default=Country.SG.value, choices=[country.value for country in Country])

    order = commands.add_parser("order", help="read-only views of Lazada orders")
    order_commands = order.add_subparsers(dest="order_command", required=True, metavar="SUBCOMMAND")
    show = order_commands.add_parser("show", help="what the bot sees for an order: items, reasons, Lazada's tip")
    show.add_argument("order_id")
    show.add_argument("--store", default=None, help="store code (when several are configured)")
    show.add_argument("--json", action="store_true", help="print JSON instead of text")
    show.add_argument("--sandbox", action="store_true", help="ask the built-in Lazada sandbox")

    digest = commands.add_parser("digest", help="compute the cancellation-rate digest now: print it, or post it")
    digest.add_argument("--store", default=None, help="one store (default: every store)")
    digest.add_argument("--json", action="store_true", help="one JSON object per store")
    digest.add_argument("--post", action="store_true", help="post it to the store's digest channel")
    digest.add_argument("--sandbox", action="store_true", help="use the built-in Lazada sandbox")

    lazada_auth.add_parser(commands)
    check.add_parser(commands)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    db_commands.add_parser("upgrade", help="apply the database migrations")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    env_file = args.env_file if args.env_file and args.env_file.exists() else None
    return load_settings(env_file)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, load the settings and run the command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
        return asyncio.run(cli.dispatch(args, settings))
    except SettingsError as exc:
        print(f"cancel-order-bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
