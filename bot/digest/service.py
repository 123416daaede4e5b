"""The digest service: sync a store's orders, compute its report from the cache, announce it once a day, project rates.

It posts nothing itself: it emits `DigestReady` on the event bus and the presenter that subscribes tells Slack.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Protocol

import structlog

from bot.buyer.models import BuyerRequestCounts
from bot.digest.activity import ActivityReader
from bot.digest.cache import DigestCache, SyncState
from bot.digest.claims import DigestClaims, claim_key
from bot.digest.errors import NoDigestChannelError, NotSyncedError
from bot.digest.estimate import daily_rates, figures, project, rate_status
from bot.digest.events import DigestReady
from bot.digest.indicators import IndicatorReader, cancellation_indicator, indicator_rate
from bot.digest.models import DigestReport, Figures, IndicatorReading, InitiatorCount, PostResult, SyncStats
from bot.digest.sync import OrdersWaiting, OrderSync, Progress
from bot.digest.window import (
    CHART_DAYS,
    DayRange,
    history_first_day,
    local_day,
    pipeline_window,
    projected_window,
    rate_window,
    scheduled_at,
)
from bot.events import EventBus
from bot.lazada.client import LazadaClient
from bot.settings import StoreConfig
from bot.store.claims import ClaimStore
from bot.store.db import Database
from bot.workflow.errors import UnknownStoreError
from bot.workflow.models import RateProjection

__all__ = ["ACTIVITY_PERIOD", "BuyerCounts", "DigestService"]

ACTIVITY_PERIOD = timedelta(hours=24)

log = structlog.get_logger(__name__)

StoreRef = StoreConfig | str


class BuyerCounts(Protocol):
    """What the buyer-request service counted for a store over a period (`BuyerRequestService.counts`)."""

    async def __call__(self, store_code: str, *, since: datetime, until: datetime) -> BuyerRequestCounts:
        """The store's buyer requests received and ended in ``[since, until)``."""
        ...


class DigestService:
    """Everything about the daily cancellation-rate digest, for the scheduler, the slash command, the CLI and the modal.

    Figures come from the database cache only; ``sync`` is the one method that calls Lazada.
    """

    def __init__(
        self,
        *,
        db: Database,
        clients: Mapping[str, LazadaClient],
        stores: Sequence[StoreConfig],
        bus: EventBus,
        clock: Callable[[], datetime],
        seller_fault_initiators: Collection[str],
        skip_quiet_days: bool = False,
        digest_time: time = time(9, 0),
        replica_id: str = "local",
        concurrency: int = 16,
        claim_lease: timedelta = timedelta(minutes=15),
        claim_renew_every: float | None = None,
        chart_days: int = CHART_DAYS,
        buyer_counts: BuyerCounts | None = None,
        orders_waiting: OrdersWaiting | None = None,
    ) -> None:
        if not stores:
            raise ValueError("the digest needs at least one store")
        self.stores = {store.code: store for store in stores}
        self.clients = clients
        self.clock = clock
        self.initiators = frozenset(seller_fault_initiators)
        self.skip_quiet_days = skip_quiet_days
        self.digest_time = digest_time
        self.chart_days = chart_days
        self.cache = DigestCache(db)
        self.activity = ActivityReader(db)
        self.syncer = OrderSync(
            cache=self.cache, clock=clock, concurrency=concurrency, chart_days=chart_days, orders_waiting=orders_waiting
        )
        self.bus = bus
        self.claims = DigestClaims(ClaimStore(db), clock=clock, replica_id=replica_id, lease=claim_lease)
        # Seconds between renewals of a held digest claim while its sync runs (a third of the lease by default).
        self.claim_renew_every = claim_renew_every or claim_lease.total_seconds() / 3
        # Buyers' cancellation requests of the last 24 h, read from the database with the activity (issue 11).
        self.buyer_counts = buyer_counts
        self.indicator_reader = IndicatorReader(ClaimStore(db), clock=clock, replica_id=replica_id, lease=claim_lease)

    def store(self, store: StoreRef | None = None) -> StoreConfig:
        """The store given, by config or code (the first store when None); UnknownStoreError otherwise."""
        if isinstance(store, StoreConfig):
            return store
        if store is None:
            return next(iter(self.stores.values()))
        try:
            return self.stores[store]
        except KeyError:
            raise UnknownStoreError(store, sorted(self.stores)) from None

    async def sync(self, store: StoreRef, *, progress: Progress | None = None) -> SyncStats:
        """Read from Lazada what the store's cache lacks: everything the first time, then new and changed orders."""
        config = self.store(store)
        return await self.syncer.sync(config, self.clients[config.code], progress=progress)

    async def read_indicators(self, store: StoreRef, *, today: date | None = None) -> IndicatorReading | None:
        """Lazada's own indicators for the store's day: read from Lazada once a day, then from the database.

        Never raises for Lazada's sake: a failed call is a reading with ``error``, so the digest still posts.
        """
        config = self.store(store)
        day = today if today is not None else local_day(self.clock(), config.tz)
        try:
            return await self.indicator_reader.read(config.code, self.clients[config.code], day)
        except Exception:
            log.exception("digest.indicators_unavailable", store_code=config.code)
            return IndicatorReading(read_at=self.clock(), error="the bot could not ask Lazada for them")

    async def stored_indicators(self, store: StoreRef) -> IndicatorReading | None:
        """Today's indicators as the digest read them (from the database only: App Home never calls Lazada)."""
        config = self.store(store)
        return await self.indicator_reader.stored(config.code, local_day(self.clock(), config.tz))

    async def report(
        self, store: StoreRef, *, today: date | None = None, indicators: IndicatorReading | None = None
    ) -> DigestReport:
        """The store's digest for ``today`` (default: the store's date now), from the cache only.

        ``indicators`` is the day's reading of Lazada's own indicators when the caller just made it; otherwise
        what was stored for the day is shown. Raises NotSyncedError when the store's orders were never read.
        """
        config = self.store(store)
        tz = config.tz
        now = self.clock()
        day = today if today is not None else local_day(now, tz)
        state = await self._state(config)
        first_day = history_first_day(day, self.chart_days)
        counts = await self.cache.day_counts(config.code, first_day, day, initiators=self.initiators)
        covered = local_day(state.covered_from, tz)

        def known(span: DayRange) -> Figures | None:
            return figures(counts, span) if span.first >= covered else None

        window = known(rate_window(day))
        if window is None:
            raise NotSyncedError(config.code)
        initiators = await self.cache.initiator_counts(config.code, window.first_day, window.last_day)
        reading = indicators if indicators is not None else await self.indicator_reader.stored(config.code, day)
        about_cancellations = cancellation_indicator(reading)
        projected = figures(counts, projected_window(day))
        thresholds = config.thresholds
        return DigestReport(
            store_code=config.code,
            store_label=config.label,
            timezone=tz.key,
            today=day,
            generated_at=now,
            synced_at=state.last_synced_at,
            thresholds=thresholds,
            window=window,
            status=rate_status(window.rate, window.cancelled_items, thresholds),
            yesterday=known(rate_window(day - timedelta(days=1))),
            week_ago=known(rate_window(day - timedelta(days=7))),
            pipeline=figures(counts, pipeline_window(day)),
            projected=projected,
            projected_status=rate_status(projected.rate, projected.cancelled_items, thresholds),
            daily=tuple(
                rate for rate in daily_rates(counts, day, self.chart_days) if rate_window(rate.day).first >= covered
            ),
            activity=await self.activity.read(config.code, since=now - ACTIVITY_PERIOD, until=now),
            unreadable_orders=state.unreadable_orders,
            by_initiator=tuple(
                InitiatorCount(initiator=name, items=count, seller_fault=name in self.initiators)
                for name, count in sorted(initiators.items(), key=lambda pair: (-pair[1], pair[0]))
            ),
            seller_fault_initiators=tuple(sorted(self.initiators)),
            indicators=reading,
            cancellation_indicator=about_cancellations,
            cancellation_indicator_rate=None if about_cancellations is None else indicator_rate(about_cancellations),
            buyer_requests=(
                await self.buyer_counts(config.code, since=now - ACTIVITY_PERIOD, until=now)
                if self.buyer_counts is not None
                else None
            ),
        )

    async def refresh(
        self, store: StoreRef, *, max_age: timedelta | None = None, progress: Progress | None = None
    ) -> DigestReport:
        """Sync the store (unless it was synced less than ``max_age`` ago), then compute its digest.

        What on-demand digests show; ``max_age`` spares Lazada when several people ask within minutes.
        """
        config = self.store(store)
        state = await self.cache.state(config.code) if max_age is not None else None
        if state is None or max_age is None or self.clock() - state.last_synced_at >= max_age:
            await self.sync(config, progress=progress)
        return await self.report(config, indicators=await self.read_indicators(config))

    async def synced_at(self, store: StoreRef) -> datetime | None:
        """When the store's orders were last read from Lazada (None: never); fits the workflow's ``synced_at`` hook."""
        state = await self.cache.state(self.store(store).code)
        return None if state is None else state.last_synced_at

    async def projection(self, store: StoreRef, extra_items: int) -> RateProjection | None:
        """The rate now and if ``extra_items`` more seller-fault cancelled items join the window; cache only.

        None when the store's orders were never read. Fits the workflow's ``rates`` hook.
        """
        config = self.store(store)
        state = await self.cache.state(config.code)
        if state is None:
            return None
        span = rate_window(local_day(self.clock(), config.tz))
        if span.first < local_day(state.covered_from, config.tz):
            return None
        counts = await self.cache.day_counts(config.code, span.first, span.last, initiators=self.initiators)
        return project(figures(counts, span), extra_items, config.thresholds)

    async def post(self, store: StoreRef, report: DigestReport) -> PostResult:
        """Have the digest posted to the store's digest channel now (on demand: no daily claim); where it went."""
        config = self.store(store)
        if not config.digest_channel:
            raise NoDigestChannelError(config.code)
        return await self._announce(DigestReady(report=report, channel=config.digest_channel))

    def due_day(self, store: StoreRef, now: datetime) -> date | None:
        """The store-local date whose digest is due at ``now`` (its time has come today), or None before it."""
        config = self.store(store)
        today = local_day(now, config.tz)
        if now >= scheduled_at(today, config.digest_time or self.digest_time, config.tz):
            return today
        return None

    async def tick(self) -> None:
        """For the scheduler on every replica: announce each due store's digest once, the claim deciding who does.

        A store whose time has come today and whose digest is not done yet is due, so a replica that was down
        at the digest time catches up on its next tick. A failure (nothing posted) releases the claim for the next
        tick; the claim is done with the presenter's answer (channel, ts, chart) once the digest is out.
        """
        now = self.clock()
        due = [
            (store, day) for store in self.stores.values() if store.digest_channel and (day := self.due_day(store, now))
        ]
        await asyncio.gather(*(self._post_due(store, day) for store, day in due))

    async def _post_due(self, store: StoreConfig, day: date) -> None:
        channel = store.digest_channel
        assert channel is not None
        key = claim_key(store.code, day.isoformat())
        try:
            outcome = await self.claims.claim(key)
            if not outcome.won:
                return
        except Exception:
            log.exception("digest.claim_failed", store_code=store.code, day=day.isoformat())
            return
        posted_since = None
        if outcome.taken_over:
            posted_since = scheduled_at(day, store.digest_time or self.digest_time, store.tz) - timedelta(minutes=1)
        keeper = asyncio.create_task(self._keep_claim(key))
        try:
            await self.sync(store)
            report = await self.report(store, today=day, indicators=await self.read_indicators(store, today=day))
            if self.skip_quiet_days and report.quiet:
                log.info("digest.skipped_quiet", store_code=store.code, day=day.isoformat())
                await self.claims.complete(key, {"skipped": "quiet"})
                return
            keeper.cancel()
            # Checked last: a replica that lost the claim during a long sync leaves the post to the new holder.
            if not await self.claims.renew(key):
                log.warning("digest.claim_lost", store_code=store.code, day=day.isoformat())
                return
            result = await self._announce(DigestReady(report=report, channel=channel, posted_since=posted_since))
        except Exception:
            log.exception("digest.failed", store_code=store.code, day=day.isoformat())
            await self._release(key)
            return
        finally:
            keeper.cancel()
        if not result.ok:
            await self._release(key)
            return
        await self.claims.complete(key, result.model_dump(mode="json"))

    async def _keep_claim(self, key: str) -> None:
        """Renew the claim on ``key`` while the digest is worked out, so a long sync does not lose it to a takeover."""
        while True:
            await asyncio.sleep(self.claim_renew_every)
            try:
                if not await self.claims.renew(key):
                    return
            except Exception:
                log.warning("digest.claim_renewal_failed", key=key, exc_info=True)

    async def _announce(self, event: DigestReady) -> PostResult:
        """Emit the event and return the presenter's answer; nothing answering means nothing was posted."""
        await self.bus.emit(event)
        result = event.receipt.value
        if result is None:
            log.error("digest.no_presenter", store_code=event.report.store_code)
            return PostResult(ok=False, channel=event.channel, error="no_presenter")
        return result

    async def _release(self, key: str) -> None:
        try:
            await self.claims.release(key)
        except Exception:
            log.exception("digest.release_failed", key=key)

    async def _state(self, store: StoreConfig) -> SyncState:
        state = await self.cache.state(store.code)
        if state is None:
            raise NotSyncedError(store.code)
        return state
