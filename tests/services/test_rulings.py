"""Rulings and appeals: reasons and rules, a different mediator on appeal, the ruling made final."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mediation.errors import Forbidden, Invalid, InvalidTransition, NotFound
from mediation.extensions import db
from mediation.models import Case, CaseEvent, Ruling, WebhookMessage
from mediation.services import cases, deadlines, rulings
from mediation.services.rulings import Outcome
from tests.conftest import money


def fresh(case_id: int) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case_id)


def event_types(case_id: int) -> list[str]:
    return list(db.session.scalars(select(CaseEvent.type).where(CaseEvent.case_id == case_id)
                                   .order_by(CaseEvent.seq)))


def webhook_types(case_id: int) -> list[str]:
    return list(db.session.scalars(select(WebhookMessage.type).where(WebhookMessage.case_id == case_id)
                                   .order_by(WebhookMessage.id)))


SPLIT = Outcome(money("40.00"), money("60.00"), False, "Keep the item.")
RATIONALE = "The photos show a crack that the packaging could not have caused."


def rule(info, mediator, rulebook, outcome=SPLIT, clauses=None):
    return rulings.issue_ruling(mediator, info.id, outcome, RATIONALE, clauses or rulebook.clause_ids[:1])


@pytest.fixture
def ruled(frozen_clock, make_mediation_case, make_user, rulebook):
    """A ruled case, a second mediator free for the appeal."""
    info, mediator = make_mediation_case()
    rule(info, mediator, rulebook)
    second = make_user("mediator")
    return info, mediator, second


def test_the_mediator_rules_with_reasons_and_a_clause_and_the_case_is_ruled(make_mediation_case, rulebook):
    info, mediator = make_mediation_case()
    ruling = rule(info, mediator, rulebook)
    case = fresh(info.id)
    assert case.state == "ruled"
    assert [c.id for c in ruling.clauses] == rulebook.clause_ids[:1]
    assert ruling.buyer_refund == money("40.00")


def test_a_ruling_opens_a_five_day_appeal_window(make_mediation_case, rulebook, frozen_clock):
    info, mediator = make_mediation_case()
    rule(info, mediator, rulebook)
    assert fresh(info.id).deadline_at == frozen_clock.at + __import__("datetime").timedelta(days=5)


def test_a_ruling_is_sent_to_the_platform_as_ruling_issued(make_mediation_case, rulebook):
    info, mediator = make_mediation_case()
    rule(info, mediator, rulebook)
    assert "ruling.issued" in event_types(info.id)


@pytest.mark.parametrize("rationale", ["", "   ", "Too short."])
def test_a_ruling_without_written_reasons_is_refused_and_changes_nothing(make_mediation_case, rulebook, rationale):
    info, mediator = make_mediation_case()
    with pytest.raises(Invalid) as caught:
        rulings.issue_ruling(mediator, info.id, SPLIT, rationale, rulebook.clause_ids[:1])
    assert "rationale" in caught.value.errors
    assert fresh(info.id).state == "mediation"


@pytest.mark.parametrize("clauses", [[], None, ["1"]])
def test_a_ruling_without_a_cited_clause_is_refused(make_mediation_case, rulebook, clauses):
    info, mediator = make_mediation_case()
    with pytest.raises(Invalid) as caught:
        rulings.issue_ruling(mediator, info.id, SPLIT, RATIONALE, clauses)
    assert "clauses" in caught.value.errors
    assert fresh(info.id).state == "mediation"


def test_a_clause_of_another_rulebook_is_refused(make_mediation_case, rulebook, make_rulebook):
    info, mediator = make_mediation_case()
    other = make_rulebook()
    with pytest.raises(Invalid) as caught:
        rulings.issue_ruling(mediator, info.id, SPLIT, RATIONALE, other.clause_ids[:1])
    assert "clauses" in caught.value.errors
    assert db.session.scalar(select(Ruling.id)) is None


def test_a_ruling_must_conserve_the_held_amount(make_mediation_case, rulebook):
    info, mediator = make_mediation_case()
    with pytest.raises(Invalid):
        rule(info, mediator, rulebook, Outcome(money("40.00"), money("50.00")))
    assert fresh(info.id).state == "mediation"


def test_another_mediator_cannot_rule_on_a_case_not_assigned_to_them(make_mediation_case, make_user, rulebook):
    info, _mediator = make_mediation_case()
    with pytest.raises(NotFound):
        rule(info, make_user("mediator"), rulebook)


@pytest.mark.parametrize("role", ["buyer", "seller"])
def test_a_party_cannot_rule(make_mediation_case, rulebook, role):
    info, _mediator = make_mediation_case()
    with pytest.raises(Forbidden):
        rule(info, info.actor(role), rulebook)


def test_a_case_in_negotiation_cannot_be_ruled_on(make_case, make_user, rulebook):
    info = make_case()
    mediator = make_user("mediator")
    with pytest.raises(NotFound):  # not assigned yet: the mediator cannot even see it
        rule(info, mediator, rulebook)


@pytest.mark.parametrize("role", ["buyer", "seller"])
def test_either_party_appeals_within_the_window(ruled, role):
    info, _mediator, _second = ruled
    rulings.appeal_ruling(info.actor(role), info.id, "The mediator ignored the courier's report.")
    assert fresh(info.id).state == "appealed"


def test_the_appeal_goes_to_a_different_mediator(ruled):
    info, mediator, second = ruled
    rulings.appeal_ruling(info.actor("seller"), info.id, "The mediator ignored the courier's report.")
    case = fresh(info.id)
    assert case.appeal_mediator_id == second.user_id != mediator.user_id


def test_with_no_other_mediator_the_appeal_waits_and_the_tick_assigns_one_later(make_mediation_case, rulebook,
                                                                                make_user):
    info, mediator = make_mediation_case()
    rule(info, mediator, rulebook)
    rulings.appeal_ruling(info.actor("seller"), info.id, "The mediator ignored the courier's report.")
    assert fresh(info.id).appeal_mediator_id is None
    assert "mediator.unavailable" in event_types(info.id)
    later = make_user("mediator")
    report = deadlines.tick()
    assert report.assigned == [info.id]
    assert fresh(info.id).appeal_mediator_id == later.user_id


def test_an_appeal_needs_grounds(ruled):
    info, _mediator, _second = ruled
    with pytest.raises(Invalid) as caught:
        rulings.appeal_ruling(info.actor("seller"), info.id, " ")
    assert "grounds" in caught.value.errors
    assert fresh(info.id).state == "ruled"


def test_an_appeal_after_the_window_is_refused(ruled, frozen_clock):
    info, _mediator, _second = ruled
    frozen_clock.move(days=5)
    with pytest.raises(InvalidTransition):
        rulings.appeal_ruling(info.actor("seller"), info.id, "The mediator ignored the courier's report.")


def test_the_platform_cannot_appeal(ruled):
    info, _mediator, _second = ruled
    with pytest.raises(Forbidden):
        rulings.appeal_ruling(info.platform.actor, info.id, "The mediator ignored the courier's report.")


def test_a_party_of_another_case_cannot_appeal(ruled, make_case):
    info, _mediator, _second = ruled
    other = make_case()
    with pytest.raises(NotFound):
        rulings.appeal_ruling(other.actor("buyer"), info.id, "The mediator ignored the courier's report.")


def appealed(ruled):
    info, mediator, second = ruled
    appeal = rulings.appeal_ruling(info.actor("seller"), info.id, "The mediator ignored the courier's report.")
    return info, mediator, second, appeal


def test_the_appeal_mediator_upholds_the_ruling_and_it_is_final_with_its_outcome(ruled, rulebook):
    info, _mediator, second, appeal = appealed(ruled)
    rulings.decide_appeal(second, info.id, appeal.id, "uphold", "The ruling weighed the evidence fairly.",
                          rulebook.clause_ids[1:2])
    case = fresh(info.id)
    assert (case.state, case.resolution, case.refund_minor, case.release_minor) == ("final", "ruled", 4000, 6000)
    assert event_types(info.id)[-3:] == ["appeal.decided", "ruling.final", "case.resolved"]


def test_the_appeal_mediator_replaces_the_ruling_with_a_new_outcome(ruled, rulebook):
    info, _mediator, second, appeal = appealed(ruled)
    decision = rulings.decide_appeal(second, info.id, appeal.id, "replace", "The courier confirmed the damage.",
                                     rulebook.clause_ids[:2], Outcome(money("100.00"), money("0.00"), True))
    case = fresh(info.id)
    assert decision.decision == "replace"
    assert (case.state, case.refund_minor, case.return_required) == ("final", 10000, True)


def test_replacing_a_ruling_needs_the_new_outcome(ruled, rulebook):
    info, _mediator, second, appeal = appealed(ruled)
    with pytest.raises(Invalid):
        rulings.decide_appeal(second, info.id, appeal.id, "replace", "The courier confirmed the damage.",
                              rulebook.clause_ids[:1])
    assert fresh(info.id).state == "appealed"


def test_the_ruling_mediator_cannot_decide_the_appeal_of_their_own_ruling(ruled, rulebook):
    info, mediator, _second, appeal = appealed(ruled)
    with pytest.raises(Forbidden):
        rulings.decide_appeal(mediator, info.id, appeal.id, "uphold", "My ruling was right, as I said.",
                              rulebook.clause_ids[:1])
    assert fresh(info.id).state == "appealed"


def test_a_party_cannot_decide_an_appeal(ruled, rulebook):
    info, _mediator, _second, appeal = appealed(ruled)
    with pytest.raises(Forbidden):
        rulings.decide_appeal(info.actor("buyer"), info.id, appeal.id, "uphold", "The ruling was right.",
                              rulebook.clause_ids[:1])


def test_an_appeal_decision_needs_reasons_and_a_clause(ruled, rulebook):
    info, _mediator, second, appeal = appealed(ruled)
    with pytest.raises(Invalid) as caught:
        rulings.decide_appeal(second, info.id, appeal.id, "uphold", "", [])
    assert set(caught.value.errors) == {"rationale", "clauses"}


def test_an_appeal_cannot_be_decided_twice(ruled, rulebook):
    info, _mediator, second, appeal = appealed(ruled)
    rulings.decide_appeal(second, info.id, appeal.id, "uphold", "The ruling weighed the evidence fairly.",
                          rulebook.clause_ids[:1])
    with pytest.raises(InvalidTransition):
        rulings.decide_appeal(second, info.id, appeal.id, "uphold", "The ruling weighed the evidence fairly.",
                              rulebook.clause_ids[:1])


def test_an_unappealed_ruling_becomes_final_when_the_window_passes(ruled, frozen_clock):
    info, _mediator, _second = ruled
    frozen_clock.move(days=5)
    report = deadlines.tick()
    case = fresh(info.id)
    assert report.finalized == [info.id]
    assert (case.state, case.resolution, case.refund_minor) == ("final", "ruled", 4000)
    assert event_types(info.id)[-2:] == ["ruling.final", "case.resolved"]


def test_a_final_ruling_closes_when_the_platform_confirms_execution(ruled, frozen_clock):
    info, _mediator, _second = ruled
    frozen_clock.move(days=5)
    deadlines.tick()
    cases.confirm_execution(info.platform.actor, info.id, "refund-77")
    assert fresh(info.id).state == "closed"


def test_the_platform_hears_of_the_ruling_the_appeal_and_the_final_outcome(make_mediation_case, make_platform,
                                                                           make_user, rulebook):
    platform = make_platform(webhook_url="https://platform.example/hooks")
    info, mediator = make_mediation_case(platform=platform)
    rule(info, mediator, rulebook)
    second = make_user("mediator")
    appeal = rulings.appeal_ruling(info.actor("seller"), info.id, "The mediator ignored the courier's report.")
    rulings.decide_appeal(second, info.id, appeal.id, "uphold", "The ruling weighed the evidence fairly.",
                          rulebook.clause_ids[:1])
    assert webhook_types(info.id)[-5:] == ["case.escalated", "ruling.issued", "case.appealed", "ruling.final",
                                           "case.resolved"]
