"""The mediator's recommendation: a settlement both parties must accept before it settles the case."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mediation.errors import Forbidden, Invalid, InvalidTransition, NotFound
from mediation.extensions import db
from mediation.models import Case, CaseEvent, Proposal
from mediation.services import proposals
from tests.conftest import money


def fresh(case_id: int) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case_id)


def recommend(info, mediator, refund="70.00", release="30.00"):
    return proposals.recommend_settlement(mediator, info.id, buyer_refund=money(refund),
                                          seller_release=money(release), terms="Return at the seller's cost.")


def test_the_mediator_recommends_a_settlement_in_mediation(make_mediation_case):
    info, mediator = make_mediation_case()
    proposal = recommend(info, mediator)
    assert (proposal.author_role, proposal.needs_answer_from()) == ("mediator", ("buyer", "seller"))


def test_one_acceptance_does_not_settle_the_case(make_mediation_case):
    info, mediator = make_mediation_case()
    proposal = recommend(info, mediator)
    proposals.accept_proposal(info.actor("buyer"), info.id, proposal.id)
    case = fresh(info.id)
    assert (case.state, db.session.get(Proposal, proposal.id).accepted_by) == ("mediation", "buyer")
    assert db.session.scalar(select(CaseEvent.type).order_by(CaseEvent.id.desc()).limit(1)) == \
        "recommendation.accepted"


def test_the_second_acceptance_settles_the_case_on_the_recommendation(make_mediation_case):
    info, mediator = make_mediation_case()
    proposal = recommend(info, mediator)
    proposals.accept_proposal(info.actor("seller"), info.id, proposal.id)
    proposals.accept_proposal(info.actor("buyer"), info.id, proposal.id)
    case = fresh(info.id)
    assert (case.state, case.resolution, case.refund_minor, case.release_minor) == ("settled", "settled", 7000, 3000)


def test_a_party_cannot_accept_the_same_recommendation_twice(make_mediation_case):
    info, mediator = make_mediation_case()
    proposal = recommend(info, mediator)
    proposals.accept_proposal(info.actor("buyer"), info.id, proposal.id)
    with pytest.raises(InvalidTransition):
        proposals.accept_proposal(info.actor("buyer"), info.id, proposal.id)
    assert fresh(info.id).state == "mediation"


def test_either_party_rejecting_ends_the_recommendation(make_mediation_case):
    info, mediator = make_mediation_case()
    proposal = recommend(info, mediator)
    proposals.accept_proposal(info.actor("buyer"), info.id, proposal.id)
    proposals.reject_proposal(info.actor("seller"), info.id, proposal.id)
    assert db.session.get(Proposal, proposal.id).state == "rejected"
    assert fresh(info.id).state == "mediation"


def test_a_new_recommendation_supersedes_the_mediators_open_one(make_mediation_case):
    info, mediator = make_mediation_case()
    first = recommend(info, mediator)
    recommend(info, mediator, "50.00", "50.00")
    assert db.session.get(Proposal, first.id).state == "superseded"


def test_the_mediator_withdraws_their_recommendation(make_mediation_case):
    info, mediator = make_mediation_case()
    proposal = recommend(info, mediator)
    proposals.withdraw_proposal(mediator, info.id, proposal.id)
    assert db.session.get(Proposal, proposal.id).state == "withdrawn"


def test_a_party_cannot_withdraw_the_mediators_recommendation(make_mediation_case):
    info, mediator = make_mediation_case()
    proposal = recommend(info, mediator)
    with pytest.raises(Forbidden):
        proposals.withdraw_proposal(info.actor("buyer"), info.id, proposal.id)


def test_a_recommendation_must_conserve_the_held_amount(make_mediation_case):
    info, mediator = make_mediation_case()
    with pytest.raises(Invalid):
        recommend(info, mediator, "70.00", "20.00")


@pytest.mark.parametrize("role", ["buyer", "seller"])
def test_a_party_cannot_make_a_recommendation(make_mediation_case, role):
    info, _mediator = make_mediation_case()
    with pytest.raises(Forbidden):
        recommend(info, info.actor(role))


def test_a_mediator_not_on_the_case_cannot_recommend(make_mediation_case, make_user):
    info, _mediator = make_mediation_case()
    with pytest.raises(NotFound):
        recommend(info, make_user("mediator"))


def test_there_is_nothing_to_recommend_once_the_case_is_settled(make_mediation_case):
    info, mediator = make_mediation_case()
    proposal = recommend(info, mediator)
    proposals.accept_proposal(info.actor("seller"), info.id, proposal.id)
    proposals.accept_proposal(info.actor("buyer"), info.id, proposal.id)
    with pytest.raises(InvalidTransition):
        recommend(info, mediator)
