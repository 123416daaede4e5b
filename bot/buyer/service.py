"""Buyer cancellation requests: find them, store each once, have each posted once, decide once, remind, settle.

It decides and records; it never renders or sends to Slack. What it decides is returned to the caller and emitted on
the event bus (`bot.buyer.events`), where the presenter (`bot.slack.buyer`) shows it. Every change is one conditional
update in the database (`bot.store.buyer`), so it is safe on every replica at once: the first click wins, a
request is stored and posted once, and Lazada's decide call is sent at most once per request, never again after
an unknown outcome (lazada-api.md §8a: whether a decision is idempotent is not documented).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from bot.buyer.errors import (
    BuyerRequestClosedError,
    BuyerRequestNotFoundError,
    DeadlinePassedError,
    DecisionRefusedError,
    MembershipUnknownError,
    NotAllowedToDecideError,
    ReasonNotOfferedError,
    ReasonRequiredError,
)
from bot.buyer.events import (
    BuyerReminderDue,
    BuyerRequestChanged,
    BuyerRequestOpened,
    BuyerRequestReopened,
    BuyerRequestSettled,
)
from bot.buyer.lazada import BuyerLazada
from bot.buyer.models import (
    SETTLED_STATUSES,
    BuyerRequest,
    BuyerRequestCounts,
    BuyerRequestLine,
    BuyerRequestStatus,
)
from bot.domain import DomainError
from bot.events import EventBus
from bot.lazada.client import MAX_MULTIPLE_ORDER_IDS
from bot.lazada.errors import LazadaError
from bot.lazada.models import OrderItem
from bot.lazada.reverse import RefusalReason, ReverseOrder
from bot.settings import BuyerDeciders, StoreConfig
from bot.store.buyer import BuyerRequestStore, BuyerRow
from bot.store.claims import ClaimStore
from bot.workflow.approvers import Approvers

__all__ = ["DECIDING_LEASE", "POST_CLAIM", "SETTLE_MARGIN", "BuyerRequestService", "ChannelMembers"]

log = structlog.get_logger(__name__)

S = BuyerRequestStatus

DECIDING_LEASE = timedelta(minutes=5)
"""How long a click holds a request while it sends the decision; after it the tick reads Lazada back instead."""

REDRAW_CLAIM = "buyer_redraw"
"""The claim kind that lets one replica redraw a card's time left (key: the request's key and the hour left)."""

POST_CLAIM = "buyer_post"
"""The claim kind that lets one replica post a request's card (key: the request's key)."""

SETTLE_MARGIN = timedelta(days=1)
"""How long after its deadline a request whose decision's outcome is unknown is still read back (Lazada decides by
itself at the deadline; the margin lets its decision show). Without a deadline: this long after the decision."""

_POST_LEASE = timedelta(minutes=2)
_REMIND_BEFORE = timedelta(hours=1)
_ACCEPTED_WORDS = ("CANCEL_SUCCESS", "REQUEST_CANCEL", "CANCEL_INIT", "CANCELLED", "CANCELED", "AGREE")
_REFUSED_WORDS = ("REQUEST_REJECT", "REJECT", "REFUSE")


class ChannelMembers(Protocol):
    """Who is in a channel; the presenter implements it with `conversations.members` (for "channel" deciders)."""

    async def is_member(self, channel_id: str, user_id: str) -> bool | None:
        """Whether `user_id` is in `channel_id`; None when Slack cannot tell (the check then fails closed)."""
        ...


def _outcome(read: ReverseOrder | None) -> bool | None:
    """What a closed request's status says: accepted (cancelled, True), refused (False), or neither (None).

    `CANCEL_SUCCESS` is a cancellation (by the seller's yes or Lazada's at the deadline), `REQUEST_REJECT` a refusal;
    `REQUEST_CANCEL` (the buyer withdrew) and statuses the bot does not know are neither (lazada-api.md §8a does not
    list the values after a decision; `bot.lazada.reverse` reads them).
    """
    status = read.reverse_status if read is not None else None
    if status == "CANCEL_SUCCESS":
        return True
    if status == "REQUEST_REJECT":
        return False
    return None


def _model(row: BuyerRow) -> BuyerRequest:
    values: dict[str, Any] = dict(row)
    for column in ("lease_until", "reminders", "card_status", "reply_status"):
        values.pop(column)
    return BuyerRequest.model_validate(values)


class BuyerRequestService:
    """Every decision about a buyer's cancellation request goes through here."""

    def __init__(
        self,
        *,
        store: BuyerRequestStore,
        claims: ClaimStore,
        stores: Sequence[StoreConfig],
        clients: Mapping[str, BuyerLazada],
        bus: EventBus,
        approvers: Approvers,
        default_approvers: Sequence[str],
        clock: Callable[[], datetime],
        scan_seconds: float = 300.0,
        deciders: BuyerDeciders = "approvers",
        members: ChannelMembers | None = None,
        lease: timedelta = DECIDING_LEASE,
        replica_id: str = "local",
    ) -> None:
        self.store = store
        self.claims = claims
        self.stores = {s.code: s for s in stores}
        self.clients = clients
        self.bus = bus
        self.approvers = approvers
        self.default_approvers = tuple(default_approvers)
        self.clock = clock
        self.scan_seconds = scan_seconds
        self.default_deciders: BuyerDeciders = deciders
        self.members = members
        self.lease = lease
        self.replica_id = replica_id
        # When this replica last listed each store (a store may scan less often than the tick runs).
        self._scanned: dict[str, datetime] = {}
        # The time left each open card was last drawn with, as this replica knows it (see `_redraw`).
        self._drawn: dict[str, str] = {}

    # -- lookups ---------------------------------------------------------------------------------------------

    def _store(self, code: str) -> StoreConfig | None:
        return self.stores.get(code)

    def deciders_mode(self, store_code: str) -> BuyerDeciders:
        """Who may decide in this store: "approvers" or "channel"."""
        store = self._store(store_code)
        if store is not None and store.buyer_request_deciders is not None:
            return store.buyer_request_deciders
        return self.default_deciders

    def deciders(self, store_code: str) -> tuple[str, ...]:
        """The user and group ids to mention in reminders: the approvers, or none when anyone in the channel may."""
        if self.deciders_mode(store_code) == "channel":
            return ()
        store = self._store(store_code)
        return tuple(store.approvers) if store and store.approvers else self.default_approvers

    def scan_interval(self, store_code: str) -> float:
        """Seconds between two listings of the store's open requests."""
        store = self._store(store_code)
        if store is not None and store.buyer_request_scan_seconds is not None:
            return store.buyer_request_scan_seconds
        return self.scan_seconds

    def tick_seconds(self) -> float:
        """How often the scheduler should run `tick`: the shortest scan interval of the stores."""
        return min((self.scan_interval(code) for code in self.stores), default=self.scan_seconds)

    def _who(self, store_code: str) -> str:
        if self.deciders_mode(store_code) == "channel":
            return "members of the store's approval channel"
        return "the store's approvers"

    async def get(self, key: str) -> BuyerRequest:
        """The stored request with this key; BuyerRequestNotFoundError otherwise."""
        try:
            store_code, reverse_order_id = BuyerRequest.parse_key(key)
        except ValueError:
            raise BuyerRequestNotFoundError(key, readable=False) from None
        row = await self.store.get(store_code, reverse_order_id)
        if row is None:
            raise BuyerRequestNotFoundError(key)
        return _model(row)

    async def open_requests(self, store_code: str | None = None) -> list[BuyerRequest]:
        """The requests still waiting for a decision, soonest deadline first."""
        rows = await self.store.select(statuses=[S.OPEN.value], store_code=store_code)
        return [_model(r) for r in rows]

    async def open_for_order(self, store_code: str, order_id: str) -> list[BuyerRequest]:
        """The open requests on one order (for /cancel-order and `order show`)."""
        rows = await self.store.select(statuses=[S.OPEN.value], store_code=store_code, order_id=order_id)
        return [_model(r) for r in rows]

    async def refusal_reasons(self, key: str) -> tuple[RefusalReason, ...]:
        """Lazada's reasons to refuse this request (for its first line, as the decision covers the whole request)."""
        request = await self.get(key)
        return await self._reasons(request)

    async def _reasons(self, request: BuyerRequest) -> tuple[RefusalReason, ...]:
        line = request.lines[0].reverse_order_line_id
        return tuple(await self.clients[request.store_code].refusal_reasons(reverse_order_line_id=line))

    async def counts(self, store_code: str, *, since: datetime, until: datetime) -> BuyerRequestCounts:
        """What happened to the store's buyer requests in `[since, until)`, for the digest."""
        received = accepted = refused = by_lazada = elsewhere = spared = 0
        for row in await self.store.in_window(store_code, since=since, until=until):
            request = _model(row)
            if since <= request.first_seen_at < until:
                received += 1
            if request.decided_at is None or not since <= request.decided_at < until:
                continue
            if request.status is S.ACCEPTED:
                accepted += 1
                spared += request.item_count
            elif request.status is S.REFUSED:
                refused += 1
            elif request.status is S.DECIDED_BY_LAZADA:
                by_lazada += 1
                if request.agreed is not False:
                    spared += request.item_count
            elif request.status is S.ANSWERED_ELSEWHERE:
                elsewhere += 1
        return BuyerRequestCounts(
            received=received,
            accepted=accepted,
            refused=refused,
            decided_by_lazada=by_lazada,
            answered_elsewhere=elsewhere,
            items_spared=spared,
        )

    # -- what Slack shows (the presenter's records) ----------------------------------------------------------

    async def record_posted(self, request: BuyerRequest, channel_id: str, ts: str) -> None:
        """Remember where the request's card was posted (drawn now: its time left is as fresh as can be)."""
        await self.store.set_message(
            request.store_code, request.reverse_order_id, channel_id=channel_id, ts=ts, now=self.clock()
        )
        await self._drawn_now(request)

    async def claim_shown(self, request: BuyerRequest, part: str) -> bool:
        """Claim showing the request's status (`part`: "card" or "reply"): True for the one replica that shows it."""
        key = f"{request.key}/{request.status.value}"
        return await self.claims.claim(f"buyer_{part}", key, self.replica_id, now=self.clock(), lease=_POST_LEASE)

    async def end_shown(self, request: BuyerRequest, part: str, *, shown: bool) -> None:
        """Complete a claim from `claim_shown` once Slack shows it (and remember that), or release it to retry."""
        key = f"{request.key}/{request.status.value}"
        if shown:
            await self.store.mark_shown(request.store_code, request.reverse_order_id, request.status.value, part=part)
            await self.claims.complete(f"buyer_{part}", key, self.replica_id)
        else:
            await self.claims.release(f"buyer_{part}", key, self.replica_id)

    async def is_shown(self, request: BuyerRequest, part: str) -> bool:
        """Whether Slack already shows the request's current status on its card or in its thread."""
        row = await self.store.get(request.store_code, request.reverse_order_id)
        if row is None:
            return False
        shown = row["card_status"] if part == "card" else row["reply_status"]
        return shown == request.status.value

    def store_config(self, store_code: str) -> StoreConfig | None:
        """The configured store, for the presenter (its label, time zone, channel)."""
        return self._store(store_code)

    # -- deciding --------------------------------------------------------------------------------------------

    async def check_may_decide(self, key: str, user_id: str) -> BuyerRequest:
        """The request, when `user_id` may answer it now; the refusal (a BuyerRequestError) otherwise.

        When anyone in the approval channel may decide, membership is asked of Slack for every click, the card's
        too: a click payload says where the button was, not that the person is still in the channel (they may have
        left it, or the card may have been shared elsewhere).
        """
        request = await self.get(key)
        await self._check_allowed(request, user_id)
        self._check_open(request)
        return request

    async def may_decide(self, store_code: str, user_id: str) -> bool:
        """Whether `user_id` may answer the store's buyer requests (App Home lists them only to those who may).

        Never raises: a store whose approvers or channel members cannot be looked up answers False.
        """
        if self.deciders_mode(store_code) == "channel":
            channel = self._channel(store_code)
            return (
                channel is not None and self.members is not None and await self.members.is_member(channel, user_id)
            ) is True
        ids = self.deciders(store_code)
        try:
            return bool(ids) and await self.approvers.is_approver(user_id, ids)
        except DomainError:
            log.warning("buyer_deciders_unknown", store=store_code, user=user_id)
            return False

    async def _check_allowed(self, request: BuyerRequest, user_id: str) -> None:
        store_code = request.store_code
        if self.deciders_mode(store_code) == "channel":
            channel = request.channel_id or self._channel(store_code)
            member = None
            if channel is not None and self.members is not None:
                member = await self.members.is_member(channel, user_id)
            if member is True:
                return
            if member is None:
                raise MembershipUnknownError(request.order_id)
            raise NotAllowedToDecideError(self._who(store_code), order_id=request.order_id)
        ids = self.deciders(store_code)
        if not ids or not await self.approvers.is_approver(user_id, ids):
            raise NotAllowedToDecideError(self._who(store_code), order_id=request.order_id)

    def _check_open(self, request: BuyerRequest) -> None:
        now = self.clock()
        if request.status is S.OPEN and request.deadline is not None and request.deadline <= now:
            raise DeadlinePassedError(request.order_id, request.deadline, self._tz(request.store_code))
        if request.status is not S.OPEN:
            raise BuyerRequestClosedError(request.order_id, _how(request))

    def _tz(self, store_code: str) -> Any:
        store = self._store(store_code)
        return store.tz if store is not None else None

    def _channel(self, store_code: str) -> str | None:
        store = self._store(store_code)
        return store.approval_channel if store is not None else None

    async def decide(
        self,
        key: str,
        *,
        actor: str,
        agree: bool,
        reason_code: str | None = None,
    ) -> BuyerRequest:
        """Accept or refuse the buyer's request for `actor`: checked, won once, sent once, read back, settled.

        Raises NotAllowedToDecideError, DeadlinePassedError, BuyerRequestClosedError (someone else decided first),
        ReasonRequiredError or ReasonNotOfferedError, each before anything is sent. Returns the request as settled:
        accepted, refused, or needs_attention when Lazada's answer leaves the outcome unknown.
        """
        request = await self.check_may_decide(key, actor)
        reason_text: str | None = None
        if not agree:
            if not reason_code:
                raise ReasonRequiredError()
            offered = {r.reason_id: r.text for r in await self._reasons(request)}
            if reason_code not in offered:
                raise ReasonNotOfferedError(reason_code)
            reason_text = offered[reason_code]
        now = self.clock()
        if not await self.store.start_deciding(
            request.store_code,
            request.reverse_order_id,
            actor=actor,
            agreed=agree,
            reason_code=None if agree else reason_code,
            reason_text=reason_text,
            now=now,
            lease=self.lease,
        ):
            # Lost: someone else decided first, or the deadline passed meanwhile. Say which; nothing was sent.
            current = await self.get(key)
            self._check_open(current)
            raise BuyerRequestClosedError(current.order_id, _how(current))
        log.info("buyer_request_deciding", key=key, actor=actor, agree=agree)
        deciding = await self.get(key)
        try:
            await self.bus.emit(BuyerRequestChanged(deciding))
        except Exception as exc:  # the card saying "deciding…" must never hold the decision back
            log.warning("buyer_card_not_updated", key=key, error=str(exc))
        settled = await self._send(deciding, agree=agree, reason_code=reason_code, lease_from=now)
        await self.bus.emit(BuyerRequestSettled(settled))
        return settled

    async def _send(
        self, request: BuyerRequest, *, agree: bool, reason_code: str | None, lease_from: datetime
    ) -> BuyerRequest:
        """Send the decision once and settle from Lazada's answer and a read-back; never sends it again."""
        client = self.clients[request.store_code]
        holder = lease_from + self.lease
        try:
            request_id = await client.decide_buyer_cancel(
                reverse_order_id=request.reverse_order_id, agree=agree, reason_code=None if agree else reason_code
            )
        except LazadaError as exc:
            log.warning("buyer_decision_failed", key=request.key, code=exc.code, outcome_unknown=exc.outcome_unknown)
            return await self._after_failure(request, holder=holder, error=exc)
        answer = (
            f"Lazada confirmed the decision (request id {request_id})."
            if request_id
            else "Lazada confirmed the decision."
        )
        to = S.ACCEPTED if agree else S.REFUSED
        read = await self._read_back(request)
        shown = _outcome(read) if read is not None and read.is_closed else None
        if shown is not None and shown != agree:
            to = S.NEEDS_ATTENTION  # Lazada took it but shows the opposite: a person must look
            answer = f"Lazada confirmed the decision, yet shows the request as {read.reverse_status if read else None}."
        return await self._finish(request, expected=S.DECIDING, to=to, holder=holder, lazada_answer=answer)

    async def _read_back(self, request: BuyerRequest) -> ReverseOrder | None:
        try:
            return await self.clients[request.store_code].get_reverse_order(request.reverse_order_id)
        except LazadaError as exc:
            log.warning("buyer_read_back_failed", key=request.key, error=str(exc))
            return None

    async def _after_failure(self, request: BuyerRequest, *, holder: datetime, error: LazadaError) -> BuyerRequest:
        """After a decide call that failed: settle by what Lazada shows now; never send the decision again blind.

        lazada-api.md §8a: a 106 (or no answer) is "retryable only after reading the request back". So the request
        is read back: closed, it is settled by what Lazada shows; still open and undecided, it goes back to open
        (buttons back, reminders on) and the person is told Lazada did not take the decision and may try again,
        that read-back being the one that shows it open; unreadable after an unknown outcome, it needs attention and
        the tick reads it back until it settles (`_worth_reading`). After a definite refusal (131, 105, 116) nothing
        was decided: unless Lazada shows it closed, it goes back to open (DecisionRefusedError).
        """
        read = await self._read_back(request)
        if read is not None and read.is_closed:
            return await self._settle_closed(
                request, read, expected=S.DECIDING, holder=holder, ours=error.outcome_unknown
            )
        if (read is not None and read.is_open) or (read is not None and not error.outcome_unknown):
            if await self._reopen(request, expected=S.DECIDING, holder=holder):
                await self.bus.emit(BuyerRequestChanged(await self.get(request.key)))
            raise DecisionRefusedError(request.order_id, error.lazada_words)
        return await self._finish(
            request, expected=S.DECIDING, to=S.NEEDS_ATTENTION, holder=holder, lazada_answer=_unconfirmed(error)
        )

    async def _reopen(self, request: BuyerRequest, *, expected: BuyerRequestStatus, holder: datetime | None) -> bool:
        """Back to open (Lazada shows it still undecided): the decision is forgotten and the card shows it afresh."""
        return await self.store.settle(
            request.store_code,
            request.reverse_order_id,
            expected=[expected.value],
            to=S.OPEN.value,
            now=self.clock(),
            holder_lease=holder,
            decided_by=None,
            decided_at=None,
            agreed=None,
            refusal_reason_code=None,
            refusal_reason_text=None,
            lazada_answer=None,
            # What Slack shows is forgotten too, so a later outcome (even needs_attention again) is shown.
            card_status=None,
            reply_status=None,
        )

    async def _settle_closed(
        self,
        request: BuyerRequest,
        read: ReverseOrder,
        *,
        expected: BuyerRequestStatus,
        holder: datetime | None,
        ours: bool,
    ) -> BuyerRequest:
        """Settle a request Lazada shows closed: as our decision when it may be ours and matches, else as Lazada's.

        Cancelled at or after the deadline without our decision (or with no deadline ever known): Lazada decided by
        itself; refused or accepted before it without the bot (Seller Center): answered elsewhere; lapsed
        (`REQUEST_CANCEL`: withdrawn by the buyer, or voided as the items shipped): answered elsewhere with no
        outcome (`agreed` None), which the card words as withdrawn or closed by Lazada.
        """
        outcome = _outcome(read)
        status = read.reverse_status
        if ours and outcome is not None and outcome == request.agreed:
            to = S.ACCEPTED if outcome else S.REFUSED
            return await self._finish(
                request, expected=expected, to=to, holder=holder, lazada_answer=f"Lazada shows it as {status}."
            )
        # Accepted without our decision at or after the deadline, or when no deadline was ever known: Lazada's.
        by_lazada = outcome is True and (request.deadline is None or self._past_deadline(request))
        return await self._finish(
            request,
            expected=expected,
            to=S.DECIDED_BY_LAZADA if by_lazada else S.ANSWERED_ELSEWHERE,
            holder=holder,
            at=request.deadline if by_lazada and request.deadline is not None else None,
            lazada_answer=f"Lazada shows it as {status}.",
            decided_by=None,
            agreed=outcome,
            refusal_reason_code=None,
            refusal_reason_text=None,
        )

    def _past_deadline(self, request: BuyerRequest) -> bool:
        return request.deadline is not None and request.deadline <= self.clock()

    async def _finish(
        self,
        request: BuyerRequest,
        *,
        expected: BuyerRequestStatus | Iterable[BuyerRequestStatus],
        to: BuyerRequestStatus,
        holder: datetime | None = None,
        at: datetime | None = None,
        **fields: Any,
    ) -> BuyerRequest:
        """Move the request to `to`, decided `at` (default now); the request as stored afterwards (as another
        replica left it, when this call lost)."""
        sources = [expected.value] if isinstance(expected, BuyerRequestStatus) else [s.value for s in expected]
        now = self.clock()
        moved = await self.store.settle(
            request.store_code,
            request.reverse_order_id,
            expected=sources,
            to=to.value,
            now=now,
            holder_lease=holder,
            decided_at=at or now,
            **fields,
        )
        current = await self.get(request.key)
        if moved:
            log.info("buyer_request_settled", key=request.key, status=to.value)
        return current

    # -- finding ---------------------------------------------------------------------------------------------

    async def note_items(self, store_code: str, order_id: str, items: Sequence[OrderItem]) -> list[BuyerRequest]:
        """Feed what an order read elsewhere shows: items waiting for the seller's answer name a buyer request.

        Each request not stored yet is read with GetReverseOrder, stored and announced once. Returns the order's
        open requests. Never raises for Lazada: the caller was reading the order for something else.
        """
        client = self.clients.get(store_code)
        if client is None:
            return []
        wanted = {i.reverse_order_id for i in items if i.need_cancel_confirm and i.reverse_order_id}
        for reverse_order_id in sorted(wanted):
            if await self.store.get(store_code, reverse_order_id) is not None:
                continue
            try:
                found = await client.get_reverse_order(reverse_order_id)
            except LazadaError as exc:
                log.warning(
                    "buyer_request_unreadable", store=store_code, reverse_order_id=reverse_order_id, error=str(exc)
                )
                continue
            if found is not None and found.is_open:
                await self._store_new(store_code, found, items)
        if wanted:
            await self._announce_unposted(store_code)
        return await self.open_for_order(store_code, order_id)

    async def note_orders(self, store_code: str, order_ids: Sequence[str]) -> None:
        """Feed orders a listing shows waiting for the seller's answer (`need_cancel_confirm`, e.g. the digest sync).

        Orders with a request already open here cost nothing; the items of the others are read 50 orders a call
        and handed to `note_items`, which reads, stores and announces each request not seen yet. Never raises for
        Lazada: the caller was listing the orders for something else.
        """
        if store_code not in self.clients:
            return
        known = {
            r["order_id"]
            for r in await self.store.select(statuses=[S.OPEN.value, S.DECIDING.value], store_code=store_code)
        }
        unseen = [order_id for order_id in dict.fromkeys(order_ids) if order_id not in known]
        if not unseen:
            return
        for order_id, items in (await self._items_of(store_code, unseen)).items():
            await self.note_items(store_code, order_id, items)

    async def _items_of(self, store_code: str, order_ids: Sequence[str]) -> dict[str, tuple[OrderItem, ...]]:
        """The items of these orders, 50 orders a call (GetMultipleOrderItems); an order not read has none."""
        found: dict[str, tuple[OrderItem, ...]] = {}
        wanted = list(dict.fromkeys(order_ids))
        for start in range(0, len(wanted), MAX_MULTIPLE_ORDER_IDS):
            chunk = wanted[start : start + MAX_MULTIPLE_ORDER_IDS]
            try:
                for order in await self.clients[store_code].get_multiple_order_items(order_ids=chunk):
                    found[order.order_id] = order.order_items
            except LazadaError as exc:  # names are for the card only: it shows item ids instead
                log.info("buyer_request_items_unread", store=store_code, orders=len(chunk), error=str(exc))
        return found

    async def _store_new(self, store_code: str, found: ReverseOrder, items: Sequence[OrderItem]) -> bool:
        """Store a newly seen open request (insert-or-ignore) with its items' names; True if this call stored it.

        The items are the order's as read elsewhere (`note_items`) or in one batch by the scan; none: ids only.
        """
        by_id = {i.order_item_id: i for i in items}
        lines = []
        for line in found.reverse_order_lines:
            item = by_id.get(line.trade_order_line_id)
            lines.append(
                BuyerRequestLine(
                    reverse_order_line_id=line.reverse_order_line_id,
                    order_item_id=line.trade_order_line_id,
                    item_name=item.name if item is not None else None,
                    sku=(item.sku if item is not None else None) or line.seller_sku_id,
                    reason_code=line.reason_code,
                    reason_text=line.reason_text,
                    refund_amount=line.refund_amount,
                )
            )
        if not lines:
            return False
        refunds = [line.refund_amount for line in lines if line.refund_amount is not None]
        # Without Lazada's `sla`, the items' `cancel_trigger_time` (when Lazada cancels by itself, §8a) is the deadline.
        triggers = [
            item.cancel_trigger_time
            for line in lines
            if (item := by_id.get(line.order_item_id)) is not None and item.cancel_trigger_time is not None
        ]
        deadline = found.deadline or (min(triggers) if triggers else None)
        stored = await self.store.insert_new(
            {
                "store_code": store_code,
                "reverse_order_id": found.reverse_order_id,
                "order_id": found.trade_order_id,
                "lines": [line.model_dump(mode="json") for line in lines],
                "buyer_reason": lines[0].reason_text,
                "refund_total": sum(refunds) if refunds else None,
                "deadline": deadline,
            },
            now=self.clock(),
        )
        if stored:
            log.info("buyer_request_found", store=store_code, reverse_order_id=found.reverse_order_id)
        return stored

    async def tick(self) -> None:
        """The scheduler job: for each store with an approval channel, scan when due, announce, remind, settle.

        Safe on every replica at once: storing is insert-or-ignore, posting is claimed, reminders and settlements
        are conditional updates.
        """
        now = self.clock()
        for store in self.stores.values():
            if store.approval_channel is None or store.code not in self.clients:
                continue
            last = self._scanned.get(store.code)
            if last is None or (now - last).total_seconds() >= self.scan_interval(store.code) - 1:
                self._scanned[store.code] = now
                try:
                    await self._scan(store.code)
                except LazadaError as exc:
                    log.warning("buyer_scan_failed", store=store.code, error=str(exc))
            await self._announce_unposted(store.code)
        await self._remind()
        await self._redraw()
        await self._recover_deciding()
        await self._reannounce()

    async def _scan(self, store_code: str) -> None:
        """List the store's open requests; store new ones; close stored open ones Lazada no longer lists."""
        client = self.clients[store_code]
        listed = await client.open_buyer_cancel_requests()
        seen = {found.reverse_order_id for found in listed}
        new = [found for found in listed if await self.store.get(store_code, found.reverse_order_id) is None]
        if new:
            items = await self._items_of(store_code, [found.trade_order_id for found in new])
            for found in new:
                await self._store_new(store_code, found, items.get(found.trade_order_id, ()))
        # Open ones no longer listed, and those whose decision's outcome was unknown: what does Lazada show now?
        for row in await self.store.select(statuses=[S.OPEN.value, S.NEEDS_ATTENTION.value], store_code=store_code):
            if not self._worth_reading(row):
                continue
            request = _model(row)
            if row["reverse_order_id"] not in seen:
                await self._close_unlisted(request)
            elif request.status is S.NEEDS_ATTENTION:
                # Listed as open: Lazada did not take the decision whose outcome was unknown. It may be answered again.
                await self._reopen_unconfirmed(request)

    async def _close_unlisted(self, request: BuyerRequest) -> None:
        """A stored request Lazada no longer lists as open (or one needing attention): read it back, settle it.

        One still open (listed between two pages, or Lazada's listing lags), unknown to Lazada, or in a status the
        bot does not know is left as it is and read again at the next scan; one needing attention that Lazada shows
        still open and undecided goes back to open.
        """
        read = await self._read_back(request)
        if read is not None and read.is_open and request.status is S.NEEDS_ATTENTION:
            await self._reopen_unconfirmed(request)
            return
        if read is None or not read.is_closed:
            return
        expected = request.status
        settled = await self._settle_closed(
            request, read, expected=expected, holder=None, ours=expected is S.NEEDS_ATTENTION
        )
        if settled.status is not expected:
            await self.bus.emit(BuyerRequestSettled(settled))

    async def _reopen_unconfirmed(self, request: BuyerRequest) -> None:
        """A decision whose outcome was unknown, and Lazada shows the request still undecided: open it again."""
        if await self._reopen(request, expected=request.status, holder=None):
            log.info("buyer_request_reopened", key=request.key)
            await self.bus.emit(BuyerRequestReopened(await self.get(request.key)))

    def _worth_reading(self, row: BuyerRow) -> bool:
        """An open request always; one needing attention until Lazada settles it or its deadline is well past.

        Lazada decides by itself at the deadline, so a request whose decision's outcome is unknown is read back
        until then and a margin after (`SETTLE_MARGIN`), so that Lazada's own decision is stamped too. Without a
        deadline it is read for `SETTLE_MARGIN` after the decision was sent; after that a person has it.
        """
        if row["status"] == S.OPEN.value:
            return True
        until = row["deadline"] or row["decided_at"]
        return until is not None and self.clock() < until + SETTLE_MARGIN

    async def _announce_unposted(self, store_code: str) -> None:
        """Have each stored request without a card posted, by the one replica that claims it."""
        for row in await self.store.select(
            statuses=[S.OPEN.value, S.DECIDING.value], store_code=store_code, unposted=True
        ):
            request = _model(row)
            if not await self.claims.claim(
                POST_CLAIM, request.key, self.replica_id, now=self.clock(), lease=_POST_LEASE
            ):
                continue
            try:
                await self.bus.emit(BuyerRequestOpened(request))
            except Exception as exc:  # the presenter could not post it: the next tick tries again
                await self.claims.release(POST_CLAIM, request.key, self.replica_id)
                log.warning("buyer_request_not_posted", key=request.key, error=str(exc))
                continue
            posted = await self.get(request.key)
            if posted.message_ts is not None:
                await self.claims.complete(POST_CLAIM, request.key, self.replica_id)
            else:
                await self.claims.release(POST_CLAIM, request.key, self.replica_id)

    async def _remind(self) -> None:
        """Claim and emit the reminders due: at half the time left, and one hour before the deadline."""
        now = self.clock()
        for row in await self.store.select(statuses=[S.OPEN.value]):
            if row["message_ts"] is None:
                continue
            request = _model(row)
            stage = _reminder_stage(request, row["reminders"], now)
            if stage and await self.store.mark_reminded(
                request.store_code, request.reverse_order_id, stage=stage, now=now
            ):
                await self.bus.emit(BuyerReminderDue(request, self.deciders(request.store_code)))
                await self._drawn_now(request)  # the presenter redraws the card with the reminder

    async def _redraw(self) -> None:
        """Keep open cards' time left true without a Slack call per card per tick.

        A posted open card is redrawn (`BuyerRequestChanged`) when its time left crosses an hour, and once when its
        deadline passes (it then says it waits for Lazada's decision, without buttons); each redraw is claimed once
        across replicas (`REDRAW_CLAIM`), and this replica remembers what it last saw so a tick costs no query per
        card. Posting and reminders count as drawing (`_drawn_now`).
        """
        now = self.clock()
        for row in await self.store.select(statuses=[S.OPEN.value]):
            if row["message_ts"] is None or row["deadline"] is None:
                continue
            request = _model(row)
            mark = _time_mark(request, now)
            if self._drawn.get(request.key) == mark:
                continue
            self._drawn[request.key] = mark
            claim = f"{request.key}/{mark}"
            if not await self.claims.claim(REDRAW_CLAIM, claim, self.replica_id, now=now, lease=_POST_LEASE):
                continue
            try:
                await self.bus.emit(BuyerRequestChanged(request))
            except Exception as exc:  # a card not redrawn now is redrawn at the next mark
                log.warning("buyer_card_not_redrawn", key=request.key, error=str(exc))
            await self.claims.complete(REDRAW_CLAIM, claim, self.replica_id)

    async def _drawn_now(self, request: BuyerRequest) -> None:
        """The card was just drawn with its current time left: no redraw is due until that changes."""
        if request.deadline is None:
            return
        now = self.clock()
        mark = _time_mark(request, now)
        self._drawn[request.key] = mark
        claim = f"{request.key}/{mark}"
        if await self.claims.claim(REDRAW_CLAIM, claim, self.replica_id, now=now, lease=_POST_LEASE):
            await self.claims.complete(REDRAW_CLAIM, claim, self.replica_id)

    async def _recover_deciding(self) -> None:
        """Settle requests left `deciding` past their lease (a crash mid-decision) from Lazada's read-back.

        The decision may or may not have been sent: a request Lazada shows closed is settled by what it shows, one
        it shows open and undecided goes back to open, one that cannot be read needs attention (and is read back
        by the scan). The decision is never sent again by the bot itself.
        """
        for row in await self.store.claim_stale_deciding(now=self.clock(), lease=self.lease):
            request = _model(row)
            log.warning("buyer_request_recovering", key=request.key)
            read = await self._read_back(request)
            if read is not None and read.is_closed:
                settled = await self._settle_closed(
                    request, read, expected=S.DECIDING, holder=row["lease_until"], ours=True
                )
            elif read is not None and read.is_open:
                # Lazada shows it undecided: whatever was or was not sent did not take. It may be answered again.
                if await self._reopen(request, expected=S.DECIDING, holder=row["lease_until"]):
                    await self.bus.emit(BuyerRequestReopened(await self.get(request.key)))
                continue
            else:
                settled = await self._finish(
                    request,
                    expected=S.DECIDING,
                    to=S.NEEDS_ATTENTION,
                    holder=row["lease_until"],
                    lazada_answer="The bot stopped while sending the decision, and Lazada could not be read back.",
                )
            await self.bus.emit(BuyerRequestSettled(settled))

    async def _reannounce(self) -> None:
        """Re-emit settlements whose card or thread reply did not go out (Slack failed, or a replica died)."""
        rows = await self.store.unshown(
            [s.value for s in SETTLED_STATUSES], updated_before=self.clock() - timedelta(minutes=1)
        )
        for row in rows:
            await self.bus.emit(BuyerRequestSettled(_model(row)))


def _time_mark(request: BuyerRequest, now: datetime) -> str:
    """The time left as a card needs redrawing for: whole hours left, or "passed" (never finer than the hour)."""
    left = request.time_left(now)
    if left is None:
        return "none"
    return "passed" if left <= 0 else f"{int(left // 3600)}h"


def _reminder_stage(request: BuyerRequest, sent: int, now: datetime) -> int:
    """Which reminder is due now (0: none, 1: half the time left, 2: one hour before); never one already sent.

    The half-time reminder only when it falls before the one-hour one, and the one-hour reminder only when the
    request was seen more than an hour before its deadline (else the card itself is the reminder).
    """
    deadline = request.deadline
    if deadline is None or now >= deadline:
        return 0
    hour = deadline - _REMIND_BEFORE
    half = request.first_seen_at + (deadline - request.first_seen_at) / 2
    if now >= hour and request.first_seen_at < hour and sent < 2:
        return 2
    if half < hour and now >= half and sent < 1:
        return 1
    return 0


def _unconfirmed(error: LazadaError) -> str:
    """What Lazada answered to a decision whose outcome is unknown, said once (the card says what happens next)."""
    words = error.lazada_words
    return (
        f"Lazada did not confirm the decision (its answer: “{words}”)."
        if words
        else ("Lazada did not confirm the decision (no readable answer).")
    )


_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,30}$")


def _how(request: BuyerRequest) -> str:
    """How a closed request was closed, for the refusal sentence: by whom and with what outcome."""
    by = f" by <@{request.decided_by}>" if request.decided_by and _SLACK_USER.match(request.decided_by) else ""
    if request.status is S.DECIDING:
        return f"being answered{by}"
    if request.status is S.ACCEPTED:
        return f"accepted{by}"
    if request.status is S.REFUSED:
        return f"refused{by}"
    if request.status is S.DECIDED_BY_LAZADA:
        return "accepted by Lazada" if request.deadline is None else "decided by Lazada at its deadline"
    if request.status is S.ANSWERED_ELSEWHERE and request.agreed is None:
        return "withdrawn by the buyer or closed by Lazada (no decision needed)"
    if request.status is S.ANSWERED_ELSEWHERE:
        return "answered outside Slack"
    return f"sent to Lazada{by}, with an outcome still to be checked"
