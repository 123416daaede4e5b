"""The typed envelope: where the payload is read from, and how an answer that does not fit maps to an error."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from bot.lazada.envelope import FlatLazadaResponse, LazadaResponse, decode
from bot.lazada.errors import LazadaBusinessError, LazadaDecodeError, LazadaRateLimitedError, LazadaServerError
from bot.lazada.models import CancelValidation, OrderItem, RepackResult, TokenGrant
from bot.lazada.redaction import Redactor

PATH = "/order/items/get"
NO_SECRETS = Redactor([])


def answer(body: dict[str, Any], status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode())


def test_envelope_reads_data_trace_id_and_ignores_unknown_fields() -> None:
    body = {
        "code": "0",
        "request_id": "r1",
        "_trace_id_": "t1",
        "extra": 1,
        "data": [{"order_item_id": 1, "order_id": 2, "status": "pending"}],
    }

    decoded = decode(LazadaResponse[tuple[OrderItem, ...]], answer(body), api_path=PATH, redact=NO_SECRETS)

    assert (decoded.code, decoded.request_id, decoded.trace_id) == ("0", "r1", "t1")
    assert [item.order_item_id for item in decoded.payload] == ["1"]
    with pytest.raises(ValidationError):
        decoded.code = "1"  # type: ignore[misc]


def test_envelope_reads_the_payload_under_result() -> None:
    body = {"code": 0, "request_id": "r1", "result": {"success": "true", "data": {"packages": []}}}

    decoded = decode(LazadaResponse[RepackResult], answer(body), api_path="/order/package/repack", redact=NO_SECRETS)

    assert decoded.payload.success is True


def test_flat_envelope_reads_the_whole_answer_as_the_payload() -> None:
    body = {"code": "0", "request_id": "r1", "access_token": "a" * 10, "refresh_token": "r" * 10, "expires_in": "10"}

    decoded = decode(FlatLazadaResponse[TokenGrant], answer(body), api_path="/auth/token/create", redact=NO_SECRETS)

    assert decoded.payload.expires_in == 10
    assert decoded.payload.access_token.get_secret_value() == "a" * 10


def test_envelope_without_data_raises_a_decode_error_when_the_payload_is_read() -> None:
    decoded = decode(
        LazadaResponse[tuple[OrderItem, ...]],
        answer({"code": "0", "request_id": "r9"}),
        api_path=PATH,
        redact=NO_SECRETS,
    )

    with pytest.raises(LazadaDecodeError, match="no data") as caught:
        _ = decoded.payload

    assert (caught.value.api_path, caught.value.request_id) == (PATH, "r9")


def test_envelope_decode_error_names_the_place_inside_the_payload() -> None:
    body = {"code": "0", "request_id": "r1", "data": [{"order_item_id": 1, "order_id": 2}]}

    with pytest.raises(LazadaDecodeError) as caught:
        decode(LazadaResponse[tuple[OrderItem, ...]], answer(body), api_path=PATH, redact=NO_SECRETS)

    assert "first at 0.status: Field required" in str(caught.value)
    assert caught.value.request_id == "r1"


@pytest.mark.parametrize(
    ("body", "error_class"),
    [
        pytest.param(
            {"code": "ApiCallLimit", "message": "this ban will last 2 seconds", "data": {}},
            LazadaRateLimitedError,
            id="ban-with-odd-data",
        ),
        pytest.param(
            {"code": "ServiceTimeout", "type": "ISP", "data": "oops"}, LazadaServerError, id="server-with-odd-data"
        ),
        pytest.param(
            {"code": "0", "data": {"tip_type": "error", "tip_content": "not allowed", "reason_options": 5}},
            LazadaBusinessError,
            id="error-tip-with-odd-data",
        ),
    ],
)
def test_envelope_refusal_wins_over_a_payload_that_does_not_fit(
    body: dict[str, Any], error_class: type[Exception]
) -> None:
    with pytest.raises(error_class):
        decode(LazadaResponse[CancelValidation], answer(body), api_path=PATH, redact=NO_SECRETS)


def test_envelope_error_tip_is_redacted() -> None:
    body = {"code": "0", "data": {"tip_type": "error", "tip_content": "token secret-token-1 refused"}}

    with pytest.raises(LazadaBusinessError) as caught:
        decode(LazadaResponse[CancelValidation], answer(body), api_path=PATH, redact=Redactor(["secret-token-1"]))

    assert caught.value.tip_content == "token [redacted] refused"
