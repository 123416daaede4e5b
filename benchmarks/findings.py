"""What profiling the benchmarks found, and what was done about it (the report's last section)."""

from __future__ import annotations

__all__ = ["FINDINGS"]

FINDINGS: tuple[str, ...] = (
    "**Ack latency, the main cause: the garbage collector walking the whole process.** With the fixes below in "
    "place the bot's p99 was still 2.7× the bare app's. Profiling only the answer path showed 60% of its samples on "
    "one line, the allocation in `BaseEventLoop._call_soon` when Bolt starts the listener task: that is where "
    "allocations under a burst set off the cyclic garbage collector, whose full passes walk every object the bot "
    "holds (Bolt, slack_sdk, SQLAlchemy, pydantic models: about 100 MiB), tens of milliseconds each, while every "
    "request waits. The bare app has far fewer objects, so it pays far less. Fixed in `bot/http.py`: once the "
    "services and the app are built, the server's startup collects once and calls `gc.freeze()`, which moves "
    "everything alive then to a generation the collector no longer scans (the bare app gets the same). p99 went "
    "from 272 ms to 125 ms. `run` (Socket Mode) would gain the same from one `gc.freeze()` after "
    "startup in `run_socket_mode` (cancel_order_bot/cli/commands.py, not this suite's to edit).",
    "**Ack latency: the work after each ack ran between the other acks.** py-spy on the bot during a burst "
    "showed the answer path (uvicorn, Starlette, Bolt) at about 3% of the samples: the rest was the work each "
    "command starts after its ack (views.open, two Lazada calls, rendering, views.update), which the event loop "
    "ran between the answers still waiting. Fixed in `bot/http.py`: an `AckGate` counts the requests on "
    "/slack/events whose answer has not left yet, and a Bolt middleware gives every command and interaction an "
    "ack that, once the answer is set, waits (at most 0.5 s, well inside a trigger id's 3 s) until the other "
    "answers have left. The answer now leaves when the listener calls `ack()` (Bolt itself notices an ack "
    "only on its next 10 ms poll, and forgets one whose listener raises before that poll); the count then "
    "empties between two requests of a burst still arriving, so work after an ack also waits until no request "
    "has arrived for 10 ms (without that, p99 was 2.0× the bare app over two runs). "
    "A lone request goes on at once, so a quiet bot's modal is not delayed. "
    "Events are left alone, since Bolt acks those itself before their listener starts.",
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
    "**The daily digest's chart adds about 45 MiB to the replica that posts it, for good.** The digest benchmark "
    "draws the chart after its syncs and reads the RSS around it: matplotlib is imported for the chart and stays "
    "loaded. An earlier footprint run that lasted past the scheduler's first digest tick showed the same step "
    "(123 to 170 MiB) in the middle of the interactions, so the footprint and replica benchmarks now run without a "
    "digest channel and the digest benchmark owns that cost. Plan: draw the chart in a short-lived child process "
    "(`ProcessPoolExecutor(max_workers=1, mp_context=spawn)` around `render_chart` in `bot/slack/digest_poster.py`, "
    "once a day), so the long-running bot never imports matplotlib.",
    "**At Lazada's rate, now and then a cancel was refused.** Every full run showed one of the bulk request's 50 "
    "orders failed: Lazada refused its InitReverseOrderCancel with ApiCallLimit, and a refused write is not "
    "retried (by design). The limiter spaced calls 1% wider than 1/N s, which absorbs 10 ms of jitter per "
    "second; a 50 ms round trip and two busy event loops jitter more, so 21 calls now and then reached the "
    "sandbox within one second. With the limiter at 95% of the rate the failure was gone in every run. Fixed in "
    "`bot/lazada/limiter.py`: the slack is now 5% (50 ms per second at 20/s), which costs 5% of throughput at "
    "the limit. Plan, for the workflow's owner: ApiCallLimit is a refusal at Lazada's gateway before the API "
    "runs, so the executor could wait the announced ban, read the items back as it does after any unclear "
    "outcome, and send the cancel once more while they are still cancellable.",
    "**Two replicas at Lazada's rate: the first calls, on new connections, reached the gateway late.** The "
    "budget benchmark showed one or two ApiCallLimit refusals per run, always within a second of a replica's first "
    "calls. Logging each call's slot, send and answer against the sandbox's arrival and admission per API showed "
    "why: a call that opens a connection pays two more round trips (TCP and TLS) before it reaches the gateway, so "
    "the first call, sent at its slot, was admitted 135 ms later than a warm call would have been, and the calls "
    "after it, on kept-alive connections, caught up: 11 calls of /order/items/get within 0.96 s although they "
    "were sent 1.1 s apart. The 10% spacing leaves 100 ms for that; 2 × 50 ms of handshakes plus the connection's "
    "own setup is more. Fixed in `bot/lazada/limiter.py`: each call learns from httpcore's `trace` extension "
    "whether it opened a connection, and one that did, once answered, moves the shared budget's next slot on by "
    "how much later than the fastest warm answer it came back (beyond the 100 ms); each replica now books a "
    "slot only once its previous slot has come, so the move reaches the call ten places later. It costs about "
    "0.1 s per cold replica at the start.",
)
