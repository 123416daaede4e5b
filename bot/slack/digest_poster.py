"""Posting a digest exactly once: the database claim that decides, the message with its metadata, the chart upload.

Every replica's tick may try; the one whose claim wins posts. A claim whose holder died is taken over after its
lease, and the new holder first looks in the channel for the message metadata the first attempt attached, so a
digest that was posted just before a crash is not posted again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.digest.models import DigestReport, PostResult
from bot.slack.chart import chart_filename, render_chart
from bot.slack.render.digest import render_digest
from bot.store.claims import ClaimStore
from bot.store.models import ClaimStatus

__all__ = ["CLAIM_KIND", "DIGEST_EVENT", "ClaimOutcome", "DigestPoster", "claim_key"]

CLAIM_KIND = "digest"
DIGEST_EVENT = "daily_digest"
_HISTORY_LIMIT = 200

log = structlog.get_logger(__name__)


def claim_key(store_code: str, day: object) -> str:
    """The claim of one store's digest for one local date, e.g. ``main/2026-11-30``."""
    return f"{store_code}/{day}"


def _error_of(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return str(exc.response.get("error") or "unknown_error")
    return type(exc).__name__


_SLACK_FAILURES = (SlackClientError, aiohttp.ClientError, TimeoutError)


@dataclass(frozen=True, slots=True)
class ClaimOutcome:
    """What a claim attempt found: ``won`` (this replica posts), and whether it took over a dead holder's claim."""

    won: bool
    taken_over: bool = False


class DigestPoster:
    """Claims, posts and uploads digests through Slack's Web API; one instance per app."""

    def __init__(
        self,
        *,
        slack_client: AsyncWebClient,
        claims: ClaimStore,
        clock: Callable[[], datetime],
        replica_id: str,
        lease: timedelta = timedelta(minutes=15),
    ) -> None:
        self._slack = slack_client
        self._claims = claims
        self._clock = clock
        self._replica_id = replica_id
        self._lease = lease

    async def claim(self, key: str) -> ClaimOutcome:
        """Try to become the one replica that posts the digest ``key``; a done digest is never claimed again."""
        existing = await self._claims.get(CLAIM_KIND, key)
        if existing is not None and existing.status is ClaimStatus.DONE:
            return ClaimOutcome(won=False)
        won = await self._claims.claim(CLAIM_KIND, key, self._replica_id, now=self._clock(), lease=self._lease)
        return ClaimOutcome(won=won, taken_over=won and existing is not None)

    async def complete(self, key: str, result: dict[str, Any]) -> bool:
        """Mark the digest ``key`` done with ``result``; False if another replica took the claim over meanwhile."""
        return await self._claims.complete(CLAIM_KIND, key, self._replica_id, result)

    async def release(self, key: str) -> None:
        """Give the claim back so the next tick tries again (nothing was posted)."""
        await self._claims.release(CLAIM_KIND, key, self._replica_id)

    async def publish(self, channel: str, report: DigestReport) -> PostResult:
        """Post the digest with its metadata, then upload the chart to the same channel with ``files_upload_v2``.

        A failed post returns ``ok=False`` (nothing is in the channel). A failed upload still returns ``ok=True``
        with the upload's error, since the digest itself is out and must not be posted twice.
        """
        message = render_digest(report)
        metadata = {
            "event_type": DIGEST_EVENT,
            "event_payload": {"store": report.store_code, "date": report.today.isoformat()},
        }
        try:
            response = await self._slack.chat_postMessage(
                channel=channel, text=message.text, blocks=message.blocks, metadata=metadata
            )
        except _SLACK_FAILURES as exc:
            error = _error_of(exc)
            log.warning("digest.post_failed", store_code=report.store_code, channel=channel, error=error)
            return PostResult(ok=False, channel=channel, error=error)
        ts = response.get("ts")
        posted_channel = response.get("channel") or channel
        try:
            chart = await asyncio.to_thread(render_chart, report)
        except Exception:
            # The message is out: report the missing chart rather than let a retry post the digest twice.
            log.exception("digest.chart_failed", store_code=report.store_code)
            return PostResult(ok=True, channel=posted_channel, ts=ts, error="chart_failed")
        try:
            uploaded = await self._slack.files_upload_v2(
                channel=posted_channel,
                file=chart,
                filename=chart_filename(report),
                title=f"Seller-fault cancellation rate (estimate), last {len(report.daily)} days",
                alt_txt=(
                    f"Line chart of the estimated seller-fault cancellation rate per day, with the warning line at "
                    f"{report.thresholds.warning_rate:.2%} and the limit line at {report.thresholds.limit_rate:.2%}."
                ),
            )
        except _SLACK_FAILURES as exc:
            error = _error_of(exc)
            log.warning("digest.chart_upload_failed", store_code=report.store_code, channel=posted_channel, error=error)
            return PostResult(ok=True, channel=posted_channel, ts=ts, error=error)
        file = uploaded.get("file") or {}
        file_id = file.get("id") if isinstance(file, dict) else None
        log.info("digest.posted", store_code=report.store_code, channel=posted_channel, ts=ts, file_id=file_id)
        return PostResult(ok=True, channel=posted_channel, ts=ts, file_id=file_id)

    async def find_posted(self, channel: str, store_code: str, day: object, *, since: datetime) -> str | None:
        """The ts of this store's digest for ``day`` if an earlier attempt posted it after ``since``; else None.

        When the channel's history cannot be read, None: the digest is then posted (at most one duplicate
        after a crash, rather than none at all).
        """
        try:
            response = await self._slack.conversations_history(
                channel=channel, oldest=f"{since.timestamp():.6f}", include_all_metadata=True, limit=_HISTORY_LIMIT
            )
        except _SLACK_FAILURES as exc:
            log.warning("digest.history_unreadable", store_code=store_code, channel=channel, error=_error_of(exc))
            return None
        wanted = {"store": store_code, "date": str(day)}
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            if metadata.get("event_type") == DIGEST_EVENT and metadata.get("event_payload") == wanted:
                ts = message.get("ts")
                return str(ts) if ts else None
        return None
