"""Errors of the digest: each says, in a sentence for a person, why there is no digest to show or post."""

from __future__ import annotations

__all__ = ["DigestError", "NoDigestChannelError", "NotSyncedError"]


class DigestError(Exception):
    """Base: no digest can be shown or posted as asked; `str(exc)` is a sentence for the person."""


class NotSyncedError(DigestError):
    """Nothing has been read from Lazada for the store yet, so there is nothing to compute from."""

    def __init__(self, store_code: str) -> None:
        super().__init__(
            f"The cancellation rate of store {store_code!r} has not been computed yet: "
            "its orders have not been read from Lazada. Try again after the next sync."
        )
        self.store_code = store_code


class NoDigestChannelError(DigestError):
    """The store has no digest channel to post to."""

    def __init__(self, store_code: str) -> None:
        super().__init__(f"Store {store_code!r} has no digest channel: set DIGEST_CHANNEL (or the store's own).")
        self.store_code = store_code
