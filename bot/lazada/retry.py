"""How the client retries reads: the policy (attempts, total time, waits) and which errors earn a retry."""

from __future__ import annotations

from dataclasses import dataclass

from bot.lazada.errors import LazadaRateLimitedError, LazadaServerError, LazadaTransportError

__all__ = ["RetryPolicy", "retry_hint"]


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How reads are retried: capped in attempts and total seconds, with exponential waits between them.

    ``ApiCallLimit`` waits exactly the ban Lazada announces instead of the exponential wait.
    """

    attempts: int = 4
    timeout: float | None = 30.0
    wait_initial: float = 0.5
    wait_max: float = 5.0
    wait_jitter: float = 0.5

    def __post_init__(self) -> None:
        """Refuse policies that would never try or never stop."""
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError("timeout must be positive, or None for no total cap")
        if min(self.wait_initial, self.wait_max, self.wait_jitter) < 0:
            raise ValueError("waits must not be negative")

    @classmethod
    def off(cls) -> RetryPolicy:
        """One attempt, no retry and no wait: for tests that want to see each failure."""
        return cls(attempts=1, timeout=None, wait_initial=0.0, wait_max=0.0, wait_jitter=0.0)

    @classmethod
    def without_waits(cls, attempts: int = 3) -> RetryPolicy:
        """Retry up to ``attempts`` times without exponential waits: for tests of the retry cap."""
        return cls(attempts=attempts, timeout=None, wait_initial=0.0, wait_max=0.0, wait_jitter=0.0)


def retry_hint(exc: Exception, *, time_left: float | None = None) -> bool | float:
    """Whether ``exc`` earns a retry: transport and server errors do; ApiCallLimit does after its ban.

    Returns the ban in seconds for ApiCallLimit; a ban longer than the time the policy has left is not
    waited out, so the error is raised at once.
    """
    if isinstance(exc, LazadaRateLimitedError):
        if time_left is not None and exc.retry_after > time_left:
            return False
        return exc.retry_after
    return isinstance(exc, LazadaTransportError | LazadaServerError)
