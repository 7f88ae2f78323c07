"""Plain helpers for the request and checklist tests."""
from __future__ import annotations

from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import Case, CaseEvent, ChecklistAnswer, EvidenceRequest


def ask(client, info, headers: dict, **body):
    """POST a request; `kind` and `addressee` default to asking the seller for the tracking number."""
    return client.post(f"/api/v1/cases/{info.id}/requests", headers=headers,
                       json={"kind": "tracking_number", "addressee": "seller", **body})


def snapshot(case_id: int) -> tuple:
    """What a refused command must leave unchanged."""
    db.session.rollback()
    case = db.session.get(Case, case_id)
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    return (case.state, case.version, count(CaseEvent), count(EvidenceRequest), count(ChecklistAnswer),
            tuple(db.session.scalars(select(EvidenceRequest.state).order_by(EvidenceRequest.id))))


def event_types(case_id: int) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(CaseEvent.type).where(CaseEvent.case_id == case_id)
                                   .order_by(CaseEvent.seq)))
