"""The executor decides by what Lazada's items show, never by the cancel's answer alone (issue 10 points 2-4).

The real executor, the real store (SQLite) and the real client against the sandbox in process, on a manual clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.domain import Item, ItemAlreadyRequestedError, OrderStatus, RequestStatus
from bot.lazada.countries import Country
from bot.lazada.errors import (
    LazadaAuthError,
    LazadaBusinessError,
    LazadaDecodeError,
    LazadaError,
    LazadaRateLimitedError,
    LazadaServerError,
    LazadaTransportError,
)
from bot.settings import StoreConfig
from bot.store import Database, RequestStore, default_sqlite_url, upgrade_to_head
from bot.store.models import CancelRequest, NewOrder, NewRequest
from bot.workflow.drafting import Drafter, why_not_cancellable
from bot.workflow.execution import Executor, definite_refusal, final_status
from cancel_order_bot.sandbox import REFERENCE_ERROR_TIP, CancelMode, FaultKind, ItemSpec, SandboxWorld
from tests.lazada.test_client_against_sandbox import STORE, Sandbox, open_sandbox

CREATE = "/order/reverse/cancel/create"
ITEMS = "/order/items/get"
VALIDATE = "/order/reverse/cancel/validate"
REPACK = "/order/package/repack"
SOURCING_DELAY = "10000019"
APPROVER = "U0BOB"
DISSOLVED = "must be packed again in Seller Center"


@dataclass
class Setup:
    sandbox: Sandbox
    store: RequestStore
    executor: Executor

    @property
    def world(self) -> SandboxWorld:
        return self.sandbox.world

    def advance(self, **delta: float) -> None:
        self.sandbox.clock.advance(**delta)

    async def approved(
        self, *specs: Sequence[ItemSpec], cancel: int = 1, repack_first: bool = False, mode: CancelMode | None = None
    ) -> CancelRequest:
        """An approved (executing) request for new orders of `specs`, cancelling the first `cancel` items of each."""
        orders = []
        for spec in specs:
            order = self.world.add_order(list(spec))
            if mode is not None:
                self.world.cancel_modes[order.order_id] = mode
            items = tuple(
                Item(
                    order_item_id=str(i.order_item_id),
                    name=f"{i.name} {n}",
                    sku=i.sku,
                    status=i.status,
                    package_id=i.package_id,
                )
                for n, i in enumerate(order.items)
            )
            orders.append(
                NewOrder(
                    order_id=str(order.order_id), items=items, item_ids=tuple(i.order_item_id for i in items[:cancel])
                )
            )
        now = self.sandbox.clock()
        request = await self.store.create_request(
            NewRequest(
                store_code=STORE,
                requester_id="U0ALICE",
                reason_id=SOURCING_DELAY,
                reason_name="Sourcing Delay",
                justification="Supplier cannot deliver.",
                repack_first=repack_first,
                channel_id="C0OPS",
                expires_at=now + timedelta(hours=12),
                orders=tuple(orders),
            ),
            now=now,
        )
        outcome = await self.store.approve(request.id, APPROVER, now=now, lease=timedelta(minutes=5))
        assert outcome.must_execute
        return outcome.request

    async def run(self, request: CancelRequest) -> CancelRequest:
        return await self.executor.execute(request.id, actor=APPROVER)

    async def tick(self) -> list[CancelRequest]:
        """What the scheduler does for pending cancellations: claim the due ones and read them back."""
        now = self.sandbox.clock()
        claimed = await self.store.claim_pending_rechecks(now=now, backoff=self.executor.backoff)
        for request in claimed:
            await self.executor.reread(request.id, actor="reconciler")
        return claimed

    async def stored(self, request: CancelRequest) -> CancelRequest:
        current = await self.store.get_request(request.id)
        assert current is not None
        return current


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    url = default_sqlite_url(tmp_path / "outcomes.sqlite3")
    await upgrade_to_head(url)
    db = Database.from_url(url)
    try:
        async with open_sandbox() as sandbox:
            store = RequestStore(db)
            executor = Executor(requests=store, clients={STORE: sandbox.client()}, clock=sandbox.clock)
            yield Setup(sandbox=sandbox, store=store, executor=executor)
    finally:
        await db.close()


def _calls_after_create(world: SandboxWorld) -> list[str]:
    paths = [c.path for c in world.calls]
    return paths[paths.index(CREATE) + 1 :]


# -- the answer alone never decides ---------------------------------------------------------------------------------

ACCEPTED_INFO = {"code": "0", "data": {"tip_type": "info", "tip_content": "Queued for review."}, "request_id": ""}
ODD_CODE = {"type": "ISV", "code": "E0999", "message": "E0999: cancellation could not be completed", "request_id": ""}
ROC_ERROR = {"type": "ISP", "code": "106", "message": "E0106: ROC internal error", "request_id": ""}
GARBLED = {"code": "0", "data": "<<not json>>", "request_id": ""}

# (how the sandbox answers, the order's outcome, words in what is stored for the person)
ANSWERS: list[tuple[str, dict[str, Any], OrderStatus, str]] = [
    ("clean success", {}, OrderStatus.EXECUTED, "has been cancelled"),
    ("applied, error tip", {"mode": CancelMode.APPLIED_WITH_ERROR_TIP}, OrderStatus.EXECUTED, REFERENCE_ERROR_TIP),
    ("not applied, error tip", {"mode": CancelMode.NOT_APPLIED_WITH_ERROR_TIP}, OrderStatus.FAILED, "Lazada refused"),
    ("accepted, pending", {"mode": CancelMode.SLOW}, OrderStatus.CANCEL_PENDING, "has been cancelled"),
    ("unknown tip type, not applied", {"canned": ACCEPTED_INFO}, OrderStatus.CANCEL_PENDING, "Queued for review."),
    ("unknown tip type, applied", {"canned": ACCEPTED_INFO, "apply": True}, OrderStatus.EXECUTED, "Queued"),
    ("undocumented code, applied", {"canned": ODD_CODE, "apply": True}, OrderStatus.EXECUTED, ""),
    ("undocumented code, not applied", {"canned": ODD_CODE}, OrderStatus.FAILED, "could not be completed"),
    ("E0106, not applied", {"canned": ROC_ERROR}, OrderStatus.NEEDS_ATTENTION, "check Seller Center"),
    ("E0106, applied", {"canned": ROC_ERROR, "apply": True}, OrderStatus.EXECUTED, ""),
    ("garbled body, not applied", {"fault": FaultKind.MALFORMED_JSON}, OrderStatus.NEEDS_ATTENTION, "check Seller"),
    ("garbled payload, applied", {"canned": GARBLED, "apply": True}, OrderStatus.EXECUTED, ""),
    ("timeout, not applied", {"fault": FaultKind.TIMEOUT}, OrderStatus.NEEDS_ATTENTION, "did not confirm"),
    ("timeout, applied", {"fault": FaultKind.TIMEOUT, "apply": True}, OrderStatus.EXECUTED, ""),
    (
        "timeout, accepted and pending",
        {"fault": FaultKind.TIMEOUT, "apply": True, "mode": CancelMode.SLOW},
        OrderStatus.CANCEL_PENDING,
        "",
    ),
    ("ServiceTimeout, not applied", {"fault": FaultKind.SERVICE_TIMEOUT}, OrderStatus.NEEDS_ATTENTION, "Seller"),
    ("5xx, applied", {"fault": FaultKind.HTTP_502, "apply": True}, OrderStatus.EXECUTED, ""),
]


@pytest.mark.parametrize(("how", "answer", "expected", "words"), ANSWERS, ids=[a[0] for a in ANSWERS])
async def test_the_items_decide_the_outcome_and_the_cancel_is_sent_once(
    setup: Setup, how: str, answer: dict[str, Any], expected: OrderStatus, words: str
) -> None:
    request = await setup.approved([ItemSpec()], mode=answer.get("mode"))
    if "canned" in answer:
        setup.world.faults.inject(
            FaultKind.CANNED, path=CREATE, body=answer["canned"], apply_first=answer.get("apply", False)
        )
    elif "fault" in answer:
        setup.world.faults.inject(answer["fault"], path=CREATE, apply_first=answer.get("apply", False))

    done = await setup.run(request)

    (order,) = done.orders
    assert order.status is expected, (how, order)
    assert setup.world.call_count(CREATE) == 1
    assert _calls_after_create(setup.world)[:1] == [ITEMS], "read back after the answer, whatever it was"
    stored = f"{order.outcome_tip_content} {order.error}"
    assert words in stored
    assert done.status is final_status(done.orders)


async def test_the_reference_error_tip_on_an_applied_cancel_is_kept_as_lazadas_tip(setup: Setup) -> None:
    request = await setup.approved([ItemSpec()], mode=CancelMode.APPLIED_WITH_ERROR_TIP)
    done = await setup.run(request)
    (order,) = done.orders
    assert (done.status, order.outcome_tip_content, order.outcome_tip_type) == (
        RequestStatus.EXECUTED,
        REFERENCE_ERROR_TIP,
        "error",
    )
    assert order.error is None


async def test_a_refusal_before_the_api_ran_fails_without_reading_back(setup: Setup) -> None:
    request = await setup.approved([ItemSpec()])
    body = {"type": "ISV", "code": "123", "message": "E0123: invalid trade order lines [1]", "request_id": ""}
    setup.world.faults.inject(FaultKind.CANNED, path=CREATE, body=body)

    done = await setup.run(request)

    assert done.orders[0].status is OrderStatus.FAILED
    assert "Lazada refused the cancellation" in (done.orders[0].error or "")
    assert _calls_after_create(setup.world) == []


async def test_items_that_moved_on_after_an_accepted_cancel_need_a_person(setup: Setup) -> None:
    request = await setup.approved([ItemSpec()])
    setup.world.faults.inject(FaultKind.CANNED, path=CREATE, body=ACCEPTED_INFO)
    item_id = setup.world.order_items(int(request.orders[0].order_id))[0].order_item_id

    async def shipped_meanwhile(point: str) -> None:
        if point == "after_cancel":
            setup.world.set_item_status(item_id, "shipped")

    setup.executor.checkpoint = shipped_meanwhile
    done = await setup.run(request)

    assert done.orders[0].status is OrderStatus.NEEDS_ATTENTION
    assert "shipped" in (done.orders[0].error or "")


@pytest.mark.parametrize(
    ("error", "definite"),
    [
        (LazadaRateLimitedError("x", api_path=CREATE, retry_after=1, code="ApiCallLimit"), True),
        (LazadaAuthError("x", api_path=CREATE, refreshable=True, code="IllegalAccessToken"), True),
        (LazadaAuthError("x", api_path=CREATE, refreshable=False, code="IncompleteSignature"), True),
        (LazadaBusinessError("x", api_path=CREATE, code="MissingParameter"), True),
        (LazadaBusinessError("x", api_path=CREATE, code="Mp3SellerApiLimit"), True),
        *[(LazadaBusinessError("x", api_path=CREATE, code=c), True) for c in ("102", "104", "115", "122", "124")],
        (LazadaBusinessError("x", api_path=CREATE, code="E0104"), True),
        (LazadaBusinessError("x", api_path=CREATE, code="0", tip_content="stock will be set as 0"), False),
        (LazadaBusinessError("x", api_path=CREATE, code="E0999"), False),
        (LazadaBusinessError("x", api_path=CREATE, code="SellerNotVerified"), False),
        (LazadaServerError("x", api_path=CREATE, code="106"), False),
        (LazadaServerError("x", api_path=CREATE, code="998"), False),
        (LazadaServerError("x", api_path=CREATE, code="ServiceTimeout"), False),
        (LazadaTransportError("x", api_path=CREATE, timed_out=True, request_sent=True), False),
        (LazadaDecodeError("x", api_path=CREATE), False),
    ],
)
def test_only_refusals_before_the_api_ran_are_definite(error: LazadaError, definite: bool) -> None:
    assert definite_refusal(error) is definite


# -- pending at Lazada -----------------------------------------------------------------------------------------------


async def test_a_pending_cancellation_is_read_back_with_backoff_until_it_settles(setup: Setup) -> None:
    request = await setup.approved([ItemSpec()], mode=CancelMode.SLOW)
    pending = await setup.run(request)
    assert pending.status is RequestStatus.CANCEL_PENDING
    assert pending.orders[0].seen_pending is True
    reads = setup.world.call_count(ITEMS)

    claimed_at: list[int] = []
    for minute in range(1, 12):
        setup.advance(minutes=1)
        if await setup.tick():
            claimed_at.append(minute)
        if (await setup.stored(request)).status is not RequestStatus.CANCEL_PENDING:
            break

    # The sandbox settles 5 minutes after the cancel; the read-backs come 1, then 2, then 4 minutes apart.
    assert claimed_at == [1, 3, 7]
    assert setup.world.call_count(ITEMS) - reads == len(claimed_at)
    done = await setup.stored(request)
    assert done.status is RequestStatus.EXECUTED
    assert (done.orders[0].status, done.orders[0].reply_due) == (OrderStatus.EXECUTED, "executed")
    assert setup.world.call_count(CREATE) == 1


def test_the_backoff_doubles_up_to_its_cap(setup: Setup) -> None:
    waits = [setup.executor.backoff(n) for n in range(8)]
    assert [w.total_seconds() / 60 for w in waits] == [1, 2, 4, 8, 16, 30, 30, 30]


async def test_a_pending_cancellation_past_the_bound_needs_a_person_and_is_not_sent_again(setup: Setup) -> None:
    setup.world.slow_cancel_delay = timedelta(days=3)
    request = await setup.approved([ItemSpec()], mode=CancelMode.SLOW)
    await setup.run(request)
    for _ in range(24 * 2):
        setup.advance(minutes=30)
        await setup.tick()

    unclear = await setup.stored(request)
    assert unclear.status is RequestStatus.NEEDS_ATTENTION
    assert "after 24 h" in (unclear.orders[0].error or "")
    assert "did not send it again" in (unclear.orders[0].error or "")
    assert setup.world.call_count(CREATE) == 1
    assert await setup.store.items_in_flight(STORE, executed_since=None) == 0, "a person's now: the items are free"


async def test_a_cancellation_lazada_stops_showing_pending_needs_a_person_not_a_failure(setup: Setup) -> None:
    request = await setup.approved([ItemSpec()], mode=CancelMode.SLOW)
    await setup.run(request)
    (item,) = setup.world.order_items(int(request.orders[0].order_id))
    item.is_cancel_pending = False  # Lazada dropped it: the item is back to packed-as-before, nothing pending

    setup.advance(minutes=1)
    await setup.tick()

    dropped = await setup.stored(request)
    assert dropped.status is RequestStatus.NEEDS_ATTENTION
    assert "no longer does" in (dropped.orders[0].error or "")
    assert setup.world.call_count(CREATE) == 1


async def test_an_accepted_cancel_not_yet_shown_keeps_waiting_within_the_bound(setup: Setup) -> None:
    request = await setup.approved([ItemSpec()])
    setup.world.faults.inject(FaultKind.CANNED, path=CREATE, body=ACCEPTED_INFO)
    await setup.run(request)
    for _ in range(10):
        setup.advance(minutes=30)
        await setup.tick()
    assert (await setup.stored(request)).status is RequestStatus.CANCEL_PENDING


async def test_items_that_ship_while_pending_need_a_person(setup: Setup) -> None:
    request = await setup.approved([ItemSpec(status="packed")], mode=CancelMode.SLOW)
    await setup.run(request)
    (item,) = setup.world.order_items(int(request.orders[0].order_id))
    setup.world.set_item_status(item.order_item_id, "shipped")
    setup.advance(minutes=1)
    await setup.tick()
    moved = await setup.stored(request)
    assert moved.status is RequestStatus.NEEDS_ATTENTION
    assert "shipped" in (moved.orders[0].error or "")


async def test_a_read_back_that_fails_keeps_waiting_until_the_bound(setup: Setup) -> None:
    setup.world.slow_cancel_delay = timedelta(days=3)
    request = await setup.approved([ItemSpec()], mode=CancelMode.SLOW)
    await setup.run(request)
    setup.world.faults.inject(FaultKind.HTTP_502, path=ITEMS, times=1000)
    setup.advance(minutes=1)
    await setup.tick()
    assert (await setup.stored(request)).status is RequestStatus.CANCEL_PENDING
    setup.advance(hours=24)
    await setup.tick()
    late = await setup.stored(request)
    assert late.status is RequestStatus.NEEDS_ATTENTION
    assert "could not be read back" in (late.orders[0].error or "")


async def test_pending_items_stay_claimed_and_count_as_cancelled_the_rest_are_freed(setup: Setup) -> None:
    request = await setup.approved([ItemSpec()], [ItemSpec()], [ItemSpec()])
    slow, _fine, refused = (int(o.order_id) for o in request.orders)
    setup.world.cancel_modes[slow] = CancelMode.SLOW
    setup.world.cancel_modes[refused] = CancelMode.NOT_APPLIED_WITH_ERROR_TIP

    pending = await setup.run(request)

    assert pending.status is RequestStatus.CANCEL_PENDING
    assert [o.status for o in pending.orders] == [OrderStatus.CANCEL_PENDING, OrderStatus.EXECUTED, OrderStatus.FAILED]
    # The pending item is still claimed (so counted in flight); the executed one counts once it is cancelled.
    assert await setup.store.items_in_flight(STORE, executed_since=None) == 1
    assert await setup.store.items_in_flight(STORE, executed_since=setup.sandbox.clock() - timedelta(hours=1)) == 2
    # The refused order's item is free for a new request; the pending one is not.
    with pytest.raises(ItemAlreadyRequestedError):
        await _request_again(setup, slow)
    await _request_again(setup, refused)

    setup.advance(minutes=5)
    setup.advance(minutes=1)
    await setup.tick()
    done = await setup.stored(request)
    assert done.status is RequestStatus.EXECUTED, "one executed, one late executed, one failed: executed"
    assert await setup.store.items_in_flight(STORE, executed_since=None) == 1, "only the new request's item"
    assert setup.world.call_count(CREATE) == 3


async def _request_again(setup: Setup, order_id: int) -> CancelRequest:
    (item,) = setup.world.order_items(order_id)
    now = setup.sandbox.clock()
    return await setup.store.create_request(
        NewRequest(
            store_code=STORE,
            requester_id="U0DAVE",
            reason_id=SOURCING_DELAY,
            reason_name="Sourcing Delay",
            justification="Again.",
            channel_id="C0OPS",
            expires_at=now + timedelta(hours=12),
            orders=(
                NewOrder(
                    order_id=str(order_id),
                    items=(Item(order_item_id=str(item.order_item_id), name="again", status=item.status),),
                    item_ids=(str(item.order_item_id),),
                ),
            ),
        ),
        now=now,
    )


async def test_an_item_pending_at_lazada_is_neither_offered_nor_sent(setup: Setup) -> None:
    request = await setup.approved([ItemSpec(), ItemSpec()])
    order_id = int(request.orders[0].order_id)
    first, second = setup.world.order_items(order_id)
    # A cancellation of the first item is already under way at Lazada (asked in Seller Center, say).
    setup.world.start_slow_cancel([first], setup.world.reason_by_id(SOURCING_DELAY))

    draft = await Drafter().draft(
        setup.executor.clients[STORE], StoreConfig(code="main", country=Country.SG), str(order_id)
    )
    assert [i.order_item_id for i in draft.cancellable] == [str(second.order_item_id)]
    assert [i.is_cancel_pending for i in draft.items] == [True, False]

    done = await setup.run(request)
    assert done.orders[0].status is OrderStatus.FAILED
    assert "already has a cancellation pending at Lazada" in (done.orders[0].error or "")
    assert setup.world.call_count(CREATE) == 0


async def test_an_order_whose_items_are_all_pending_at_lazada_cannot_be_requested(setup: Setup) -> None:
    order = setup.world.add_order([ItemSpec()])
    setup.world.start_slow_cancel(order.items, setup.world.reason_by_id(SOURCING_DELAY))
    draft = await Drafter().draft(
        setup.executor.clients[STORE], StoreConfig(code="main", country=Country.SG), str(order.order_id)
    )
    assert draft.cancellable == ()
    assert "pending cancellation at Lazada" in (why_not_cancellable(draft) or "")


# -- after a repack, look again ----------------------------------------------------------------------------------


async def test_after_a_repack_the_order_is_validated_again_before_the_cancel(setup: Setup) -> None:
    request = await setup.approved(
        [ItemSpec(status="packed", package="P"), ItemSpec(status="packed", package="P")], repack_first=True
    )
    order_id = int(request.orders[0].order_id)
    repack = setup.world.repack

    def repack_and_narrow_reasons(package_id: str) -> tuple[str, str]:
        answer = repack(package_id)
        setup.world.order_reasons[order_id] = ("Out of Stock",)  # Lazada no longer offers the approved reason
        return answer

    setup.world.repack = repack_and_narrow_reasons  # type: ignore[method-assign]
    done = await setup.run(request)

    (order,) = done.orders
    assert order.status is OrderStatus.FAILED
    assert "no longer offers the reason" in (order.error or "")
    assert DISSOLVED in (order.error or "")
    assert setup.world.call_count(REPACK) == 1
    assert setup.world.call_count(VALIDATE) == 2
    assert setup.world.call_count(CREATE) == 0


async def test_a_cancel_refused_after_a_repack_says_the_package_must_be_packed_again(setup: Setup) -> None:
    request = await setup.approved(
        [ItemSpec(status="packed", package="P"), ItemSpec(status="packed", package="P")],
        repack_first=True,
        mode=CancelMode.NOT_APPLIED_WITH_ERROR_TIP,
    )
    done = await setup.run(request)
    (order,) = done.orders
    assert order.status is OrderStatus.FAILED
    assert DISSOLVED in (order.error or "")
    assert order.outcome_tip_content == REFERENCE_ERROR_TIP
    assert setup.world.call_count(CREATE) == 1


async def test_a_repack_that_left_the_package_whole_stops_before_the_cancel(setup: Setup) -> None:
    request = await setup.approved(
        [ItemSpec(status="packed", package="P"), ItemSpec(status="packed", package="P")], repack_first=True
    )
    package = setup.world.order_items(int(request.orders[0].order_id))[0].package_id
    ok = {
        "code": "0",
        "result": {"success": "true", "data": {"packages": [{"package_id": package, "item_err_code": "0"}]}},
    }
    setup.world.faults.inject(FaultKind.CANNED, path=REPACK, body={**ok, "request_id": ""})

    done = await setup.run(request)

    (order,) = done.orders
    assert order.status is OrderStatus.FAILED
    assert "still shows" in (order.error or "")
    assert setup.world.call_count(CREATE) == 0
