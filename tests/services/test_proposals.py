"""Proposals through the services, including races between conflicting commands."""
from __future__ import annotations

import pytest

from mediation.errors import Conflict, DomainError, Forbidden, Invalid, InvalidTransition
from mediation.extensions import db
from mediation.models import Case, CaseEvent, Proposal
from mediation.services import cases, proposals
from tests.conftest import money, race


def offer(info, role, refund="40.00", release="60.00", **extra):
    return proposals.create_proposal(info.actor(role), info.id, buyer_refund=money(refund),
                                     seller_release=money(release), **extra)


def test_a_proposal_is_valid_for_the_platforms_proposal_days(make_case, frozen_clock):
    proposal = offer(make_case(), "seller")
    assert proposal.expires_at - frozen_clock.at == __import__("datetime").timedelta(days=3)


def test_without_a_held_amount_the_split_cannot_exceed_the_disputed_amount(make_case):
    info = make_case(held_amount=None)
    with pytest.raises(Invalid):
        offer(info, "buyer", "80.00", "30.00")
    assert offer(info, "buyer", "50.00", "0.00").state == "open"


def test_a_counter_offer_must_answer_a_proposal_made_to_the_counterer(make_case):
    info = make_case()
    own = offer(info, "buyer")
    with pytest.raises(Invalid) as error:
        offer(info, "buyer", counter_to=own.id)
    assert "counter_to" in error.value.errors


def test_rejecting_keeps_the_case_negotiating(make_case):
    info = make_case()
    proposal = offer(info, "seller")
    proposals.reject_proposal(info.actor("buyer"), info.id, proposal.id)
    assert db.session.get(Case, info.id).state == "negotiation"
    assert db.session.get(Proposal, proposal.id).state == "rejected"


def test_only_the_author_withdraws_a_proposal(make_case):
    info = make_case()
    proposal = offer(info, "seller")
    with pytest.raises(Forbidden):
        proposals.withdraw_proposal(info.actor("buyer"), info.id, proposal.id)
    assert proposals.withdraw_proposal(info.actor("seller"), info.id, proposal.id).state == "withdrawn"


def test_acceptance_supersedes_every_other_open_proposal(make_case):
    info = make_case()
    from_buyer = offer(info, "buyer", "100.00", "0.00")
    from_seller = offer(info, "seller", "20.00", "80.00")
    proposals.accept_proposal(info.actor("buyer"), info.id, from_seller.id)
    assert db.session.get(Proposal, from_buyer.id).state == "superseded"


def test_a_settled_case_takes_no_more_proposals(make_case):
    info = make_case()
    proposals.accept_proposal(info.actor("buyer"), info.id, offer(info, "seller").id)
    with pytest.raises(InvalidTransition):
        offer(info, "buyer")


def test_two_acceptances_at_once_have_exactly_one_winner(app, make_case):
    info = make_case()
    proposal = offer(info, "seller")
    db.session.commit()
    buyer = info.actor("buyer")
    outcomes = race(app, *[lambda: proposals.accept_proposal(buyer, info.id, proposal.id)] * 2)
    winners = [o for o in outcomes if isinstance(o, Proposal)]
    losers = [o for o in outcomes if isinstance(o, Conflict | InvalidTransition)]
    assert len(winners) == 1 and len(losers) == 1
    db.session.rollback()  # end the test's own read, then forget what it loaded: see what the racers committed
    db.session.expire_all()
    assert db.session.query(CaseEvent).filter_by(case_id=info.id, type="case.settled").count() == 1


def test_accept_against_withdraw_has_exactly_one_winner(app, make_case):
    info = make_case()
    proposal = offer(info, "seller")
    db.session.commit()
    buyer, seller = info.actor("buyer"), info.actor("seller")
    outcomes = race(app, lambda: proposals.accept_proposal(buyer, info.id, proposal.id),
                    lambda: proposals.withdraw_proposal(seller, info.id, proposal.id))
    assert sum(isinstance(o, Proposal) for o in outcomes) == 1
    assert sum(isinstance(o, Conflict | InvalidTransition) for o in outcomes) == 1
    db.session.rollback()  # end the test's own read, then forget what it loaded: see what the racers committed
    db.session.expire_all()
    state = db.session.get(Proposal, proposal.id).state
    case_state = db.session.get(Case, info.id).state
    assert (state, case_state) in {("accepted", "settled"), ("withdrawn", "negotiation")}


def test_acceptance_against_the_claimant_withdrawing_has_exactly_one_winner(app, make_case):
    info = make_case()
    proposal = offer(info, "seller")
    db.session.commit()
    buyer = info.actor("buyer")
    outcomes = race(app, lambda: proposals.accept_proposal(buyer, info.id, proposal.id),
                    lambda: cases.withdraw_case(buyer, info.id, "changed my mind"))
    assert sum(not isinstance(o, DomainError) for o in outcomes) == 1
    db.session.rollback()  # end the test's own read, then forget what it loaded: see what the racers committed
    db.session.expire_all()
    assert db.session.get(Case, info.id).state in {"settled", "withdrawn"}


def test_an_expired_proposal_cannot_be_countered(make_case, frozen_clock):
    info = make_case()
    stale = offer(info, "seller")
    frozen_clock.move(days=3, seconds=1)
    with pytest.raises(Invalid) as error:
        offer(info, "buyer", "50.00", "50.00", counter_to=stale.id)
    assert "counter_to" in error.value.errors
    assert db.session.get(Proposal, stale.id).state == "open"
