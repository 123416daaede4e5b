"""Block Kit as plain text, roughly as a Slack client shows it: for the demo's transcript and for reading tests."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["as_seen", "blocks_to_text", "view_to_text"]

_USER = re.compile(r"<@([UW][A-Z0-9]+)>")
_GROUP = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#([CDG][A-Z0-9]+)(?:\|([^>]*))?>")
_DATE = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")
_INVISIBLE = re.compile("[\u200b\u00ad]")
# mrkdwn emphasis as Slack draws it: *bold*, _italic_, ~strike~ around text that does not start or end with a space.
_EMPHASIS = re.compile(r"(?<![\w*_~])([*_~])(?=\S)([^\n]*?\S)\1(?![\w*_~])")
_BUTTON_STYLE = re.compile(r"(\[[^\]\n]+\])[*!]")


def _text(obj: Any, names: Mapping[str, str]) -> str:
    if obj is None:
        return ""
    if isinstance(obj, str):
        raw = obj
    elif isinstance(obj, Mapping):
        raw = str(obj.get("text", ""))
    else:
        return ""
    raw = _USER.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), raw)
    raw = _GROUP.sub(lambda m: "@" + (m.group(2) or names.get(m.group(1), m.group(1))), raw)
    raw = _CHANNEL.sub(lambda m: "#" + (m.group(2) or names.get(m.group(1), m.group(1))), raw)
    raw = _DATE.sub(lambda m: m.group(1), raw)
    raw = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", raw)
    return _INVISIBLE.sub("", html.unescape(raw))


def _options(element: Mapping[str, Any], names: Mapping[str, str]) -> list[str]:
    chosen = {str(o.get("value")) for o in element.get("initial_options") or []}
    if element.get("initial_option"):
        chosen.add(str(element["initial_option"].get("value")))
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    lines = []
    for option in options:
        mark = "[x]" if str(option.get("value")) in chosen else "[ ]"
        lines.append(f"    {mark} {_text(option.get('text'), names)}")
    return lines


def _element(element: Mapping[str, Any], names: Mapping[str, str]) -> list[str]:
    kind = element.get("type")
    if kind == "button":
        style = {"primary": "*", "danger": "!"}.get(str(element.get("style")), "")
        return [f"[{_text(element.get('text'), names)}]{style}"]
    if kind in {"checkboxes", "radio_buttons", "static_select", "multi_static_select"}:
        return _options(element, names)
    if kind == "plain_text_input":
        placeholder = _text(element.get("placeholder"), names)
        return [f"    [ {placeholder or 'type here'} ]"]
    return [f"    <{kind}>"]


def blocks_to_text(blocks: Iterable[Mapping[str, Any]], names: Mapping[str, str] | None = None) -> str:
    """Render blocks as indented plain text; `names` maps Slack IDs to display names."""
    names = names or {}
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            lines.append(f"== {_text(block.get('text'), names)} ==")
        elif kind == "section":
            if block.get("text"):
                lines.extend(_text(block.get("text"), names).splitlines())
            for field in block.get("fields") or []:
                lines.append("  " + _text(field, names).replace("\n", " "))
            if block.get("accessory"):
                lines.extend(_element(block["accessory"], names))
        elif kind == "context":
            lines.append("  " + "  ".join(_text(e, names) for e in block.get("elements") or []))
        elif kind == "divider":
            lines.append("  ────────")
        elif kind == "actions":
            buttons: list[str] = []
            for element in block.get("elements") or []:
                buttons.extend(_element(element, names))
            lines.append("  " + " ".join(buttons))
        elif kind == "input":
            optional = " (optional)" if block.get("optional") else ""
            lines.append(f"  {_text(block.get('label'), names)}{optional}:")
            lines.extend(_element(block.get("element") or {}, names))
        elif kind == "image":
            lines.append(f"  [image: {block.get('alt_text', '')}]")
        else:
            lines.append(f"  <{kind}>")
    return "\n".join(lines)


def view_to_text(view: Mapping[str, Any], names: Mapping[str, str] | None = None) -> str:
    """Render a modal or Home view: its title, blocks and submit button."""
    title = _text(view.get("title"), names or {})
    body = blocks_to_text(view.get("blocks") or [], names)
    submit = view.get("submit")
    footer = f"\n  [{_text(submit, names or {})}]*" if submit else ""
    return (f"┌ {title}\n" if title else "") + body + footer


def as_seen(text: str) -> str:
    """`blocks_to_text`'s output as a person reads it in Slack: emphasis drawn, not spelled out with ``*``, and
    buttons without the style marks that tests read (``[Approve]*`` is the green button ``[Approve]``)."""
    return _EMPHASIS.sub(r"\2", _BUTTON_STYLE.sub(r"\1", text))
