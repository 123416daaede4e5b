"""Text for Slack surfaces: the one escaping helper, Block Kit limits, mentions, money, dates, and `Message`.

Escaping policy (decided once, here): all Lazada and user text that lands in ``mrkdwn`` goes through `escape`, and
every ``mrkdwn`` object is built with `mrkdwn`, which sets ``verbatim`` so Slack does no automatic parsing of
URLs, channel names or mentions. `escape` turns ``&``, ``<`` and ``>`` into Slack's entities (so ``<!channel>`` and
``<http://x|y>`` cannot form), breaks ``@channel``/``@here``/``@everyone`` with a zero-width space, replaces the
formatting markers ``* _ ~ `` `` (and their full-width forms) by look-alike characters wherever they could open or
close formatting (a marker between two ASCII letters or digits, as in ``SKU_RED_XL``, cannot, and is kept, so SKUs
stay copyable), and puts a soft hyphen before a line-leading ``>`` so it cannot start a quote. Inserting a zero-width
space next to a marker is *not* enough: Slack treats it as a word boundary, which enables formatting instead.
Where a block accepts ``plain_text`` (headers, options, confirm dialogs) user text goes through `plain` instead,
which Slack never formats.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from slack_sdk.models.blocks import Block, MarkdownTextObject, PlainTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.domain import Item
from bot.workflow.models import RateProjection

__all__ = [
    "BUTTON_TEXT_LIMIT",
    "CONTEXT_ELEMENT_LIMIT",
    "FALLBACK_TEXT_LIMIT",
    "FIELD_LIMIT",
    "HEADER_LIMIT",
    "MESSAGE_BLOCK_LIMIT",
    "OPTION_TEXT_LIMIT",
    "SECTION_TEXT_LIMIT",
    "VIEW_BLOCK_LIMIT",
    "Message",
    "agree",
    "check_blocks",
    "check_view",
    "escape",
    "group",
    "item_names",
    "item_text",
    "joined",
    "mention",
    "message_link",
    "money",
    "mrkdwn",
    "oneline",
    "pack_lines",
    "percent",
    "plain",
    "plural",
    "rate_text",
    "ready_to_ship_text",
    "relative",
    "sandbox_banner",
    "section",
    "status_label",
    "tip_icon",
    "tip_text",
    "truncate",
    "user",
    "when",
]

SECTION_TEXT_LIMIT = 3000
FIELD_LIMIT = 2000
OPTION_TEXT_LIMIT = 75
HEADER_LIMIT = 150
BUTTON_TEXT_LIMIT = 75
CONTEXT_ELEMENT_LIMIT = 2000
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
FALLBACK_TEXT_LIMIT = 3000

ELLIPSIS = "…"
_ZWSP = "\u200b"
_SOFT_HYPHEN = "\u00ad"

# Carriage returns, C0/C1 controls (bar tab and newline) and bidi overrides/isolates: the last can make a line
# read differently from what it says, so they never reach Slack.
_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BROADCAST = re.compile(r"([@＠])(?=channel|here|everyone)", re.IGNORECASE)
_ANGLE_MARKUP = re.compile(r"<(?=[!@#])")
_LOOKALIKES = {
    "*": "\u2217",  # ∗ asterisk operator
    "_": "\u02cd",  # ˍ modifier letter low macron
    "~": "\u223c",  # ∼ tilde operator
    "`": "\u02cb",  # ˋ modifier letter grave accent
    "＊": "\ufe61",  # ﹡ small asterisk
    "＿": "\u2e0f",  # ⸏ paragraphos
    "～": "\u223c",
    "｀": "\u02cb",
}
# A marker only formats at a word boundary; between two ASCII alphanumerics (SKU_RED_XL) it is inert and kept.
_MARKER = re.compile(r"(?<![A-Za-z0-9])[*_~]|[*_~](?![A-Za-z0-9])|[`＊＿～｀]")
_LEADING_QUOTE = re.compile(r"^([ \t]*)(&gt;|＞)", re.MULTILINE)
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,30}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_ZERO_DECIMAL_CURRENCIES = frozenset({"IDR", "VND"})
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")


def _clean(text: str) -> str:
    return _UNWANTED.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def escape(text: str) -> str:
    """Make Lazada or user text safe inside ``mrkdwn``: no pings, no links, no formatting, no quotes."""
    text = _clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _BROADCAST.sub(lambda m: m.group(1) + _ZWSP, text)
    text = _MARKER.sub(lambda m: _LOOKALIKES[m.group(0)], text)
    return _LEADING_QUOTE.sub(lambda m: m.group(1) + _SOFT_HYPHEN + m.group(2), text)


def plain(text: str, limit: int = SECTION_TEXT_LIMIT) -> PlainTextObject:
    """A ``plain_text`` object for Lazada or user text: never formatted; mentions broken, cut to ``limit``."""
    text = _clean(text)
    text = _BROADCAST.sub(lambda m: m.group(1) + _ZWSP, text)
    text = _ANGLE_MARKUP.sub("<" + _ZWSP, text)
    return PlainTextObject(text=truncate(text, limit) if text.strip() else "-", emoji=True)


def mrkdwn(text: str, limit: int = SECTION_TEXT_LIMIT) -> MarkdownTextObject:
    """A ``mrkdwn`` object for text we composed (user parts already escaped), verbatim and cut to ``limit``."""
    return MarkdownTextObject(text=truncate(text, limit) if text.strip() else "-", verbatim=True)


def section(text: str) -> SectionBlock:
    """A section of ``mrkdwn`` text we composed (user parts already escaped)."""
    return SectionBlock(text=mrkdwn(text))


def oneline(text: str) -> str:
    """Collapse all whitespace (newlines included) to single spaces, for text shown inside a list line."""
    return " ".join(text.split())


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, ending with an ellipsis, never inside an entity or ``<…>``."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    # Never leave half of an entity (``&am``) or of our own markup (``<@U12``) behind.
    opened = cut.rfind("<")
    if opened > cut.rfind(">") and cut[opened + 1 : opened + 2] in ("", "@", "!", "#"):
        cut = cut[:opened]
    tail = _ENTITY_TAIL.search(cut)
    if tail:
        cut = cut[: tail.start()]
    return cut.rstrip() + ELLIPSIS


def user(uid: str | None) -> str:
    """A mention ``<@U…>`` for a well-formed user id; anything else is shown escaped, never as markup."""
    if uid and _USER_ID.match(uid):
        return f"<@{uid}>"
    return escape(uid) if uid else "someone"


def group(gid: str) -> str:
    """A user-group mention ``<!subteam^S…>`` for a well-formed group id; anything else is shown escaped."""
    if _GROUP_ID.match(gid):
        return f"<!subteam^{gid}>"
    return escape(gid)


def mention(slack_id: str) -> str:
    """A mention for a user (``U…``/``W…``) or a user group (``S…``) id."""
    return group(slack_id) if slack_id.startswith("S") else user(slack_id)


def money(amount: Decimal | float | int | None, currency: str | None) -> str:
    """A price such as ``SGD 1,234.50`` (no decimals for IDR and VND); ``n/a`` when unknown."""
    if amount is None:
        return "n/a"
    code = (currency or "").strip().upper()
    places = 0 if code in _ZERO_DECIMAL_CURRENCIES else 2
    number = f"{Decimal(str(amount)):,.{places}f}"
    if not code:
        return number
    return f"{code if _CURRENCY.match(code) else escape(code)} {number}"


def percent(fraction: float) -> str:
    """A rate given as a fraction, shown as a percentage with two decimals (``0.0123`` → ``1.23%``)."""
    return f"{fraction * 100:.2f}%"


def _utc(dt: datetime) -> datetime:
    # Storage is UTC everywhere; a naive value can only be UTC that lost its zone on the way.
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def when(dt: datetime) -> str:
    """A date Slack shows in each reader's time zone, with a UTC fallback: ``<!date^…|2026-11-30 14:00 UTC>``."""
    moment = _utc(dt)
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def relative(dt: datetime, now: datetime) -> str:
    """How far ``dt`` is from ``now`` in words: ``in 3 h``, ``in 12 min``, ``2 d ago``."""
    delta = _utc(dt) - _utc(now)
    future = delta >= timedelta(0)
    seconds = abs(delta.total_seconds())
    if seconds < 60:
        return "now"
    if seconds < 3600:
        amount = f"{int(seconds // 60)} min"
    elif seconds < 2 * 86400:
        amount = f"{int(seconds // 3600)} h"
    else:
        amount = f"{int(seconds // 86400)} d"
    return f"in {amount}" if future else f"{amount} ago"


def message_link(channel_id: str, ts: str) -> str:
    """A link to a Slack message that opens it in any workspace the reader is in (Slack redirects the archive URL)."""
    return f"https://slack.com/archives/{channel_id}/p{ts.replace('.', '')}"


def sandbox_banner() -> str:
    """The line the gateway adds to everything it sends when the bot runs on the sandbox."""
    return "SANDBOX — no real order is touched"


def status_label(status: str) -> str:
    """A Lazada item status for people: ``ready_to_ship`` → ``ready to ship`` (escaped)."""
    return escape(oneline(status.replace("_", " ")))


def item_text(item: Item, *, name_limit: int = 120) -> str:
    """One item in ``mrkdwn``: name, SKU, variation, paid price, status and package, all escaped."""
    parts = [escape(truncate(oneline(item.name), name_limit))]
    if item.sku:
        parts.append(f"SKU {escape(truncate(oneline(item.sku), 80))}")
    if item.variation:
        parts.append(escape(truncate(oneline(item.variation), 80)))
    if item.paid_price is not None:
        parts.append(money(item.paid_price, item.currency))
    parts.append(status_label(item.status))
    if item.is_cancel_pending:
        parts.append("cancellation pending at Lazada")
    if item.package_id:
        parts.append(f"package {escape(truncate(oneline(item.package_id), 40))}")
    return " · ".join(parts)


def item_names(items: Sequence[Item], shown: int = 20) -> str:
    """Names (with SKUs) of the first ``shown`` items as one escaped line; the rest are counted."""
    named = [
        escape(truncate(oneline(i.name), 60)) + (f" ({escape(truncate(oneline(i.sku), 40))})" if i.sku else "")
        for i in items[:shown]
    ]
    more = len(items) - shown
    return ", ".join(named) + (f" and {more} more" if more > 0 else "")


def joined(values: Sequence[str], shown: int = 20) -> str:
    """The first ``shown`` values, each escaped and cut, as one comma-separated line; the rest are counted."""
    named = [escape(truncate(oneline(v), 60)) for v in values[:shown]]
    more = len(values) - shown
    return ", ".join(named) + (f" and {more} more" if more > 0 else "")


def plural(count: int, noun: str) -> str:
    """``1 item``, ``2 items``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def agree(count: int, one: str, many: str) -> str:
    """The word that agrees with ``count``: ``agree(1, "is", "are")`` is ``is``, ``agree(2, "it", "they")`` ``they``."""
    return one if count == 1 else many


def ready_to_ship_text(items: Sequence[Item], shown: int = 20) -> str:
    """The warning for selected items that are ready to ship: a courier may come for their parcel(s)."""
    parcels = len({i.package_id or i.order_item_id for i in items})
    return (
        f"🚚 *Ready to ship:* {item_names(items, shown)}. A courier pickup may already be arranged; "
        f"make sure {agree(parcels, 'the parcel is', 'the parcels are')} not handed over."
    )


def tip_icon(tip_type: str | None) -> str:
    """The icon for Lazada's ``tip_type``: error ⛔, warn/warning ⚠️, success ✅, anything else ℹ️."""
    kind = (tip_type or "").strip().lower()
    return {"error": "⛔", "warn": "⚠️", "warning": "⚠️", "success": "✅"}.get(kind, "ℹ️")


def tip_text(tip_content: str, tip_type: str | None, *, label: str = "Lazada says") -> str:
    """Lazada's ``tip_content`` verbatim (escaped) behind an icon for its ``tip_type``."""
    return f"{tip_icon(tip_type)} *{label}:* {escape(tip_content.strip())}"


def rate_text(rate: RateProjection) -> str:
    """The store's seller-fault cancellation rate now and after this cancellation, against its thresholds."""
    if rate.projected_rate >= rate.limit_rate:
        icon = "🛑"
    elif rate.projected_rate >= rate.warning_rate:
        icon = "⚠️"
    else:
        icon = "📊"
    return (
        f"{icon} *Seller-fault cancellation rate:* {percent(rate.rate)} now → {percent(rate.projected_rate)} "
        f"after this cancellation (warning {percent(rate.warning_rate)}, limit {percent(rate.limit_rate)}; "
        f"{rate.cancelled_items} of {rate.ordered_items} items cancelled). "
        f"Status: {escape(oneline(rate.status))} → {escape(oneline(rate.projected_status))}"
    )


def pack_lines(
    lines: list[str],
    max_blocks: int,
    *,
    limit: int = SECTION_TEXT_LIMIT,
    noun: str = "more",
) -> list[str]:
    """Pack lines into at most ``max_blocks`` texts of at most ``limit`` characters; say how many did not fit."""
    if max_blocks < 1:
        return []
    lines = [truncate(line, limit) for line in lines]
    texts: list[str] = []
    current = ""
    for index, line in enumerate(lines):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if len(texts) + 1 < max_blocks:
            texts.append(current)
            current = line
            continue
        return [*texts, _with_remainder(current, lines[index:], limit, noun)]
    if current:
        texts.append(current)
    return texts


def _with_remainder(current: str, rest: list[str], limit: int, noun: str) -> str:
    kept = current.split("\n")
    left = len(rest)
    while True:
        note = f"…and {left} {noun}"
        text = "\n".join([*kept, note])
        if len(text) <= limit or not kept:
            return truncate(text, limit)
        kept.pop()
        left += 1


@dataclass(frozen=True)
class Message:
    """A Slack message: the notification fallback ``text`` and at most 50 blocks."""

    text: str
    blocks: list[Block]

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("a message needs a fallback text")
        if len(self.text) > FALLBACK_TEXT_LIMIT:
            raise ValueError(f"fallback text is {len(self.text)} characters, over {FALLBACK_TEXT_LIMIT}")
        check_blocks(self.blocks, MESSAGE_BLOCK_LIMIT)


def check_blocks(blocks: list[Block], limit: int = MESSAGE_BLOCK_LIMIT) -> list[Block]:
    """Raise `ValueError` unless there are between 1 and ``limit`` blocks (Slack: 50 per message, 100 per view)."""
    if not 1 <= len(blocks) <= limit:
        raise ValueError(f"{len(blocks)} blocks; Slack allows 1 to {limit} here")
    return blocks


def check_view(view: View) -> View:
    """Raise `ValueError` unless the view has between 1 and 100 blocks."""
    check_blocks(list(view.blocks or []), VIEW_BLOCK_LIMIT)
    return view
