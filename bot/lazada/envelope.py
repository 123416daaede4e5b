"""Lazada's answer envelope, typed, and the one place where an answer becomes a result or a ``LazadaError``.

Success is ``code == "0"`` whatever the HTTP status. The payload sits under ``data`` (``result`` in some
APIs); the token APIs answer flat, the payload being the envelope itself. Failures map to the error tree of
``bot.lazada.errors`` by what the caller must do: wait (ApiCallLimit), re-authorize, show the person, retry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Generic, TypeVar

import httpx
from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from bot.lazada.errors import (
    DEFAULT_RETRY_AFTER,
    LazadaAuthError,
    LazadaBusinessError,
    LazadaDecodeError,
    LazadaError,
    LazadaRateLimitedError,
    LazadaServerError,
    LazadaTransportError,
    retry_after_from_message,
)
from bot.lazada.redaction import Redactor

__all__ = ["FlatLazadaResponse", "LazadaResponse", "decode", "transport_error"]

T = TypeVar("T")

_AUTH_CODES = frozenset({"IllegalAccessToken", "IllegalRefreshToken", "InvalidCode", "IncompleteSignature"})
_SIGNATURE_PARAMS = re.compile(r"\b(sign|sign_method|app_key|access_token|timestamp)\b")
_SERVER_CODES = frozenset({"ServiceTimeout", "998", "500", "501", "106", "E0106"})
_SERVER_TYPES = frozenset({"SYSTEM", "ISP"})
_BUSINESS_NAMED_CODES = frozenset({"SellerNotVerified", "Mp3SellerApiLimit", "MissingParameter", "InvalidParameter"})
_PAYLOAD_KEYS = frozenset({"data", "result"})


def _text(value: object) -> str | None:
    """A scalar as text; ``None`` for nothing, an empty string, an object or a list."""
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value)
    return text or None


Text = Annotated[str | None, BeforeValidator(_text)]


class LazadaResponse(BaseModel, Generic[T]):
    """Every Lazada answer: ``code`` ("0" is success), the error's ``type`` and ``message``, and the payload.

    ``data`` is the payload, read from ``data`` or, for the APIs that use it, ``result``; ``None`` when absent.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    code: Text = None
    type: Text = None
    message: Text = None
    request_id: Text = None
    trace_id: Text = Field(default=None, alias="_trace_id_")
    data: T | None = Field(default=None, validation_alias=AliasChoices("data", "result"))
    _api_path: str = PrivateAttr(default="")

    @property
    def payload(self) -> T:
        """The payload an endpoint needs; a success answer without one raises ``LazadaDecodeError``."""
        if self.data is None:
            raise LazadaDecodeError(
                "unexpected answer shape: no data", api_path=self._api_path, request_id=self.request_id
            )
        return self.data


class FlatLazadaResponse(LazadaResponse[T], Generic[T]):
    """An envelope whose payload is the answer itself, as the token APIs send it (no ``data`` wrapper)."""

    @model_validator(mode="before")
    @classmethod
    def _payload_is_the_answer(cls, answer: Any) -> Any:
        """On success, read the whole answer as the payload too."""
        if isinstance(answer, Mapping) and _text(answer.get("code")) == "0":
            return {**answer, "data": answer}
        return answer


_R = TypeVar("_R", bound=LazadaResponse[Any])


def decode(envelope: type[_R], response: httpx.Response, *, api_path: str, redact: Redactor) -> _R:
    """Read one HTTP answer as ``envelope`` or raise the matching ``LazadaError`` (the only place that does).

    Required payloads are declared by the envelope's type: an answer whose payload does not fit it is a
    ``LazadaDecodeError``, unless its code or tip says Lazada refused the call.
    """
    try:
        answer = envelope.model_validate_json(response.content)
    except ValidationError as exc:
        raise _untyped_failure(response, exc, api_path=api_path, redact=redact) from None
    if answer.code is None:
        raise _no_envelope_error(api_path, response, "not a Lazada envelope")
    if answer.code != "0":
        raise _error_for(api_path, response.status_code, answer.code, answer, redact)
    if getattr(answer.data, "tip_type", None) == "error":
        tip = getattr(answer.data, "tip_content", None)
        raise _error_tip(api_path, response.status_code, answer.request_id, tip, redact)
    answer._api_path = api_path
    return answer


def transport_error(api_path: str, exc: httpx.RequestError, redact: Redactor) -> LazadaError:
    """The error for a request that got no answer: whether it timed out, and whether it may have been sent."""
    detail = f"{type(exc).__name__}: {redact(str(exc)) or 'no detail'}"
    if isinstance(exc, httpx.DecodingError):
        return LazadaDecodeError(detail, api_path=api_path)
    if isinstance(exc, httpx.TimeoutException):
        sent = not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
        return LazadaTransportError(detail, api_path=api_path, timed_out=True, request_sent=sent)
    return LazadaTransportError(
        detail, api_path=api_path, timed_out=False, request_sent=not isinstance(exc, httpx.ConnectError)
    )


def _untyped_failure(response: httpx.Response, exc: ValidationError, *, api_path: str, redact: Redactor) -> LazadaError:
    """Why an answer did not fit its envelope: not one at all, a refusal carrying odd data, or a bad payload."""
    try:
        body: object = json.loads(response.content)
    except ValueError:
        body = None
    if not isinstance(body, dict) or _text(body.get("code")) is None:
        return _no_envelope_error(api_path, response, "not JSON" if body is None else "not a Lazada envelope")
    loose = LazadaResponse[Any].model_validate(body)
    if loose.code != "0":
        return _error_for(api_path, response.status_code, str(loose.code), loose, redact)
    data = loose.data
    if isinstance(data, dict) and data.get("tip_type") == "error":
        return _error_tip(api_path, response.status_code, loose.request_id, _text(data.get("tip_content")), redact)
    return LazadaDecodeError(_describe(exc), api_path=api_path, request_id=loose.request_id)


def _describe(exc: ValidationError) -> str:
    first = exc.errors(include_url=False, include_input=False)[0]
    loc = first["loc"]
    if loc and loc[0] in _PAYLOAD_KEYS:
        loc = loc[1:]
    where = ".".join(str(part) for part in loc) or "(top level)"
    return f"unexpected answer shape: {exc.error_count()} problem(s), first at {where}: {first['msg']}"


def _error_tip(
    api_path: str, status: int, request_id: str | None, tip_content: str | None, redact: Redactor
) -> LazadaBusinessError:
    tip = redact(tip_content)
    return LazadaBusinessError(
        f"Lazada answered code 0 with an error tip: {tip}",
        api_path=api_path,
        code="0",
        request_id=request_id,
        http_status=status,
        tip_content=tip,
        tip_type="error",
    )


def _no_envelope_error(api_path: str, response: httpx.Response, what: str) -> LazadaError:
    status = response.status_code
    detail = f"HTTP {status}, body {what}"
    if status >= 500:
        return LazadaServerError(detail, api_path=api_path, http_status=status)
    if status == 429:
        try:
            retry_after = float(response.headers.get("retry-after", ""))
        except ValueError:
            retry_after = DEFAULT_RETRY_AFTER
        return LazadaRateLimitedError(detail, api_path=api_path, retry_after=retry_after, http_status=status)
    return LazadaDecodeError(detail, api_path=api_path, http_status=status)


def _tip_of(data: object) -> tuple[str | None, str | None]:
    """``(tip_content, tip_type)`` of a payload, whether typed or still a plain object."""
    if isinstance(data, Mapping):
        return _text(data.get("tip_content")), _text(data.get("tip_type"))
    return _text(getattr(data, "tip_content", None)), _text(getattr(data, "tip_type", None))


def _error_for(api_path: str, status: int, code: str, answer: LazadaResponse[Any], redact: Redactor) -> LazadaError:
    """The error for a non-zero code (rate limit, auth, server or business), carrying any tip Lazada sent with it."""
    error = _error_class_for(api_path, status, code, answer, redact)
    tip_content, tip_type = _tip_of(answer.data)
    if tip_content:
        error.tip_content = redact(tip_content)
        if isinstance(error, LazadaBusinessError):
            error.tip_type = tip_type
    return error


def _error_class_for(
    api_path: str, status: int, code: str, answer: LazadaResponse[Any], redact: Redactor
) -> LazadaError:
    message = redact(answer.message)
    error_type = answer.type
    request_id = answer.request_id
    detail = f"{error_type or 'error'}: {message or 'no message'}"
    if code == "ApiCallLimit":
        return LazadaRateLimitedError(
            detail,
            api_path=api_path,
            retry_after=retry_after_from_message(message),
            code=code,
            request_id=request_id,
            lazada_message=message,
            http_status=status,
        )
    if code in _AUTH_CODES or (code == "MissingParameter" and _SIGNATURE_PARAMS.search(message or "")):
        return LazadaAuthError(
            detail,
            api_path=api_path,
            refreshable=code == "IllegalAccessToken",
            code=code,
            request_id=request_id,
            lazada_message=message,
            http_status=status,
        )
    is_server = (
        code in _SERVER_CODES
        or (message or "").startswith("E0106")
        or (not code.isdigit() and code not in _BUSINESS_NAMED_CODES and (error_type in _SERVER_TYPES or status >= 500))
    )
    error_class = LazadaServerError if is_server else LazadaBusinessError
    return error_class(
        detail, api_path=api_path, code=code, request_id=request_id, lazada_message=message, http_status=status
    )
