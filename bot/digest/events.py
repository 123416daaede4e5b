"""What the digest tells the presenter: a store's digest is ready to be announced in its channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.digest.models import DigestReport, PostResult
from bot.events import Receipt

__all__ = ["DigestReady"]


@dataclass(frozen=True, slots=True)
class DigestReady:
    """Announce ``report`` in ``channel``, then answer ``receipt`` with where it went (ok=False: nothing is out).

    The digest service emits it once per store and day from the replica that won the day's claim, and on demand
    (the CLI's ``--post``). ``posted_since`` is set when this replica took over a dead holder's claim: a digest
    for the same store and day posted after that moment is the earlier attempt's, to be reused, not posted again.
    """

    report: DigestReport
    channel: str
    posted_since: datetime | None = None
    receipt: Receipt[PostResult] = field(default_factory=Receipt, compare=False)
