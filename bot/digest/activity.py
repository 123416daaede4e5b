"""The bot's own requests and decisions for a store over a period, read from the requests and the audit trail."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import sqlalchemy as sa

from bot.digest.models import Activity, ApproverCount, NamedCount
from bot.store.db import Database
from bot.store.models import RequestStatus
from bot.store.tables import audit_log, cancel_requests, request_approvals

__all__ = ["ActivityReader"]

_R = cancel_requests.c
_A = audit_log.c
_P = request_approvals.c
_COUNTED_MOVES = frozenset(
    {
        RequestStatus.EXECUTING,
        RequestStatus.EXECUTED,
        RequestStatus.REJECTED,
        RequestStatus.WITHDRAWN,
        RequestStatus.EXPIRED,
        RequestStatus.FAILED,
        RequestStatus.NEEDS_ATTENTION,
    }
)


def _ranked(counts: Counter[str]) -> tuple[NamedCount, ...]:
    return tuple(
        NamedCount(name=name, count=count) for name, count in sorted(counts.items(), key=lambda p: (-p[1], p[0]))
    )


class ActivityReader:
    """Counts a store's requests, approvals and outcomes in ``[since, until)``; every status move once per request."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def read(self, store_code: str, *, since: datetime, until: datetime) -> Activity:
        """What the bot did for ``store_code`` in the period, plus the requests still pending now (for approval, or
        at Lazada)."""
        of_store = sa.select(_R.id).where(_R.store_code == store_code).scalar_subquery()
        created = sa.select(_R.reason_name, _R.requester_id).where(
            _R.store_code == store_code, _R.created_at >= since, _R.created_at < until
        )
        # Request-level rows only (order_id IS NULL): an order's own moves reuse the same status words.
        moves = (
            sa.select(_A.to_status, _A.actor, _A.request_id)
            .where(
                _A.request_id.in_(of_store),
                _A.order_id.is_(None),
                _A.occurred_at >= since,
                _A.occurred_at < until,
                _A.to_status.is_not(None),
                _A.from_status.is_distinct_from(_A.to_status),
            )
            .distinct()
        )
        approvals = sa.select(_P.approver_id).where(
            _P.request_id.in_(of_store), _P.approved_at >= since, _P.approved_at < until
        )
        pending = sa.select(sa.func.count()).where(
            _R.store_code == store_code, _R.status == RequestStatus.PENDING.value
        )
        at_lazada = sa.select(sa.func.count()).where(
            _R.store_code == store_code, _R.status == RequestStatus.CANCEL_PENDING.value
        )
        async with self._db.read() as conn:
            created_rows = (await conn.execute(created)).all()
            move_rows = (await conn.execute(moves)).all()
            approval_rows = (await conn.execute(approvals)).all()
            pending_count = int((await conn.execute(pending)).scalar_one())
            at_lazada_count = int((await conn.execute(at_lazada)).scalar_one())

        by_status: Counter[str] = Counter()
        rejections: Counter[str] = Counter()
        for to_status, actor, _request_id in move_rows:
            if to_status in _COUNTED_MOVES:
                by_status[to_status] += 1
            if to_status == RequestStatus.REJECTED:
                rejections[actor] += 1
        approved_by: Counter[str] = Counter(row.approver_id for row in approval_rows)
        approvers = sorted(set(approved_by) | set(rejections), key=lambda a: (-approved_by[a] - rejections[a], a))
        return Activity(
            since=since,
            until=until,
            requests=len(created_rows),
            approved=by_status[RequestStatus.EXECUTING],
            executed=by_status[RequestStatus.EXECUTED],
            rejected=by_status[RequestStatus.REJECTED],
            withdrawn=by_status[RequestStatus.WITHDRAWN],
            expired=by_status[RequestStatus.EXPIRED],
            failed=by_status[RequestStatus.FAILED],
            needs_attention=by_status[RequestStatus.NEEDS_ATTENTION],
            pending=pending_count,
            pending_at_lazada=at_lazada_count,
            by_reason=_ranked(Counter(row.reason_name for row in created_rows)),
            by_requester=_ranked(Counter(row.requester_id for row in created_rows)),
            by_approver=tuple(
                ApproverCount(approver_id=a, approved=approved_by[a], rejected=rejections[a]) for a in approvers
            ),
        )
