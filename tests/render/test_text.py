"""The escaping helper, limits, mentions, money, dates and the Message envelope."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.blocks import DividerBlock
from slack_sdk.models.views import View

from bot.domain import Item
from bot.slack.render.text import (
    Message,
    agree,
    check_view,
    escape,
    group,
    mention,
    money,
    mrkdwn,
    pack_lines,
    percent,
    plain,
    ready_to_ship_text,
    relative,
    sandbox_banner,
    tip_icon,
    truncate,
    user,
    when,
)

ZWSP = "\u200b"
_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")
_BROADCAST = re.compile(r"[@＠](channel|here|everyone)", re.IGNORECASE)
# A formatting marker is harmless only between two ASCII letters or digits.
_LIVE_MARKER = re.compile(r"(?<![A-Za-z0-9])[*_~]|[*_~](?![A-Za-z0-9])|[`＊＿～｀]")


def test_escape_turns_slacks_three_characters_into_entities() -> None:
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"


def test_escape_shows_an_entity_literally_instead_of_decoding_it() -> None:
    assert escape("&amp;") == "&amp;amp;"


@pytest.mark.parametrize("text", ["<!channel>", "<!here|here>", "<@U12345>", "<#C12345>", "<http://x|y>"])
def test_escape_leaves_no_markup(text: str) -> None:
    escaped = escape(text)
    assert "<" not in escaped
    assert ">" not in escaped


@pytest.mark.parametrize("word", ["@channel", "@here", "@everyone", "@HERE", "@Channel", "＠here"])
def test_escape_breaks_broadcast_mentions(word: str) -> None:
    escaped = escape(f"hey {word} look")
    assert not _BROADCAST.search(escaped)
    assert ZWSP in escaped


@pytest.mark.parametrize("text", ["*bold*", "_italic_", "~strike~", "`code`", "```block```", "＊bold＊", "a *b* c"])
def test_escape_neutralises_formatting_markers(text: str) -> None:
    escaped = escape(text)
    assert not _LIVE_MARKER.search(escaped)
    # The text still reads the same: one look-alike per marker.
    assert len(escaped) == len(text)


@pytest.mark.parametrize("sku", ["TSHIRT_RED_XL", "A~B", "x*2"])
def test_escape_keeps_markers_inside_words_so_skus_stay_copyable(sku: str) -> None:
    assert escape(sku) == sku


@pytest.mark.parametrize("text", ["> quoted", "  > indented", "line\n> second", "＞ full width"])
def test_escape_cannot_start_a_quote(text: str) -> None:
    for line in escape(text).split("\n"):
        assert not line.lstrip(" \t").startswith(("&gt;", "＞"))


def test_escape_drops_bidi_overrides_and_control_characters_but_keeps_rtl_letters() -> None:
    escaped = escape("\u202eevil\u2066x\u2069\x00\x07 مرحبا שלום\r\nnext")
    assert escaped == "evilx مرحبا שלום\nnext"


@given(st.text())
def test_escape_output_is_always_inert(text: str) -> None:
    escaped = escape(text)
    assert "<" not in escaped
    assert ">" not in escaped
    assert not _ENTITY.search(escaped)
    assert not _BROADCAST.search(escaped)
    assert not _LIVE_MARKER.search(escaped)
    for line in escaped.split("\n"):
        assert not line.lstrip(" \t").startswith(("&gt;", "＞"))


def test_plain_text_keeps_the_text_as_typed_but_cannot_ping() -> None:
    obj = plain("<!channel> @here *bold* &amp; <@U12345>")
    assert obj.type == "plain_text"
    assert obj.text == f"<{ZWSP}!channel> @{ZWSP}here *bold* &amp; <{ZWSP}@U12345>"


def test_plain_text_is_cut_to_its_limit() -> None:
    assert len(plain("x" * 5000, 75).text or "") == 75


def test_mrkdwn_is_verbatim_so_slack_parses_nothing_automatically() -> None:
    assert mrkdwn("hello").to_dict() == {"type": "mrkdwn", "text": "hello", "verbatim": True}


def test_truncate_leaves_short_text_alone() -> None:
    assert truncate("short", 10) == "short"


def test_truncate_ends_with_an_ellipsis_within_the_limit() -> None:
    cut = truncate("x" * 5000, 3000)
    assert len(cut) == 3000
    assert cut.endswith("…")


def test_truncate_never_cuts_an_entity_in_half() -> None:
    text = "a" * 10 + "&amp;" + "b" * 10
    for limit in range(11, 16):
        cut = truncate(text, limit)
        assert len(cut) <= limit
        assert "&" not in cut or "&amp;" in cut


def test_truncate_never_cuts_a_mention_in_half() -> None:
    cut = truncate("approved by <@U12345678> today", 20)
    assert cut == "approved by…"


def test_truncate_rejects_a_limit_below_one() -> None:
    with pytest.raises(ValueError, match="limit"):
        truncate("x", 0)


@pytest.mark.parametrize("uid", ["U0123ABC", "W0123ABC"])
def test_user_mentions_a_well_formed_id(uid: str) -> None:
    assert user(uid) == f"<@{uid}>"


@pytest.mark.parametrize("uid", ["<!channel>", "u123", "U1", "U123>x", "C0123ABC", "S0123ABC"])
def test_user_never_turns_a_malformed_id_into_markup(uid: str) -> None:
    assert "<@" not in user(uid)
    assert "<" not in user(uid)


def test_user_without_id_is_someone() -> None:
    assert user(None) == "someone"
    assert user("") == "someone"


def test_group_and_mention_cover_user_groups() -> None:
    assert group("S0APPROVERS") == "<!subteam^S0APPROVERS>"
    assert mention("S0APPROVERS") == "<!subteam^S0APPROVERS>"
    assert mention("U0REQ") == "<@U0REQ>"
    assert "<" not in group("S<!here>")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("1234.5"), "SGD", "SGD 1,234.50"),
        (Decimal("12.9"), "myr", "MYR 12.90"),
        (Decimal("150000.00"), "IDR", "IDR 150,000"),
        (Decimal("99000"), "VND", "VND 99,000"),
        (Decimal("7"), None, "7.00"),
        (None, "SGD", "n/a"),
        (3.5, "PHP", "PHP 3.50"),
    ],
)
def test_money(amount: Decimal | float | None, currency: str | None, expected: str) -> None:
    assert money(amount, currency) == expected


def test_money_escapes_a_strange_currency() -> None:
    assert "<" not in money(Decimal(1), "<!here>")


def test_when_renders_a_slack_date_with_a_utc_fallback() -> None:
    moment = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
    assert when(moment) == "<!date^1796047200^{date_short_pretty} {time}|2026-11-30 14:00 UTC>"


def test_when_converts_other_zones_and_reads_naive_as_utc() -> None:
    singapore = timezone(timedelta(hours=8))
    assert when(datetime(2026, 11, 30, 22, 0, tzinfo=singapore)) == when(datetime(2026, 11, 30, 14, 0, tzinfo=UTC))
    assert when(datetime(2026, 11, 30, 14, 0)) == when(datetime(2026, 11, 30, 14, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=30), "now"),
        (timedelta(minutes=12), "in 12 min"),
        (timedelta(hours=11, minutes=59), "in 11 h"),
        (timedelta(days=3), "in 3 d"),
        (-timedelta(hours=2), "2 h ago"),
    ],
)
def test_relative(delta: timedelta, expected: str) -> None:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    assert relative(now + delta, now) == expected


def test_percent_shows_a_fraction_as_a_percentage() -> None:
    assert percent(0.0123) == "1.23%"


def test_sandbox_banner() -> None:
    assert sandbox_banner() == "SANDBOX — no real order is touched"


@pytest.mark.parametrize(
    ("tip_type", "icon"),
    [("error", "⛔"), ("warn", "⚠️"), ("warning", "⚠️"), ("WARNING", "⚠️"), ("success", "✅"), ("info", "ℹ️"), (None, "ℹ️")],
)
def test_tip_icon(tip_type: str | None, icon: str) -> None:
    assert tip_icon(tip_type) == icon


def test_pack_lines_fills_sections_up_to_the_limit() -> None:
    lines = [f"line {n:04d} " + "x" * 90 for n in range(100)]
    # 9 lines of 100 characters fit in 1000; 100 lines need 12 sections.
    texts = pack_lines(lines, 20, limit=1000)
    assert all(len(t) <= 1000 for t in texts)
    assert "\n".join(texts).split("\n") == lines
    assert len(texts) == 12


def test_pack_lines_says_how_many_lines_did_not_fit() -> None:
    lines = [f"line {n:04d} " + "x" * 90 for n in range(100)]
    texts = pack_lines(lines, 3, limit=1000, noun="more orders")
    assert len(texts) == 3
    assert all(len(t) <= 1000 for t in texts)
    kept = [line for t in texts for line in t.split("\n") if line.startswith("line")]
    assert texts[-1].endswith(f"…and {100 - len(kept)} more orders")
    assert kept == lines[: len(kept)]


def test_pack_lines_cuts_a_single_overlong_line() -> None:
    assert [len(t) for t in pack_lines(["x" * 5000], 2)] == [3000]


def test_message_needs_a_fallback_text() -> None:
    with pytest.raises(ValueError, match="fallback"):
        Message(text="  ", blocks=[DividerBlock()])


def test_message_holds_at_most_fifty_blocks() -> None:
    Message(text="ok", blocks=[DividerBlock() for _ in range(50)])
    with pytest.raises(ValueError, match="51 blocks"):
        Message(text="too many", blocks=[DividerBlock() for _ in range(51)])
    with pytest.raises(ValueError, match="0 blocks"):
        Message(text="none", blocks=[])


def test_check_view_allows_at_most_a_hundred_blocks() -> None:
    check_view(View(type="home", blocks=[DividerBlock() for _ in range(100)]))
    with pytest.raises(ValueError, match="101 blocks"):
        check_view(View(type="home", blocks=[DividerBlock() for _ in range(101)]))


@pytest.mark.parametrize(("count", "word"), [(0, "are"), (1, "is"), (2, "are"), (50, "are")])
def test_agree_picks_the_word_for_the_count(count: int, word: str) -> None:
    assert agree(count, "is", "are") == word


def test_ready_to_ship_text_speaks_of_one_parcel_per_package() -> None:
    shirt = Item(order_item_id="1", name="Shirt", status="ready_to_ship", package_id="FP1")
    same_parcel = ready_to_ship_text([shirt, shirt.model_copy(update={"order_item_id": "2", "name": "Socks"})])
    assert same_parcel.endswith(
        "Shirt, Socks. A courier pickup may already be arranged; make sure the parcel is not handed over."
    )
    two_parcels = ready_to_ship_text([shirt, shirt.model_copy(update={"order_item_id": "2", "package_id": "FP2"})])
    assert two_parcels.endswith("make sure the parcels are not handed over.")
