"""App Home through the real app: opening the Home tab publishes it; the Messages tab does not."""

from __future__ import annotations

from cancel_order_bot.demo.harness import Harness
from tests.flow.conftest import ALICE, BOB


async def test_opening_the_home_tab_publishes_it(bot: Harness) -> None:
    response = await bot.send(bot.payloads.app_home_opened(BOB))
    await bot.settle()
    assert response.status_code == 200
    home = bot.slack.home_view(BOB)
    assert home is not None
    assert "Order cancellations" in str(home["blocks"])


async def test_opening_the_messages_tab_publishes_nothing(bot: Harness) -> None:
    await bot.send(bot.payloads.app_home_opened(ALICE, tab="messages"))
    await bot.settle()
    assert bot.slack.home_view(ALICE) is None
