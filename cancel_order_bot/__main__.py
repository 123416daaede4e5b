"""The command line and the one composition root: `cancel-order-bot <command>` (also `python -m cancel_order_bot`)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from bot.lazada.countries import Country
from bot.settings import Settings, load_settings
from cancel_order_bot import cli
from cancel_order_bot.cli import check, lazada_auth
from cancel_order_bot.cli.arguments import non_negative_float, non_negative_int, port, port_or_zero, positive_int
from cancel_order_bot.cli.errors import CliError, explain

__all__ = ["HelpFormatter", "build_parser", "main"]

PROG = "cancel-order-bot"


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds "(default: …)" to every option's help, except for flags that are off and options with no default."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or isinstance(action, argparse._HelpAction):
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose subcommands all show their defaults."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


def _add_runtime_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = commands.add_parser("run", help="run the bot over Socket Mode")
    run.add_argument("--sandbox", action="store_true", help="use the built-in Lazada sandbox (messages say SANDBOX)")
    run.add_argument(
        "--health-port",
        type=port,
        default=None,
        help="serve /healthz, /readyz and /metrics on this port (default: off)",
    )
    run.add_argument("--health-host", default="127.0.0.1", help="address of the health port")

    serve = commands.add_parser("serve", help="run the bot over HTTP (/slack/events, /healthz, /readyz, /metrics)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for every interface)")
    serve.add_argument("--port", type=port, default=3000, help="TCP port to listen on")
    serve.add_argument("--sandbox", action="store_true", help="use the built-in Lazada sandbox")

    commands.add_parser("demo", help="the whole flow offline, printed as a transcript (no Slack or Lazada needed)")


def _add_sandbox_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sandbox = commands.add_parser("sandbox", help="serve the Lazada sandbox on its own")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on")
    sandbox.add_argument("--port", type=port_or_zero, default=8765, help="TCP port to listen on (0: any free one)")
    sandbox.add_argument("--seed", type=int, default=1, help="seed of the generated orders (same seed, same orders)")
    sandbox.add_argument("--orders-per-day", type=non_negative_int, default=40, help="generated orders per day")
    sandbox.add_argument("--days", type=positive_int, default=60, help="days of generated order history")
    sandbox.add_argument(
        "--rtt-ms", type=non_negative_float, default=0.0, help="simulated network round trip per request, in ms"
    )
    sandbox.add_argument(
        "--rate-limit",
        type=positive_int,
        default=None,
        help="calls per second each API accepts before ApiCallLimit (default: none)",
    )
    sandbox.add_argument(
        "--country",
        default=Country.SG.value,
        choices=[country.value for country in Country],
        help="the seller's Lazada country",
    )


def _add_read_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    order = commands.add_parser("order", help="read-only views of Lazada orders")
    order_commands = order.add_subparsers(dest="order_command", required=True, metavar="SUBCOMMAND")
    show = order_commands.add_parser("show", help="what the bot sees for an order: items, reasons, Lazada's tip")
    show.add_argument("order_id", metavar="ORDER_ID", help="the Lazada order number (4 to 20 digits)")
    show.add_argument("--store", default=None, help="store code (default: the only or first store)")
    show.add_argument("--json", action="store_true", help="print JSON instead of text")
    show.add_argument("--sandbox", action="store_true", help="ask the built-in Lazada sandbox")

    digest = commands.add_parser("digest", help="compute the cancellation-rate digest now: print it, or post it")
    digest.add_argument("--store", default=None, help="one store (default: every store)")
    digest.add_argument("--json", action="store_true", help="one JSON object per store")
    digest.add_argument("--post", action="store_true", help="post it to the store's digest channel")
    digest.add_argument("--sandbox", action="store_true", help="use the built-in Lazada sandbox")


def _add_db_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    db_commands.add_parser("upgrade", help="apply the database migrations and say what was done")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser: argparse.ArgumentParser = _Parser(
        prog=PROG,
        description="Cancel unshipped Lazada order items from Slack, after a second person approves.",
    )
    parser.add_argument(
        "--env-file", type=Path, default=None, help="settings file (default: .env in this folder, when there is one)"
    )
    parser.add_argument("--debug", action="store_true", help="on an error, print the traceback too")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_runtime_commands(commands)
    _add_sandbox_command(commands)
    _add_read_commands(commands)
    lazada_auth.add_parser(commands)
    check.add_parser(commands)
    _add_db_command(commands)
    return parser


def _settings_loader(args: argparse.Namespace) -> cli.SettingsLoader:
    """Settings are read only by the commands that need them, so `demo` and `sandbox` ignore the user's .env."""
    env_file: Path | None = args.env_file
    if env_file is not None and not env_file.is_file():
        raise CliError(f"--env-file: {env_file} does not exist", 2)
    if env_file is None and Path(".env").is_file():
        env_file = Path(".env")

    def load() -> Settings:
        return load_settings(env_file)

    return load


def _quiet_stdout() -> None:
    """After a broken pipe (`… | head`), send the rest of stdout nowhere, so Python's exit flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is not a real file (tests): nothing will be flushed to a closed pipe


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the command; every failure ends in one line on stderr and a non-zero exit."""
    args = build_parser().parse_args(argv)
    try:
        return asyncio.run(cli.dispatch(args, _settings_loader(args)))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 1
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        failure = explain(exc)
        print(f"{PROG}: {failure.message}", file=sys.stderr)
        return failure.code


if __name__ == "__main__":
    sys.exit(main())
