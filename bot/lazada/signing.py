"""Lazada request signing: HMAC-SHA256 over the API path and the sorted parameters."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

__all__ = ["sign", "signing_string"]


def signing_string(api_path: str, params: Mapping[str, str]) -> str:
    """Return the string Lazada signs: the API path, then each ``name+value`` sorted by name."""
    return api_path + "".join(f"{name}{params[name]}" for name in sorted(params) if name != "sign")


def sign(secret: str, api_path: str, params: Mapping[str, str]) -> str:
    """Return Lazada's ``sign`` for ``params`` sent to ``api_path`` (uppercase hex HMAC-SHA256)."""
    message = signing_string(api_path, params).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest().upper()
