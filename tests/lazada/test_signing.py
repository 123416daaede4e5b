"""Lazada request signing: the documented vector, the extra vectors, and equality with lazop-sdk's sign()."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.lazada.signing import sign, signing_string

SECRET = "helloworld"
SYSTEM_PARAMS = {
    "access_token": "test",
    "app_key": "123456",
    "sign_method": "sha256",
    "timestamp": "1517820392000",
}

SdkSign = Callable[[str, str, Mapping[str, str]], str]


@pytest.fixture(scope="module")
def sdk_sign(tmp_path_factory: pytest.TempPathFactory) -> SdkSign:
    """lazop-sdk's ``sign``; the SDK makes ``~/logs`` on import, so HOME points at a temporary directory."""
    home = tmp_path_factory.mktemp("lazop-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        base = importlib.import_module("lazop_sdk.base")
    sdk: SdkSign = base.sign
    return sdk


def test_sign_official_vector() -> None:
    params = {**SYSTEM_PARAMS, "order_id": "1234"}

    assert signing_string("/order/get", params) == (
        "/order/getaccess_tokentestapp_key123456order_id1234sign_methodsha256timestamp1517820392000"
    )
    assert sign(SECRET, "/order/get", params) == "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A"


@pytest.mark.parametrize(
    ("path", "extra", "expected"),
    [
        pytest.param(
            "/order/reverse/cancel/validate",
            {"order_id": "1234", "order_item_id_list": "[111,222]"},
            "B7BF3032EFD0F85E968FFF44DD6DE56E7D228990BA99C84AC33E6CDA3CDF481E",
            id="validate-compact-list",
        ),
        pytest.param(
            "/order/reverse/cancel/validate",
            {"order_id": "1234", "order_item_id_list": "[111, 222]"},
            "0986E836FA88732918884A52E0DE7D72E3A19D87307DA17F2E2FC21E7CF5F211",
            id="validate-list-with-space",
        ),
        pytest.param(
            "/order/reverse/cancel/create",
            {"order_id": "1234", "order_item_id_list": '["111","222"]', "reason_id": "10000021"},
            "C101C9060FB6E46932D10C4986EE2913F72DA456DF0D308510B4D31085EC9429",
            id="create-string-ids",
        ),
    ],
)
def test_sign_extra_vectors(path: str, extra: dict[str, str], expected: str) -> None:
    assert sign(SECRET, path, {**SYSTEM_PARAMS, **extra}) == expected


def test_sign_ignores_a_sign_parameter() -> None:
    params = {**SYSTEM_PARAMS, "order_id": "1234"}

    assert sign(SECRET, "/order/get", {**params, "sign": "ANYTHING"}) == sign(SECRET, "/order/get", params)


def test_sign_official_vector_matches_sdk(sdk_sign: SdkSign) -> None:
    params = {**SYSTEM_PARAMS, "order_id": "1234"}

    assert sdk_sign(SECRET, "/order/get", params) == sign(SECRET, "/order/get", params)


_names = st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), min_size=1, max_size=20).filter(
    lambda name: name != "sign"
)
_values = st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), max_size=40)


@given(
    secret=st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "S")), min_size=1, max_size=30),
    path=st.from_regex(r"\A/[a-z]+(/[a-z]+){0,3}\Z"),
    params=st.dictionaries(_names, _values, max_size=8),
)
def test_sign_equals_sdk_for_any_parameters(sdk_sign: SdkSign, secret: str, path: str, params: dict[str, str]) -> None:
    assert sign(secret, path, params) == sdk_sign(secret, path, params)


def test_sign_equals_sdk_for_no_parameters(sdk_sign: SdkSign) -> None:
    assert sign(SECRET, "/seller/get", {}) == sdk_sign(SECRET, "/seller/get", {})
