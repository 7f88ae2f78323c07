"""Reassignment by an admin (with a reason, on the record) and the conflicts that bar a mediator."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mediation.errors import Forbidden, Invalid, InvalidTransition, NotFound
from mediation.extensions import db
from mediation.models import Case, CaseEvent, MediatorConflict, User
from mediation.services import assignment, rulings
from tests.conftest import money


def fresh(case_id: int) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case_id)


def last_event(case_id: int) -> CaseEvent:
    return db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case_id)
                             .order_by(CaseEvent.seq.desc()).limit(1))


def test_an_admin_reassigns_a_case_with_a_reason_on_the_record(make_mediation_case, make_user):
    info, mediator = make_mediation_case()
    replacement, admin = make_user("mediator"), make_user("admin")
    assignment.reassign_case(admin, info.id, replacement.user_id, "The mediator is on leave.")
    event = last_event(info.id)
    assert fresh(info.id).mediator_id == replacement.user_id
    assert (event.type, event.payload["reason"], event.payload["previous_mediator_id"]) == (
        "mediator.reassigned", "The mediator is on leave.", mediator.user_id)


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reassignment_without_a_reason_is_refused(make_mediation_case, make_user, reason):
    info, mediator = make_mediation_case()
    with pytest.raises(Invalid):
        assignment.reassign_case(make_user("admin"), info.id, make_user("mediator").user_id, reason)
    assert fresh(info.id).mediator_id == mediator.user_id


def test_a_mediator_with_a_conflict_cannot_be_given_the_case(make_mediation_case, make_user):
    info, mediator = make_mediation_case()
    conflicted = make_user("mediator")
    db.session.add(MediatorConflict(mediator_id=conflicted.user_id, party_external_id="s-1", reason="Former client"))
    db.session.commit()
    with pytest.raises(Invalid) as caught:
        assignment.reassign_case(make_user("admin"), info.id, conflicted.user_id, "Rebalancing the load.")
    assert "mediator_id" in caught.value.errors
    assert fresh(info.id).mediator_id == mediator.user_id


@pytest.mark.parametrize("who", ["admin", "inactive", "unknown"])
def test_only_an_active_mediator_can_be_given_the_case(make_mediation_case, make_user, who):
    info, mediator = make_mediation_case()
    target = {"admin": lambda: make_user("admin").user_id, "unknown": lambda: 10**6,
              "inactive": lambda: make_user("mediator").user_id}[who]()
    if who == "inactive":
        db.session.get(User, target).active = False
        db.session.commit()
    with pytest.raises(Invalid):
        assignment.reassign_case(make_user("admin"), info.id, target, "Rebalancing the load.")
    assert fresh(info.id).mediator_id == mediator.user_id


def test_the_assigned_mediator_cannot_reassign_their_own_case(make_mediation_case, make_user):
    info, mediator = make_mediation_case()
    with pytest.raises(Forbidden):
        assignment.reassign_case(mediator, info.id, make_user("mediator").user_id, "I would rather not.")


def test_a_party_cannot_reassign_the_case(make_mediation_case, make_user):
    info, _mediator = make_mediation_case()
    with pytest.raises(Forbidden):
        assignment.reassign_case(info.actor("buyer"), info.id, make_user("mediator").user_id, "Biased.")


def test_another_mediator_cannot_see_the_case_to_reassign_it(make_mediation_case, make_user):
    info, _mediator = make_mediation_case()
    other = make_user("mediator")
    with pytest.raises(NotFound):
        assignment.reassign_case(other, info.id, other.user_id, "Give it to me.")


def test_a_case_without_a_mediator_slot_cannot_be_reassigned(make_case, make_user):
    info = make_case()
    with pytest.raises(InvalidTransition):
        assignment.reassign_case(make_user("admin"), info.id, make_user("mediator").user_id, "Early.")


def appealed_case(make_mediation_case, make_user, rulebook):
    info, mediator = make_mediation_case()
    rulings.issue_ruling(mediator, info.id, rulings.Outcome(money("40.00"), money("60.00")),
                         "The photos show damage in transit.", rulebook.clause_ids[:1])
    appeal_mediator = make_user("mediator")
    rulings.appeal_ruling(info.actor("seller"), info.id, "The ruling ignored the courier's report.")
    return info, mediator, appeal_mediator


def test_on_appeal_the_admin_reassigns_the_appeal_mediator(make_mediation_case, make_user, rulebook):
    info, mediator, appeal_mediator = appealed_case(make_mediation_case, make_user, rulebook)
    replacement = make_user("mediator")
    assignment.reassign_case(make_user("admin"), info.id, replacement.user_id, "Workload.")
    case = fresh(info.id)
    assert (case.mediator_id, case.appeal_mediator_id) == (mediator.user_id, replacement.user_id)


def test_the_mediator_who_ruled_can_never_be_given_the_appeal(make_mediation_case, make_user, rulebook):
    info, mediator, appeal_mediator = appealed_case(make_mediation_case, make_user, rulebook)
    with pytest.raises(Invalid):
        assignment.reassign_case(make_user("admin"), info.id, mediator.user_id, "They know the case best.")
    assert fresh(info.id).appeal_mediator_id == appeal_mediator.user_id


def test_the_appeal_is_never_assigned_to_the_mediator_who_ruled_even_when_least_loaded(make_mediation_case,
                                                                                     make_user, make_case, rulebook):
    info, mediator = make_mediation_case()
    busy = make_user("mediator")
    for _ in range(3):  # the other mediator carries more cases than the one who rules
        load = db.session.get(Case, make_case().id)
        load.state, load.mediator_id = "mediation", busy.user_id
    db.session.commit()
    rulings.issue_ruling(mediator, info.id, rulings.Outcome(money("40.00"), money("60.00")),
                         "The photos show damage in transit.", rulebook.clause_ids[:1])
    rulings.appeal_ruling(info.actor("seller"), info.id, "The ruling ignored the courier's report.")
    assert fresh(info.id).appeal_mediator_id == busy.user_id
