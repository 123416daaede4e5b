"""The help message."""

from __future__ import annotations

from bot.slack.render.help import render_help
from tests.render.factories import check_message, walk_texts


def _text(store_codes: list[str]) -> str:
    return "\n".join(text for _, text in walk_texts(check_message(render_help(store_codes))))


def test_help_explains_the_command_forms_and_the_flow() -> None:
    text = _text(["sg-main"])
    assert "`/cancel-order &lt;order number&gt;`" in text
    assert "`/cancel-order help`" in text
    assert "`/cancel-order digest [store]`" in text
    assert "approver other than you" in text
    assert "*Stores:* sg-main" in text


def test_help_mentions_the_store_argument_only_with_several_stores() -> None:
    assert "&lt;store&gt;" not in _text(["sg-main"])
    several = _text(["sg-main", "my-main"])
    assert "`/cancel-order &lt;order number&gt; &lt;store&gt;`" in several
    assert "sg-main, my-main" in several


def test_help_without_stores() -> None:
    assert "none configured" in _text([])


def test_help_has_no_raw_angle_brackets_in_mrkdwn() -> None:
    message = render_help(["sg-main"])
    for kind, text in walk_texts(check_message(message)):
        if kind == "mrkdwn":
            assert "<" not in text
    assert "<" not in message.text
