"""`demo` runs the whole flow offline as a subprocess and prints a transcript a person can follow."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cancel_order_bot.demo.blocks_text import as_seen


@pytest.fixture(scope="module")
def transcript(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo's output, run once as a real process with an empty environment and working directory."""
    home = tmp_path_factory.mktemp("demo")
    result = subprocess.run(
        [sys.executable, "-m", "cancel_order_bot", "demo"],
        cwd=home,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_alice_requests_a_packed_order(transcript: str) -> None:
    assert "alice> /cancel-order 100000000000001" in transcript
    assert "Slack shows alice a form:" in transcript
    assert "[Request approval]" in transcript
    assert "Wireless Mouse" in transcript
    assert re.search(r"stored request CR-\w+ as pending", transcript)
    assert "[Approve] [Reject] [Withdraw]" in transcript


def test_the_transcript_reads_like_slack_without_mrkdwn_marks(transcript: str) -> None:
    shown = [line for line in transcript.splitlines() if line.lstrip().startswith("│")]
    assert shown, "Slack's messages and forms are shown"
    assert [line for line in shown if re.search(r"(^|\s)\*\S|\S\*(\s|$)|\]\*", line)] == []
    assert "Lazada says:" in transcript


def _step(transcript: str, heading: str) -> str:
    return transcript.split(heading)[1].split("━━")[0]


def test_the_repack_choice_is_in_the_form_once_the_sibling_is_unticked(transcript: str) -> None:
    step = _step(transcript, "1. Alice asks to cancel")
    first, updated = step.split("alice> unticks USB-C Cable 1 m")
    assert "Shared package" not in first, "with both items ticked nothing is left behind in the package"
    assert "GET /order/reverse/cancel/validate" in updated, "the new selection is checked with Lazada"
    assert "also holds an item you did not select: USB-C Cable 1 m" in updated
    assert "Shared package:\n    │     [x] Repack first (cancel only the selected items)" in updated
    assert "[ ] Cancel the whole package (also cancels 1 more item)" in updated


def test_repacking_is_announced_then_reported_with_its_package(transcript: str) -> None:
    posted = _step(transcript, "2. Alice keeps “Repack first”")
    assert (
        "Repack first: the 1 other item sharing a package with the selected ones is repacked before the "
        "cancellation, so it stays in the order."
    ) in posted
    assert "• package FP" in posted
    package = re.search(r"• package (FP\d+): USB-C Cable 1 m", posted)
    assert package is not None
    approved = _step(transcript, "4. Bob, an approver, approves")
    assert f"GET /order/package/repack (packages={package.group(1)}) → ok" in approved
    assert "Repacked first, then cancelled: the 1 other item sharing a package with the cancelled ones was" in approved
    assert f"• package {package.group(1)}: USB-C Cable 1 m" in approved
    assert "Will repack" not in transcript
    assert "are repacked" not in transcript


def test_the_form_and_the_card_show_the_rate_now_and_after(transcript: str) -> None:
    rate = re.compile(r"Seller-fault cancellation rate: \d+\.\d\d% now → \d+\.\d\d% after this cancellation")
    assert len(rate.findall(_step(transcript, "1. Alice asks to cancel"))) == 2, "both forms show it"
    assert rate.search(_step(transcript, "2. Alice keeps “Repack first”")), "the approval card shows it"


def _shown_messages(transcript: str) -> list[str]:
    """Each message or form the transcript shows, as its lines of ``│`` text."""
    return [m for m in re.split(r"\n(?!    │)", transcript) if "    │" in m]


def test_lazada_says_once_per_message(transcript: str) -> None:
    shown = _shown_messages(transcript)
    assert len(shown) >= 8
    assert [m for m in shown if m.count("Lazada says") > 1] == []
    card = _step(transcript, "4. Bob, an approver, approves").split("in the thread:")[0]
    assert "Lazada says: The order has been cancelled" in card
    assert "SKU stock may be set to 0∗ after cancellation" not in card


def test_self_approval_is_refused(transcript: str) -> None:
    step = transcript.split("3. Alice tries to approve her own request")[1].split("━━")[0]
    assert "can't approve your own request" in step
    assert "still pending; nothing was sent to Lazada" in step
    assert "/order/reverse/cancel/create" not in step


def test_bob_approves_and_the_items_are_cancelled(transcript: str) -> None:
    step = transcript.split("4. Bob, an approver, approves")[1].split("━━")[0]
    assert step.count("GET /order/reverse/cancel/create") == 1
    assert "Cancelled on Lazada" in step
    assert "approved by @bob" in step
    assert "Restock reminder" in step
    result = transcript.split("5. The result")[1]
    assert "Wireless Mouse: canceled" in result
    assert "USB-C Cable 1 m: pending" in result, "the sibling was repacked, not cancelled"


def test_every_lazada_call_is_shown_with_its_outcome(transcript: str) -> None:
    calls = re.findall(r"lazada  GET (/\S+) .*→ (ok|error \w+)", transcript)
    assert ("/order/items/get", "ok") in calls
    assert ("/order/package/repack", "ok") in calls


def test_it_ends_with_where_the_files_are(transcript: str) -> None:
    database = re.search(r"Database: (\S+)", transcript)
    assert database is not None
    assert Path(database.group(1)).exists()


def test_a_digest_is_produced_with_its_chart(transcript: str) -> None:
    step = transcript.split("7. The daily cancellation-rate digest")[1]
    assert "posted the digest to #digest and uploaded its chart (files v2): ok" in step
    assert "estimated seller-fault cancellation rate" in step
    assert "1 request · 1 approved · 1 executed" in step
    chart = re.search(r"Chart: +(\S+)", transcript)
    assert chart is not None
    assert Path(chart.group(1)).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("mrkdwn", "seen"),
    [
        ("*Lazada says:* stock set to 0∗", "Lazada says: stock set to 0∗"),
        ("[Approve]* [Reject]! [Withdraw]", "[Approve] [Reject] [Withdraw]"),
        ("_italic_ and ~struck~", "italic and struck"),
        ("snake_case_name 2*3*4 * not bold *", "snake_case_name 2*3*4 * not bold *"),
    ],
)
def test_as_seen_draws_emphasis_instead_of_spelling_it(mrkdwn: str, seen: str) -> None:
    assert as_seen(mrkdwn) == seen


def test_a_buyers_request_is_accepted_from_slack(transcript: str) -> None:
    step = _step(transcript, "6. A buyer asked to cancel order 100000000000006")
    before, after = step.split("bob> clicks [Accept the buyer's request] and confirms")
    assert "GET /reverse/getreverseordersforseller" in before, "the scan found it"
    assert "[Accept the buyer's request] [Refuse]" in before
    assert "The buyer's reason: Change of mind" in before
    assert after.count("GET /order/reverse/cancel/seller/decide") == 1
    assert "agree_cancel=true) → ok" in after
    assert "/order/reverse/cancel/create" not in step, "not a seller-reason cancellation"
    assert "✅ Accepted by @bob" in after
    assert "[Accept the buyer's request]" not in after, "the buttons are gone"
    assert "main:4000" not in step, "the request's internal key is not for people"
    assert "is accepted: one decision sent" in after
    assert "cancelled by cancellation-customer" in after
    digest = transcript.split("7. The daily cancellation-rate digest")[1]
    assert "1 received · 1 accepted · 0 refused · 0 decided by Lazada" in digest
    assert "2 seller-fault cancellations avoided" in digest
