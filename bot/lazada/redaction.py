"""Keeping Lazada secrets out of text: error messages, log lines and httpx's request log."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import httpx

__all__ = ["SECRET_PARAMS", "RedactQueryFilter", "Redactor", "redact_httpx_logs"]

SECRET_PARAMS = ("access_token", "refresh_token", "code", "sign")
"""The request parameters whose values are secrets."""

_SECRET_PARAM_IN_TEXT = re.compile(r"\b(access_token|refresh_token|sign|app_secret|code)=[^&\s\"']+")


class Redactor:
    """Removes known secret values, and ``name=value`` pairs of secret parameters, from text."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        # Very short values would blank out ordinary words; real tokens and secrets are long.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def including(self, *more: str | None) -> Redactor:
        """A redactor that also removes ``more``."""
        return Redactor([*self._secrets, *more])

    def __call__(self, text: str | None) -> str | None:
        """``text`` without any secret; ``None`` and ``""`` pass through."""
        if not text:
            return text
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return _SECRET_PARAM_IN_TEXT.sub(r"\1=[redacted]", text)


class RedactQueryFilter(logging.Filter):
    """Drops the query string (access_token, sign) from URLs in httpx's request log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's URL arguments without their query; never drop the record."""
        if isinstance(record.args, tuple) and any(isinstance(arg, httpx.URL) for arg in record.args):
            record.args = tuple(arg.copy_with(query=None) if isinstance(arg, httpx.URL) else arg for arg in record.args)
        return True


def redact_httpx_logs() -> None:
    """Make httpx's "HTTP Request: GET <url>" log lines leave out the query string (idempotent)."""
    httpx_logger = logging.getLogger("httpx")
    if not any(isinstance(existing, RedactQueryFilter) for existing in httpx_logger.filters):
        httpx_logger.addFilter(RedactQueryFilter())
