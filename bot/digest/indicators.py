"""Lazada's own indicators (GetSellerPerformance), read once a day per store and kept beside the estimate.

The reading is stored as a scheduler claim's result (kind ``seller_performance``, key ``store/day``): the claim
makes one replica call Lazada per store and day, and its result is what every replica shows afterwards. A failed
call is not stored: the claim is given back, so a later digest that day may try again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import structlog

from bot.digest.claims import claim_key
from bot.digest.models import Indicator, IndicatorReading
from bot.lazada.client import LazadaClient
from bot.lazada.errors import LazadaError
from bot.lazada.models import PerformanceIndicator
from bot.store.claims import ClaimStore
from bot.store.models import ClaimStatus

__all__ = ["INDICATORS_KIND", "IndicatorReader", "cancellation_indicator", "indicator_rate"]

INDICATORS_KIND = "seller_performance"

log = structlog.get_logger(__name__)


def _indicator(raw: PerformanceIndicator) -> Indicator:
    return Indicator(
        type=raw.type,
        name=raw.name or raw.type or "(unnamed)",
        score=raw.formatted_score or (None if raw.score is None else str(raw.score)),
        target=raw.formatted_target or (None if raw.target is None else str(raw.target)),
        respected=raw.target_respected,
        score_value=None if raw.score is None else float(raw.score),
        score_format=raw.score_format,
    )


def cancellation_indicator(reading: IndicatorReading | None) -> Indicator | None:
    """The indicator about cancellations, if Lazada returned one (its type or name mentions cancel)."""
    if reading is None:
        return None
    for indicator in reading.indicators:
        words = f"{indicator.type or ''} {indicator.name}".lower()
        if "cancel" in words:
            return indicator
    return None


def indicator_rate(indicator: Indicator) -> float | None:
    """The indicator's score as a fraction, when it can be told: a ``%`` score, a percent format, or a fraction.

    The docs do not say how a rate is scored; a score shown with ``%`` or a percent format is read as percent,
    a bare number up to 1 as a fraction, anything else is left unknown rather than guessed.
    """
    shown = (indicator.score or "").strip()
    if shown.endswith("%"):
        try:
            return float(Decimal(shown.removesuffix("%").strip())) / 100
        except InvalidOperation:
            return None
    value = indicator.score_value
    if value is None:
        return None
    if "percent" in (indicator.score_format or "").lower():
        return value / 100
    return value if 0 <= value <= 1 else None


class IndicatorReader:
    """Reads a store's indicators from Lazada at most once a day, and what was read for a day."""

    def __init__(self, claims: ClaimStore, *, clock: Callable[[], datetime], replica_id: str, lease: timedelta) -> None:
        self._claims = claims
        self._clock = clock
        self._replica_id = replica_id
        self._lease = lease

    async def stored(self, store_code: str, day: date) -> IndicatorReading | None:
        """What was read for ``day``, or None when nothing was (yet)."""
        claim = await self._claims.get(INDICATORS_KIND, claim_key(store_code, day.isoformat()))
        if claim is None or claim.status is not ClaimStatus.DONE or not isinstance(claim.result, dict):
            return None
        return IndicatorReading.model_validate(claim.result)

    async def read(self, store_code: str, client: LazadaClient, day: date) -> IndicatorReading | None:
        """The day's reading: stored if some replica already read it, else read from Lazada now (once).

        A failure comes back as a reading with ``error`` set, and is not stored; None when another replica is
        reading right now.
        """
        key = claim_key(store_code, day.isoformat())
        done = await self.stored(store_code, day)
        if done is not None:
            return done
        if not await self._claims.claim(INDICATORS_KIND, key, self._replica_id, now=self._clock(), lease=self._lease):
            return await self.stored(store_code, day)
        try:
            performance = await client.get_seller_performance()
        except LazadaError as exc:
            log.warning("digest.indicators_failed", store_code=store_code, error=str(exc))
            await self._claims.release(INDICATORS_KIND, key, self._replica_id)
            return IndicatorReading(read_at=self._clock(), error=exc.user_message)
        reading = IndicatorReading(
            read_at=self._clock(), indicators=tuple(_indicator(one) for one in performance.indicators)
        )
        await self._claims.complete(INDICATORS_KIND, key, self._replica_id, reading.model_dump(mode="json"))
        return reading
