"""The daily seller-fault cancellation-rate digest: Lazada orders cached per store, the figures, the daily claim.

Build a `bot.digest.service.DigestService` and use its `sync`, `report`, `projection`, `post` and `tick`; it
emits `bot.digest.events.DigestReady` for the presenter (`bot.slack.digest_poster`) and imports nothing of Slack.
This package root only re-exports the records, so the renderers can import them without the service.
"""

from bot.digest.errors import DigestError, NoDigestChannelError, NotSyncedError
from bot.digest.models import (
    Activity,
    ApproverCount,
    DailyRate,
    DayCounts,
    DigestReport,
    Figures,
    NamedCount,
    PostResult,
    RateStatus,
    SyncStats,
)

__all__ = [
    "Activity",
    "ApproverCount",
    "DailyRate",
    "DayCounts",
    "DigestError",
    "DigestReport",
    "Figures",
    "NamedCount",
    "NoDigestChannelError",
    "NotSyncedError",
    "PostResult",
    "RateStatus",
    "SyncStats",
]
