"""Errors the store raises; a CAS that loses is not an error (it returns False or an outcome)."""

from __future__ import annotations

__all__ = ["RequestNotFoundError", "StoreError"]


class StoreError(Exception):
    """Base of the store's errors."""


class RequestNotFoundError(StoreError):
    """No cancel request has this id."""

    def __init__(self, request_id: str) -> None:
        super().__init__(f"no cancel request {request_id!r}")
        self.request_id = request_id
