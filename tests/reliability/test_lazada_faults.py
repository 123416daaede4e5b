"""Every Lazada fault during every step of a cancellation: what people see, what is stored, and one cancel at most.

Steps: filling the modal, re-validating at approval, repacking, the cancel itself, reading the items back, and
refreshing the access token. Faults: timeout, connection reset, HTTP 502, malformed JSON, ServiceTimeout,
ApiCallLimit, IllegalAccessToken (a refresh fixes it, or the refresh token is gone too), 998 and code 0 with an
error tip. Each case checks the sentence a person reads (and that no internals leak), the stored request against its
audit trail and Lazada's items, and that no item is ever named in more than one InitReverseOrderCancel, even after
the leases run out and the reconciler has ticked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.lazada.client import RetryPolicy
from bot.slack.render import ids
from bot.store.models import CancelRequest, RequestStatus
from cancel_order_bot.demo.harness import Harness, MovableClock, running_bot
from cancel_order_bot.sandbox import FaultKind, ItemSpec, SandboxWorld
from cancel_order_bot.sandbox.showcase import Showcase
from tests.reliability.conftest import (
    ALICE,
    BOB,
    CREATE,
    assert_audit_consistent,
    assert_no_internals,
    cancels_per_item,
    readable,
    request_cancel,
    settle_later,
    shown,
    stored_count,
)

ITEMS = "/order/items/get"
VALIDATE = "/order/reverse/cancel/validate"
REPACK = "/order/package/repack"
REFRESH = "/auth/token/refresh"

TIP = "Lazada is reviewing this order right now; cancellation is paused."
"""The `tip_content` of the code-0-with-error-tip fault (plain words, so escaping leaves it as it is)."""


@dataclass(frozen=True)
class Fault:
    """One fault of the matrix and the sentence a person must read when it stops something."""

    name: str
    kind: FaultKind
    words: str
    refreshable: bool = True

    def inject(self, world: SandboxWorld, path: str, *, apply_first: bool = False, times: int = 1) -> None:
        """Make the next `times` calls of `path` fail this way (an unrefreshable token also loses its refresh token)."""
        if not self.refreshable:
            world.expire_refresh_token()
        world.faults.inject(self.kind, path=path, apply_first=apply_first, times=times, text=TIP)

    @property
    def is_token(self) -> bool:
        """Whether this is an IllegalAccessToken fault."""
        return self.kind is FaultKind.ILLEGAL_ACCESS_TOKEN

    @property
    def healed_by_refresh(self) -> bool:
        """A read that meets it refreshes the token and succeeds on its second try: nobody notices."""
        return self.is_token and self.refreshable

    @property
    def write_words(self) -> str:
        """What a person reads when this fault answers a write (never retried, so no refresh is tried)."""
        return "access token" if self.is_token else self.words

    @property
    def refresh_words(self) -> str:
        """What a person reads when this fault answers the token refresh itself."""
        return "re-authorize" if self.is_token else self.words


FAULTS = [
    Fault("timeout", FaultKind.TIMEOUT, "did not answer in time"),
    Fault("connection_reset", FaultKind.CONNECTION_RESET, "could not reach Lazada"),
    Fault("http_502", FaultKind.HTTP_502, "temporary problem"),
    Fault("malformed_json", FaultKind.MALFORMED_JSON, "could not read"),
    Fault("service_timeout", FaultKind.SERVICE_TIMEOUT, "temporary problem"),
    Fault("api_call_limit", FaultKind.API_CALL_LIMIT, "limiting how fast"),
    Fault("illegal_access_token", FaultKind.ILLEGAL_ACCESS_TOKEN, "access token"),
    Fault("illegal_access_token_unrefreshable", FaultKind.ILLEGAL_ACCESS_TOKEN, "re-authorize", refreshable=False),
    Fault("campaign_998", FaultKind.CAMPAIGN_DISABLED, "switched this function off"),
    Fault("tip_error", FaultKind.TIP_ERROR, TIP),
]
BY_NAME = {f.name: f for f in FAULTS}

# Faults after which nobody can know whether Lazada acted: the bot must read back and may need a person.
OUTCOME_UNKNOWN = frozenset(
    {
        FaultKind.TIMEOUT,
        FaultKind.CONNECTION_RESET,
        FaultKind.HTTP_502,
        FaultKind.MALFORMED_JSON,
        FaultKind.SERVICE_TIMEOUT,
        FaultKind.CAMPAIGN_DISABLED,
    }
)
# Faults that can hide an answer to a call Lazada did carry out.
ANSWER_LOST = [BY_NAME[n] for n in ("timeout", "connection_reset", "http_502", "malformed_json", "service_timeout")]

matrix = pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])


def _good_refreshes(world: SandboxWorld) -> int:
    return sum(1 for c in world.calls if c.path == REFRESH and c.fault is None and c.code == "0")


async def _approve(bot: Harness, request: CancelRequest) -> str:
    """Bob approves; return everything people were shown from the click on."""
    since = len(bot.slack.calls)
    response = await bot.click(BOB, ids.REQUEST_APPROVE, request)
    assert response.status_code == 200
    return shown(bot, since=since)


async def _check_settled(
    bot: Harness,
    request: CancelRequest,
    seen: str,
    *,
    status: RequestStatus,
    words: list[str],
    cancels: int,
    later: RequestStatus | None = None,
) -> None:
    """The request settled as `status`, people read `words`, and each item had `cancels` cancels, for good.

    `later`: the status after later ticks, when the reconciler can learn more (a late read-back), else `status`.
    """
    settled = await assert_audit_consistent(bot, request)
    assert settled.status is status, settled.decision_note
    assert settled.announced_status == status.value, "the outcome was stored but never shown"
    assert ids.REQUEST_APPROVE not in bot.message_json(settled), "the card still offers Approve"
    text = readable(seen).lower()
    for word in words:
        assert word.lower() in text, f"{word!r} not shown; people saw: {readable(seen)[:1500]}"
    assert_no_internals(seen)
    expected = dict.fromkeys((i for o in settled.orders for i in o.item_ids), cancels) if cancels else {}
    assert cancels_per_item(bot.world) == expected

    await settle_later(bot)
    assert cancels_per_item(bot.world) == expected, "a later tick sent the cancel again"
    after = await assert_audit_consistent(bot, request)
    assert after.status is (later or status)


@matrix
async def test_fault_while_filling_the_modal(
    bot: Harness, world: SandboxWorld, showcase: Showcase, fault: Fault
) -> None:
    fault.inject(world, VALIDATE)
    response = await bot.command(ALICE, str(showcase.pending))
    assert response.status_code == 200
    modal = bot.open_modal(ALICE)
    text = readable(json.dumps(modal))
    assert_no_internals(shown(bot))
    if fault.healed_by_refresh:
        assert "Electric Kettle" in text
        assert modal.get("submit"), "the refreshed token should have let the modal fill"
        assert _good_refreshes(world) == 1
    else:
        assert fault.words.lower() in text.lower(), text
        assert not modal.get("submit"), "a modal Lazada did not fill offers nothing to submit"
    assert await stored_count(bot) == 0
    assert world.call_count(CREATE) == 0


@matrix
async def test_fault_while_revalidating_at_approval(
    bot: Harness, world: SandboxWorld, showcase: Showcase, fault: Fault
) -> None:
    request = await request_cancel(bot, showcase.pending)
    fault.inject(world, VALIDATE)
    seen = await _approve(bot, request)
    if fault.healed_by_refresh:
        await _check_settled(bot, request, seen, status=RequestStatus.EXECUTED, words=["cancelled"], cancels=1)
    else:
        await _check_settled(bot, request, seen, status=RequestStatus.FAILED, words=[fault.words], cancels=0)


@matrix
async def test_fault_while_repacking(bot: Harness, world: SandboxWorld, showcase: Showcase, fault: Fault) -> None:
    mouse, cable, _case = world.order_items(showcase.packed)
    request = await request_cancel(
        bot, showcase.packed, item_ids=[str(mouse.order_item_id)], package_choice=ids.PackageChoice.REPACK_FIRST
    )
    assert request.repack_first
    fault.inject(world, REPACK)
    seen = await _approve(bot, request)
    await _check_settled(
        bot, request, seen, status=RequestStatus.FAILED, words=["Repacking failed", fault.write_words], cancels=0
    )
    assert world.call_count(REPACK) == 1, "a repack is a write: sent once, never retried"
    assert world.item(cable.order_item_id).status == "packed"


@matrix
async def test_fault_while_cancelling(bot: Harness, world: SandboxWorld, showcase: Showcase, fault: Fault) -> None:
    request = await request_cancel(bot, showcase.pending)
    # A cancel refused by the rate limit is sent once more after the ban; refused again, it fails.
    sends = 2 if fault.kind is FaultKind.API_CALL_LIMIT else 1
    fault.inject(world, CREATE, times=sends)
    seen = await _approve(bot, request)
    if fault.kind in OUTCOME_UNKNOWN:
        status, words = RequestStatus.NEEDS_ATTENTION, ["Seller Center", fault.words]
    else:
        status, words = RequestStatus.FAILED, ["refused", fault.write_words]
    await _check_settled(bot, request, seen, status=status, words=words, cancels=sends)
    (item,) = world.order_items(showcase.pending)
    assert item.status == "pending"


@matrix
async def test_fault_while_reading_back(bot: Harness, world: SandboxWorld, showcase: Showcase, fault: Fault) -> None:
    request = await request_cancel(bot, showcase.pending)

    async def after_cancel_fails_the_read_back(point: str) -> None:
        if point == "after_cancel":
            fault.inject(world, ITEMS)

    bot.services.executor.checkpoint = after_cancel_fails_the_read_back
    seen = await _approve(bot, request)
    (item,) = world.order_items(showcase.pending)
    assert item.status == "canceled"
    if fault.healed_by_refresh:
        await _check_settled(bot, request, seen, status=RequestStatus.EXECUTED, words=["cancelled"], cancels=1)
    else:
        await _check_settled(
            bot,
            request,
            seen,
            status=RequestStatus.NEEDS_ATTENTION,
            words=["accepted the cancellation", "Seller Center", fault.words],
            cancels=1,
            # The items are cancelled: once Lazada answers again, the reconciler's read-back says so.
            later=RequestStatus.EXECUTED,
        )


@matrix
async def test_fault_while_refreshing_the_token(
    bot: Harness, world: SandboxWorld, showcase: Showcase, fault: Fault
) -> None:
    request = await request_cancel(bot, showcase.pending)
    world.expire_access_token()
    fault.inject(world, REFRESH)
    seen = await _approve(bot, request)
    await _check_settled(bot, request, seen, status=RequestStatus.FAILED, words=[fault.refresh_words], cancels=0)
    stored = await bot.services.tokens.load("main")
    assert stored is not None
    assert stored.refresh_token is not None, "a failed refresh must not lose the refresh token"

    if fault.is_token:
        return
    # A passing fault is not remembered: the next person's command refreshes and works.
    await bot.command(ALICE, str(showcase.ready_to_ship))
    modal = bot.open_modal(ALICE)
    assert "Desk Lamp" in json.dumps(modal)
    assert modal.get("submit")
    assert _good_refreshes(world) == 1


@pytest.mark.parametrize("fault", ANSWER_LOST, ids=[f.name for f in ANSWER_LOST])
async def test_cancel_carried_out_but_its_answer_lost(
    bot: Harness, world: SandboxWorld, showcase: Showcase, fault: Fault
) -> None:
    request = await request_cancel(bot, showcase.pending)
    fault.inject(world, CREATE, apply_first=True)
    seen = await _approve(bot, request)
    await _check_settled(bot, request, seen, status=RequestStatus.EXECUTED, words=["cancelled"], cancels=1)


@pytest.mark.parametrize("fault", ANSWER_LOST, ids=[f.name for f in ANSWER_LOST])
async def test_repack_carried_out_but_its_answer_lost(
    bot: Harness, world: SandboxWorld, showcase: Showcase, fault: Fault
) -> None:
    mouse, cable, _case = world.order_items(showcase.packed)
    request = await request_cancel(
        bot, showcase.packed, item_ids=[str(mouse.order_item_id)], package_choice=ids.PackageChoice.REPACK_FIRST
    )
    fault.inject(world, REPACK, apply_first=True)
    seen = await _approve(bot, request)
    await _check_settled(
        bot, request, seen, status=RequestStatus.FAILED, words=["Repacking failed", "nothing was cancelled"], cancels=0
    )
    assert world.item(cable.order_item_id).status == "pending", "Lazada did dissolve the package"
    assert world.item(mouse.order_item_id).status == "pending"


RETRIED = [f for f in FAULTS if f.kind is not FaultKind.API_CALL_LIMIT]  # its announced ban would be waited out


@pytest.fixture
async def retrying_bot(sqlite_url: str, world: SandboxWorld, clock: MovableClock) -> AsyncIterator[Harness]:
    """The bot retrying reads as in production (three attempts), without the waits between them."""
    async with running_bot(sqlite_url, world=world, clock=clock, retry=RetryPolicy.without_waits(3)) as bot:
        yield bot


@pytest.mark.parametrize("fault", RETRIED, ids=[f.name for f in RETRIED])
async def test_reads_are_retried_but_the_cancel_never_is(
    retrying_bot: Harness, world: SandboxWorld, showcase: Showcase, fault: Fault
) -> None:
    bot = retrying_bot
    request = await request_cancel(bot, showcase.pending)
    fault.inject(world, CREATE, times=3)
    seen = await _approve(bot, request)
    if fault.kind in OUTCOME_UNKNOWN:
        status, words = RequestStatus.NEEDS_ATTENTION, ["Seller Center", fault.words]
    else:
        status, words = RequestStatus.FAILED, ["refused", fault.write_words]
    await _check_settled(bot, request, seen, status=status, words=words, cancels=1)
    (left,) = world.faults.pending
    assert left.remaining == 2, "the cancel met its fault once; the other two were never asked for"


async def test_a_read_back_that_fails_twice_is_retried_to_the_outcome(
    retrying_bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    bot = retrying_bot
    request = await request_cancel(bot, showcase.pending)

    async def after_cancel_fails_the_read_back(point: str) -> None:
        if point == "after_cancel":
            BY_NAME["timeout"].inject(world, ITEMS, times=2)

    bot.services.executor.checkpoint = after_cancel_fails_the_read_back
    seen = await _approve(bot, request)
    await _check_settled(bot, request, seen, status=RequestStatus.EXECUTED, words=["cancelled"], cancels=1)


async def test_a_reconciler_racing_a_slow_execution_cancels_once_and_settles_right(
    bot: Harness, world: SandboxWorld, showcase: Showcase
) -> None:
    """The first execution is slow to start: its lease runs out and the reconciler executes the request too.

    The executor's checkpoints fix the order of events: both executions start from a pending order; the first
    goes on once the reconciler has taken the request over, finds its lease gone and stops before writing to
    Lazada; the reconciler, which holds the lease now, sends the one cancel and settles the request.
    """
    request = await request_cancel(bot, showcase.pending)
    outcome = await bot.services.requests.approve(request.id, BOB, now=bot.clock(), lease=timedelta(minutes=5))
    assert outcome.must_execute
    steps = ("first started", "second started")
    reached = {step: asyncio.Event() for step in steps}
    go = {step: asyncio.Event() for step in steps}
    seen: list[str] = []

    async def choreography(point: str) -> None:
        seen.append(point)
        step = {("after_claim", 1): "first started", ("after_claim", 2): "second started"}.get(
            (point, seen.count(point))
        )
        if step is not None:
            reached[step].set()
            await go[step].wait()

    async def when(step: str) -> None:
        await asyncio.wait_for(reached[step].wait(), timeout=5)

    bot.services.executor.checkpoint = choreography
    first = asyncio.create_task(bot.services.executor.execute(request.id, actor=BOB))
    await when("first started")
    bot.clock.advance(timedelta(minutes=6))
    second = asyncio.create_task(bot.services.workflow.tick())
    await when("second started")
    go["first started"].set()
    stopped = await first
    assert stopped.status is RequestStatus.EXECUTING
    assert world.call_count(CREATE) == 0, "the first execution lost its lease and wrote nothing to Lazada"
    assert "before_cancel" not in seen
    go["second started"].set()
    await second

    assert cancels_per_item(world) == {str(world.order_items(showcase.pending)[0].order_item_id): 1}
    await settle_later(bot)
    assert world.call_count(CREATE) == 1
    settled = await assert_audit_consistent(bot, request)
    assert settled.status is RequestStatus.EXECUTED


async def test_two_executions_of_each_request_at_once_never_cancel_twice(bot: Harness, world: SandboxWorld) -> None:
    """Two executions of one request racing freely (six requests, so a lost race would surely show somewhere)."""
    requests = []
    for n in range(6):
        order = world.add_order([ItemSpec(status="pending", sku=f"RACE-{n}", name=f"Race item {n}")])
        request = await request_cancel(bot, order.order_id)
        await bot.services.requests.approve(request.id, BOB, now=bot.clock(), lease=timedelta(minutes=5))
        requests.append(request)
    executor = bot.services.executor
    await asyncio.gather(*(executor.execute(r.id, actor=actor) for r in requests for actor in (BOB, "reconciler")))
    await settle_later(bot)
    assert cancels_per_item(world) == {i: 1 for r in requests for o in r.orders for i in o.item_ids}
    for request in requests:
        assert (await assert_audit_consistent(bot, request)).status is RequestStatus.EXECUTED
