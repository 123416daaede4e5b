"""`demo`: the whole flow offline (sandbox Lazada, an in-process Slack), printed as a transcript a person can follow."""

from __future__ import annotations

import json
import tempfile
import textwrap
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.logs import configure_logging
from bot.slack.chart import chart_filename, render_chart
from bot.slack.render import ids
from bot.slack.render.buyer import BUYER_ACCEPT, state_words
from bot.store.db import default_sqlite_url
from cancel_order_bot.demo.blocks_text import as_seen, blocks_to_text, view_to_text
from cancel_order_bot.demo.harness import Harness, MovableClock, running_bot
from cancel_order_bot.demo.slack_payloads import Action
from cancel_order_bot.sandbox import SandboxWorld, generate_history
from cancel_order_bot.sandbox.showcase import SHOWCASE, add_showcase_orders

__all__ = ["run_demo"]

ALICE, BOB = "U0ALICE", "U0BOB"
NAMES = {
    ALICE: "alice",
    BOB: "bob",
    "U0CAROL": "carol",
    "U0DAVE": "dave",
    "S0APPROVERS": "approvers",
    "C0OPS": "ops",
    "C0DIGEST": "digest",
    "U0BOT": "cancel-order",
}

Print = Callable[[str], None]


def _indent(text: str, prefix: str = "    │ ") -> str:
    return textwrap.indent(text, prefix, lambda _: True)


def _shown_params(params: Mapping[str, str]) -> dict[str, str]:
    """A call's parameters as the transcript shows them: the repack request's JSON becomes the package ids."""
    shown = dict(params)
    if "rePackReq" in shown:
        try:
            packages = json.loads(shown.pop("rePackReq")).get("packages") or []
            shown["packages"] = ",".join(str(p.get("package_id")) for p in packages)
        except (ValueError, AttributeError):
            shown["packages"] = "?"
    return shown


class _Transcript:
    """Prints the story: headings, what people do, what Slack shows, and the Lazada calls in between."""

    def __init__(self, bot: Harness, write: Print) -> None:
        self.bot = bot
        self.write = write
        self.seen_calls = 0

    def heading(self, text: str) -> None:
        self.write(f"\n━━ {text}")

    def says(self, who: str, text: str) -> None:
        self.write(f"  {NAMES.get(who, who)}> {text}")

    def shows(self, label: str, body: str) -> None:
        self.write(f"  {label}")
        self.write(_indent(body))

    def lazada(self) -> None:
        calls = self.bot.world.calls[self.seen_calls :]
        self.seen_calls += len(calls)
        for call in calls:
            shown = ", ".join(f"{k}={v}" for k, v in _shown_params(call.params).items())
            outcome = "ok" if call.code == "0" else f"error {call.code}"
            self.write(f"  lazada  GET {call.path} ({shown}) → {outcome}")

    def message(self, label: str, message: Mapping[str, Any] | None) -> None:
        if message is not None:
            self.shows(label, as_seen(blocks_to_text(message.get("blocks") or [], NAMES)))

    def ephemerals(self, user: str, since: int) -> int:
        seen = self.bot.slack.ephemerals(user)
        for message in seen[since:]:
            self.shows(f"only {NAMES[user]} sees:", as_seen(blocks_to_text(message.get("blocks") or [], NAMES)))
        return len(seen)


async def _story(bot: Harness, t: _Transcript) -> None:
    world = bot.world
    order = SHOWCASE.packed
    mouse, cable, _case = world.order_items(order)

    t.heading("0. The bot has read the store's orders, as it does every morning for the digest")
    stats = await bot.services.digest.sync("main")
    calls = ", ".join(f"{count} × {path}" for path, count in sorted(stats.calls.items()))
    t.write(f"  lazada  read the store's last {len(world.orders_by_created())} orders with {calls}")
    t.write("  bot     so the form and the approval card can show the cancellation rate now and after")
    t.seen_calls = len(world.calls)

    t.heading(f"1. Alice asks to cancel the Wireless Mouse of order {order} (packed with a USB-C cable)")
    t.says(ALICE, f"/cancel-order {order}")
    started = time.perf_counter()
    response = await bot.command(ALICE, str(order))
    t.write(
        f"  slack   acknowledged with HTTP {response.status_code}; the form opened and was filled "
        f"in {1000 * (time.perf_counter() - started):.0f} ms"
    )
    t.lazada()
    modal = bot.open_modal(ALICE)
    t.shows("Slack shows alice a form:", as_seen(view_to_text(modal, NAMES)))
    t.says(ALICE, f"unticks {cable.name}")
    untick = Action.checkboxes(ids.MODAL_ITEMS, [str(mouse.order_item_id)], block_id=ids.ITEMS_BLOCK)
    await bot.send(bot.payloads.block_actions_from_view([untick], user_id=ALICE, view=modal))
    await bot.settle()
    t.lazada()
    modal = bot.open_modal(ALICE)
    t.shows("the form now asks about the shared package:", as_seen(view_to_text(modal, NAMES)))

    t.heading("2. Alice keeps “Repack first”, picks “Out of Stock”, explains, and submits")
    await bot.submit(
        ALICE,
        modal,
        item_ids=[str(mouse.order_item_id)],
        reason_id="10000021",
        package_choice=ids.PackageChoice.REPACK_FIRST,
        justification="Last unit was damaged in the warehouse; customer informed by chat.",
    )
    t.lazada()
    request = await bot.request_for(str(order))
    t.write(f"  bot     stored request {request.id} as {request.status.value}, then posted it to #ops")
    assert request.message_ts is not None
    t.message("#ops shows everyone:", bot.slack.message(request.channel_id, request.message_ts))
    seen_alice = t.ephemerals(ALICE, 0)

    t.heading("3. Alice tries to approve her own request")
    t.says(ALICE, "clicks [Approve]")
    await bot.click(ALICE, ids.REQUEST_APPROVE, request)
    seen_alice = t.ephemerals(ALICE, seen_alice)
    t.write(
        f"  bot     request {request.id} is still {(await bot.refreshed(request)).status.value}; "
        "nothing was sent to Lazada"
    )
    t.lazada()

    t.heading("4. Bob, an approver, approves")
    t.says(BOB, "clicks [Approve] and confirms")
    await bot.click(BOB, ids.REQUEST_APPROVE, request)
    t.lazada()
    done = await bot.refreshed(request)
    assert done.message_ts is not None
    t.message("#ops now shows:", bot.slack.message(done.channel_id, done.message_ts))
    for reply in bot.slack.thread(done.channel_id, done.message_ts):
        t.message("in the thread:", reply)

    t.heading("5. The result, as Lazada has it now")
    for item in (mouse, cable):
        now = world.item(item.order_item_id)
        t.write(f"  lazada  item {now.order_item_id} {now.name}: {now.status}")
    t.write(f"  lazada  stock of {mouse.sku}: {world.stock(mouse.sku)} (restore it in Seller Center)")
    trail = await bot.services.requests.audit_trail(request.id)
    t.write(f"  bot     audit trail of {request.id}: " + " → ".join(e.action for e in trail))


async def _buyer_request(bot: Harness, t: _Transcript) -> None:
    """A buyer asked to cancel an order: the scan finds it, posts its card, and Bob accepts it from Slack."""
    world = bot.world
    order = SHOWCASE.buyer_request
    t.heading(f"6. A buyer asked to cancel order {order}; Bob accepts the buyer's request from Slack")
    t.write("  bot     looks for buyers' cancellation requests (the scheduler does it every 5 minutes)")
    await bot.services.buyer.tick()
    await bot.settle()
    t.lazada()
    request = await bot.buyer_request(order)
    assert request.channel_id is not None
    assert request.message_ts is not None
    t.message("#ops shows everyone:", bot.slack.message(request.channel_id, request.message_ts))
    t.says(BOB, "clicks [Accept the buyer's request] and confirms")
    await bot.click_buyer(BOB, BUYER_ACCEPT, request)
    t.lazada()
    done = await bot.buyer_request(order)
    t.write(
        f"  bot     the buyer's request (reverse order {done.reverse_order_id}) is {state_words(done)}: "
        "one decision sent, the card stamped"
    )
    t.message("#ops now shows:", bot.slack.message(request.channel_id, request.message_ts))
    for reply in bot.slack.thread(request.channel_id, request.message_ts):
        t.message("in the thread:", reply)
    for item in world.order_items(order):
        t.write(
            f"  lazada  item {item.order_item_id} {item.name}: {item.status}, cancelled by "
            f"{item.cancel_return_initiator} (not the seller's fault, so not in the cancellation rate)"
        )


async def _digest(bot: Harness, t: _Transcript, workdir: Path) -> Path:
    """Read the store's orders, compute the digest, show it as #digest would, and write the chart."""
    t.heading("7. The daily cancellation-rate digest (posted every morning; here, a minute later, on demand)")
    bot.clock.advance(timedelta(minutes=1))
    stats = await bot.services.digest.sync("main")
    calls = ", ".join(f"{count} × {path}" for path, count in sorted(stats.calls.items()))
    t.write(f"  lazada  read the orders updated since step 0 with {calls}")
    t.seen_calls = len(bot.world.calls)
    report = await bot.services.digest.report("main")
    posted = await bot.services.digest.post("main", report)
    outcome = "ok" if posted.ok else posted.error
    t.write(f"  bot     posted the digest to #digest and uploaded its chart (files v2): {outcome}")
    t.message("#digest shows:", bot.slack.message(posted.channel, posted.ts) if posted.ts else None)
    chart = workdir / chart_filename(report)
    uploaded = [f for f in bot.slack.uploaded_files if f.file_id == posted.file_id and f.content]
    chart.write_bytes(uploaded[0].content if uploaded and uploaded[0].content else render_chart(report))
    return chart


async def run_demo(write: Print = print, *, workdir: Path | None = None) -> Path:
    """Play the demo, printing the transcript; return the folder holding the database (and the chart)."""
    configure_logging(level="ERROR")
    workdir = workdir or Path(tempfile.mkdtemp(prefix="cancel-order-bot-demo-"))
    database = workdir / "demo.sqlite3"
    clock = MovableClock()
    world = SandboxWorld(now=clock)
    generate_history(world, seed=1, orders_per_day=30, days=70)
    add_showcase_orders(world)
    write("cancel-order-bot demo — everything runs here: a SQLite file, the Lazada sandbox, and an in-process Slack.")
    write(
        "People: alice (ops, requests), bob (approver). Channel: #ops. A buyer also asks to cancel an order. "
        "Nothing reaches Slack or Lazada."
    )
    # #ops is the approval channel: requests are posted there, and buyers' cancellation requests too.
    overrides = {"approval_channel": "C0OPS"}
    async with running_bot(default_sqlite_url(database), world=world, clock=clock, settings_overrides=overrides) as bot:
        transcript = _Transcript(bot, write)
        transcript.seen_calls = len(world.calls)
        await _story(bot, transcript)
        await _buyer_request(bot, transcript)
        chart = await _digest(bot, transcript, workdir)
    write(f"\nDatabase: {database}")
    write(f"Chart:    {chart}")
    return workdir
