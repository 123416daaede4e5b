"""Lazada client errors, one class per thing the caller must do.

    LazadaError                    base: api_path, code, request_id, user_message
     ├── LazadaTransportError      no answer (timeout, reset, DNS): retry later; timed_out, request_sent
     ├── LazadaRateLimitedError    ApiCallLimit: wait retry_after seconds, then retry
     ├── LazadaAuthError           token/signature refused: refresh (refreshable) or re-authorize the store
     ├── LazadaBusinessError       Lazada refused the request itself: show user_message to the person
     ├── LazadaServerError         Lazada-side failure (5xx, ServiceTimeout, 998, E0106): retry later
     └── LazadaDecodeError         the answer is not the documented shape: report, retry later

``str(exc)`` is for logs (path, code, Lazada's message, request id); ``user_message`` is one sentence for a
person, followed by Lazada's own words (its ``tip_content`` or ``message``) verbatim whenever it sent any.
Neither ever holds a secret: the client redacts tokens and signatures before building an error.

``outcome_unknown`` is set on an error of a write whose effect Lazada may have applied anyway (no answer after
the request left, a server error such as E0106, an unreadable answer, a code-0 answer with an error tip): the
caller must read the state back before ever sending the write again. A definite refusal (a numbered business
code, an auth or rate-limit refusal, a request that never left) leaves it False.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import TypedDict, Unpack

__all__ = [
    "LazadaAuthError",
    "LazadaBusinessError",
    "LazadaDecodeError",
    "LazadaError",
    "LazadaErrorContext",
    "LazadaRateLimitedError",
    "LazadaServerError",
    "LazadaTransportError",
    "retry_after_from_message",
]

DEFAULT_RETRY_AFTER = 1.0

_BAN_SECONDS = re.compile(r"ban will last\s+(\d+(?:\.\d+)?)\s*seconds?", re.IGNORECASE)


def retry_after_from_message(message: str | None, default: float = DEFAULT_RETRY_AFTER) -> float:
    """Return the wait Lazada asks for in an ``ApiCallLimit`` message ("this ban will last N seconds")."""
    if message and (match := _BAN_SECONDS.search(message)):
        return float(match.group(1))
    return default


class LazadaErrorContext(TypedDict, total=False):
    """What Lazada said about a failed call, each part only where it said it: code, request id, message, HTTP status."""

    code: str | None
    request_id: str | None
    lazada_message: str | None
    http_status: int | None


_UNKNOWN_OUTCOME = "Lazada did not confirm whether it applied this; the bot reads it back before ever sending it again."


class LazadaError(Exception):
    """Base of every error the Lazada client raises."""

    retryable: bool = False
    outcome_unknown: bool = False
    """True on a write's error when Lazada may have applied the write anyway: read back before sending again."""
    tip_content: str | None = None
    """Lazada's ``data.tip_content`` when the failing answer carried one (an error code can come with a tip)."""

    def __init__(self, detail: str, *, api_path: str, **context: Unpack[LazadaErrorContext]) -> None:
        code = context.get("code")
        request_id = context.get("request_id")
        parts = [f"{api_path}:"]
        if code is not None:
            parts.append(f"[{code}]")
        parts.append(detail)
        if request_id:
            parts.append(f"(request_id={request_id})")
        super().__init__(" ".join(parts))
        self.api_path = api_path
        self.code = code
        self.request_id = request_id
        self.lazada_message = context.get("lazada_message")
        self.http_status = context.get("http_status")

    @property
    def lazada_words(self) -> str | None:
        """What Lazada itself said, verbatim: its ``tip_content`` when it gave one, else its ``message``."""
        words = (self.tip_content or self.lazada_message or "").strip()
        return words or None

    def beside_lazada(self, sentence: str) -> str:
        """The bot's sentence followed by Lazada's own words, so the person reads both (once, if they are one)."""
        words = self.lazada_words
        if not words or words in sentence:
            return sentence
        return f"{sentence} Lazada says: “{words}”"

    @property
    def user_message(self) -> str:
        """One sentence for a person: what went wrong, without internals, and Lazada's own words when it sent any."""
        if self.outcome_unknown:
            return self.beside_lazada(_UNKNOWN_OUTCOME)
        return self.beside_lazada("Something went wrong while talking to Lazada; please try again later.")


class LazadaTransportError(LazadaError):
    """Lazada could not be reached or did not answer: timeout, connection reset, DNS failure."""

    retryable = True

    def __init__(
        self,
        detail: str,
        *,
        api_path: str,
        timed_out: bool,
        request_sent: bool,
    ) -> None:
        super().__init__(detail, api_path=api_path)
        self.timed_out = timed_out
        # False only when the request surely never left (connect failed): a write is then known not to have run.
        self.request_sent = request_sent

    @property
    def user_message(self) -> str:
        """One sentence for a person: what went wrong, without internals."""
        if self.outcome_unknown:
            return _UNKNOWN_OUTCOME
        if self.timed_out:
            return "Lazada did not answer in time; please try again in a few minutes."
        return "The bot could not reach Lazada; please try again in a few minutes."


class LazadaRateLimitedError(LazadaError):
    """Lazada's per-second call limit was hit (``ApiCallLimit``); ``retry_after`` says how long to wait."""

    retryable = True

    def __init__(
        self, detail: str, *, api_path: str, retry_after: float, **context: Unpack[LazadaErrorContext]
    ) -> None:
        super().__init__(detail, api_path=api_path, **context)
        self.retry_after = retry_after

    @property
    def user_message(self) -> str:
        """One sentence for a person: what went wrong, without internals."""
        return self.beside_lazada("Lazada is limiting how fast the bot may call it; please try again in a few seconds.")


_REAUTHORIZE = "Lazada no longer accepts this store's authorization; an administrator must re-authorize the store."
_AUTH_MESSAGES = MappingProxyType(
    {
        "IllegalRefreshToken": _REAUTHORIZE,
        "InvalidCode": (
            "Lazada did not accept the authorization code; please start the store authorization again "
            "(a code works once, within 30 minutes)."
        ),
        "IncompleteSignature": (
            "Lazada rejected the bot's request signature; an administrator should check the app key and secret."
        ),
        "MissingParameter": (
            "Lazada rejected the bot's request signature; an administrator should check the app key and secret."
        ),
    }
)


class LazadaAuthError(LazadaError):
    """Lazada refused the credentials: an invalid/expired token, a bad code, or a bad signature."""

    def __init__(self, detail: str, *, api_path: str, refreshable: bool, **context: Unpack[LazadaErrorContext]) -> None:
        super().__init__(detail, api_path=api_path, **context)
        # True when refreshing the access token may fix it; False when a person must re-authorize or fix config.
        self.refreshable = refreshable

    @property
    def user_message(self) -> str:
        """One sentence for a person: what went wrong, without internals."""
        if self.code == "IllegalAccessToken":
            if self.refreshable:
                return self.beside_lazada(
                    "Lazada did not accept the store's access token; please try again in a moment."
                )
            return self.beside_lazada(_REAUTHORIZE)
        if self.code is not None and self.code in _AUTH_MESSAGES:
            return self.beside_lazada(_AUTH_MESSAGES[self.code])
        return self.beside_lazada(_REAUTHORIZE)


_BUSINESS_MESSAGES = MappingProxyType(
    {
        "16": "Lazada does not know this order in this store.",
        "37": "Lazada says one of these order numbers is invalid.",
        "38": "Too many orders were asked of Lazada at once.",
        "39": "Lazada found none of these orders.",
        "102": "Lazada says the order items to cancel are missing or invalid.",
        "103": "Lazada says the line of the buyer's request is missing or invalid.",
        "104": "Lazada does not accept this cancellation reason for this order.",
        "105": "Lazada does not know this buyer cancellation request.",
        "116": "Lazada could not tell which seller this store is; an administrator should check its authorization.",
        "119": "Lazada has no refusal reasons for this buyer cancellation request.",
        "131": "Lazada says this buyer cancellation request no longer awaits a decision (already answered or closed).",
        "122": "Lazada says this order cannot be used for a cancellation.",
        "123": "Lazada says some of these items do not belong to this order.",
        "124": "Lazada says some of these items belong to another seller.",
        "SellerNotVerified": "Lazada says this store has not finished opening yet.",
        "Mp3SellerApiLimit": "Lazada does not let MP3 stores use this function through its API.",
    }
)


class LazadaBusinessError(LazadaError):
    """Lazada refused the request itself (validation, a tip of type ``error``): show ``user_message``."""

    def __init__(
        self,
        detail: str,
        *,
        api_path: str,
        tip_content: str | None = None,
        tip_type: str | None = None,
        failed_package_ids: tuple[str, ...] = (),
        **context: Unpack[LazadaErrorContext],
    ) -> None:
        super().__init__(detail, api_path=api_path, **context)
        self.tip_content = tip_content
        self.tip_type = tip_type
        self.failed_package_ids = failed_package_ids

    @property
    def user_message(self) -> str:
        """A sentence for the refusal with Lazada's own words (its tip, else its message) verbatim beside it.

        An error tip on a code-0 answer is Lazada's whole explanation, so it is the sentence itself.
        """
        if self.outcome_unknown:
            return self.beside_lazada(_UNKNOWN_OUTCOME)
        if self.tip_content and self.code in (None, "0"):
            return self.tip_content
        if self.failed_package_ids:
            listed = self.lazada_message or ", ".join(self.failed_package_ids)
            return f"Lazada could not re-create these packages: {listed.rstrip('.')}."
        if self.code is not None and self.code in _BUSINESS_MESSAGES:
            return self.beside_lazada(_BUSINESS_MESSAGES[self.code])
        return self.beside_lazada("Lazada refused the request.")


class LazadaServerError(LazadaError):
    """Lazada failed on its side (HTTP 5xx, ``ServiceTimeout``, ``998``, ``E0106``): retry later."""

    retryable = True

    @property
    def user_message(self) -> str:
        """One sentence for a person: what went wrong, without internals."""
        if self.outcome_unknown:
            return self.beside_lazada(_UNKNOWN_OUTCOME)
        if self.code == "998":
            return self.beside_lazada(
                "Lazada has switched this function off for now (it does so during big sale campaigns); "
                "please try again later."
            )
        return self.beside_lazada("Lazada is having a temporary problem; please try again in a few minutes.")


class LazadaDecodeError(LazadaError):
    """Lazada's answer was not JSON, not an object, or not the documented shape."""

    @property
    def user_message(self) -> str:
        """One sentence for a person: what went wrong, without internals."""
        if self.outcome_unknown:
            return self.beside_lazada(_UNKNOWN_OUTCOME)
        return self.beside_lazada("Lazada sent an answer the bot could not read; please try again later.")
