"""The App Home tab."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bot.domain import RequestStatus
from bot.slack.render.home import render_home
from bot.slack.render.ids import REQUEST_APPROVE, REQUEST_REJECT, REQUEST_WITHDRAW, ButtonValue
from bot.workflow.models import RateProjection, RequestCard
from tests.render.factories import NOW, RATE, card, check_view, decided_card, view_text


def _home(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "pending_for_approver": [card(request_id="CR-PEND1")],
        "my_requests": [card(request_id="CR-MINE1"), decided_card(RequestStatus.EXECUTED)],
        "recent": [decided_card(RequestStatus.REJECTED)],
        "store_rates": [("SG Main", RATE), ("MY Shop", None)],
        "is_approver": True,
        "now": NOW,
    }
    values.update(overrides)
    view = check_view(render_home(**values))
    assert view["type"] == "home"
    return view


def _buttons(view: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for block in view["blocks"]:
        elements = block.get("elements", []) if block["type"] == "actions" else [block.get("accessory") or {}]
        for element in elements:
            if element.get("type") == "button":
                found.append((element["action_id"], ButtonValue.unpack(element["value"]).request_id))
    return found


def test_approver_sees_pending_requests_with_approve_and_reject() -> None:
    buttons = _buttons(_home())
    assert (REQUEST_APPROVE, "CR-PEND1") in buttons
    assert (REQUEST_REJECT, "CR-PEND1") in buttons
    assert (REQUEST_WITHDRAW, "CR-PEND1") not in buttons


def test_non_approver_sees_no_approval_buttons() -> None:
    view = _home(is_approver=False)
    assert not [b for b in _buttons(view) if b[0] != REQUEST_WITHDRAW]
    assert "Waiting for your approval" not in view_text(view)


def test_everyone_sees_their_requests_and_can_withdraw_pending_ones() -> None:
    view = _home(is_approver=False)
    assert _buttons(view) == [(REQUEST_WITHDRAW, "CR-MINE1")]
    text = view_text(view)
    assert "Your requests (2)" in text
    assert "CR-7K2Q9" in text
    assert "cancelled" in text


def test_recent_outcomes_show_at_most_twenty() -> None:
    recent = [decided_card(RequestStatus.EXECUTED).model_copy(update={"request_id": f"CR-R{n:02d}"}) for n in range(30)]
    text = view_text(_home(recent=recent))
    assert "CR-R19" in text
    assert "CR-R20" not in text


def test_store_rates_show_the_rate_or_not_computed_yet() -> None:
    text = view_text(_home())
    assert "*SG Main*: 2.10% seller-fault cancellations (warning 3.00%, limit 5.00%)" in text
    assert "*MY Shop*: not computed yet" in text


def test_empty_home_is_still_valid() -> None:
    view = _home(pending_for_approver=[], my_requests=[], recent=[], store_rates=[])
    text = view_text(view)
    assert "Nothing is waiting for you" in text
    assert "You have no cancellation requests" in text


def test_a_busy_home_stays_within_a_hundred_blocks_with_unique_block_ids() -> None:
    def many(prefix: str, status: RequestStatus) -> list[RequestCard]:
        return [card(status, request_id=f"{prefix}{n:03d}", justification="x" * 500) for n in range(100)]

    view = _home(
        pending_for_approver=many("CR-P", RequestStatus.PENDING),
        my_requests=many("CR-M", RequestStatus.PENDING) + many("CR-D", RequestStatus.EXECUTED),
        recent=many("CR-R", RequestStatus.FAILED),
        store_rates=[(f"store-{n}", RateProjection(**{**RATE.model_dump(), "rate": n / 100})) for n in range(40)],
    )
    assert len(view["blocks"]) <= 100
    ids = Counter(b["block_id"] for b in view["blocks"] if "block_id" in b)
    assert all(count == 1 for count in ids.values())
    assert "more in the approval channel" in view_text(view)
