"""Every command and option explains itself in --help, with its default; the README's table lists every command."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cancel_order_bot.__main__ import build_parser

ROOT = Path(__file__).resolve().parent.parent.parent


def _parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str | None]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield (*path, name), sub, helps.get(name)
                yield from _parsers(sub, (*path, name))


PARSERS = list(_parsers(build_parser()))


@pytest.mark.parametrize(("path", "parser", "summary"), PARSERS, ids=[" ".join(p) for p, _, _ in PARSERS])
def test_every_command_and_option_has_help_with_its_default(
    path: tuple[str, ...], parser: argparse.ArgumentParser, summary: str | None
) -> None:
    assert summary, f"`{' '.join(path)}` has no help line"
    text = " ".join(parser.format_help().split())
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help, f"{' '.join(path)} {name} has no help"
        if action.default is not None and action.default is not False:
            assert f"(default: {action.default})" in text, f"{' '.join(path)} {name} hides its default"


def test_the_top_level_options_show_their_defaults() -> None:
    text = build_parser().format_help()
    assert "--debug" in text
    assert "--env-file ENV_FILE" in text


def test_the_readme_command_table_lists_every_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Commands", 1)[1].split("\n\n", 2)[1]
    for path, _, _ in PARSERS:
        if len(path) == 1 or path[0] in {"order", "db", "lazada"}:
            assert re.search(rf"`(cancel-order-bot )?{re.escape(' '.join(path))}\b", table), (
                f"{' '.join(path)} is missing"
            )
