"""Who mediates a case: the least-loaded active mediator with no conflict of interest."""
from __future__ import annotations

from sqlalchemy import and_, func, or_, select

from mediation.extensions import db
from mediation.models import Case, CaseState, MediatorConflict, User

# Cases that still need their mediator's attention count towards the load.
_OPEN_WORK = (CaseState.MEDIATION, CaseState.RULED, CaseState.APPEALED)


def pick_mediator(case: Case) -> User | None:
    """The active mediator with the fewest open cases and no declared conflict with the case's platform
    or either party; ties go to the one registered first. None when nobody is free of conflict."""
    load = (select(func.count(Case.id)).where(Case.mediator_id == User.id, Case.state.in_(_OPEN_WORK))
            .correlate(User).scalar_subquery())
    external_ids = [party.external_id for party in case.parties]
    conflict = MediatorConflict
    with_platform = and_(conflict.platform_id == case.platform_id, conflict.party_external_id.is_(None))
    with_party = and_(conflict.party_external_id.in_(external_ids),
                      or_(conflict.platform_id.is_(None), conflict.platform_id == case.platform_id))
    conflicted = select(conflict.id).where(conflict.mediator_id == User.id, or_(with_platform, with_party))
    query = (select(User).where(User.role == "mediator", User.active.is_(True), ~conflicted.exists())
             .order_by(load, User.id).limit(1))
    return db.session.scalar(query)
