"""Putting a mediator on a case: on escalation, on appeal, on retry by the tick, by an admin.

Every assignment is on the record (`mediator.assigned`, `mediator.reassigned`). The appeal mediator is
never one who has ruled on the case (pick_mediator excludes them).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mediation.errors import Invalid, InvalidTransition
from mediation.extensions import db
from mediation.models import Case, CaseState, User
from mediation.services import events, uow
from mediation.services.actors import Actor, StaffActor
from mediation.services.cases import load
from mediation.services.mediators import conflicted, pick_mediator
from mediation.services.policy import Action

# The state that needs a mediator, and the column that holds them.
_SLOTS = {CaseState.MEDIATION: "mediator_id", CaseState.APPEALED: "appeal_mediator_id"}


def assign_mediator(case: Case, actor: Actor) -> User | None:
    """Give the case (in mediation or appealed) the least-loaded free mediator; note it on the record."""
    slot = _SLOTS[CaseState(case.state)]
    mediator = pick_mediator(case)
    if mediator is None:
        events.record(case, "mediator.unavailable", actor, {"for": _role_of(slot)})
        return None
    setattr(case, slot, mediator.id)
    events.record(case, "mediator.assigned", actor, {"mediator": {"id": mediator.id, "name": mediator.name},
                                                      "for": _role_of(slot)})
    return mediator


def unassigned_filter():
    """Cases waiting for a mediator, for the tick to try again."""
    return ((Case.state == CaseState.MEDIATION) & Case.mediator_id.is_(None)) | (
        (Case.state == CaseState.APPEALED) & Case.appeal_mediator_id.is_(None))


def retry_assignment(case: Case, actor: Actor) -> User | None:
    """Like assign_mediator, but quiet when still nobody is free (the first failure is on the record)."""
    mediator = pick_mediator(case)
    if mediator is None:
        return None
    slot = _SLOTS[CaseState(case.state)]
    setattr(case, slot, mediator.id)
    events.record(case, "mediator.assigned", actor, {"mediator": {"id": mediator.id, "name": mediator.name},
                                                      "for": _role_of(slot)})
    return mediator


def reassign_case(actor: StaffActor, case_id: int, mediator_id: int, reason: str) -> Case:
    """An admin gives the case (or, when appealed, its appeal) to another mediator, with a reason.

    Raises NotFound, Forbidden, InvalidTransition (no mediator to replace in this state), Invalid (reason,
    not an active mediator, a conflict of interest, has ruled on the case). Emits mediator.reassigned.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_l("Give a reason for the reassignment."), {"reason": [_l("Required.")]})
    with uow.transaction():
        case = load(actor, case_id, Action.REASSIGN)
        slot = _SLOTS.get(CaseState(case.state))
        if slot is None:
            raise InvalidTransition(_l("Only a case in mediation or on appeal has a mediator to reassign."),
                                    state=case.state)
        mediator = db.session.get(User, mediator_id) if isinstance(mediator_id, int) else None
        if mediator is None or mediator.role != "mediator" or not mediator.active:
            raise Invalid(_l("Choose an active mediator."), {"mediator_id": [_l("Not an active mediator.")]})
        if conflicted(case, mediator.id):
            raise Invalid(_l("This mediator has a conflict of interest with this case."),
                          {"mediator_id": [_l("Conflict of interest.")]})
        previous = getattr(case, slot)
        setattr(case, slot, mediator.id)
        events.record(case, "mediator.reassigned", actor, {
            "mediator": {"id": mediator.id, "name": mediator.name}, "previous_mediator_id": previous,
            "for": _role_of(slot), "reason": reason[:2000]})
        events.reset_rooms(case.id)  # the mediator replaced stops hearing the case at once
    return case


def mediator_name(user_id: int | None) -> str | None:
    return None if user_id is None else db.session.scalar(select(User.name).where(User.id == user_id))


def _role_of(slot: str) -> str:
    return "appeal" if slot == "appeal_mediator_id" else "mediation"
