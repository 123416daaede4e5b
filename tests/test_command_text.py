"""Parsing the text after `/cancel-order`: order ids are numbers, written in ASCII digits."""

from __future__ import annotations

from bot.command_text import CommandKind, parse_command_text


def test_command_text_one_order_written_with_and_without_a_leading_zero_is_one_order() -> None:
    parsed = parse_command_text("100000000000002 0100000000000002", {"main"})

    assert (parsed.kind, parsed.order_ids) == (CommandKind.ORDER, ("100000000000002",))


def test_command_text_refuses_digits_of_other_scripts() -> None:
    parsed = parse_command_text("١٠٠٠٠٠٠٠٠٠٠٠٠٠٢", {"main"})

    assert parsed.kind is CommandKind.INVALID
    assert parsed.error is not None
    assert "order number" in parsed.error
