"""HTTP mode holds against hostile clients: bodies bounded while streaming, deadlines, a connection cap, keep-alive."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlencode

import httpx

from bot.http import HttpLimits, server_config
from bot.settings import Settings
from tests.http.conftest import (
    JsonLogs,
    closed_by_server,
    read_response,
    request_head,
    serving,
    signed_headers,
    stream_until_answered,
)

FORM = {"content-type": "application/x-www-form-urlencoded"}


def _command(text: str) -> bytes:
    return urlencode({"command": "/cancel-order", "text": text, "user_id": "U0ALICE", "team_id": "T0"}).encode()


async def test_a_declared_body_over_the_limit_gets_413_before_a_byte_of_it_is_read() -> None:
    async with serving(HttpLimits(max_body_bytes=64 * 1024)) as served:
        reader, writer = await served.connect()
        head = {**FORM, "content-length": str(1024**3), **signed_headers(b"")}
        writer.write(request_head("POST", "/slack/events", head))  # 1 GiB announced, nothing of it sent
        started = time.perf_counter()
        status, body = await read_response(reader)
        assert (status, body) == (413, b"body too large")
        assert time.perf_counter() - started < 1.0
        assert await closed_by_server(reader, within=2.0)
        writer.close()
        assert served.commands == []


async def test_a_streamed_body_is_refused_once_it_crosses_the_limit_not_read_to_its_end(logs: JsonLogs) -> None:
    limit = 64 * 1024
    async with serving(HttpLimits(max_body_bytes=limit)) as served:
        head = request_head("POST", "/slack/events", {**FORM, "transfer-encoding": "chunked"})
        answer, sent = await asyncio.to_thread(
            stream_until_answered, served.port, head, b"x" * 16 * 1024, give_up_after=300 * 1024 * 1024
        )
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:100]
        # What the client got to send includes what the kernel's socket buffers took (a few MiB on loopback);
        # what the server read is a chunk past the limit.
        assert sent < 16 * 1024 * 1024, f"the client got to send {sent} bytes before the refusal"
        refusal = next(e for e in logs.events() if e["event"] == "http_request_refused")
        assert limit < refusal["received"] <= limit + 128 * 1024
        assert served.commands == []


async def test_a_body_within_the_limit_still_reaches_bolt_when_signed() -> None:
    async with serving(HttpLimits(max_body_bytes=64 * 1024)) as served, httpx.AsyncClient() as http:
        body = _command("100000000000002")
        response = await http.post(
            f"{served.base_url}/slack/events", content=body, headers={**FORM, **signed_headers(body)}
        )
        assert response.status_code == 200
        assert served.commands == ["100000000000002"]


async def test_trickling_clients_are_closed_after_their_deadlines_while_healthz_stays_fast() -> None:
    limits = HttpLimits(header_timeout=1.0, body_timeout=1.0)
    async with serving(limits) as served, httpx.AsyncClient(base_url=served.base_url) as http:
        heads = [await served.connect() for _ in range(10)]
        bodies = [await served.connect() for _ in range(10)]
        for _, writer in heads:
            writer.write(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")  # the head never ends
        for _, writer in bodies:
            writer.write(request_head("POST", "/slack/events", {**FORM, "content-length": "1000"}))

        async def trickle() -> None:
            for _ in range(20):  # a byte every 0.2 s, for 4 s: each keeps sending, none finishes
                for _, writer in heads:
                    writer.write(b"X")
                for _, writer in bodies:
                    writer.write(b"x")
                await asyncio.sleep(0.2)

        trickling = asyncio.create_task(trickle())
        latencies = []
        for _ in range(20):
            started = time.perf_counter()
            assert (await http.get("/healthz")).status_code == 200
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)
        assert max(latencies) < 0.5, latencies

        closed = await asyncio.gather(*(closed_by_server(reader, within=3.0) for reader, _ in heads + bodies))
        trickling.cancel()
        assert all(closed), f"{closed.count(False)} trickling connections are still open after their deadline"
        for _, writer in heads + bodies:
            writer.close()


async def test_a_slow_body_gets_408() -> None:
    async with serving(HttpLimits(body_timeout=0.5)) as served:
        reader, writer = await served.connect()
        writer.write(request_head("POST", "/slack/events", {**FORM, "content-length": "100"}) + b"x" * 10)
        status, _ = await read_response(reader, seconds=3.0)
        assert status == 408
        assert await closed_by_server(reader, within=2.0)
        writer.close()


async def test_connections_over_the_cap_get_503() -> None:
    async with serving(HttpLimits(max_connections=5, header_timeout=30)) as served:
        idle = [await served.connect() for _ in range(5)]
        await asyncio.sleep(0.1)
        async with httpx.AsyncClient(base_url=served.base_url) as http:
            assert (await http.get("/healthz")).status_code == 503
            for _, writer in idle:
                writer.close()
            await asyncio.sleep(0.2)
            assert (await http.get("/healthz")).status_code == 200


async def test_keep_alive_outlasts_a_load_balancer_and_is_applied_to_the_server() -> None:
    defaults = HttpLimits.from_settings(Settings(_env_file=None))
    assert defaults.keep_alive == 75, "above the 60 s idle timeout of common load balancers"
    config = server_config(lambda *_: None, host="127.0.0.1", port=1, limits=defaults)  # type: ignore[arg-type]
    assert config.timeout_keep_alive == 75
    assert config.limit_concurrency == defaults.max_connections

    async with serving(HttpLimits(keep_alive=1)) as served:
        reader, writer = await served.connect()
        writer.write(request_head("GET", "/healthz", {}))
        assert await read_response(reader) == (200, b"ok")
        assert not await closed_by_server(reader, within=0.5), "closed before the keep-alive ran out"
        assert await closed_by_server(reader, within=2.0), "kept open past the keep-alive"
        writer.close()
