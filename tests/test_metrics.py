"""/metrics in HTTP mode and on Socket Mode's side port exposes every series after a demo-sized run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from bot.http import create_health_app, serve_side_port
from bot.metrics import MeteredTransport, Metrics, lazada_api_name
from bot.scheduler import Tick, run_safely
from bot.slack.render import ids
from bot.store.models import RequestStatus
from bot.store.tables import cancel_requests
from cancel_order_bot.__main__ import build_parser
from cancel_order_bot.demo.harness import Harness, MovableClock, running_bot
from cancel_order_bot.sandbox import SandboxWorld
from cancel_order_bot.sandbox.showcase import SHOWCASE, add_showcase_orders
from tests.flow.conftest import BOB, request_cancel
from tests.http.conftest import free_port

P = "cancel_order_bot_"
SERIES = [
    "slack_http_requests",
    "slack_http_response_seconds",
    f"{P}lazada_calls",
    f"{P}lazada_rate_limit_waits",
    f"{P}lazada_rate_limit_wait_seconds",
    f"{P}slack_api_errors",
    f"{P}requests",
    f"{P}oldest_executing_request_age_seconds",
    f"{P}lazada_token_expires_in_seconds",
    f"{P}digest_last_posted_timestamp_seconds",
    f"{P}scheduler_tick_failures",
    "process_resident_memory_bytes",
    "python_info",
]


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def _demo_sized_run(bot: Harness, clock: MovableClock) -> None:
    """Two requests (one approved and executed, one left pending), a Slack error, a digest, a failing tick."""
    executed = await request_cancel(bot, SHOWCASE.pending)
    await request_cancel(bot, SHOWCASE.ready_to_ship)
    bot.slack.fail("views.publish", "not_authed")  # the next App Home refresh fails
    assert (await bot.click(BOB, ids.REQUEST_APPROVE, executed)).status_code == 200
    await bot.settle()
    assert (await bot.refreshed(executed)).status is RequestStatus.EXECUTED
    await bot.services.digest.tick()  # 11:00 in Singapore: past the digest time, today's digest is posted

    async def broken() -> None:
        raise RuntimeError("boom")

    await run_safely(Tick("tokens", broken), bot.services.metrics)
    # The store's tokens as `lazada auth` stores them, with Lazada's expiry (the seeded ones have none).
    stored = await bot.services.tokens.load("main")
    assert stored is not None
    await bot.services.tokens.save("main", stored.model_copy(update={"access_expires_at": clock() + timedelta(days=7)}))
    # One request stuck executing for 90 s, as a crashed replica would leave it.
    async with bot.services.db.begin() as conn:
        await conn.execute(
            sa.update(cancel_requests)
            .where(cancel_requests.c.status == RequestStatus.PENDING.value)
            .values(status=RequestStatus.EXECUTING.value, decided_at=clock() - timedelta(seconds=90))
        )


def _assert_series(text: str) -> None:
    families = {family.name for family in text_string_to_metric_families(text)}
    missing = [name for name in SERIES if name not in families]
    assert missing == [], f"missing series: {missing}"
    samples = _samples(text)
    create = "/order/reverse/cancel/create"
    assert _value(samples, f"{P}lazada_calls_total", api=create, outcome="ok") == 1
    assert (_value(samples, f"{P}lazada_calls_total", api="/order/items/get", outcome="ok") or 0) >= 2
    assert (_value(samples, f"{P}lazada_rate_limit_waits_total") or 0) >= 1, "5 calls/s makes calls wait"
    assert _value(samples, f"{P}slack_api_errors_total", method="views.publish", error="not_authed") == 1
    assert _value(samples, f"{P}requests", status="executed") == 1
    assert _value(samples, f"{P}requests", status="executing") == 1
    assert _value(samples, f"{P}requests", status="failed") == 0
    assert 89 <= (_value(samples, f"{P}oldest_executing_request_age_seconds") or 0) <= 91
    expires = _value(samples, f"{P}lazada_token_expires_in_seconds", store="main")
    assert expires is not None
    assert 7 * 86400 - 5 <= expires <= 7 * 86400
    assert _value(samples, f"{P}digest_last_posted_timestamp_seconds", store="main") is not None
    assert _value(samples, f"{P}scheduler_tick_failures_total", job="tokens") == 1
    assert _value(samples, "slack_http_requests_total", status="200") is not None


async def test_metrics_in_http_mode_and_on_the_socket_mode_side_port(sqlite_url: str) -> None:
    clock = MovableClock(datetime(2026, 11, 30, 3, 0, tzinfo=UTC))  # 11:00 in Singapore, past the digest time
    world = SandboxWorld(now=clock)
    add_showcase_orders(world)
    overrides = {"lazada_calls_per_second": 5}
    async with running_bot(sqlite_url, world=world, clock=clock, settings_overrides=overrides) as bot:
        await _demo_sized_run(bot, clock)

        served = await bot.http.get("/metrics")
        assert served.headers["content-type"].startswith("text/plain")
        _assert_series(served.text)

        port = free_port()
        side = create_health_app(bot.services.db.ping, bot.services.metrics)
        async with (
            serve_side_port(side, host="127.0.0.1", port=port),
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
        ):
            assert (await http.get("/healthz")).text == "ok"
            assert (await http.get("/readyz")).text == "ready"
            _assert_series((await http.get("/metrics")).text)
            assert (await http.post("/slack/events", content=b"{}")).status_code == 404, "no Slack on the side port"


def test_run_takes_a_health_port() -> None:
    args = build_parser().parse_args(["run", "--health-port", "9100"])
    assert (args.health_port, args.health_host) == (9100, "127.0.0.1")
    assert build_parser().parse_args(["run"]).health_port is None


async def test_lazada_outcomes_are_counted_by_api_and_code() -> None:
    answers = iter(
        [
            httpx.Response(200, json={"code": "0", "data": {}}),
            httpx.Response(200, json={"code": "ApiCallLimit", "message": "slow down"}),
            httpx.Response(502, text="<html>bad gateway</html>"),
        ]
    )

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/fail"):
            raise httpx.ConnectError("refused", request=request)
        return next(answers)

    metrics = Metrics()
    transport = metrics.lazada_transport(httpx.MockTransport(answer))
    assert isinstance(transport, MeteredTransport)
    async with httpx.AsyncClient(transport=transport) as http:
        first = await http.get("https://api.lazada.sg/rest/order/items/get")
        assert first.json() == {"code": "0", "data": {}}, "the body still reaches the client"
        await http.get("https://api.lazada.sg/rest/order/items/get")
        await http.get("https://api.lazada.sg/rest/orders/get")
        with pytest.raises(httpx.ConnectError):
            await http.get("https://api.lazada.sg/rest/fail")
    registry = metrics.registry

    def count(api: str, outcome: str) -> float | None:
        return registry.get_sample_value(f"{P}lazada_calls_total", {"api": api, "outcome": outcome})

    assert count("/order/items/get", "ok") == 1
    assert count("/order/items/get", "ApiCallLimit") == 1
    assert count("/orders/get", "http_502") == 1
    assert count("/fail", "ConnectError") == 1
    assert lazada_api_name("/rest/auth/token/refresh") == "/auth/token/refresh"
