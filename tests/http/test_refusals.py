"""Hostile requests are refused quietly: 400/401 or a closed connection, no ERROR and no traceback in the logs."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.http.conftest import JsonLogs, read_response, request_head, serving, signed_headers

JSON = {"content-type": "application/json"}
DEEP = 200_000


def _assert_quiet(logs: JsonLogs) -> None:
    events = logs.events()
    loud = [e for e in events if e.get("level") in {"error", "critical", "exception"} or "exception" in e]
    assert loud == [], loud
    assert "Traceback" not in logs.text


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("timestamp", ["soon", "1e9", "1_700_000_000", "1700000000.5", "-1", "9" * 40])
async def test_a_timestamp_that_is_not_a_number_gets_401_quietly(logs: JsonLogs, timestamp: str) -> None:
    body = json.dumps({"type": "event_callback", "event": {"type": "app_home_opened"}}).encode()
    headers = {**JSON, **signed_headers(body, timestamp=timestamp)}
    async with serving() as served, httpx.AsyncClient() as http:
        response = await http.post(f"{served.base_url}/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    assert any(e["event"] == "slack_request_refused" for e in logs.events()), "the refusal is logged, at INFO"
    _assert_quiet(logs)


async def test_json_nested_200000_deep_gets_401_unsigned_and_400_signed_quietly(logs: JsonLogs) -> None:
    body = _nested(DEEP)
    async with serving() as served, httpx.AsyncClient(timeout=10) as http:
        unsigned = await http.post(f"{served.base_url}/slack/events", content=body, headers=JSON)
        signed = await http.post(
            f"{served.base_url}/slack/events", content=body, headers={**JSON, **signed_headers(body)}
        )
        assert (await http.get(f"{served.base_url}/healthz")).status_code == 200
    assert unsigned.status_code == 401
    assert signed.status_code == 400
    _assert_quiet(logs)


async def test_the_unsigned_body_is_never_logged(logs: JsonLogs) -> None:
    body = b'{"type":"event_callback","note":"MALLORY-WAS-HERE"}'
    async with serving() as served, httpx.AsyncClient() as http:
        response = await http.post(
            f"{served.base_url}/slack/events", content=body, headers={**JSON, "x-slack-signature": "v0=00"}
        )
    assert response.status_code == 401
    assert "MALLORY-WAS-HERE" not in logs.text
    refused = next(e for e in logs.events() if e["event"] == "slack_request_refused")
    assert refused["length"] == len(body)


async def test_a_client_that_disconnects_mid_body_is_dropped_quietly(logs: JsonLogs) -> None:
    async with serving() as served, httpx.AsyncClient() as http:
        for _ in range(5):
            reader, writer = await served.connect()
            head = {**JSON, "content-length": "10000", **signed_headers(b"x" * 10000)}
            writer.write(request_head("POST", "/slack/events", head) + b"x" * 100)
            await writer.drain()
            writer.close()
            await writer.wait_closed()
        await asyncio.sleep(0.3)
        assert (await http.get(f"{served.base_url}/healthz")).status_code == 200
        reader, writer = await served.connect()
        writer.write(request_head("GET", "/healthz", {}))
        assert await read_response(reader) == (200, b"ok")
        writer.close()
    dropped = [e for e in logs.events() if e["event"] == "http_request_refused"]
    assert [e["reason"] for e in dropped] == ["client disconnected"] * 5
    assert served.commands == []
    _assert_quiet(logs)
