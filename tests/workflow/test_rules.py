"""The approval requirement, tested with data alone: a store's settings and a rate projection in, a decision out."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain import ApprovalBasis
from bot.settings import Country, StoreConfig
from bot.workflow.models import RateProjection
from bot.workflow.rules import ApprovalReason, approval_requirement


def _store(**overrides: Any) -> StoreConfig:
    return StoreConfig(code="sg-main", country=Country.SG, **overrides)


def _projection(rate: float, projected: float) -> RateProjection:
    return RateProjection(
        rate=rate,
        projected_rate=projected,
        warning_rate=0.02,
        limit_rate=0.04,
        cancelled_items=10,
        ordered_items=1000,
        status="ok",
        projected_status="warning" if projected >= 0.02 else "ok",
    )


def test_one_approver_far_from_the_warning_rate() -> None:
    decision = approval_requirement(_store(), _projection(0.005, 0.006))
    assert decision.approvals == 1
    assert decision.reason is ApprovalReason.STORE_DEFAULT


@pytest.mark.parametrize("projected", [0.02, 0.03, 0.05])
def test_two_approvers_when_the_cancellation_reaches_the_warning_rate(projected: float) -> None:
    projection = _projection(0.015, projected)
    decision = approval_requirement(_store(), projection)
    assert decision.approvals == 2
    assert decision.reason is ApprovalReason.NEAR_RATE_LIMIT
    assert decision.projection == projection


def test_just_below_the_warning_rate_one_is_enough() -> None:
    assert approval_requirement(_store(), _projection(0.015, 0.0199)).approvals == 1


def test_a_store_that_opts_out_keeps_one_approver_near_the_limit() -> None:
    decision = approval_requirement(_store(two_approvers_near_limit=False), _projection(0.03, 0.05))
    assert decision.approvals == 1
    assert decision.reason is ApprovalReason.STORE_DEFAULT


def test_a_store_asking_for_two_gets_two_whatever_the_rate() -> None:
    for projection in (None, _projection(0.0, 0.001), _projection(0.03, 0.05)):
        decision = approval_requirement(_store(required_approvals=2), projection)
        assert decision.approvals == 2
        assert decision.reason is ApprovalReason.STORE_DEFAULT


def test_an_unknown_rate_never_raises_the_requirement() -> None:
    decision = approval_requirement(_store(), None)
    assert decision.approvals == 1
    assert decision.projection is None


def test_the_reason_kept_with_the_request_names_the_rates_that_decided_it() -> None:
    decision = approval_requirement(_store(), _projection(0.015, 0.032))
    assert decision.basis == ApprovalBasis(
        reason=ApprovalReason.NEAR_RATE_LIMIT, projected_rate=0.032, warning_rate=0.02
    )
    assert approval_requirement(_store(), None).basis == ApprovalBasis(reason=ApprovalReason.STORE_DEFAULT)
