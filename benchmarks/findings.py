"""What profiling the benchmarks found, and what was done about it (the report's last section)."""

from __future__ import annotations

__all__ = ["FINDINGS"]

FINDINGS: tuple[str, ...] = (
    "**Ack latency: the work after each ack ran between the other acks.** py-spy on the bot during a burst "
    "showed the answer path (uvicorn, Starlette, Bolt) at about 3% of the samples: the rest was the work each "
    "command starts after its ack (views.open, two Lazada calls, rendering, views.update), which the event loop "
    "ran between the acks still waiting. Fixed in `bot/http.py`: an `AckGate` counts the requests on "
    "/slack/events not answered yet, and a Bolt middleware gives every command and interaction an ack that, once "
    "the answer is set, waits (at most 0.5 s, well inside a trigger id's 3 s) until no other request is "
    "waiting for its answer. Events are left alone, since Bolt acks those itself before their listener starts.",
    "**httpcore's pool spent its time choosing connections.** 13% of the bot's samples under a burst were in "
    "`AsyncConnectionPool._assign_requests_to_connections`, which walks every queued request and every "
    "connection (and asks each idle connection whether it expired) on each request and each response: "
    "quadratic in the queue. Fixed in `bot/lazada/limiter.py` and `bot/services.py`: the app-wide limiter also "
    "caps the Lazada calls in flight at the pool's size, so calls queue in an `asyncio.Semaphore` (FIFO, O(1)) "
    "instead of inside httpcore, and the pool keeps all its connections alive.",
    "**A failed import on every Lazada call.** httpcore asks `sniffio` which async library runs on each lock and "
    "event it creates; sniffio is not installed (neither httpx 0.28 nor anyio 4 requires it), so each call "
    "searched `sys.path` for it and failed, 5% of the samples. Fix: add `sniffio` to the project's "
    "dependencies (pyproject.toml is not this suite's to edit; it was installed into the venv for the run).",
    "**A new aiohttp session and connection for every Slack call.** slack_sdk's `AsyncWebClient` without a "
    "session opens one per call (with a TCP connection). `open_services` now gives it one `aiohttp.ClientSession`, "
    "closed with the services.",
)
