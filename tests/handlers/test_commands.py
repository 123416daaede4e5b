"""`/cancel-order` through the real app: each answer the command's one listener gives."""

from __future__ import annotations

from bot.slack.render import ids
from cancel_order_bot.demo.harness import Harness
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import ALICE


async def test_help_is_the_ack_itself(bot: Harness) -> None:
    response = await bot.command(ALICE, "help")
    assert response.json()["response_type"] == "ephemeral"
    assert "/cancel-order digest [store]" in response.text
    assert bot.slack.calls_to("views.open") == []


async def test_an_order_opens_the_form_at_once_then_fills_it_from_lazada(bot: Harness, showcase: Showcase) -> None:
    response = await bot.command(ALICE, str(showcase.pending))
    assert response.status_code == 200
    assert response.content in {b"", b"{}"}
    loading = bot.slack.calls_to("views.open")[0].body["view"]
    assert "Asking Lazada about order" in str(loading)
    form = bot.open_modal(ALICE)
    assert form["callback_id"] == ids.REQUEST_MODAL
    assert "Electric Kettle" in str(form["blocks"])


async def test_several_orders_open_the_bulk_form(bot: Harness, showcase: Showcase) -> None:
    await bot.command(ALICE, f"{showcase.pending} {showcase.ready_to_ship}")
    assert bot.open_modal(ALICE)["callback_id"] == ids.BULK_MODAL


async def test_digest_is_acknowledged_then_answered_privately(bot: Harness) -> None:
    response = await bot.command(ALICE, "digest")
    assert response.json() == {"text": "Working out the cancellation rate…", "response_type": "ephemeral"}
    answers = bot.slack.calls_to("response_url")
    assert answers, "the digest came through the command's response_url"
    assert "cancellation rate" in str(answers[-1].params["text"])


async def test_unreadable_command_is_answered_not_raised(bot: Harness) -> None:
    signed = bot.payloads.slash_command("/cancel-order", "123", user_id=ALICE, channel_id="C" * 40)
    response = await bot.send(signed)
    assert response.status_code == 200
    assert "I couldn't read that command. Please try again." in response.text
    assert bot.slack.calls_to("views.open") == []
