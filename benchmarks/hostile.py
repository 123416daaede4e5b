"""Hostile clients: the bot's memory and /healthz while huge unsigned bodies and hundreds of slow connections arrive.

The bot (`python -m cancel_order_bot serve`, default limits) is attacked for a fixed window from the driver's
process, over loopback only: one client sends a 1 GiB unsigned body with its Content-Length, another a 300 MB
one in chunks (no length announced), each again as soon as it is refused; 500 more connections send their
request head or body a byte at a time. Meanwhile a prober asks /healthz every 20 ms. Memory is the child's
peak RSS over the window (the kernel's high-water mark, reset before the attack) against its RSS just before.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.people import local_peers
from benchmarks.report import BenchResult, Figure, Goal, percentile
from benchmarks.stack import BenchContext, served_bot

__all__ = ["run"]

MiB = 1024 * 1024
RSS_GROWTH_LIMIT_MIB = 20.0
HEALTHZ_P99_LIMIT_MS = 100.0
PROBE_EVERY = 0.02
TRICKLE_EVERY = 0.5
_BLOCK = b"\0" * (256 * 1024)


@dataclass
class _BigBodies:
    """What one big-body sender did: attempts, statuses seen, bytes the kernel took from it."""

    attempts: int = 0
    statuses: list[str] = field(default_factory=list)
    sent: int = 0


def _send_big(port: int, size: int, *, chunked: bool, until: float, out: _BigBodies) -> None:
    """Send unsigned bodies of `size` bytes back to back until `until` (blocking sockets, in a thread)."""
    while time.monotonic() < until:
        out.attempts += 1
        length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
        head = (
            f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{length}\r\n\r\n"
        ).encode()
        frame = f"{len(_BLOCK):x}\r\n".encode() + _BLOCK + b"\r\n" if chunked else _BLOCK
        answer = b""
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(head)
            sent = 0
            while sent < size and time.monotonic() < until and not select.select([sock], [], [], 0)[0]:
                try:
                    sock.sendall(frame)
                except OSError:
                    break
                sent += len(_BLOCK)
            out.sent += sent
            sock.settimeout(5)
            with contextlib.suppress(OSError):
                while b"\r\n" not in answer and (data := sock.recv(4096)):
                    answer += data
        out.statuses.append(answer.split(b" ", 2)[1].decode() if answer.count(b" ") >= 2 else "closed")


async def _slow_connections(port: int, count: int, until: float) -> tuple[int, int]:
    """`count` connections sending their head or body a byte at a time; (opened, closed by the bot by `until`)."""
    connections: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    for n in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        if n % 2:
            writer.write(b"POST /slack/events HTTP/1.1\r\nContent-Length: 4000\r\nHost: x\r\n\r\n")
        else:
            writer.write(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
        connections.append((reader, writer))
    closed = [False] * count

    async def watch(index: int, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError):
            while await reader.read(4096):
                pass
        closed[index] = True

    watchers = [asyncio.create_task(watch(i, reader)) for i, (reader, _) in enumerate(connections)]
    try:
        while time.monotonic() < until:
            for index, (_, writer) in enumerate(connections):
                if not closed[index]:
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        writer.write(b"X" if index % 2 == 0 else b"x")
            await asyncio.sleep(TRICKLE_EVERY)
        return count, sum(closed)
    finally:
        for task in watchers:
            task.cancel()
        for _, writer in connections:
            writer.close()


async def _probe(base_url: str, until: float) -> tuple[list[float], int]:
    """GET /healthz every 20 ms until `until`; (seconds each took, failures)."""
    latencies: list[float] = []
    failures = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as http:
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                ok = (await http.get("/healthz")).status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - started)
            failures += not ok
            await asyncio.sleep(PROBE_EVERY)
    return latencies, failures


def _reset_peak(pid: int) -> bool:
    """Reset the kernel's peak-RSS mark of `pid` (Linux: write 5 to clear_refs); False where it cannot."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


async def run(ctx: BenchContext) -> BenchResult:
    """Serve the bot, attack it for a window, and compare its peak RSS and /healthz p99 with the limits."""
    started = time.perf_counter()
    huge, large = ctx.scale(1024, 64) * MiB, ctx.scale(300, 32) * MiB
    slow = ctx.scale(500, 50)
    deadline = ctx.scale(10, 2)  # the default header and body deadlines; shorter in a quick run
    window = deadline + 3
    async with (
        local_peers(pending_orders=1) as peers,
        served_bot(
            "hostile",
            workdir=ctx.workdir,
            slack_api_url=peers.slack.api_url,
            lazada_api_url=peers.sandbox_api,
            database_url=ctx.sqlite_url("hostile"),
            extra_env={
                "DIGEST_CHANNEL": "",
                "HTTP_HEADER_TIMEOUT_SECONDS": str(deadline),
                "HTTP_BODY_TIMEOUT_SECONDS": str(deadline),
            },
        ) as bot,
    ):
        port = int(bot.base_url.rsplit(":", 1)[1])
        async with httpx.AsyncClient(base_url=bot.base_url) as http:
            for _ in range(20):  # warm the routes up, so the first probe is not the import
                await http.get("/healthz")
        await asyncio.sleep(1.0)
        before = bot.child.rss_mb()
        peak_reset = _reset_peak(bot.child.pid)
        until = time.monotonic() + window
        gib, mb300 = _BigBodies(), _BigBodies()
        senders = [
            threading.Thread(
                target=_send_big, args=(port, huge), kwargs={"chunked": False, "until": until, "out": gib}
            ),
            threading.Thread(
                target=_send_big, args=(port, large), kwargs={"chunked": True, "until": until, "out": mb300}
            ),
        ]
        sampled = [before]

        async def sample_rss() -> None:
            while time.monotonic() < until:
                sampled.append(bot.child.rss_mb())
                await asyncio.sleep(0.05)

        for thread in senders:
            thread.start()
        (latencies, failures), (opened, closed), _ = await asyncio.gather(
            _probe(bot.base_url, until), _slow_connections(port, slow, until), sample_rss()
        )
        for thread in senders:
            await asyncio.to_thread(thread.join)
        peak = max(bot.child.rss_mb(peak=True) if peak_reset else 0.0, max(sampled))
        alive = bot.child.alive()
    growth = peak - before
    p99 = percentile(latencies, 99) * 1000
    return BenchResult(
        name="hostile",
        title="Hostile clients",
        figures=(
            Figure(
                label=f"RSS growth while {huge // MiB:,} MiB and {large // MiB} MiB unsigned bodies and {slow} slow "
                "connections arrive",
                measured=growth,
                bound=RSS_GROWTH_LIMIT_MIB,
                unit="MiB",
                bound_label="limit",
                goal=Goal(op="<=", target=1.0),
            ),
            Figure(
                label="/healthz p99 meanwhile",
                measured=p99,
                bound=HEALTHZ_P99_LIMIT_MS,
                unit="ms",
                bound_label="limit",
                goal=Goal(op="<=", target=1.0),
            ),
            Figure(
                label="slow connections still open when the window closed",
                measured=opened - closed,
                bound=0,
                unit="",
                bound_label="none",
                goal=Goal(op="<=", target=0),
                compare="excess",
            ),
        ),
        setup=(
            "`python -m cancel_order_bot serve` with the default limits (HTTP_MAX_BODY_BYTES 1 MiB, keep-alive 75 s, "
            f"1,000 connections), header and body deadlines {deadline} s, on SQLite; every client on loopback in the "
            "driver's process",
            f"a {window} s window: a {huge // MiB:,} MiB body with its Content-Length and a {large // MiB} MiB "
            f"chunked body, each sent again as soon as it is refused ({gib.attempts} and {mb300.attempts} times; "
            f"answers {sorted(set(gib.statuses))} and {sorted(set(mb300.statuses))}; {gib.sent / MiB:,.0f} and "
            f"{mb300.sent / MiB:,.0f} MiB written in all, mostly into the sockets' kernel buffers before each refusal "
            f"arrived); {slow} connections sending their "
            f"head or body a byte every {TRICKLE_EVERY} s; /healthz every {PROBE_EVERY * 1000:.0f} ms",
            f"RSS {before:.1f} MiB before the attack, peak {peak:.1f} MiB during it "
            f"({'kernel high-water mark, reset before the window' if peak_reset else 'sampled every 50 ms'}); "
            f"{len(latencies)} /healthz probes, {failures} failed, p50 {percentile(latencies, 50) * 1000:.1f} ms, "
            f"max {max(latencies) * 1000:.1f} ms; {closed} of {opened} slow connections closed by the bot; "
            f"the bot {'still running' if alive else 'DIED'} afterwards",
        ),
        notes=(
            "Before the limits, one unsigned 1 GiB POST was read whole and parsed before its signature was "
            "checked (memory peaked at 7.2 GB) and 50 of 50 trickling connections stayed open after 40 s. Now a "
            "body announced over the limit is refused before a byte of it is read, a streamed one at the chunk "
            "that crosses the limit, and a connection whose head or body is not complete within 10 s is closed.",
        ),
        seconds=time.perf_counter() - started,
    )
