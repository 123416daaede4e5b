"""The sandbox gateway: signatures, timestamps, app keys, access tokens and the token endpoints."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from cancel_order_bot.sandbox import (
    SANDBOX_ACCESS_TOKEN,
    SANDBOX_APP_KEY,
    SANDBOX_APP_SECRET,
    SANDBOX_BASE_URL,
    SANDBOX_REFRESH_TOKEN,
    ItemSpec,
    SandboxTransport,
    SandboxWorld,
)
from tests.sandbox.support import ManualClock, SandboxCaller, signed_params

ILLEGAL_TOKEN = {
    "type": "ISV",
    "code": "IllegalAccessToken",
    "message": "The specified access token is invalid or expired",
}


def _params(world: SandboxWorld, path: str, **extra: str) -> dict[str, str]:
    return signed_params(
        path,
        extra,
        app_key=SANDBOX_APP_KEY,
        app_secret=SANDBOX_APP_SECRET,
        timestamp=world.now(),
        access_token=SANDBOX_ACCESS_TOKEN,
    )


async def test_sandbox_accepts_a_hand_signed_get(http: httpx.AsyncClient, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    response = await http.get("/order/get", params=_params(world, "/order/get", order_id=str(order.order_id)))
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == "0"
    assert body["data"]["order_id"] == order.order_id
    assert body["request_id"]


async def test_sandbox_accepts_post_form_like_the_sdk(http: httpx.AsyncClient, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    response = await http.post("/order/get", data=_params(world, "/order/get", order_id=str(order.order_id)))
    assert response.json()["code"] == "0"


async def test_sandbox_checks_the_documented_signature_vector() -> None:
    # The official example signs order_id=1234 with secret "helloworld" at 1517820392000.
    sent_at = datetime.fromtimestamp(1517820392, UTC)
    world = SandboxWorld(now=ManualClock(sent_at), app_key="123456", app_secret="helloworld", access_token="test")
    world.add_order([ItemSpec()], order_id=1234)
    params = {
        "access_token": "test",
        "app_key": "123456",
        "order_id": "1234",
        "sign_method": "sha256",
        "timestamp": "1517820392000",
        "sign": "4190D32361CFB9581350222F345CB77F3B19F0E31D162316848A2C1FFD5FAB4A",
    }
    async with httpx.AsyncClient(transport=SandboxTransport(world), base_url=SANDBOX_BASE_URL) as http:
        body = (await http.get("/order/get", params=params)).json()
    assert body["code"] == "0"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda p: p.update(sign="0" * 64), id="wrong sign"),
        pytest.param(lambda p: p.pop("sign"), id="missing sign"),
        pytest.param(lambda p: p.update(order_id="999"), id="param changed after signing"),
        pytest.param(lambda p: p.update(extra="1"), id="unsigned extra param"),
        pytest.param(lambda p: p.update(sign_method="md5"), id="other sign method"),
    ],
)
async def test_sandbox_refuses_a_bad_signature(
    http: httpx.AsyncClient, world: SandboxWorld, tamper: Callable[[dict[str, str]], object]
) -> None:
    params = _params(world, "/order/get", order_id="1")
    tamper(params)
    body = (await http.get("/order/get", params=params)).json()
    assert body["code"] == "IncompleteSignature"
    assert body["type"] == "ISV"
    assert body["message"] == "The request signature does not conform to lazop standards"


async def test_sandbox_refuses_a_signature_made_with_another_secret(
    http: httpx.AsyncClient, world: SandboxWorld
) -> None:
    params = signed_params(
        "/order/get",
        {"order_id": "1"},
        app_key=SANDBOX_APP_KEY,
        app_secret="not-the-secret",
        timestamp=world.now(),
        access_token=SANDBOX_ACCESS_TOKEN,
    )
    body = (await http.get("/order/get", params=params)).json()
    assert body["code"] == "IncompleteSignature"


async def test_sandbox_refuses_a_signature_over_the_wrong_path(http: httpx.AsyncClient, world: SandboxWorld) -> None:
    params = _params(world, "/order/items/get", order_id="1")
    body = (await http.get("/order/get", params=params)).json()
    assert body["code"] == "IncompleteSignature"


async def test_sandbox_refuses_an_unknown_app_key(http: httpx.AsyncClient, world: SandboxWorld) -> None:
    params = signed_params(
        "/order/get",
        {"order_id": "1"},
        app_key="999999",
        app_secret=SANDBOX_APP_SECRET,
        timestamp=world.now(),
        access_token=SANDBOX_ACCESS_TOKEN,
    )
    body = (await http.get("/order/get", params=params)).json()
    assert body["code"] == "IncompleteSignature"


@pytest.mark.parametrize("skew", [timedelta(seconds=7201), timedelta(seconds=-7201)])
async def test_sandbox_refuses_a_stale_or_future_timestamp(
    http: httpx.AsyncClient, world: SandboxWorld, skew: timedelta
) -> None:
    params = signed_params(
        "/order/get",
        {"order_id": "1"},
        app_key=SANDBOX_APP_KEY,
        app_secret=SANDBOX_APP_SECRET,
        timestamp=world.now() + skew,
        access_token=SANDBOX_ACCESS_TOKEN,
    )
    body = (await http.get("/order/get", params=params)).json()
    assert body["code"] == "InvalidTimestamp"


async def test_sandbox_accepts_a_timestamp_within_two_hours(http: httpx.AsyncClient, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    params = signed_params(
        "/order/get",
        {"order_id": str(order.order_id)},
        app_key=SANDBOX_APP_KEY,
        app_secret=SANDBOX_APP_SECRET,
        timestamp=world.now() - timedelta(seconds=7100),
        access_token=SANDBOX_ACCESS_TOKEN,
    )
    assert (await http.get("/order/get", params=params)).json()["code"] == "0"


async def test_sandbox_refuses_an_unknown_access_token(http: httpx.AsyncClient, world: SandboxWorld) -> None:
    caller = SandboxCaller(http, world)
    body = await caller.call("/order/get", {"order_id": "1"}, access_token="someone-elses-token")
    assert {key: body[key] for key in ILLEGAL_TOKEN} == ILLEGAL_TOKEN


async def test_sandbox_refuses_a_missing_access_token(caller: SandboxCaller) -> None:
    body = await caller.call("/order/get", {"order_id": "1"}, with_token=False)
    assert body["code"] == "IllegalAccessToken"


async def test_sandbox_refuses_an_expired_access_token(caller: SandboxCaller, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    assert (await caller.call("/order/get", {"order_id": str(order.order_id)}))["code"] == "0"
    world.expire_access_token()
    body = await caller.call("/order/get", {"order_id": str(order.order_id)})
    assert {key: body[key] for key in ILLEGAL_TOKEN} == ILLEGAL_TOKEN


async def test_sandbox_access_token_expires_after_ten_days(
    caller: SandboxCaller, world: SandboxWorld, clock: ManualClock
) -> None:
    order = world.add_order([ItemSpec()])
    clock.advance(days=9, hours=23)
    assert (await caller.call("/order/get", {"order_id": str(order.order_id)}))["code"] == "0"
    clock.advance(hours=1)
    assert (await caller.call("/order/get", {"order_id": str(order.order_id)}))["code"] == "IllegalAccessToken"


async def test_sandbox_refresh_issues_a_new_access_token_without_moving_the_deadline(
    caller: SandboxCaller, world: SandboxWorld, clock: ManualClock
) -> None:
    order = world.add_order([ItemSpec()])
    clock.advance(days=11)
    assert (await caller.call("/order/get", {"order_id": str(order.order_id)}))["code"] == "IllegalAccessToken"

    refreshed = await caller.call("/auth/token/refresh", {"refresh_token": SANDBOX_REFRESH_TOKEN}, with_token=False)

    assert refreshed["code"] == "0"
    assert "data" not in refreshed
    assert refreshed["access_token"] != SANDBOX_ACCESS_TOKEN
    assert refreshed["refresh_token"] == SANDBOX_REFRESH_TOKEN
    assert refreshed["expires_in"] == 10 * 86400
    assert refreshed["refresh_expires_in"] == (50 - 11) * 86400
    body = await caller.call("/order/get", {"order_id": str(order.order_id)}, access_token=refreshed["access_token"])
    assert body["code"] == "0"
    refresh_call = next(call for call in world.calls if call.path == "/auth/token/refresh")
    assert refresh_call.params == {"refresh_token": "***"}


async def test_sandbox_refuses_an_expired_or_unknown_refresh_token(caller: SandboxCaller, clock: ManualClock) -> None:
    unknown = await caller.call("/auth/token/refresh", {"refresh_token": "nope"}, with_token=False)
    assert unknown["code"] == "IllegalRefreshToken"
    clock.advance(days=50)
    expired = await caller.call("/auth/token/refresh", {"refresh_token": SANDBOX_REFRESH_TOKEN}, with_token=False)
    assert expired["code"] == "IllegalRefreshToken"


async def test_sandbox_exchanges_an_auth_code_once(caller: SandboxCaller, world: SandboxWorld) -> None:
    code = world.issue_auth_code()

    grant = await caller.call("/auth/token/create", {"code": code}, with_token=False)

    assert grant["code"] == "0"
    assert grant["expires_in"] == 864000
    assert grant["refresh_expires_in"] == 4320000
    assert grant["country"] == "sg"
    assert grant["account"] == world.account
    assert grant["country_user_info"][0]["seller_id"] == world.seller_id
    order = world.add_order([ItemSpec()])
    read = await caller.call("/order/get", {"order_id": str(order.order_id)}, access_token=grant["access_token"])
    assert read["code"] == "0"
    assert code not in repr(world.calls)
    again = await caller.call("/auth/token/create", {"code": code}, with_token=False)
    assert again["code"] == "InvalidCode"
    assert again["type"] == "ISP"


async def test_sandbox_refuses_an_unknown_or_old_auth_code(
    caller: SandboxCaller, world: SandboxWorld, clock: ManualClock
) -> None:
    assert (await caller.call("/auth/token/create", {"code": "0_100100_x"}, with_token=False))["code"] == "InvalidCode"
    code = world.issue_auth_code()
    clock.advance(minutes=31)
    assert (await caller.call("/auth/token/create", {"code": code}, with_token=False))["code"] == "InvalidCode"


async def test_sandbox_answers_an_unknown_api_path(caller: SandboxCaller) -> None:
    body = await caller.call("/order/teleport", {"order_id": "1"})
    assert body["code"] == "InvalidApiPath"


async def test_sandbox_call_log_keeps_api_params_without_secrets(caller: SandboxCaller, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    await caller.call("/order/get", {"order_id": str(order.order_id)})
    await caller.call("/order/get", {"order_id": "1"}, access_token="bad")

    assert world.call_count("/order/get") == 2
    assert world.call_count("/order/get", code="0") == 1
    assert world.call_count("/order/get", code="IllegalAccessToken") == 1
    first, second = world.calls
    assert first.params == {"order_id": str(order.order_id)}
    assert first.code == "0"
    assert first.applied
    assert second.code == "IllegalAccessToken"
    assert not second.applied
    text = repr(world.calls) + repr(world)
    for secret in (SANDBOX_ACCESS_TOKEN, SANDBOX_APP_SECRET, "sign"):
        assert secret not in text


def test_sandbox_world_hides_its_secret() -> None:
    world = SandboxWorld()
    assert SANDBOX_APP_SECRET not in repr(world.app_secret)
    assert SANDBOX_APP_SECRET not in repr(world)


async def test_sandbox_signature_covers_the_raw_list_string(caller: SandboxCaller, world: SandboxWorld) -> None:
    order = world.add_order([ItemSpec()])
    item_id = order.items[0].order_item_id
    params = {"order_id": str(order.order_id), "order_item_id_list": f'["{item_id}"]'}
    signed = signed_params(
        "/order/reverse/cancel/validate",
        params,
        app_key=SANDBOX_APP_KEY,
        app_secret=SANDBOX_APP_SECRET,
        timestamp=world.now(),
        access_token=SANDBOX_ACCESS_TOKEN,
    )
    # Sending the list with a space changes the bytes, so the signature no longer matches.
    signed["order_item_id_list"] = f'[ "{item_id}"]'
    body = (await caller.http.get("/order/reverse/cancel/validate", params=signed)).json()
    assert body["code"] == "IncompleteSignature"
