"""The answer to ``/cancel-order help``."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, SectionBlock

from bot.slack.render.text import Message, escape, joined, mrkdwn, plain

__all__ = ["render_help"]


def render_help(store_codes: list[str]) -> Message:
    """How to use ``/cancel-order``: the forms of the command, the approval flow, and the configured stores."""
    several = len(store_codes) > 1
    usage = [
        "*How to use it*",
        "• `/cancel-order &lt;order number&gt;` — ask to cancel items of a Lazada order. A form lists the items, "
        "the reasons Lazada offers and its warnings.",
        "• `/cancel-order &lt;order&gt; &lt;order&gt; …` — one request for up to 50 orders (also: paste a list "
        "into the form). Orders without a reason in common with the others are listed apart.",
        "• `/cancel-order` — the same, asking for the order number(s) first.",
    ]
    if several:
        usage.append("• `/cancel-order &lt;order number&gt; &lt;store&gt;` — for a store other than the first one.")
    usage += [
        "• `/cancel-order digest [store]` — the store's seller-fault cancellation rate now.",
        "• `/cancel-order help` — this message.",
    ]
    flow = (
        "*What happens next*\n"
        "Your request goes to the approval channel. An approver other than you approves or rejects it; "
        "near the store's rate limit two approvers are needed. On approval the bot checks the order with Lazada "
        "again, cancels the items and tells you in the thread. You can withdraw a request while it is pending; "
        "it expires if nobody decides."
    )
    stores = f"*Stores:* {joined(store_codes, shown=50)}" if store_codes else "*Stores:* none configured"
    blocks: list[Block] = [
        HeaderBlock(text=plain("/cancel-order")),
        SectionBlock(text=mrkdwn("\n".join(usage))),
        SectionBlock(text=mrkdwn(flow)),
        ContextBlock(elements=[mrkdwn(stores)]),
    ]
    text = "How to use /cancel-order: /cancel-order <order number>, then a second person approves."
    return Message(text=escape(text), blocks=blocks)
