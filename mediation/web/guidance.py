"""The room's "What usually happens in cases like this" card: the guidance service's figures, worded and
formatted in the viewer's language. The labels are the transparency page's, so both speak alike."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _

from mediation.services import guidance
from mediation.services.actors import Actor
from mediation.web.labels import REASONS
from mediation.web.transparency import MEASURE_LABELS, shown


@dataclass(frozen=True)
class Card:
    enough: bool
    source: str  # which past cases the figures come from, as a sentence ("" when there are too few)
    facts: list[tuple[str, str]]  # (label, value) in the order shown
    outcomes: list[tuple[str, str]]  # how the cases ended: (label, share)


def card(actor: Actor, case_id: int) -> Card | None:
    """The card for the room, or None once the case has an outcome (the guidance is for deciding, not after)."""
    found = guidance.guidance_for(actor, case_id)
    if not found.in_progress:
        return None
    if not found.enough:
        return Card(False, "", [], [])
    return Card(True, _source(found), _facts(found), _outcomes(found))


def _source(found: guidance.Guidance) -> str:
    reason, count = REASONS.get(found.reason, found.reason), format_decimal(found.cases)
    if found.scope == guidance.SAME_PLATFORM:
        return _("From %(count)s resolved cases about “%(reason)s” on this marketplace.", count=count, reason=reason)
    return _("This marketplace has too few resolved cases about “%(reason)s” yet, so these figures come from "
             "%(count)s such cases on all marketplaces.", count=count, reason=reason)


def _facts(found: guidance.Guidance) -> list[tuple[str, str]]:
    return [(str(MEASURE_LABELS[measure]), shown(measure, getattr(found, measure)))
            for measure in ("settled_rate", "median_buyer_share", "median_days")]


def _outcomes(found: guidance.Guidance) -> list[tuple[str, str]]:
    rates = (("full_refund", found.full_refund_rate), ("partial_refund", found.partial_refund_rate),
             ("release_to_seller", found.release_rate))
    return [(str(MEASURE_LABELS[measure]), format_percent(rate or 0, "#,##0.#%")) for measure, rate in rates]
