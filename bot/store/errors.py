"""Errors the store raises; a CAS that loses is not an error (it returns False or an outcome)."""

from __future__ import annotations

from bot.domain import RequestNotFoundError

__all__ = ["RequestNotFoundError", "StoreError"]


class StoreError(Exception):
    """Base of the store's errors."""
