"""The gateway decides the SANDBOX marking alone: every message and view it sends on the sandbox says so."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.gateway import SlackGateway
from bot.slack.render.bulk import render_bulk_modal
from bot.slack.render.modal import render_loading_modal, render_request_modal
from bot.slack.render.request_message import render_request_message
from bot.workflow.models import BulkDraft
from cancel_order_bot.demo import FakeSlack
from tests.render.factories import NOW, REASONS, card, draft, metadata, order_line

BANNER = "SANDBOX — no real order is touched"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    """The fake Slack Web API on a free port."""
    async with FakeSlack() as fake:
        yield fake


def _gateway(slack: FakeSlack, *, sandbox: bool) -> SlackGateway:
    return SlackGateway(AsyncWebClient(token=slack.bot_token, base_url=slack.api_url), sandbox=sandbox)


async def _posted(slack: FakeSlack, gateway: SlackGateway, message: Any) -> dict[str, Any]:
    delivery = await gateway.post("C0OPS", message)
    assert delivery.ok
    assert delivery.ts
    posted = slack.message("C0OPS", delivery.ts)
    assert posted is not None
    return posted


async def test_sandbox_gateway_marks_the_approval_card_header_banner_and_text(slack: FakeSlack) -> None:
    posted = await _posted(slack, _gateway(slack, sandbox=True), render_request_message(card(), now=NOW))
    assert posted["blocks"][0]["text"]["text"] == "Cancellation request CR-7K2Q9 · SANDBOX"
    assert BANNER in posted["blocks"][1]["elements"][0]["text"]
    assert posted["text"].startswith("[SANDBOX]")


async def test_production_gateway_sends_the_card_as_rendered(slack: FakeSlack) -> None:
    message = render_request_message(card(), now=NOW)
    posted = await _posted(slack, _gateway(slack, sandbox=False), message)
    assert posted["blocks"] == [b.to_dict() for b in message.blocks]
    assert "SANDBOX" not in json.dumps(posted)


async def test_a_card_of_fifty_orders_keeps_room_for_the_banner(slack: FakeSlack) -> None:
    lines = tuple(order_line(f"88000{n:03d}", 3, tip_content=f"Tip {n} " + "x" * 300) for n in range(50))
    message = render_request_message(card(orders=lines), now=NOW)
    posted = await _posted(slack, _gateway(slack, sandbox=True), message)
    assert len(posted["blocks"]) <= 50
    assert BANNER in json.dumps(posted["blocks"], ensure_ascii=False)


async def test_marking_twice_adds_one_banner(slack: FakeSlack) -> None:
    gateway = _gateway(slack, sandbox=True)
    once = gateway.mark_view(render_request_modal(draft(), metadata()))
    text = json.dumps(once, ensure_ascii=False)
    assert text.count(BANNER) == 1
    assert once["blocks"][0]["text"]["text"] == "Order 123456789 · SG Main · SANDBOX"


def test_request_modal_and_loading_modal_in_the_sandbox_say_so() -> None:
    gateway = SlackGateway(AsyncWebClient(token="xoxb-unused"), sandbox=True)
    request = gateway.mark_view(render_request_modal(draft(), metadata()))
    assert request["blocks"][0]["text"]["text"].endswith("· SANDBOX")
    assert BANNER in json.dumps(request, ensure_ascii=False)
    loading = gateway.mark_view(render_loading_modal("123456789", "SG Main", metadata()))
    assert BANNER in loading["blocks"][0]["elements"][0]["text"], "no header: the banner comes first"


def test_bulk_modal_in_the_sandbox_says_so() -> None:
    orders = (draft(order_id="111"), draft(order_id="222"))
    bulk = BulkDraft(store_code="sg-main", store_label="SG Main", orders=orders, reasons=REASONS)
    view = SlackGateway(AsyncWebClient(token="xoxb-unused"), sandbox=True).mark_view(render_bulk_modal(bulk, None))
    assert view["blocks"][0]["text"]["text"].endswith("· SANDBOX")
    assert BANNER in json.dumps(view, ensure_ascii=False)
