"""`digest [--store S] [--json] [--post]`: read each store's orders, compute its digest now, print it or post it."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from bot.buyer.models import BuyerRequestCounts
from bot.digest.errors import DigestError
from bot.digest.models import Activity, DigestReport, Figures, SyncStats
from bot.digest.service import DigestService
from bot.lazada.errors import LazadaError
from bot.logs import configure_logging_for
from bot.settings import Settings, StoreConfig
from cancel_order_bot.cli.commands import lazada_for
from cancel_order_bot.cli.errors import opened_services

__all__ = ["TerminalProgress", "digest_command", "render_digest_text"]

_BAR_WIDTH = 28


class TerminalProgress:
    """A one-line progress bar for a terminal: ``store orders [#####.....] 12/30``, redrawn in place."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self._stream = stream
        self._label = label
        self._drawn = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        """Redraw the bar for ``phase`` at ``done`` of ``total``."""
        filled = _BAR_WIDTH * done // total if total else 0
        line = f"{self._label} {phase:<6} [{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {done}/{total}"
        self._stream.write("\r" + line.ljust(self._drawn))
        self._stream.flush()
        self._drawn = len(line)

    def finish(self) -> None:
        """Clear the bar's line."""
        if self._drawn:
            self._stream.write("\r" + " " * self._drawn + "\r")
            self._stream.flush()
            self._drawn = 0


def _pct(value: float) -> str:
    return f"{value * 100:.2f}%"


def _change(change: float | None, before: Figures | None) -> str:
    if change is None or before is None:
        return "not known yet"
    if abs(change) < 0.00005:
        return f"unchanged (was {_pct(before.rate)})"
    return f"{'up' if change > 0 else 'down'} {abs(change) * 100:.2f} pp (was {_pct(before.rate)})"


def _activity(activity: Activity) -> list[str]:
    lines = [
        f"The bot, last 24 h: {activity.requests} requests, {activity.approved} approved, "
        f"{activity.executed} executed, {activity.rejected} rejected, {activity.withdrawn} withdrawn, "
        f"{activity.expired} expired, {activity.failed} failed, {activity.pending} still pending"
    ]
    if activity.by_reason:
        lines.append("  by reason: " + ", ".join(f"{c.name} {c.count}" for c in activity.by_reason))
    if activity.by_requester:
        lines.append("  by requester: " + ", ".join(f"{c.name} {c.count}" for c in activity.by_requester))
    if activity.by_approver:
        lines.append(
            "  by approver: "
            + ", ".join(f"{a.approver_id} {a.approved} approved/{a.rejected} rejected" for a in activity.by_approver)
        )
    return lines


def _buyer_lines(counts: BuyerRequestCounts | None) -> list[str]:
    if counts is None:
        return []
    return [
        f"Buyers' cancellation requests, last 24 h: {counts.received} received, {counts.accepted} accepted, "
        f"{counts.refused} refused, {counts.decided_by_lazada} decided by Lazada, "
        f"{counts.answered_elsewhere} answered outside Slack",
        f"  seller-fault cancellations avoided: {counts.items_spared} item(s) cancelled at the buyer's request "
        "instead (not counted against the rate)",
    ]


def _indicator_lines(report: DigestReport) -> list[str]:
    problem = report.indicators_problem
    if problem is not None or report.indicators is None:
        return [problem or ""]
    lines = ["Lazada's own indicators:"]
    for indicator in report.indicators.indicators:
        verdict = {True: "target met", False: "target missed", None: "target not stated"}[indicator.respected]
        target = f" (target {indicator.target})" if indicator.target else ""
        lines.append(f"  {indicator.name}: {indicator.score or 'no score'}{target}, {verdict}")
    if report.cancellation_indicator_rate is not None and report.indicator_difference is not None:
        lines.append(
            f"  Lazada's cancellation figure {_pct(report.cancellation_indicator_rate)}; the estimate differs by "
            f"{report.indicator_difference * 100:+.2f} pp"
        )
    return lines


def render_digest_text(report: DigestReport, stats: SyncStats | None = None, *, sandbox: bool = False) -> str:
    """The digest for a terminal, saying plainly that the rate is an estimate (and that it is the sandbox's)."""
    window, pipeline, t = report.window, report.pipeline, report.thresholds
    title = f"{report.store_label} ({report.store_code}) · {report.today.isoformat()}"
    lines = [
        title + (" · SANDBOX (no real order)" if sandbox else ""),
        f"Estimated seller-fault cancellation rate: {_pct(window.rate)} [{report.status.label}]",
        f"  {window.cancelled_items} of {window.ordered_items} items cancelled for seller fault, orders created "
        f"{window.first_day.isoformat()} to {window.last_day.isoformat()} ({report.timezone})",
        f"  vs yesterday: {_change(report.change_vs_yesterday, report.yesterday)}",
        f"  vs a week ago: {_change(report.change_vs_week_ago, report.week_ago)}",
        f"  thresholds: warning {_pct(t.warning_rate)}, limit {_pct(t.limit_rate)} "
        f"(the limit applies from {t.min_cancelled_items} cancelled items)",
        "  cancelled items by initiator: "
        + (
            "; ".join(
                f"{c.initiator or '(not given)'} {c.items}" + (" (seller fault)" if c.seller_fault else "")
                for c in report.by_initiator
            )
            or "none"
        ),
        f"  counted as seller fault: {', '.join(report.seller_fault_initiators) or 'none'}",
        *_indicator_lines(report),
        f"Pipeline (orders created {pipeline.first_day.isoformat()} to {pipeline.last_day.isoformat()}, not counted "
        f"yet): {pipeline.cancelled_items} seller-fault cancelled items of {pipeline.ordered_items} ordered",
        f"  once counted: about {_pct(report.projected.rate)} [{report.projected_status.label}]",
        *_activity(report.activity),
        *_buyer_lines(report.buyer_requests),
        "This is the bot's estimate of Lazada's own figure; the number in Seller Center is the one that counts.",
    ]
    if report.unreadable_orders:
        shown = ", ".join(report.unreadable_orders[:10]) + (" …" if len(report.unreadable_orders) > 10 else "")
        count = len(report.unreadable_orders)
        lines.append(f"{count} order{'s' if count != 1 else ''} could not be read (left out of the figures): {shown}")
    if not report.complete:
        lines.append("Some orders with cancelled items could not be read yet: the rate may be low.")
    if stats is not None:
        calls = ", ".join(f"{path} {count}" for path, count in sorted(stats.calls.items())) or "none"
        lines.append(f"Lazada calls for this sync ({'cold' if stats.cold else 'incremental'}): {calls}")
    return "\n".join(lines)


def _fail(message: str) -> None:
    print(f"cancel-order-bot: {message}", file=sys.stderr)


def _selected(stores: Sequence[StoreConfig], code: str | None) -> list[StoreConfig] | None:
    if code is None:
        return list(stores)
    chosen = [store for store in stores if store.code == code]
    return chosen or None


async def _one(digest: DigestService, store: StoreConfig, args: argparse.Namespace, stream: TextIO) -> int:
    progress = TerminalProgress(stream, store.code) if stream.isatty() else None
    try:
        stats = await digest.sync(store, progress=progress)
        report = await digest.report(store, indicators=await digest.read_indicators(store))
    except LazadaError as exc:
        _fail(f"store {store.code}: Lazada: {exc.user_message}")
        return 1
    except DigestError as exc:
        _fail(str(exc))
        return 1
    finally:
        if progress is not None:
            progress.finish()
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False), flush=True)
    else:
        print(render_digest_text(report, stats, sandbox=getattr(args, "sandbox", False)) + "\n", flush=True)
    if not args.post:
        return 0
    try:
        result = await digest.post(store, report)
    except DigestError as exc:
        _fail(str(exc))
        return 2
    if not result.ok:
        _fail(f"store {store.code}: Slack refused the digest ({result.error})")
        return 1
    note = f" (chart not uploaded: {result.error})" if result.error else ""
    print(f"store {store.code}: posted to {result.channel} at ts {result.ts}{note}", file=sys.stderr)
    return 0


async def digest_command(args: argparse.Namespace, settings: Settings) -> int:
    """Compute each store's digest now (one store with ``--store``): text, one JSON object per line, or posted.

    ``args``: ``store`` (code or None), ``json`` and ``post`` (flags), optionally ``sandbox``. A progress bar
    goes to stderr when it is a terminal. Exit code 0, 1 when a store failed, 2 for an unknown store.
    """
    configure_logging_for(settings, level="WARNING")
    async with opened_services(settings, lazada=lazada_for(args, settings)) as services:
        stores = _selected(services.stores, args.store)
        if stores is None:
            known = ", ".join(store.code for store in services.stores)
            _fail(f"unknown store {args.store!r}; configured stores: {known}")
            return 2
        digest = services.digest
        code = 0
        for store in stores:
            code = max(code, await _one(digest, store, args, sys.stderr))
    return code
