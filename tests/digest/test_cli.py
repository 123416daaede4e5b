"""`cancel-order-bot digest`: JSON per store, readable text, posting to Slack, and the terminal progress bar."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.buyer.models import BuyerRequestCounts
from bot.settings import Settings
from bot.store import default_sqlite_url
from cancel_order_bot.cli.digest import TerminalProgress, digest_command, render_digest_text
from cancel_order_bot.demo import FakeSlack
from cancel_order_bot.demo.fake_slack import FILE_UPLOAD
from tests.digest.factories import report

REQUIRED = {
    "store",
    "rate",
    "cancelled_items",
    "ordered_items",
    "window_start",
    "window_end",
    "pipeline_cancelled_items",
    "projected_rate",
    "status",
    "buyer_requests",
}


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for one sandbox store on a SQLite file, with no pacing of Lazada calls."""
    values: dict[str, Any] = {
        "database_url": default_sqlite_url(tmp_path / "bot.sqlite3"),
        "lazada_calls_per_second": 1000,
        "store_code": "main",
        "digest_channel": "C0DIGEST",
        **overrides,
    }
    return Settings(_env_file=None, **values)


def args(**overrides: Any) -> argparse.Namespace:
    """The parsed `digest` arguments."""
    return argparse.Namespace(**{"store": None, "json": False, "post": False, "sandbox": True, **overrides})


async def test_json_prints_one_object_per_store_with_the_documented_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await digest_command(args(json=True), settings_for(tmp_path))

    out = capsys.readouterr().out
    (line,) = out.strip().splitlines()
    data = json.loads(line)
    assert code == 0
    assert set(data) >= REQUIRED
    assert data["store"] == "main"
    assert 0 < data["rate"] < 1
    assert data["rate"] == data["cancelled_items"] / data["ordered_items"]
    assert data["status"] in {"ok", "warning", "over_limit"}
    assert data["window_start"] < data["window_end"]
    assert data["pipeline_cancelled_items"] >= 0
    assert data["complete"] is True
    seller_fault = sum(row["items"] for row in data["by_initiator"] if row["seller_fault"])
    assert seller_fault == data["cancelled_items"], "the breakdown adds up to the estimate's numerator"
    assert data["seller_fault_initiators"]
    assert data["unreadable_orders"] == 0
    assert [i["name"] for i in data["indicators"]] == ["Positive Seller Rating", "Product Rating Coverage"]
    assert data["indicators_problem"] is None
    assert data["buyer_requests"] == {
        "received": 1,
        "accepted": 0,
        "refused": 0,
        "decided_by_lazada": 0,
        "answered_elsewhere": 0,
        "items_spared": 0,
    }, "no scan ran, but the sync listed showcase order 100000000000006, which waits on a buyer's request"


async def test_text_says_estimate_and_names_the_calls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = await digest_command(args(), settings_for(tmp_path))

    out = capsys.readouterr().out
    assert code == 0
    assert "Estimated seller-fault cancellation rate" in out
    assert "estimate of Lazada's own figure" in out
    assert "SANDBOX" in out
    assert "(cold): /orders/get" in out


async def test_an_unknown_store_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = await digest_command(args(store="nope"), settings_for(tmp_path))

    assert code == 2
    assert "unknown store 'nope'" in capsys.readouterr().err


async def test_post_sends_the_digest_and_its_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with FakeSlack() as slack:
        settings = settings_for(tmp_path, slack_api_url=slack.api_url, slack_bot_token=SecretStr(slack.bot_token))

        code = await digest_command(args(json=True, post=True), settings)

        methods = [call.method for call in slack.calls]
        assert code == 0
        assert methods == [
            "chat.postMessage",
            "files.getUploadURLExternal",
            FILE_UPLOAD,
            "files.completeUploadExternal",
        ]
        assert "posted to C0DIGEST" in capsys.readouterr().err


def test_progress_bar_redraws_one_line() -> None:
    stream = io.StringIO()
    bar = TerminalProgress(stream, "main")

    bar("orders", 1, 4)
    bar("orders", 4, 4)
    bar.finish()

    written = stream.getvalue()
    assert "\rmain orders [#######.....................] 1/4" in written
    assert "[############################] 4/4" in written
    assert written.endswith("\r")
    assert "\n" not in written


def test_text_of_a_report() -> None:
    text = render_digest_text(report())

    assert "Estimated seller-fault cancellation rate: 2.50% [warning]" in text
    assert "vs yesterday: up 0.50 pp (was 2.00%)" in text
    assert "once counted: about 4.00% [warning]" in text


def test_text_of_a_report_counts_buyer_requests() -> None:
    counts = BuyerRequestCounts(received=4, accepted=2, refused=1, decided_by_lazada=1, items_spared=5)
    text = render_digest_text(report(buyer_requests=counts))

    assert (
        "Buyers' cancellation requests, last 24 h: 4 received, 2 accepted, 1 refused, 1 decided by Lazada, "
        "0 answered outside Slack" in text
    )
    assert "seller-fault cancellations avoided: 5 item(s) cancelled at the buyer's request instead" in text
    assert "Buyers' cancellation requests" not in render_digest_text(report())
