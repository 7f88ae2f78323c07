"""Public outcome statistics: how resolved cases ended, by reason, by platform and by month.

Read-only and open to anyone, so nothing here may single out a case: a group (a "cell") of fewer than
MIN_CELL resolved cases is hidden whole, and a rate is hidden when the cases it is taken over number fewer
than MIN_CELL (the appeal rate over ruled cases, the overturn rate over appeals). Hidden figures are None,
never zero, so every adapter can show them as hidden.

Definitions (the same words appear on the page, in the CSV and in the JSON):
- resolved: the case ended with an outcome: `settled` (the parties accepted a proposal or a mediator's
  recommendation) or `ruled` (a ruling became final: unappealed, upheld or replaced on appeal). Withdrawn
  cases are counted on their own and take no part in any other figure. Cases not yet resolved are left out.
- buyer's share: refund to the buyer / disputed amount, per case, so amounts in different currencies never
  mix. Full refund: share 1; release to seller: share 0; partial: anything between.
- appeal rate: appealed / ruled; overturn rate: replaced on appeal / appealed.
- days to resolution: from the case's opening to its resolution; the median and the 90th percentile are
  interpolated between ranks (as PostgreSQL's percentile_cont), computed here so every database agrees.
- month: the calendar month (UTC) of the resolution.
"""
from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from sqlalchemy import ColumnElement, select

from mediation import clock
from mediation.extensions import db
from mediation.models import REASONS, Appeal, Case, Platform, Ruling

MIN_CELL = 5
DIMENSIONS = ("overall", "reason", "platform", "month")
MEASURES = ("cases", "settled", "ruled", "withdrawn", "settled_rate", "full_refund", "partial_refund",
            "release_to_seller", "median_buyer_share", "appealed", "appeal_rate", "overturned", "overturn_rate",
            "median_days", "p90_days")
RATIOS = frozenset({"settled_rate", "median_buyer_share", "appeal_rate", "overturn_rate"})
DAYS = frozenset({"median_days", "p90_days"})
OVERALL = "all"
_ENDED = ("settled", "ruled", "withdrawn")
_SECONDS_A_DAY = 86400


@dataclass(frozen=True)
class Row:
    """One ended case, as much of it as the statistics need."""

    reason: str
    platform: str
    resolution: str
    share: Fraction | None  # None: no amount to take a share of
    days: Fraction
    month: str
    appeal: str | None  # None: not appealed; else the appeal's decision (uphold | replace)


@dataclass(frozen=True)
class Group:
    """The figures of one cell; a figure is None when hidden."""

    dimension: str
    key: str
    figures: dict[str, int | float | None]

    @property
    def hidden(self) -> bool:
        return self.figures["cases"] is None


@dataclass(frozen=True)
class Report:
    groups: dict[str, list[Group]]  # by dimension, in DIMENSIONS order
    generated_at: datetime
    min_cell: int = MIN_CELL

    def cells(self) -> Iterator[tuple[Group, str, int | float | None]]:
        """Every (group, measure, value) in a stable order: the tidy layout of the downloads."""
        for dimension in DIMENSIONS:
            for group in self.groups[dimension]:
                for measure in MEASURES:
                    yield group, measure, group.figures[measure]


def report() -> Report:
    """The statistics over every case that has ended so far (two queries, whatever the number of cases)."""
    rows = ended_rows()
    months = _month_range([r.month for r in rows])
    platforms = sorted({r.platform for r in rows}, key=str.casefold)
    groups = {
        "overall": [summarise("overall", OVERALL, rows)],
        "reason": _grouped("reason", REASONS, rows, lambda r: r.reason),
        "platform": _grouped("platform", platforms, rows, lambda r: r.platform),
        "month": _grouped("month", months, rows, lambda r: r.month),
    }
    return Report(groups, clock.now())


def ended_rows(*criteria: ColumnElement[bool]) -> list[Row]:
    """Every ended case, or those that also meet `criteria` (conditions on Case), in two queries."""
    appeals = dict(db.session.execute(
        select(Appeal.case_id, Ruling.decision).join(Ruling, Ruling.id == Appeal.decision_id)
        .join(Case, Case.id == Appeal.case_id).where(Case.resolution == "ruled", *criteria)).all())
    query = (select(Case.id, Case.reason, Platform.name, Case.resolution, Case.amount_minor, Case.refund_minor,
                    Case.created_at, Case.resolved_at)
             .join(Platform, Platform.id == Case.platform_id)
             .where(Case.resolution.in_(_ENDED), Case.resolved_at.is_not(None), *criteria))
    return [_row(*values, appeal=appeals.get(values[0])) for values in db.session.execute(query)]


def _row(case_id: int, reason: str, platform: str, resolution: str, amount: int, refund: int | None,
         opened: datetime, resolved: datetime, appeal: str | None) -> Row:
    share = Fraction(refund or 0, amount) if amount else None
    seconds = int((resolved - opened).total_seconds())
    return Row(reason, platform, resolution, share, Fraction(max(seconds, 0), _SECONDS_A_DAY),
               f"{resolved.year:04d}-{resolved.month:02d}", appeal)


def _grouped(dimension: str, keys, rows: list[Row], key_of: Callable[[Row], str]) -> list[Group]:
    by_key: dict[str, list[Row]] = {key: [] for key in keys}
    for row in rows:
        by_key.setdefault(key_of(row), []).append(row)
    return [summarise(dimension, key, members) for key, members in by_key.items()]


def summarise(dimension: str, key: str, rows: list[Row]) -> Group:
    """The figures of one cell of ended cases, all hidden when fewer than MIN_CELL of them were resolved."""
    resolved = [r for r in rows if r.resolution != "withdrawn"]
    if len(resolved) < MIN_CELL:
        return Group(dimension, key, dict.fromkeys(MEASURES))
    ruled = [r for r in resolved if r.resolution == "ruled"]
    appealed = [r for r in ruled if r.appeal]
    shares = [r.share for r in resolved if r.share is not None]
    days = sorted(r.days for r in resolved)
    figures = {
        "cases": len(resolved),
        "settled": len(resolved) - len(ruled),
        "ruled": len(ruled),
        "withdrawn": len(rows) - len(resolved),
        "settled_rate": _ratio(len(resolved) - len(ruled), len(resolved)),
        "full_refund": sum(1 for s in shares if s >= 1),
        "partial_refund": sum(1 for s in shares if 0 < s < 1),
        "release_to_seller": sum(1 for s in shares if s <= 0),
        "median_buyer_share": _rounded(statistics.median(shares), 4) if shares else None,
        **_rates(ruled, appealed),
        "median_days": _rounded(statistics.median(days), 1),
        "p90_days": _rounded(percentile(days, 90), 1),
    }
    return Group(dimension, key, figures)


def _rates(ruled: list[Row], appealed: list[Row]) -> dict[str, int | float | None]:
    overturned = sum(1 for r in appealed if r.appeal == "replace")
    enough_rulings, enough_appeals = len(ruled) >= MIN_CELL, len(appealed) >= MIN_CELL
    return {
        "appealed": len(appealed) if enough_rulings else None,
        "appeal_rate": _ratio(len(appealed), len(ruled)) if enough_rulings else None,
        "overturned": overturned if enough_appeals else None,
        "overturn_rate": _ratio(overturned, len(appealed)) if enough_appeals else None,
    }


def percentile(ordered: list[Fraction], p: int) -> Fraction:
    """The p-th percentile of sorted values, interpolated between ranks (percentile_cont)."""
    if len(ordered) == 1:
        return ordered[0]
    rank = Fraction(p, 100) * (len(ordered) - 1)
    below = int(rank)
    if below + 1 >= len(ordered):
        return ordered[-1]
    return ordered[below] + (ordered[below + 1] - ordered[below]) * (rank - below)


def _ratio(part: int, whole: int) -> float:
    return _rounded(Fraction(part, whole), 4)


def _rounded(value: Fraction, places: int) -> float:
    # Rounded exactly before it becomes a float, so 0.65 is never 0.6499999.
    return float(round(Fraction(value), places))


def _month_range(months: list[str]) -> list[str]:
    """Every month from the first to the last with a case, so gaps show as (hidden) months, not as nothing."""
    if not months:
        return []
    year, month = map(int, min(months).split("-"))
    last = max(months)
    keys = []
    while (key := f"{year:04d}-{month:02d}") <= last:
        keys.append(key)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys
