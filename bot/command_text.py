"""What the text after `/cancel-order` means: help, a digest, one or more order ids, and an optional store."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from bot.domain import order_number
from bot.slack.render.text import escape

__all__ = ["MAX_ORDERS", "CommandKind", "ParsedCommand", "parse_command_text"]

MAX_ORDERS = 50
# ASCII digits only: `\d` alone also matches other scripts' digits, which Lazada's ids never contain.
_ORDER_ID = re.compile(r"^#?(\d{4,20})$", re.ASCII)
_SEPARATORS = re.compile(r"[\s,;]+")
_MAX_TEXT = 4000


class CommandKind(StrEnum):
    """What the person asked for."""

    HELP = "help"
    PROMPT = "prompt"
    ORDER = "order"
    DIGEST = "digest"
    INVALID = "invalid"


@dataclass(frozen=True)
class ParsedCommand:
    """The parsed command: its kind, the order ids and store, or the error to show."""

    kind: CommandKind
    order_ids: tuple[str, ...] = ()
    store_code: str | None = None
    error: str | None = None


def _shown(token: str) -> str:
    """The person's own word, quoted back inert: shortened, printable, and escaped for mrkdwn."""
    token = token[:40] + ("…" if len(token) > 40 else "")
    return escape("".join(ch for ch in token if ch.isprintable()))


def parse_command_text(text: str, store_codes: Collection[str]) -> ParsedCommand:
    """Parse the command text; never raises, returns INVALID with a sentence for the person instead."""
    if len(text) > _MAX_TEXT:
        return ParsedCommand(
            CommandKind.INVALID, error="That's too much text for one command. Try `/cancel-order help`."
        )
    tokens = [t for t in _SEPARATORS.split(text.strip()) if t]
    if not tokens:
        return ParsedCommand(CommandKind.PROMPT)
    head = tokens[0].lower()
    if head in {"help", "-h", "--help", "?"}:
        return ParsedCommand(CommandKind.HELP)
    store: str | None = None
    if head == "digest":
        rest = tokens[1:]
        if len(rest) > 1:
            return ParsedCommand(CommandKind.INVALID, error="Usage: `/cancel-order digest [store]`.")
        if rest:
            store = rest[0].lower()
            if store not in store_codes:
                return _unknown_store(rest[0], store_codes)
        return ParsedCommand(CommandKind.DIGEST, store_code=store)
    ids: list[str] = []
    others: list[str] = []
    for token in tokens:
        match = _ORDER_ID.match(token)
        if match:
            ids.append(order_number(match.group(1)))
        else:
            others.append(token)
    if len(others) == 1 and ids and others[0].lower() in store_codes:
        store = others[0].lower()
    elif others:
        bad = others[0]
        if len(others) == 1 and ids and not bad.lstrip("-").isdigit():
            return _unknown_store(bad, store_codes)
        return ParsedCommand(
            CommandKind.INVALID,
            error=(
                f"“{_shown(bad)}” doesn't look like a Lazada order number (4 to 20 digits, such as 200000000000123). "
                "Try `/cancel-order help`."
            ),
        )
    unique = tuple(dict.fromkeys(ids))
    if len(unique) > MAX_ORDERS:
        return ParsedCommand(
            CommandKind.INVALID, error=f"At most {MAX_ORDERS} orders per request; you gave {len(unique)}."
        )
    return ParsedCommand(CommandKind.ORDER, order_ids=unique, store_code=store)


def _unknown_store(token: str, store_codes: Collection[str]) -> ParsedCommand:
    known = ", ".join(sorted(store_codes)) or "none"
    return ParsedCommand(CommandKind.INVALID, error=f"There is no store “{_shown(token)}”. Configured stores: {known}.")
