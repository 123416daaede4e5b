"""The rules of the workflow as pure functions: data in, decision and its reason out, no I/O (tested with data alone).

`approval_requirement` decides how many distinct approvers a cancellation needs; the hardening issue adds its
other rules beside it, in the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.domain import ApprovalBasis, ApprovalReason
from bot.settings import StoreConfig
from bot.workflow.models import RateProjection

__all__ = ["ApprovalReason", "ApprovalRequirement", "approval_requirement"]


@dataclass(frozen=True)
class ApprovalRequirement:
    """How many distinct approvers a request needs, and why; the projection that decided it when there was one."""

    approvals: Literal[1, 2]
    reason: ApprovalReason
    projection: RateProjection | None = None

    @property
    def basis(self) -> ApprovalBasis:
        """The reason as the request keeps it (with the projected and warning rates when the rate decided)."""
        if self.reason is ApprovalReason.NEAR_RATE_LIMIT and self.projection is not None:
            return ApprovalBasis(
                reason=self.reason,
                projected_rate=self.projection.projected_rate,
                warning_rate=self.projection.warning_rate,
            )
        return ApprovalBasis(reason=self.reason)


def approval_requirement(store: StoreConfig, projection: RateProjection | None) -> ApprovalRequirement:
    """The approvals a cancellation needs in `store`, given the store's rate after it (`projection`, None if unknown).

    The projection must count, besides this cancellation's items, the items of every other open request of the
    store and those cancelled since the rate was last read, so that splitting a cancellation changes nothing.

    The store's own setting is the floor (capped at two). When the store asks for two approvers near its limit
    (`two_approvers_near_limit`) and the projected rate reaches the warning rate, two are needed.
    """
    floor: Literal[1, 2] = 2 if store.required_approvals >= 2 else 1
    near_limit = (
        store.two_approvers_near_limit
        and projection is not None
        and projection.projected_rate >= projection.warning_rate
    )
    if near_limit and floor < 2:
        return ApprovalRequirement(approvals=2, reason=ApprovalReason.NEAR_RATE_LIMIT, projection=projection)
    return ApprovalRequirement(approvals=floor, reason=ApprovalReason.STORE_DEFAULT, projection=projection)
