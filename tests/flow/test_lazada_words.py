"""Issue 10 point 5 through the real app: whatever Lazada says (tip or message) reaches the person, escaped."""

from __future__ import annotations

from cancel_order_bot.demo.harness import Harness
from cancel_order_bot.sandbox import FaultKind, SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import ALICE

VALIDATE = "/order/reverse/cancel/validate"


async def test_an_error_code_with_a_tip_shows_the_bots_sentence_and_lazadas_tip_on_the_form(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    world.faults.inject(FaultKind.CODE_WITH_TIP, path=VALIDATE, text="Item <2001> is locked & awaiting QC")
    await bot.command(ALICE, str(showcase.pending))
    blocks = str(bot.open_modal(ALICE)["blocks"])
    assert "Lazada says some of these items do not belong to this order." in blocks
    assert "Lazada says: “Item &lt;2001&gt; is locked &amp; awaiting QC”" in blocks


async def test_an_error_message_without_a_tip_is_shown_verbatim_beside_the_sentence(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    world.faults.inject(FaultKind.CAMPAIGN_DISABLED, path="/order/items/get")
    await bot.command(ALICE, str(showcase.pending))
    said = str([call.params for call in bot.slack.calls])
    assert "sale campaigns" in said
    assert "To ensure stability of service, this API service is disabled" in said
