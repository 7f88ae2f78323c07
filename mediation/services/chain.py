"""Checking the case logs: every row's hash must follow from the row before it."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from mediation.extensions import db
from mediation.models import Case, CaseEvent
from mediation.models.event_log import GENESIS


@dataclass
class ChainReport:
    case_id: int
    events: int
    broken_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify_case(case_id: int, until: int | None = None) -> ChainReport:
    """Walk the chain in order (up to event `until`, if given); name the first link whose hash or predecessor
    does not match."""
    expected_prev, count = GENESIS, 0
    query = select(CaseEvent).where(CaseEvent.case_id == case_id)
    if until is not None:
        query = query.where(CaseEvent.seq <= until)
    rows = db.session.scalars(query.order_by(CaseEvent.seq).execution_options(yield_per=500))
    for count, event in enumerate(rows, start=1):
        if event.seq != count:
            return ChainReport(case_id, count, event.seq, f"expected event {count}, found {event.seq}")
        if event.prev_hash != expected_prev:
            return ChainReport(case_id, count, event.seq, "prev_hash does not match the previous event")
        if event.compute_hash() != event.hash:
            return ChainReport(case_id, count, event.seq, "the event's content does not match its hash")
        expected_prev = event.hash
    return ChainReport(case_id, count)


def verify_all() -> list[ChainReport]:
    return [verify_case(case_id) for case_id in db.session.scalars(select(Case.id).order_by(Case.id))]
