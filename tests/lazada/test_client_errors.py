"""Lazada error tree: what each error tells the caller and the person."""

from __future__ import annotations

import pytest

from bot.lazada.errors import (
    LazadaAuthError,
    LazadaBusinessError,
    LazadaDecodeError,
    LazadaError,
    LazadaRateLimitedError,
    LazadaServerError,
    LazadaTransportError,
    retry_after_from_message,
)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Api access frequency exceeds the limit. this ban will last 1 seconds", 1.0),
        ("this ban will last 12 seconds", 12.0),
        ("This ban will last 2.5 second", 2.5),
        ("Api access frequency exceeds the limit.", 1.0),
        (None, 1.0),
    ],
)
def test_retry_after_from_message(message: str | None, expected: float) -> None:
    assert retry_after_from_message(message) == expected


_ERRORS: tuple[type[LazadaError], ...] = (
    LazadaTransportError,
    LazadaRateLimitedError,
    LazadaAuthError,
    LazadaBusinessError,
    LazadaServerError,
    LazadaDecodeError,
)


@pytest.mark.parametrize("error_class", _ERRORS)
def test_errors_share_the_base(error_class: type[LazadaError]) -> None:
    assert issubclass(error_class, LazadaError)


def test_errors_say_which_are_retryable() -> None:
    retryable = {cls.__name__ for cls in _ERRORS if cls.retryable}

    assert retryable == {"LazadaTransportError", "LazadaRateLimitedError", "LazadaServerError"}


def test_error_text_names_path_code_and_request_id() -> None:
    error = LazadaBusinessError(
        "ISV: E016: Invalid Order ID", api_path="/order/items/get", code="16", request_id="0ba288731"
    )

    assert str(error) == "/order/items/get: [16] ISV: E016: Invalid Order ID (request_id=0ba288731)"
    assert (error.api_path, error.code, error.request_id) == ("/order/items/get", "16", "0ba288731")


def test_business_error_shows_lazada_tip_verbatim() -> None:
    tip = "Order item 2001 is in status shipped & can't be cancelled <now>."
    error = LazadaBusinessError("tip", api_path="/order/reverse/cancel/validate", code="0", tip_content=tip)

    assert error.user_message == tip


def test_business_error_without_tip_shows_lazada_message_beside_the_sentence() -> None:
    error = LazadaBusinessError("x", api_path="/orders/get", code="17", lazada_message="E017: Invalid Date Format")

    assert error.user_message == "Lazada refused the request. Lazada says: “E017: Invalid Date Format”"


def test_business_error_for_packages_names_them() -> None:
    error = LazadaBusinessError(
        "x",
        api_path="/order/package/repack",
        code="600001",
        lazada_message="FP2: package not found",
        failed_package_ids=("FP2",),
    )

    assert error.user_message == "Lazada could not re-create these packages: FP2: package not found."


def test_auth_error_tells_whether_a_person_must_act() -> None:
    refreshable = LazadaAuthError("x", api_path="/order/get", code="IllegalAccessToken", refreshable=True)
    dead = LazadaAuthError("x", api_path="/order/get", code="IllegalAccessToken", refreshable=False)
    expired_refresh = LazadaAuthError(
        "x", api_path="/auth/token/refresh", code="IllegalRefreshToken", refreshable=False
    )
    bad_code = LazadaAuthError("x", api_path="/auth/token/create", code="InvalidCode", refreshable=False)

    assert "try again" in refreshable.user_message
    assert "re-authorize" in dead.user_message
    assert "re-authorize" in expired_refresh.user_message
    assert "authorization again" in bad_code.user_message


def test_transport_error_says_whether_it_timed_out() -> None:
    timed_out = LazadaTransportError("ReadTimeout", api_path="/order/get", timed_out=True, request_sent=True)
    refused = LazadaTransportError("ConnectError", api_path="/order/get", timed_out=False, request_sent=False)

    assert "in time" in timed_out.user_message
    assert "could not reach" in refused.user_message
    assert refused.code is None


def test_server_error_explains_the_campaign_shutdown() -> None:
    campaign = LazadaServerError("x", api_path="/order/get", code="998")
    other = LazadaServerError("x", api_path="/order/get", code="ServiceTimeout")

    assert "campaign" in campaign.user_message
    assert "temporary problem" in other.user_message


def test_rate_limited_error_carries_the_wait() -> None:
    error = LazadaRateLimitedError("x", api_path="/order/get", retry_after=3.0, code="ApiCallLimit")

    assert error.retry_after == 3.0
    assert "few seconds" in error.user_message


def test_decode_error_user_message_has_no_internals() -> None:
    error = LazadaDecodeError("HTTP 200, body not JSON", api_path="/order/get", http_status=200)

    assert error.user_message == "Lazada sent an answer the bot could not read; please try again later."


def test_business_error_with_an_error_code_and_a_tip_shows_both() -> None:
    """A non-zero code carrying data.tip_content: the bot's sentence for the code, then Lazada's tip verbatim."""
    error = LazadaBusinessError(
        "x", api_path="/order/reverse/cancel/create", code="104", lazada_message="E0104", tip_content="Pick <another>"
    )

    assert (
        error.user_message
        == "Lazada does not accept this cancellation reason for this order. Lazada says: “Pick <another>”"
    )


def test_lazada_words_are_not_repeated_when_the_sentence_already_holds_them() -> None:
    error = LazadaServerError("x", api_path="/orders/get", code="500", lazada_message="Lazada is having a temporary")

    assert error.user_message == "Lazada is having a temporary problem; please try again in a few minutes."
