"""The scheduler tick: lapsed deadlines send cases to a mediator (never an automatic loss), lapsed
proposals expire, and running it again changes nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mediation.errors import InvalidTransition
from mediation.extensions import db
from mediation.models import Case, CaseEvent, Proposal, WebhookMessage
from mediation.services import cases, chain, deadlines, messages, proposals
from tests.conftest import money

JUST = timedelta(seconds=1)


def negotiating(info):
    messages.send_message(info.actor("seller"), info.id, "joint", "Let us talk.", "answer-1")
    return info


def offer(info, role, refund="40.00", release="60.00"):
    return proposals.create_proposal(info.actor(role), info.id, buyer_refund=money(refund),
                                     seller_release=money(release))


def fresh(case_id: int) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case_id)


def events_of(case_id: int, type: str | None = None) -> list[CaseEvent]:
    query = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)
    if type:
        query = query.where(CaseEvent.type == type)
    return list(db.session.scalars(query))


def total_events() -> int:
    return db.session.scalar(select(func.count()).select_from(CaseEvent))


def move_to(frozen_clock, moment):
    frozen_clock.move(seconds=(moment - frozen_clock.at).total_seconds())


# ---- lapsed deadlines ---------------------------------------------------------------------------


def test_an_open_case_past_its_response_deadline_goes_to_mediation(make_case, make_user, frozen_clock):
    mediator = make_user("mediator")
    info = make_case()
    frozen_clock.move(days=3, seconds=1)
    report = deadlines.tick()
    case = fresh(info.id)
    assert report.escalated == [info.id]
    assert case.state == "mediation" and case.mediator_id == mediator.user_id


def test_a_respondent_who_did_not_answer_is_noted_never_ruled_against(make_case, make_user, frozen_clock):
    make_user("mediator")
    info = make_case()
    frozen_clock.move(days=4)
    deadlines.tick()
    case = fresh(info.id)
    [escalation] = events_of(info.id, "case.escalated")
    assert escalation.payload == {"cause": "respondent_did_not_answer"} and escalation.actor == "system"
    assert case.resolution is None and case.refund_minor is None and case.release_minor is None
    assert not {"case.settled", "case.resolved", "ruling.issued"} & {e.type for e in events_of(info.id)}


def test_a_case_lapsed_by_the_tick_gets_the_mediation_deadline_from_the_tick(make_case, make_user, frozen_clock):
    make_user("mediator")
    info = make_case()
    frozen_clock.move(days=5)
    deadlines.tick()
    assert fresh(info.id).deadline_at == frozen_clock.at + timedelta(days=14)


def test_an_open_case_is_due_at_its_deadline_exactly(make_case, make_user, frozen_clock):
    make_user("mediator")
    info = make_case()
    move_to(frozen_clock, fresh(info.id).deadline_at)
    assert deadlines.tick().escalated == [info.id]


def test_an_open_case_a_second_before_its_deadline_is_untouched(make_case, make_user, frozen_clock):
    make_user("mediator")
    info = make_case()
    before = fresh(info.id)
    state, deadline = before.state, before.deadline_at
    move_to(frozen_clock, deadline - JUST)
    count = len(events_of(info.id))
    assert deadlines.tick().escalated == []
    after = fresh(info.id)
    assert (after.state, after.deadline_at) == (state, deadline)
    assert [event.type for event in events_of(info.id)[count:]] == ["deadline.reminder"]  # and nothing else


def test_a_negotiation_past_its_deadline_goes_to_mediation(make_case, make_user, frozen_clock):
    make_user("mediator")
    info = make_case()
    frozen_clock.move(days=1)
    negotiating(info)
    frozen_clock.move(days=7, seconds=1)
    assert deadlines.tick().escalated == [info.id]
    [escalation] = events_of(info.id, "case.escalated")
    assert escalation.payload == {"cause": "negotiation_deadline_passed"}
    case = fresh(info.id)
    assert case.state == "mediation" and case.resolution is None


def test_a_negotiation_within_its_seven_days_is_untouched(make_case, make_user, frozen_clock):
    make_user("mediator")
    info = make_case()
    frozen_clock.move(days=2)
    negotiating(info)  # the negotiation deadline runs from the answer, not from the opening
    frozen_clock.move(days=7, seconds=-1)
    assert deadlines.tick().escalated == []
    assert fresh(info.id).state == "negotiation"


def test_the_tick_sends_only_the_due_cases(make_case, make_user, frozen_clock):
    make_user("mediator")
    due = make_case()
    frozen_clock.move(days=2)
    not_yet = make_case()
    frozen_clock.move(days=1, seconds=1)
    assert deadlines.tick().escalated == [due.id]
    assert fresh(not_yet.id).state == "open"


def test_a_case_in_mediation_past_its_deadline_is_left_to_the_mediator(make_case, make_user, frozen_clock):
    make_user("mediator")
    info = negotiating(make_case())
    deadlines.escalate_case(info.actor("buyer"), info.id, "Stuck.")
    frozen_clock.move(days=30)
    count = len(events_of(info.id))
    assert deadlines.tick().escalated == []
    assert fresh(info.id).state == "mediation" and len(events_of(info.id)) == count


def test_resolved_cases_are_never_moved_by_the_tick(make_case, make_user, frozen_clock):
    make_user("mediator")
    settled, withdrawn = make_case(), make_case()
    proposals.accept_proposal(settled.actor("buyer"), settled.id, offer(settled, "seller").id)
    cases.withdraw_case(withdrawn.actor("buyer"), withdrawn.id, "Sorted out")
    frozen_clock.move(days=60)
    assert deadlines.tick().escalated == []
    assert (fresh(settled.id).state, fresh(withdrawn.id).state) == ("settled", "withdrawn")


def test_a_lapse_is_written_to_the_webhook_outbox(make_case, make_platform, make_user, frozen_clock):
    make_user("mediator")
    info = make_case(make_platform(webhook_url="https://market.example/hooks"))
    frozen_clock.move(days=4)
    deadlines.tick()
    assert db.session.scalar(select(func.count()).select_from(WebhookMessage).where(
        WebhookMessage.case_id == info.id, WebhookMessage.type == "case.escalated")) == 1


def test_a_lapsed_case_without_a_free_mediator_waits_unassigned(make_case, frozen_clock):
    info = make_case()
    frozen_clock.move(days=4)
    deadlines.tick()
    case = fresh(info.id)
    assert case.state == "mediation" and case.mediator_id is None
    assert [e.type for e in events_of(info.id)][-2:] == ["case.escalated", "mediator.unavailable"]


# ---- idempotence ---------------------------------------------------------------------------------


def test_a_second_tick_at_the_same_moment_changes_nothing(make_case, make_user, frozen_clock):
    make_user("mediator")
    open_case, negotiation = make_case(), negotiating(make_case())
    offer(negotiation, "seller")
    frozen_clock.move(days=8)
    first = deadlines.tick()
    assert sorted(first.escalated) == sorted([open_case.id, negotiation.id]) and len(first.expired_proposals) == 1
    events, versions = total_events(), (fresh(open_case.id).version, fresh(negotiation.id).version)
    second = deadlines.tick()
    assert second.escalated == [] and second.expired_proposals == []
    assert total_events() == events
    assert (fresh(open_case.id).version, fresh(negotiation.id).version) == versions


def test_a_later_tick_does_not_move_an_escalated_case_again(make_case, make_user, frozen_clock):
    make_user("mediator")
    info = make_case()
    frozen_clock.move(days=4)
    deadlines.tick()
    frozen_clock.move(days=1)
    deadlines.tick()
    assert len(events_of(info.id, "case.escalated")) == 1
    assert len(events_of(info.id, "mediator.assigned")) == 1


# ---- proposals -----------------------------------------------------------------------------------


def test_an_open_proposal_past_its_validity_expires_on_tick(make_case, frozen_clock):
    info = make_case()
    proposal = offer(info, "seller")
    frozen_clock.move(days=3, seconds=1)
    report = deadlines.tick()
    assert report.expired_proposals == [proposal.id]
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).state == "expired"
    [expired] = events_of(info.id, "proposal.expired")
    assert expired.payload["proposal"]["id"] == proposal.id and expired.payload["proposal"]["state"] == "expired"
    assert expired.actor == "system"


def test_expiring_a_proposal_leaves_the_negotiation_running(make_case, frozen_clock):
    info = make_case()
    offer(info, "seller")
    frozen_clock.move(days=3, seconds=1)
    deadlines.tick()
    assert fresh(info.id).state == "negotiation"


def test_a_proposal_within_its_validity_stays_open(make_case, frozen_clock):
    info = make_case()
    proposal = offer(info, "seller")
    frozen_clock.move(days=3, seconds=-1)
    assert deadlines.tick().expired_proposals == []
    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).state == "open"


def test_answered_proposals_do_not_expire(make_case, frozen_clock):
    info = make_case()
    rejected = offer(info, "seller")
    proposals.reject_proposal(info.actor("buyer"), info.id, rejected.id)
    frozen_clock.move(days=4)
    assert deadlines.tick().expired_proposals == []
    db.session.expire_all()
    assert db.session.get(Proposal, rejected.id).state == "rejected"


def test_an_expired_proposal_can_no_longer_be_accepted(make_case, frozen_clock):
    info = make_case()
    proposal = offer(info, "seller")
    frozen_clock.move(days=4)
    deadlines.tick()
    with pytest.raises(InvalidTransition):
        proposals.accept_proposal(info.actor("buyer"), info.id, proposal.id)
    case = fresh(info.id)
    assert case.state == "negotiation" and case.resolution is None


def test_a_lapsed_proposal_cannot_be_accepted_even_before_the_tick(make_case, frozen_clock):
    info = make_case()
    proposal = offer(info, "seller")
    frozen_clock.move(days=3)
    with pytest.raises(InvalidTransition):
        proposals.accept_proposal(info.actor("buyer"), info.id, proposal.id)


# ---- the record ----------------------------------------------------------------------------------


def test_the_chains_verify_after_ticks(make_case, make_user, frozen_clock):
    make_user("mediator")
    infos = [make_case(), negotiating(make_case()), make_case()]
    offer(infos[2], "buyer")
    for _ in range(3):
        frozen_clock.move(days=4)
        deadlines.tick()
    for info in infos:
        report = chain.verify_case(info.id)
        assert report.ok, report.problem
        assert report.events == len(events_of(info.id))


def test_the_tick_command_prints_what_it_moved(runner, make_case, make_user, frozen_clock):
    make_user("mediator")
    make_case()
    offer(negotiating(make_case()), "seller")
    frozen_clock.move(days=3, seconds=1)
    result = runner.invoke(args=["mediation", "tick"])
    assert result.exit_code == 0, result.output
    assert ("1 case(s) sent to mediation, 0 ruling(s) made final, 1 proposal(s) expired, 0 reminder(s) sent, "
            "0 case(s) given a mediator.") in result.output


def test_the_tick_command_with_nothing_due_prints_zero_counts(runner, make_case):
    make_case()
    result = runner.invoke(args=["mediation", "tick"])
    assert result.exit_code == 0
    assert ("0 case(s) sent to mediation, 0 ruling(s) made final, 0 proposal(s) expired, 0 reminder(s) sent, "
            "0 case(s) given a mediator.") in result.output
