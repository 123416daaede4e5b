"""App Home after a change: the cancel goes out first, the tabs follow in the background, for those concerned only."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.slack.home import HOME_CONCURRENCY
from bot.slack.render import ids
from bot.store.models import RequestStatus
from cancel_order_bot.demo.fake_slack import FakeWorkspace
from cancel_order_bot.demo.harness import MovableClock, running_bot
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.flow.conftest import ALICE, BOB, CAROL, CREATE, DAVE, request_cancel
from tests.store.factories import new_request

APPROVERS = 30
PUBLISH_SECONDS = 0.1


def _crowd() -> FakeWorkspace:
    """The demo workspace with 30 more approvers in the group (Bob and Carol among them)."""
    workspace = FakeWorkspace.default()
    extra = [f"U0APPR{n:03d}" for n in range(APPROVERS)]
    for user in extra:
        workspace = workspace.with_user(user, user.lower())
    return workspace.with_usergroup("S0APPROVERS", ("U0BOB", "U0CAROL", *extra), handle="cancel-approvers")


async def test_the_cancel_does_not_wait_for_app_home(
    sqlite_url: str, world: SandboxWorld, clock: MovableClock, showcase: Showcase
) -> None:
    async with running_bot(sqlite_url, world=world, clock=clock, workspace=_crowd()) as bot:
        request = await request_cancel(bot, showcase.pending)
        await bot.settle()
        # Each views.publish takes 0.1 s: one at a time for 32 approvers, the cancel would wait 3.2 s.
        bot.slack.delay("views.publish", PUBLISH_SECONDS)
        before = len(bot.slack.calls_to("views.publish"))
        loop = asyncio.get_running_loop()
        started = loop.time()
        await bot.click(BOB, ids.REQUEST_APPROVE, request, wait=False)
        while world.call_count(CREATE) == 0:
            assert loop.time() - started < 1.5, "the cancel waited for App Home"
            await asyncio.sleep(0.01)
        published_by_then = len(bot.slack.calls_to("views.publish")) - before
        assert published_by_then <= HOME_CONCURRENCY

        await bot.settle(limit=30)
        assert (await bot.refreshed(request)).status is RequestStatus.EXECUTED
        published = [c.params["user_id"] for c in bot.slack.calls_to("views.publish")[before:]]
        concerned = {ALICE, BOB, CAROL} | {f"U0APPR{n:03d}" for n in range(APPROVERS)}
        assert set(published) == concerned, "every approver of the store, the requester and the decider; no one else"
        assert DAVE not in published
        # Two changes (executing, then executed): at most one publish per person per change.
        assert len(published) <= 2 * len(concerned)
        home = bot.slack.home_view(f"U0APPR{APPROVERS - 1:03d}")
        assert home is not None
        assert ids.REQUEST_APPROVE not in str(home["blocks"]), "the last tab shows the request decided"


async def test_app_home_shows_an_approver_only_the_stores_they_approve_for(
    sqlite_url: str, world: SandboxWorld, clock: MovableClock, tmp_path: Path
) -> None:
    stores = tmp_path / "stores.toml"
    stores.write_text(
        '[[stores]]\ncode = "north"\ncountry = "sg"\nname = "North Shop"\napprovers = ["U0BOB"]\n'
        '[[stores]]\ncode = "south"\ncountry = "sg"\nname = "South Shop"\napprovers = ["U0CAROL"]\n',
        encoding="utf-8",
    )
    async with running_bot(sqlite_url, world=world, clock=clock, settings_overrides={"stores_file": stores}) as bot:
        requests = bot.services.requests
        north = await requests.create_request(new_request(store_code="north", requester_id=ALICE), now=clock())
        south = await requests.create_request(
            new_request(store_code="south", requester_id=ALICE, orders=2), now=clock()
        )
        await bot.services.home.publish(BOB)
        await bot.services.home.publish(CAROL)
        bob = str(bot.slack.home_view(BOB))
        carol = str(bot.slack.home_view(CAROL))
        assert north.id in bob
        assert south.id not in bob
        assert "North Shop" in bob
        assert "South Shop" not in bob
        assert south.id in carol
        assert north.id not in carol
        assert "North Shop" not in carol
