"""Injected faults and the per-app rate limit: how the sandbox misbehaves on purpose."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "NETWORK_FAULTS",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "RateLimitWindow",
]

DEFAULT_TIMEOUT_SECONDS = 30.0


class FaultKind(StrEnum):
    """What an injected fault does to the response."""

    TIMEOUT = "timeout"
    CONNECTION_RESET = "connection_reset"
    HTTP_502 = "http_502"
    MALFORMED_JSON = "malformed_json"
    SERVICE_TIMEOUT = "service_timeout"
    API_CALL_LIMIT = "api_call_limit"
    ILLEGAL_ACCESS_TOKEN = "illegal_access_token"  # noqa: S105 - a fault name, not a token
    CAMPAIGN_DISABLED = "campaign_disabled"
    ROC_INTERNAL_ERROR = "roc_internal_error"
    """``106 E0106: ROC internal error`` (with ``apply_first``, after the call took effect: an unknown outcome)."""
    TIP_ERROR = "tip_error"
    CODE_WITH_TIP = "code_with_tip"
    """A non-zero code whose answer also carries ``data.tip_content`` (the tip is ``text``)."""
    CANNED = "canned"
    """Answer with ``body`` as given (a documented example answer), its ``request_id`` filled in."""


NETWORK_FAULTS = frozenset({FaultKind.TIMEOUT, FaultKind.CONNECTION_RESET})


@dataclass(slots=True)
class Fault:
    """One injected fault: which calls it hits, how many more times, and how it answers."""

    kind: FaultKind
    path: str | None
    remaining: int
    apply_first: bool
    delay_seconds: float
    status: int
    text: str | None
    body: Mapping[str, Any] | None = None

    def matches(self, path: str) -> bool:
        """Return whether this fault applies to a call of ``path``."""
        return self.path is None or self.path == path


def _normalise_path(path: str | None) -> str | None:
    if path is None:
        return None
    path = path.removeprefix("/rest")
    return path if path.startswith("/") else f"/{path}"


class FaultPlan:
    """The queue of injected faults of one sandbox world; matching faults are consumed in order."""

    def __init__(self, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.timeout_seconds = timeout_seconds
        self._faults: list[Fault] = []

    def inject(
        self,
        kind: FaultKind | str,
        *,
        path: str | None = None,
        times: int = 1,
        apply_first: bool = False,
        delay: float | None = None,
        status: int = 502,
        text: str | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Fault:
        """Queue a fault for the next ``times`` calls of ``path`` (any API path when ``None``).

        ``apply_first`` handles the call (side effects included) before the fault replaces the answer.
        ``delay`` overrides the timeout's wait, ``status`` the HTTP code of ``http_502`` (any 5xx), and
        ``text`` the tip of ``tip_error`` and ``code_with_tip``; ``body`` is the answer of ``canned``.
        """
        fault_kind = FaultKind(kind)
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times}")
        if not 500 <= status <= 599:
            raise ValueError(f"status must be a 5xx code, got {status}")
        if delay is not None and delay < 0:
            raise ValueError(f"delay must not be negative, got {delay}")
        if (fault_kind is FaultKind.CANNED) != (body is not None):
            raise ValueError("a canned answer needs a body, and only a canned answer takes one")
        fault = Fault(
            kind=fault_kind,
            path=_normalise_path(path),
            remaining=times,
            apply_first=apply_first,
            delay_seconds=self.timeout_seconds if delay is None else delay,
            status=status,
            text=text,
            body=body,
        )
        self._faults.append(fault)
        return fault

    def take(self, path: str) -> Fault | None:
        """Consume one use of the first queued fault matching ``path`` and return it."""
        for index, fault in enumerate(self._faults):
            if fault.matches(path):
                fault.remaining -= 1
                if fault.remaining == 0:
                    del self._faults[index]
                return fault
        return None

    @property
    def pending(self) -> tuple[Fault, ...]:
        """The faults still queued, first to fire first."""
        return tuple(self._faults)

    def clear(self) -> None:
        """Drop every queued fault."""
        self._faults.clear()


class RateLimitWindow:
    """A sliding one-second window of accepted calls, checked against a calls-per-second limit."""

    def __init__(self) -> None:
        self._accepted: deque[datetime] = deque()

    def admit(self, now: datetime, limit: int | None) -> bool:
        """Record a call at ``now`` and return True, or return False when ``limit`` calls already ran."""
        if limit is None:
            return True
        horizon = now - timedelta(seconds=1)
        while self._accepted and self._accepted[0] <= horizon:
            self._accepted.popleft()
        if len(self._accepted) >= limit:
            return False
        self._accepted.append(now)
        return True
