"""Cancel requests: create, read, and every state change as one compare-and-set plus its audit row.

Every change below is a single conditional `UPDATE … WHERE id = :id AND status = :expected` whose row count
says whether this caller won, written in the same short transaction as its `audit_log` row. A lost race is
not an error: methods return False, an empty list, or an `ApproveOutcome` saying what happened instead.
No transaction is held across anything but SQL. All times are aware datetimes; they are stored in UTC.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, TypedDict, TypeVar, Unpack

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import ApprovalBasis, ItemAlreadyRequestedError, order_number
from bot.store.audit import SYSTEM_ACTOR, read_trail, write_audit
from bot.store.claims import ClaimStore
from bot.store.db import Database
from bot.store.errors import RequestNotFoundError, StoreError
from bot.store.models import (
    FINAL_REQUEST_STATUSES,
    ApproveOutcome,
    ApproveResult,
    AuditEntry,
    CancelRequest,
    NewRequest,
    OrderAnswers,
    OrderStatus,
    RequestStatus,
)
from bot.store.tables import cancel_requests, open_items, request_approvals, request_orders
from bot.store.types import UTCDateTime
from bot.store.upsert import insert_ignore

__all__ = ["RequestFields", "RequestStore", "new_request_id"]

_S = TypeVar("_S", RequestStatus, OrderStatus)

_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_ID_LENGTH = 5
_ID_ATTEMPTS = 8

_R = cancel_requests.c
_O = request_orders.c

_REQUEST_MOVES: Mapping[RequestStatus, frozenset[RequestStatus]] = MappingProxyType(
    {
        RequestStatus.PENDING: frozenset({RequestStatus.REJECTED, RequestStatus.WITHDRAWN, RequestStatus.EXPIRED}),
        RequestStatus.EXECUTING: frozenset(
            {
                RequestStatus.EXECUTED,
                RequestStatus.FAILED,
                RequestStatus.NEEDS_ATTENTION,
                RequestStatus.CANCEL_PENDING,
            }
        ),
        RequestStatus.CANCEL_PENDING: frozenset(
            {RequestStatus.EXECUTED, RequestStatus.FAILED, RequestStatus.NEEDS_ATTENTION}
        ),
        RequestStatus.NEEDS_ATTENTION: frozenset({RequestStatus.EXECUTED, RequestStatus.FAILED}),
    }
)
_DECISIONS = _REQUEST_MOVES[RequestStatus.PENDING]
_ORDER_FINAL = frozenset({OrderStatus.EXECUTED, OrderStatus.FAILED, OrderStatus.SKIPPED})


def new_request_id() -> str:
    """A short random request id such as `CR-7K2Q9` (no 0/O or 1/I, so it reads aloud)."""
    return "CR-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


class RequestFields(TypedDict, total=False):
    """Columns a `RequestStore.transition` may set besides the status."""

    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    lease_until: datetime | None
    recheck_at: datetime | None
    rechecks: int


class _ItemTaken(Exception):
    """Roll the transaction back: another open request holds this item (store, order number, item)."""

    def __init__(self, key: tuple[str, str, str]) -> None:
        super().__init__(key)
        self.key = key


class _Abort(Exception):
    """Roll the transaction back and report `result` (None: look at the row to say why)."""

    def __init__(self, result: ApproveResult | None) -> None:
        super().__init__(result)
        self.result = result


def _statuses(expected: _S | Collection[_S], kind: type[_S]) -> list[_S]:
    if isinstance(expected, str):
        return [kind(expected)]
    statuses = [kind(status) for status in expected]
    if not statuses:
        raise ValueError("expected needs at least one status")
    return statuses


class RequestStore:
    """The cancel requests: `create_request`, reads, `approve`, `transition` and the scheduler's queries."""

    def __init__(self, db: Database, *, new_id: Callable[[], str] = new_request_id) -> None:
        self._db = db
        self._new_id = new_id
        self._claims = ClaimStore(db)

    async def create_request(self, new: NewRequest, *, now: datetime) -> CancelRequest:
        """Store a `pending` request with its orders (each `pending`) and the audit row `requested`.

        The reminder falls due half-way between `now` and `new.expires_at`. Each item to cancel is claimed in
        `open_items` in the same transaction; `ItemAlreadyRequestedError` names the open request that holds one.
        """
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be an aware datetime")
        if new.expires_at <= now:
            raise ValueError("expires_at must be later than now")
        remind_at = now + (new.expires_at - now) / 2
        for _ in range(_ID_ATTEMPTS):
            request_id = self._new_id()
            try:
                async with self._db.begin() as conn:
                    await self._insert(conn, request_id, new, now=now, remind_at=remind_at)
            except _Abort:
                continue
            except _ItemTaken as taken:
                holder = await self._holder(taken.key)
                if holder is None:
                    continue  # it settled meanwhile: try again
                raise ItemAlreadyRequestedError(
                    request_id=holder.id,
                    order_id=taken.key[1],
                    item_id=taken.key[2],
                    channel_id=holder.channel_id,
                    message_ts=holder.message_ts,
                ) from None
            return await self._require(request_id)
        raise StoreError(f"no free request id after {_ID_ATTEMPTS} attempts")

    async def _insert(
        self, conn: AsyncConnection, request_id: str, new: NewRequest, *, now: datetime, remind_at: datetime
    ) -> None:
        row = {
            "id": request_id,
            **new.model_dump(exclude={"orders", "approval_basis"}),
            "approval_basis": new.approval_basis.model_dump(mode="json") if new.approval_basis else None,
            "approval_count": 0,
            "status": RequestStatus.PENDING.value,
            "message_ts": None,
            "remind_at": remind_at,
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        if not await insert_ignore(conn, cancel_requests, row, conflict=["id"]):
            raise _Abort(None)
        await conn.execute(
            sa.insert(request_orders),
            [
                {
                    "request_id": request_id,
                    "order_id": order.order_id,
                    "items": [item.model_dump(mode="json") for item in order.items],
                    "item_ids": list(order.item_ids),
                    "status": OrderStatus.PENDING.value,
                    "validate_tip_content": order.validate_tip_content,
                    "validate_tip_type": order.validate_tip_type,
                    "updated_at": now,
                }
                for order in new.orders
            ],
        )
        claimed: set[tuple[str, str, str]] = set()
        for order in new.orders:
            for item_id in order.item_ids:
                key = (new.store_code, order_number(order.order_id), item_id)
                if key in claimed:
                    continue
                row = dict(zip(("store_code", "order_id", "item_id"), key, strict=True), request_id=request_id)
                if not await insert_ignore(conn, open_items, row, conflict=["store_code", "order_id", "item_id"]):
                    raise _ItemTaken(key)
                claimed.add(key)
        await write_audit(
            conn,
            request_id=request_id,
            actor=new.requester_id,
            action="requested",
            now=now,
            to_status=RequestStatus.PENDING,
            details={
                "store_code": new.store_code,
                "orders": [order.order_id for order in new.orders],
                "reason_id": new.reason_id,
                "required_approvals": new.required_approvals,
            },
        )

    async def _holder(self, key: tuple[str, str, str]) -> CancelRequest | None:
        """The open request that holds an item (store, order number, item), if any still does."""
        store_code, order_id, item_id = key
        async with self._db.read() as conn:
            request_id = await conn.scalar(
                sa.select(open_items.c.request_id).where(
                    open_items.c.store_code == store_code,
                    open_items.c.order_id == order_id,
                    open_items.c.item_id == item_id,
                )
            )
        return None if request_id is None else await self.get_request(request_id)

    async def get_request(self, request_id: str) -> CancelRequest | None:
        """The request with its orders and approvals, or None if there is none with this id."""
        async with self._db.read() as conn:
            found = await _load(conn, sa.select(cancel_requests).where(_R.id == request_id))
        return found[0] if found else None

    async def list_requests(
        self,
        *,
        status: RequestStatus | Collection[RequestStatus] | None = None,
        requester_id: str | None = None,
        store_code: str | None = None,
        created_since: datetime | None = None,
        limit: int = 50,
    ) -> list[CancelRequest]:
        """Requests matching every filter given, newest first, at most `limit`."""
        query = sa.select(cancel_requests)
        if status is not None:
            query = query.where(_R.status.in_(_statuses(status, RequestStatus)))
        if requester_id is not None:
            query = query.where(_R.requester_id == requester_id)
        if store_code is not None:
            query = query.where(_R.store_code == store_code)
        if created_since is not None:
            query = query.where(_R.created_at >= created_since)
        query = query.order_by(_R.created_at.desc(), _R.id.desc()).limit(limit)
        async with self._db.read() as conn:
            return await _load(conn, query)

    async def set_message(self, request_id: str, channel_id: str, ts: str, *, now: datetime | None = None) -> bool:
        """Record where the approval message was posted (at `now`, default: the clock); False if no such request."""
        now = now or datetime.now(UTC)
        update = (
            sa.update(cancel_requests)
            .where(_R.id == request_id)
            .values(channel_id=channel_id, message_ts=ts, updated_at=now, version=_R.version + 1)
        )
        async with self._db.begin() as conn:
            details = {"channel_id": channel_id, "message_ts": ts}
            return await _update_by_bot(
                conn, update, request_id=request_id, action="message_posted", now=now, details=details
            )

    async def approve(self, request_id: str, approver_id: str, *, now: datetime, lease: timedelta) -> ApproveOutcome:
        """Record `approver_id`'s approval; the click that completes the approvals moves the request to `executing`.

        One transaction inserts the approval (a repeat by the same person inserts nothing) and then bumps
        `approval_count` with one conditional UPDATE on the still-`pending`, not yet expired row, never the
        requester's own (an expired one answers `EXPIRED`, whether or not the scheduler has expired it yet);
        the row lock serializes concurrent approvers on PostgreSQL, `BEGIN IMMEDIATE` on SQLite. When the
        count reaches `required_approvals` the same UPDATE sets `executing`, `decided_by`, `decided_at`,
        `attempts + 1` and `lease_until = now + lease`. Only an `EXECUTING` result obliges the caller to
        execute. Raises `RequestNotFoundError` for an unknown id.
        """
        completes = (_R.approval_count + 1) >= _R.required_approvals
        lease_until = now + lease
        try:
            async with self._db.begin() as conn:
                inserted = await insert_ignore(
                    conn,
                    request_approvals,
                    {"request_id": request_id, "approver_id": approver_id, "approved_at": now},
                    conflict=["request_id", "approver_id"],
                )
                if not inserted:
                    raise _Abort(ApproveResult.ALREADY_APPROVED_BY_YOU)
                result = await conn.execute(
                    sa.update(cancel_requests)
                    .where(
                        _R.id == request_id,
                        _R.status == RequestStatus.PENDING.value,
                        _R.expires_at > now,
                        _R.requester_id != approver_id,
                    )
                    .values(
                        approval_count=_R.approval_count + 1,
                        status=sa.case(
                            (completes, sa.literal(RequestStatus.EXECUTING.value, sa.String)), else_=_R.status
                        ),
                        decided_by=sa.case((completes, sa.literal(approver_id, sa.String)), else_=_R.decided_by),
                        decided_at=sa.case((completes, sa.literal(now, UTCDateTime)), else_=_R.decided_at),
                        lease_until=sa.case((completes, sa.literal(lease_until, UTCDateTime)), else_=_R.lease_until),
                        attempts=sa.case((completes, _R.attempts + 1), else_=_R.attempts),
                        updated_at=now,
                        version=_R.version + 1,
                    )
                    .returning(_R.status, _R.approval_count, _R.required_approvals)
                )
                row = result.one_or_none()
                if row is None:
                    raise _Abort(None)
                executing = row.status == RequestStatus.EXECUTING
                outcome: ApproveResult | None = ApproveResult.EXECUTING if executing else ApproveResult.RECORDED
                await write_audit(
                    conn,
                    request_id=request_id,
                    actor=approver_id,
                    action="approved",
                    now=now,
                    from_status=RequestStatus.PENDING,
                    to_status=RequestStatus.PENDING,
                    details={"approval_count": row.approval_count, "required_approvals": row.required_approvals},
                )
                if executing:
                    await write_audit(
                        conn,
                        request_id=request_id,
                        actor=approver_id,
                        action="executing",
                        now=now,
                        from_status=RequestStatus.PENDING,
                        to_status=RequestStatus.EXECUTING,
                        details={"lease_until": lease_until},
                    )
        except IntegrityError:
            # Expected only from the approval's foreign key, when there is no such request.
            if await self.get_request(request_id) is not None:
                raise
            raise RequestNotFoundError(request_id) from None
        except _Abort as abort:
            outcome = abort.result
        current = await self._require(request_id)
        if outcome is None:
            pending = current.status is RequestStatus.PENDING
            if pending and current.expires_at <= now:
                outcome = ApproveResult.EXPIRED
            elif pending and current.requester_id == approver_id:
                outcome = ApproveResult.SELF_APPROVAL
            else:
                outcome = ApproveResult.ALREADY_DECIDED
        return ApproveOutcome(result=outcome, request=current)

    async def transition(
        self,
        request_id: str,
        *,
        expected: RequestStatus | Collection[RequestStatus],
        to: RequestStatus,
        actor: str,
        now: datetime,
        action: str | None = None,
        details: Mapping[str, Any] | None = None,
        **fields: Unpack[RequestFields],
    ) -> bool:
        """Move the request from an `expected` status to `to` (CAS) and append the audit row; True if it moved.

        Allowed: `pending → rejected | withdrawn | expired` (which default `decided_by` to `actor` and
        `decided_at` to `now`; rejected and withdrawn only before `expires_at`, expired only from it on),
        `executing → executed | failed | needs_attention | cancel_pending`,
        `cancel_pending → executed | failed | needs_attention` and
        `needs_attention → executed | failed` (which clear `lease_until`). Each move frees the request's
        `open_items`, except that a move to `cancel_pending` keeps those of its `cancel_pending` orders claimed:
        Lazada may still carry their cancellation out, so no other request may ask for them meanwhile.
        `pending → executing` happens only through `approve`. The audit row's action defaults to the new status;
        `details` and the fields set are recorded in it. Raises ValueError for a move not listed here.
        """
        sources = _statuses(expected, RequestStatus)
        for source in sources:
            if to not in _REQUEST_MOVES.get(source, frozenset()):
                raise ValueError(f"a request cannot move from {source} to {to}")
        values: dict[str, Any] = {}
        if to in _DECISIONS:
            values.update(decided_by=actor, decided_at=now)
        else:
            values.update(lease_until=None)
        values.update(fields)
        # Expiry is a fact of the row, not of the scheduler: a decision after `expires_at` never wins.
        in_time = (_R.expires_at <= now) if to is RequestStatus.EXPIRED else (_R.expires_at > now)
        async with self._db.begin() as conn:
            for source in sources:
                result = await conn.execute(
                    sa.update(cancel_requests)
                    .where(_R.id == request_id, _R.status == source.value)
                    .where(in_time if source is RequestStatus.PENDING else sa.true())
                    .values(status=to.value, updated_at=now, version=_R.version + 1, **values)
                )
                if result.rowcount == 1:
                    await _free_items(conn, request_id, keep_pending=to is RequestStatus.CANCEL_PENDING)
                    await write_audit(
                        conn,
                        request_id=request_id,
                        actor=actor,
                        action=action or to.value,
                        now=now,
                        from_status=source,
                        to_status=to,
                        details={**values, **(details or {})},
                    )
                    return True
        return False

    async def require_approvals(self, request_id: str, *, approvals: int, basis: ApprovalBasis, now: datetime) -> bool:
        """Raise a pending request's `required_approvals` to `approvals` with the reason; True if it was lower.

        Never lowers it. An approval already counted stays counted and the request waits for the rest.
        """
        update = (
            sa.update(cancel_requests)
            .where(_R.id == request_id, _R.status == RequestStatus.PENDING.value, _R.required_approvals < approvals)
            .values(
                required_approvals=approvals,
                approval_basis=basis.model_dump(mode="json"),
                updated_at=now,
                version=_R.version + 1,
            )
        )
        details = {"required_approvals": approvals, **basis.model_dump(mode="json")}
        async with self._db.begin() as conn:
            return await _update_by_bot(
                conn,
                update,
                request_id=request_id,
                action="approvals_raised",
                now=now,
                status=RequestStatus.PENDING,
                details=details,
            )

    async def items_in_flight(
        self, store_code: str, *, executed_since: datetime | None, excluding: str | None = None
    ) -> int:
        """Items of the store's open requests (but `excluding`) plus those cancelled through the bot since a time.

        What the store's rate will count that the last reading of it did not: for the two-approver rule.
        """
        async with self._db.read() as conn:
            open_query = sa.select(sa.func.count()).where(open_items.c.store_code == store_code)
            if excluding is not None:
                open_query = open_query.where(open_items.c.request_id != excluding)
            count = int(await conn.scalar(open_query) or 0)
            if executed_since is not None:
                rows = await conn.execute(
                    sa.select(_O.item_ids)
                    .join(cancel_requests, _R.id == _O.request_id)
                    .where(
                        _R.store_code == store_code,
                        _O.status == OrderStatus.EXECUTED.value,
                        _O.updated_at >= executed_since,  # counted twice rather than missed
                    )
                )
                count += sum(len(item_ids) for item_ids in rows.scalars())
        return count

    async def set_order_status(
        self,
        request_id: str,
        order_id: str,
        *,
        expected: OrderStatus | Collection[OrderStatus],
        to: OrderStatus,
        now: datetime,
        actor: str = SYSTEM_ACTOR,
        details: Mapping[str, Any] | None = None,
        answers: OrderAnswers | None = None,
        late: bool = False,
    ) -> bool:
        """Move one order of a request from an `expected` status to `to` (CAS) with an audit row; True if it moved.

        `answers` records Lazada's answers (tips, its request id, an error): only the fields it sets. Orders never
        return to `pending`, and `executed`, `failed` and `skipped` are final: ValueError otherwise. `late` marks
        a settlement after the request had run (a read-back of a pending or unclear order): its thread reply is
        then due (`reply_due`). An order leaving `cancel_pending` frees its items (`open_items`).
        """
        sources = _statuses(expected, OrderStatus)
        if to is OrderStatus.PENDING or any(source in _ORDER_FINAL for source in sources):
            raise ValueError(f"an order cannot move from {sorted(sources)} to {to}")
        fields = answers.model_dump(exclude_unset=True) if answers is not None else {}
        if late:
            fields["reply_due"] = to.value
        async with self._db.begin() as conn:
            for source in sources:
                result = await conn.execute(
                    sa.update(request_orders)
                    .where(_O.request_id == request_id, _O.order_id == order_id, _O.status == source.value)
                    .values(status=to.value, updated_at=now, **fields)
                )
                if result.rowcount == 1:
                    if source is OrderStatus.CANCEL_PENDING and to is not OrderStatus.CANCEL_PENDING:
                        await conn.execute(
                            sa.delete(open_items).where(
                                open_items.c.request_id == request_id,
                                open_items.c.order_id == order_number(order_id),
                            )
                        )
                    await write_audit(
                        conn,
                        request_id=request_id,
                        order_id=order_id,
                        actor=actor,
                        action=f"order_{to.value}",
                        now=now,
                        from_status=source,
                        to_status=to,
                        details={**fields, **(details or {})},
                    )
                    return True
        return False

    async def claim_stale_executing(self, *, now: datetime, lease: timedelta, claimer: str) -> list[CancelRequest]:
        """Take over `executing` requests whose lease ran out, each with a CAS; return only those this call won.

        For the reconciler: each one taken gets `lease_until = now + lease` and `attempts + 1`, and an
        audit row `taken_over` naming `claimer`. Another replica calling at the same time gets none of them.
        """
        stale = sa.or_(_R.lease_until.is_(None), _R.lease_until < now)
        audit = {
            "actor": claimer,
            "action": "taken_over",
            "now": now,
            "from_status": RequestStatus.EXECUTING,
            "to_status": RequestStatus.EXECUTING,
            "details": {"lease_until": now + lease},
        }
        return await self._claim_each(
            sa.and_(_R.status == RequestStatus.EXECUTING.value, stale),
            order_by=_R.lease_until,
            values={
                "lease_until": now + lease,
                "attempts": _R.attempts + 1,
                "updated_at": now,
                "version": _R.version + 1,
            },
            audit=audit,
        )

    async def claim_attention_recheck(
        self, *, now: datetime, every: timedelta, within: timedelta, claimer: str
    ) -> list[CancelRequest]:
        """Claim `needs_attention` requests settled within `within` for a read-back, each at most once per `every`.

        For the reconciler, which looks whether Lazada carried out a cancellation late. The claim is a claim row
        (kind `recheck`) that runs out after `every`, so two replicas never read the same one back at once, and
        the request itself is left as it is until the read-back finds something.
        """
        async with self._db.read() as conn:
            rows = await conn.execute(
                sa.select(_R.id)
                .where(_R.status == RequestStatus.NEEDS_ATTENTION.value, _R.updated_at >= now - within)
                .order_by(_R.updated_at)
            )
            candidates = list(rows.scalars())
        won = [
            request_id
            for request_id in candidates
            if await self._claims.claim("recheck", request_id, claimer, now=now, lease=every)
        ]
        return await self._many(won)

    async def claim_pending_rechecks(
        self, *, now: datetime, backoff: Callable[[int], timedelta], limit: int = 50
    ) -> list[CancelRequest]:
        """Claim the `cancel_pending` requests whose read-back is due, each with a CAS; return those this call won.

        Each one won has its next read-back set to `now + backoff(rechecks + 1)` and `rechecks` raised by one in the
        same conditional UPDATE (on the `rechecks` value read), so two replicas ticking together never read the same
        request back twice for one due time. A holder that dies mid-read leaves it to the next due time: a read-back
        sends nothing to Lazada, so it is safe to repeat.
        """
        async with self._db.read() as conn:
            rows = await conn.execute(
                sa.select(_R.id, _R.rechecks)
                .where(_R.status == RequestStatus.CANCEL_PENDING.value, _due(now))
                .order_by(_R.recheck_at)
                .limit(limit)
            )
            candidates = [(row.id, int(row.rechecks)) for row in rows]
        won: list[str] = []
        for request_id, seen in candidates:
            async with self._db.begin() as conn:
                result = await conn.execute(
                    sa.update(cancel_requests)
                    .where(
                        _R.id == request_id,
                        _R.status == RequestStatus.CANCEL_PENDING.value,
                        _R.rechecks == seen,
                        _due(now),
                    )
                    .values(recheck_at=now + backoff(seen + 1), rechecks=seen + 1)
                )
                if result.rowcount == 1:
                    won.append(request_id)
        return await self._many(won)

    async def late_replies_due(self, *, settled_before: datetime, limit: int = 20) -> list[CancelRequest]:
        """Requests with an order settled late whose thread reply has not gone out (a crash or a Slack failure).

        Only those whose own status is announced already: otherwise the request's reply is still to go out, and it
        covers its orders.
        """
        query = (
            sa.select(cancel_requests)
            .where(
                _R.id.in_(sa.select(_O.request_id).where(_O.reply_due.is_not(None), _O.updated_at < settled_before)),
                _R.announced_status == _R.status,
            )
            .order_by(_R.updated_at)
            .limit(limit)
        )
        async with self._db.read() as conn:
            return await _load(conn, query)

    async def claim_order_reply(
        self, request_id: str, order_id: str, status: OrderStatus, *, claimer: str, now: datetime, lease: timedelta
    ) -> bool:
        """Claim posting the late reply about one order's `status`: True for the one replica that posts it."""
        return await self._claims.claim(
            "announce_order", f"{request_id}/{order_id}/{status.value}", claimer, now=now, lease=lease
        )

    async def end_order_reply(
        self, request_id: str, order_id: str, status: OrderStatus, *, claimer: str, shown: bool
    ) -> None:
        """Complete the claim of `claim_order_reply` once posted (and clear `reply_due`), or release it."""
        key = f"{request_id}/{order_id}/{status.value}"
        if not shown:
            await self._claims.release("announce_order", key, claimer)
            return
        async with self._db.begin() as conn:
            await conn.execute(
                sa.update(request_orders)
                .where(_O.request_id == request_id, _O.order_id == order_id, _O.reply_due == status.value)
                .values(reply_due=None)
            )
        await self._claims.complete("announce_order", key, claimer)

    async def clear_replies_due(self, request_id: str) -> None:
        """Forget the late replies due for a request's orders: its own outcome reply has just said it all."""
        async with self._db.begin() as conn:
            await conn.execute(
                sa.update(request_orders)
                .where(_O.request_id == request_id, _O.reply_due.is_not(None))
                .values(reply_due=None)
            )

    async def _claim_each(
        self,
        condition: sa.ColumnElement[bool],
        *,
        order_by: sa.ColumnElement[Any],
        values: Mapping[str, Any],
        audit: Mapping[str, Any] | None = None,
    ) -> list[CancelRequest]:
        """Set `values` on each request matching `condition`, one CAS each (audited with `audit`); those won."""
        async with self._db.read() as conn:
            rows = await conn.execute(sa.select(_R.id).where(condition).order_by(order_by))
            candidates = list(rows.scalars())
        won: list[str] = []
        for request_id in candidates:
            async with self._db.begin() as conn:
                result = await conn.execute(
                    sa.update(cancel_requests).where(_R.id == request_id, condition).values(dict(values))
                )
                if result.rowcount == 1:
                    if audit is not None:
                        await write_audit(conn, request_id=request_id, **audit)
                    won.append(request_id)
        return await self._many(won)

    async def renew_lease(
        self, request_id: str, *, now: datetime, lease: timedelta, attempt: int | None = None
    ) -> bool:
        """Extend the lease of an `executing` request to `now + lease`, only while it has not run out.

        `attempt` (the request's `attempts` when this execution began) fences a taken-over lease: the
        reconciler's takeover bumps `attempts`, so the execution it replaced can no longer renew.
        False means the lease had expired or was taken over (or the request left `executing`): stop
        before the next Lazada write and let the holder settle the outcome.
        """
        async with self._db.begin() as conn:
            result = await conn.execute(
                sa.update(cancel_requests)
                .where(
                    _R.id == request_id,
                    _R.status == RequestStatus.EXECUTING.value,
                    _R.lease_until >= now,
                    _R.attempts == attempt if attempt is not None else sa.true(),
                )
                .values(lease_until=now + lease)
            )
        return result.rowcount == 1

    async def due_for_reminder(self, *, now: datetime) -> list[CancelRequest]:
        """Pending requests past their half-time (`remind_at`) that were not reminded and have not expired."""
        query = (
            sa.select(cancel_requests)
            .where(
                _R.status == RequestStatus.PENDING.value,
                _R.reminded_at.is_(None),
                _R.remind_at <= now,
                _R.expires_at > now,
            )
            .order_by(_R.remind_at, _R.id)
        )
        async with self._db.read() as conn:
            return await _load(conn, query)

    async def mark_reminded(self, request_id: str, now: datetime) -> bool:
        """Set `reminded_at` (CAS: unset, pending, not expired); True for the one caller that should remind."""
        update = (
            sa.update(cancel_requests)
            .where(
                _R.id == request_id,
                _R.status == RequestStatus.PENDING.value,
                _R.reminded_at.is_(None),
                _R.expires_at > now,
            )
            .values(reminded_at=now, updated_at=now, version=_R.version + 1)
        )
        async with self._db.begin() as conn:
            return await _update_by_bot(
                conn, update, request_id=request_id, action="reminded", now=now, status=RequestStatus.PENDING
            )

    async def expire_due(self, *, now: datetime) -> list[CancelRequest]:
        """Expire every pending request whose `expires_at` has passed; return those this call expired."""
        async with self._db.read() as conn:
            rows = await conn.execute(
                sa.select(_R.id)
                .where(_R.status == RequestStatus.PENDING.value, _R.expires_at <= now)
                .order_by(_R.expires_at, _R.id)
            )
            candidates = list(rows.scalars())
        expired = [
            request_id
            for request_id in candidates
            if await self.transition(
                request_id,
                expected=RequestStatus.PENDING,
                to=RequestStatus.EXPIRED,
                actor=SYSTEM_ACTOR,
                now=now,
            )
        ]
        return await self._many(expired)

    async def mark_announced(self, request_id: str, status: RequestStatus, *, part: str = "reply") -> bool:
        """Record that Slack now shows `status` (`part`: "reply" in the thread, or "card"), if still in that status."""
        column = {"reply": "announced_status", "card": "card_status"}[part]
        async with self._db.begin() as conn:
            result = await conn.execute(
                sa.update(cancel_requests)
                .where(_R.id == request_id, _R.status == status.value)
                .values({column: status.value})
            )
            return bool(result.rowcount == 1)

    async def claim_announcement(
        self, request_id: str, status: RequestStatus, *, part: str, claimer: str, now: datetime, lease: timedelta
    ) -> bool:
        """Claim showing `status` (`part`: "reply" or "card") for `claimer`: True for the one replica that shows it.

        A claim whose holder died is taken over after `lease`; `end_announcement` completes or releases it.
        """
        key = f"{request_id}/{status.value}"
        return await self._claims.claim(f"announce_{part}", key, claimer, now=now, lease=lease)

    async def end_announcement(
        self, request_id: str, status: RequestStatus, *, part: str, claimer: str, shown: bool
    ) -> None:
        """Complete a claim from `claim_announcement` once shown, or release it so a later tick tries again."""
        key = f"{request_id}/{status.value}"
        if shown:
            await self._claims.complete(f"announce_{part}", key, claimer)
        else:
            await self._claims.release(f"announce_{part}", key, claimer)

    async def unannounced(self, *, settled_before: datetime, limit: int = 20) -> list[CancelRequest]:
        """Settled requests whose outcome Slack has not shown yet (a crash or a Slack failure after the outcome)."""
        settled = [*FINAL_REQUEST_STATUSES, RequestStatus.NEEDS_ATTENTION, RequestStatus.CANCEL_PENDING]
        query = (
            sa.select(cancel_requests)
            .where(
                _R.status.in_([s.value for s in settled]),
                sa.or_(
                    _R.announced_status.is_(None),
                    _R.announced_status != _R.status,
                    _R.card_status.is_(None),
                    _R.card_status != _R.status,
                ),
                _R.updated_at < settled_before,
            )
            .order_by(_R.updated_at)
            .limit(limit)
        )
        async with self._db.read() as conn:
            return await _load(conn, query)

    async def audit_trail(self, request_id: str) -> list[AuditEntry]:
        """Every audit row of the request, oldest first."""
        async with self._db.read() as conn:
            return await read_trail(conn, request_id)

    async def _require(self, request_id: str) -> CancelRequest:
        found = await self.get_request(request_id)
        if found is None:
            raise RequestNotFoundError(request_id)
        return found

    async def _many(self, request_ids: Sequence[str]) -> list[CancelRequest]:
        if not request_ids:
            return []
        async with self._db.read() as conn:
            found = {
                request.id: request
                for request in await _load(conn, sa.select(cancel_requests).where(_R.id.in_(request_ids)))
            }
        return [found[request_id] for request_id in request_ids]


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(_R.recheck_at.is_(None), _R.recheck_at <= now)


async def _free_items(conn: AsyncConnection, request_id: str, *, keep_pending: bool) -> None:
    """Free a request's claimed items; with `keep_pending`, all but those of its orders still `cancel_pending`."""
    rows = sa.delete(open_items).where(open_items.c.request_id == request_id)
    if keep_pending:
        pending = await conn.execute(
            sa.select(_O.order_id).where(_O.request_id == request_id, _O.status == OrderStatus.CANCEL_PENDING.value)
        )
        kept = [order_number(order_id) for order_id in pending.scalars()]
        if kept:
            rows = rows.where(open_items.c.order_id.not_in(kept))
    await conn.execute(rows)


async def _update_by_bot(
    conn: AsyncConnection,
    update: sa.Update,
    *,
    request_id: str,
    action: str,
    now: datetime,
    status: RequestStatus | None = None,
    details: Mapping[str, Any] | None = None,
) -> bool:
    """Run the bot's own compare-and-set ``update`` of one request and audit it as ``action``; False if none matched."""
    result = await conn.execute(update)
    if result.rowcount != 1:
        return False
    await write_audit(
        conn,
        request_id=request_id,
        actor=SYSTEM_ACTOR,
        action=action,
        now=now,
        from_status=status,
        to_status=status,
        details=details,
    )
    return True


async def _load(conn: AsyncConnection, query: sa.Select[Any]) -> list[CancelRequest]:
    requests = [dict(row._mapping) for row in await conn.execute(query)]
    if not requests:
        return []
    ids = [request["id"] for request in requests]
    orders: dict[str, list[dict[str, Any]]] = {request_id: [] for request_id in ids}
    for row in await conn.execute(sa.select(request_orders).where(_O.request_id.in_(ids)).order_by(_O.id)):
        orders[row.request_id].append(dict(row._mapping))
    approvals: dict[str, list[dict[str, Any]]] = {request_id: [] for request_id in ids}
    for row in await conn.execute(
        sa.select(request_approvals)
        .where(request_approvals.c.request_id.in_(ids))
        .order_by(request_approvals.c.approved_at, request_approvals.c.id)
    ):
        approvals[row.request_id].append(dict(row._mapping))
    return [
        CancelRequest.model_validate(
            {**request, "orders": orders[request["id"]], "approvals": approvals[request["id"]]}
        )
        for request in requests
    ]
