"""The digest's presenter: posts a `DigestReady` digest with its metadata, then uploads its chart, and answers.

The digest service decides (its daily claim says which replica announces); this module only tells Slack. The
message goes through the gateway, which marks it SANDBOX on the sandbox. When the event says a dead replica held
the claim before, the channel is first searched for the message metadata that attempt attached, so a digest posted
just before a crash is not posted again.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import aiohttp
import structlog
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.digest.events import DigestReady
from bot.digest.models import DigestReport, PostResult
from bot.events import EventBus
from bot.slack.chart import chart_filename, render_chart
from bot.slack.gateway import SlackGateway
from bot.slack.render.digest import render_digest

__all__ = ["DIGEST_EVENT", "DigestPoster"]

DIGEST_EVENT = "daily_digest"
_HISTORY_LIMIT = 200

log = structlog.get_logger(__name__)


def _error_of(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return str(exc.response.get("error") or "unknown_error")
    return type(exc).__name__


_SLACK_FAILURES = (SlackClientError, aiohttp.ClientError, TimeoutError)


class DigestPoster:
    """Posts digests and uploads their charts through the gateway's Web API client; one instance per app."""

    def __init__(self, gateway: SlackGateway) -> None:
        self._gateway = gateway
        self._slack = gateway.client

    def subscribe(self, bus: EventBus) -> None:
        """Post every digest the digest service emits on ``bus``."""
        bus.subscribe(DigestReady, self.on_digest_ready)

    async def on_digest_ready(self, event: DigestReady) -> None:
        """Post the digest (or find the one an earlier attempt posted) and answer the event with where it went."""
        if event.posted_since is not None:
            day = event.report.today.isoformat()
            ts = await self.find_posted(event.channel, event.report.store_code, day, since=event.posted_since)
            if ts is not None:
                log.info("digest.already_posted", store_code=event.report.store_code, day=day, ts=ts)
                event.receipt.answer(PostResult(ok=True, channel=event.channel, ts=ts, reused=True))
                return
        event.receipt.answer(await self.publish(event.channel, event.report))

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
        delivery = await self._gateway.post(channel, message, metadata=metadata)
        if not delivery.ok:
            log.warning("digest.post_failed", store_code=report.store_code, channel=channel, error=delivery.error)
            return PostResult(ok=False, channel=channel, error=delivery.error)
        ts = delivery.ts
        posted_channel = delivery.channel or channel
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
