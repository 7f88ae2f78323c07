"""'What usually happens in cases like this': how past cases of the same reason ended, for the parties of a
case still in progress, so an offer can be weighed against real outcomes rather than against hope.

The figures are the transparency page's (services/transparency.py), with its words and its rule: a group
of fewer than MIN_CELL resolved cases is hidden whole, its size included. The most telling group comes
first: the same reason on the case's own marketplace; when that is too small, the same reason on every
marketplace; when that is too small too, the guidance says so and gives no figure at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from mediation.models import Case
from mediation.services import transparency
from mediation.services.actors import Actor
from mediation.services.cases import load

SAME_PLATFORM = "platform"
ALL_PLATFORMS = "all_platforms"
TOO_FEW = "too_few"
SCOPES = (SAME_PLATFORM, ALL_PLATFORMS, TOO_FEW)
MIN_CASES = transparency.MIN_CELL


@dataclass(frozen=True)
class Guidance:
    """The figures for one case; every figure is None when the scope is TOO_FEW.

    Rates are shares of the resolved cases (0..1): settled by agreement, and the split of outcomes (full
    refund, partial refund, release to the seller) by the buyer's share of the amount."""

    case_id: int
    reason: str
    scope: str
    in_progress: bool  # no outcome yet (settlement, final ruling or withdrawal): the room shows it until then
    cases: int | None = None
    settled_rate: float | None = None
    median_buyer_share: float | None = None
    full_refund_rate: float | None = None
    partial_refund_rate: float | None = None
    release_rate: float | None = None
    median_days: float | None = None
    min_cases: int = MIN_CASES

    @property
    def enough(self) -> bool:
        return self.scope != TOO_FEW


def guidance_for(actor: Actor, case_id: int) -> Guidance:
    """How resolved cases of this case's reason ended, this case left out.

    Whoever may view the case may read it. Raises NotFound (no such case, or one the actor may not see).
    Emits nothing."""
    case = load(actor, case_id)
    rows = transparency.ended_rows(Case.reason == case.reason, Case.id != case.id)
    marketplace = case.platform.name
    for scope, members in ((SAME_PLATFORM, [r for r in rows if r.platform == marketplace]), (ALL_PLATFORMS, rows)):
        group = transparency.summarise(scope, case.reason, members)
        if not group.hidden:
            return _from_figures(case, scope, group.figures)
    return Guidance(case.id, case.reason, TOO_FEW, in_progress=case.resolution is None)


def _from_figures(case: Case, scope: str, figures: dict) -> Guidance:
    split = [figures["full_refund"], figures["partial_refund"], figures["release_to_seller"]]
    full, partial, release = (_share(count, sum(split)) for count in split)
    return Guidance(case.id, case.reason, scope, in_progress=case.resolution is None, cases=figures["cases"],
                    settled_rate=figures["settled_rate"], median_buyer_share=figures["median_buyer_share"],
                    full_refund_rate=full, partial_refund_rate=partial, release_rate=release,
                    median_days=figures["median_days"])


def _share(part: int, whole: int) -> float | None:
    # Rounded exactly before it becomes a float, as transparency's figures are.
    return float(round(Fraction(part, whole), 4)) if whole else None
