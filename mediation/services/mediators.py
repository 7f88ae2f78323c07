"""Who mediates a case: the least-loaded active mediator with no conflict of interest."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select

from mediation.extensions import db
from mediation.models import Case, CaseState, MediatorConflict, Message, ReadMarker, Ruling, User
from mediation.services import policy
from mediation.services.actors import StaffActor

# Cases that still need their mediator's attention count towards the load.
_OPEN_WORK = (CaseState.MEDIATION, CaseState.RULED, CaseState.APPEALED)


def pick_mediator(case: Case) -> User | None:
    """The active mediator with the fewest open cases and no conflict of interest (declared with the
    case's platform or either party, or having ruled on this case); ties go to the one registered first.
    None when nobody is free of conflict."""
    load = (select(func.count(Case.id)).where(or_(Case.mediator_id == User.id, Case.appeal_mediator_id == User.id),
                                              Case.state.in_(_OPEN_WORK))
            .correlate(User).scalar_subquery())
    query = (select(User).where(User.role == "mediator", User.active.is_(True), ~_conflict(case))
             .order_by(load, User.id).limit(1))
    return db.session.scalar(query)


def conflicted(case: Case, mediator_id: int) -> bool:
    """Whether the mediator may not act on the case (the same test pick_mediator applies)."""
    return db.session.scalar(select(User.id).where(User.id == mediator_id, _conflict(case))) is not None


def _conflict(case: Case):
    """True for a User (row of the enclosing query) who has a conflict with `case`."""
    external_ids = [party.external_id for party in case.parties]
    conflict = MediatorConflict
    with_platform = and_(conflict.platform_id == case.platform_id, conflict.party_external_id.is_(None))
    with_party = and_(conflict.party_external_id.in_(external_ids),
                      or_(conflict.platform_id.is_(None), conflict.platform_id == case.platform_id))
    declared = select(conflict.id).where(conflict.mediator_id == User.id, or_(with_platform, with_party))
    ruled = select(Ruling.id).where(Ruling.case_id == case.id, Ruling.mediator_id == User.id)
    return or_(declared.exists(), ruled.exists())


@dataclass
class QueueItem:
    case: Case
    unread: int
    part: str  # "mediation": the case's mediator; "appeal": deciding its appeal


def queue(actor: StaffActor) -> list[QueueItem]:
    """A mediator's open cases, the nearest deadline first, with the messages they have not read in the
    channels they may read."""
    cases = list(db.session.scalars(
        select(Case).where(policy.visible_cases(actor), Case.state.in_(_OPEN_WORK))
        .order_by(Case.deadline_at.is_(None), Case.deadline_at, Case.id).limit(200)))
    return [QueueItem(case, _unread(case.id, actor.key, policy.readable_channels(actor, case)),
                      "appeal" if policy.is_appeal_mediator(actor, case) else "mediation") for case in cases]


def _unread(case_id: int, reader: str, channels: tuple[str, ...]) -> int:
    read_upto = (select(ReadMarker.message_id).where(
        ReadMarker.case_id == case_id, ReadMarker.sender == reader, ReadMarker.channel == Message.channel)
        .correlate(Message).scalar_subquery())
    return db.session.scalar(select(func.count(Message.id)).where(
        Message.case_id == case_id, Message.channel.in_(channels), Message.sender != reader,
        Message.id > func.coalesce(read_upto, 0))) or 0
