"""Escalation to a mediator, and who gets the case: least loaded, active, free of conflicts of interest."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mediation.errors import Forbidden, Invalid, InvalidTransition, NotFound
from mediation.extensions import db
from mediation.models import Case, CaseEvent, MediatorConflict, Message, User, WebhookDelivery, WebhookMessage
from mediation.services import deadlines, messages, proposals
from mediation.services.actors import StaffActor
from tests.conftest import money


def negotiating(info):
    """The respondent answers: the case moves from open to negotiation."""
    messages.send_message(info.actor("seller"), info.id, "joint", "Let us talk.", "answer-1")
    return info


def escalated(info, role="buyer", reason="We cannot agree."):
    return deadlines.escalate_case(info.actor(role), info.id, reason)


def fresh(case_id: int) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case_id)


def event_types(case_id: int) -> list[str]:
    return list(db.session.scalars(select(CaseEvent.type).where(CaseEvent.case_id == case_id)
                                   .order_by(CaseEvent.seq)))


def event_count(case_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id))


def declare_conflict(mediator: StaffActor, platform_id: int | None = None, party_external_id: str | None = None):
    db.session.add(MediatorConflict(mediator_id=mediator.user_id, platform_id=platform_id,
                                    party_external_id=party_external_id, reason="Former employer"))
    db.session.commit()


# ---- who may escalate, and when -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["buyer", "seller"])
def test_either_party_escalates_a_negotiation_to_mediation(make_case, make_user, role):
    make_user("mediator")
    info = negotiating(make_case())
    case = escalated(info, role)
    assert case.state == "mediation"
    assert fresh(info.id).state == "mediation"


def test_escalation_sets_the_mediation_deadline_fourteen_days_ahead(make_case, make_user, frozen_clock):
    make_user("mediator")
    info = negotiating(make_case())
    frozen_clock.move(days=2)
    escalated(info)
    assert fresh(info.id).deadline_at == frozen_clock.at + timedelta(days=14)


def test_escalation_records_the_reason_and_the_assigned_mediator_in_the_chain(make_case, make_user):
    mediator = make_user("mediator", name="Mia Mediator")
    info = negotiating(make_case())
    escalated(info, "seller", "  The buyer will not answer.  ")
    rows = {e.type: e for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == info.id))}
    assert event_types(info.id)[-2:] == ["case.escalated", "mediator.assigned"]
    assert rows["case.escalated"].payload == {"cause": "escalation", "reason": "The buyer will not answer."}
    assert rows["case.escalated"].actor.startswith("seller:")
    assert rows["mediator.assigned"].payload == {"mediator": {"id": mediator.user_id, "name": "Mia Mediator"},
                                                 "for": "mediation"}
    assert fresh(info.id).mediator_id == mediator.user_id


def test_escalation_writes_a_case_escalated_webhook_for_a_platform_with_an_endpoint(make_case, make_platform,
                                                                                    make_user):
    make_user("mediator")
    platform = make_platform(webhook_url="https://market.example/hooks")
    info = negotiating(make_case(platform))
    escalated(info)
    message = db.session.scalar(select(WebhookMessage).where(
        WebhookMessage.case_id == info.id, WebhookMessage.type == "case.escalated"))
    assert message is not None and message.platform_id == platform.id
    assert '"state":"mediation"' in message.body
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery).where(
        WebhookDelivery.message_id == message.id)) == 1


def test_the_mediator_assignment_is_not_sent_to_the_platform_as_a_webhook(make_case, make_platform, make_user):
    make_user("mediator")
    info = negotiating(make_case(make_platform(webhook_url="https://market.example/hooks")))
    escalated(info)
    types = set(db.session.scalars(select(WebhookMessage.type).where(WebhookMessage.case_id == info.id)))
    assert "mediator.assigned" not in types


def test_escalation_is_released_to_the_room_after_the_commit(make_case, make_user, released):
    make_user("mediator")
    info = negotiating(make_case())
    released.emits.clear()
    escalated(info)
    assert released.types() == ["case.escalated", "mediator.assigned"]


def test_an_open_case_cannot_be_escalated_before_the_respondent_answers(make_case, make_user):
    make_user("mediator")
    info = make_case()
    before = event_count(info.id)
    with pytest.raises(InvalidTransition) as error:
        escalated(info)
    assert error.value.context["state"] == "open"
    assert fresh(info.id).state == "open" and event_count(info.id) == before


def test_a_settled_case_cannot_be_escalated(make_case, make_user):
    make_user("mediator")
    info = make_case()
    proposal = proposals.create_proposal(info.actor("seller"), info.id, buyer_refund=money("30.00"),
                                         seller_release=money("70.00"))
    proposals.accept_proposal(info.actor("buyer"), info.id, proposal.id)
    with pytest.raises(InvalidTransition):
        escalated(info)
    case = fresh(info.id)
    assert case.state == "settled" and case.mediator_id is None


def test_a_case_already_in_mediation_cannot_be_escalated_again(make_case, make_user):
    make_user("mediator")
    info = negotiating(make_case())
    escalated(info)
    before = event_count(info.id)
    with pytest.raises(InvalidTransition):
        escalated(info, "seller")
    assert event_count(info.id) == before


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_escalation_needs_a_reason(make_case, make_user, reason):
    make_user("mediator")
    info = negotiating(make_case())
    with pytest.raises(Invalid) as error:
        escalated(info, reason=reason)
    assert "reason" in error.value.errors
    assert fresh(info.id).state == "negotiation"


def test_the_platform_cannot_escalate_its_own_case(make_case, make_user):
    make_user("mediator")
    info = negotiating(make_case())
    with pytest.raises(Forbidden):
        deadlines.escalate_case(info.platform.actor, info.id, "We want a mediator.")
    assert fresh(info.id).state == "negotiation"


def test_a_party_of_another_case_cannot_escalate_this_one(make_case, make_user):
    make_user("mediator")
    info, other = negotiating(make_case()), make_case()
    with pytest.raises(NotFound):
        deadlines.escalate_case(other.actor("buyer"), info.id, "Not my case.")
    assert fresh(info.id).state == "negotiation"


def test_a_mediator_cannot_escalate_a_case(make_case, make_user):
    mediator = make_user("mediator")
    info = negotiating(make_case())
    with pytest.raises(NotFound):
        deadlines.escalate_case(mediator, info.id, "I want it.")


# ---- who mediates ---------------------------------------------------------------------------------


def test_with_equal_load_the_mediator_registered_first_gets_the_case(make_case, make_user):
    first, _second = make_user("mediator"), make_user("mediator")
    info = negotiating(make_case())
    escalated(info)
    assert fresh(info.id).mediator_id == first.user_id


def test_the_mediator_with_fewer_cases_in_mediation_gets_the_next_case(make_case, make_user):
    first, second = make_user("mediator"), make_user("mediator")
    one, two, three = (negotiating(make_case()) for _ in range(3))
    escalated(one)
    escalated(two)
    assert (fresh(one.id).mediator_id, fresh(two.id).mediator_id) == (first.user_id, second.user_id)
    escalated(three)  # one each: the tie goes to the lower id
    assert fresh(three.id).mediator_id == first.user_id


def test_a_settled_case_no_longer_counts_towards_its_mediators_load(make_case, make_user):
    first, _second = make_user("mediator"), make_user("mediator")
    settled, later = negotiating(make_case()), negotiating(make_case())
    escalated(settled)
    proposal = proposals.create_proposal(settled.actor("seller"), settled.id, buyer_refund=money("50.00"),
                                         seller_release=money("50.00"))
    proposals.accept_proposal(settled.actor("buyer"), settled.id, proposal.id)
    escalated(later)
    assert fresh(later.id).mediator_id == first.user_id  # 0 against 0: the lower id


def test_an_inactive_mediator_is_skipped(make_case, make_user):
    inactive, active = make_user("mediator"), make_user("mediator")
    db.session.get(User, inactive.user_id).active = False
    db.session.commit()
    info = negotiating(make_case())
    escalated(info)
    assert fresh(info.id).mediator_id == active.user_id


def test_an_admin_is_never_assigned_as_mediator(make_case, make_user):
    make_user("admin")
    mediator = make_user("mediator")
    info = negotiating(make_case())
    escalated(info)
    assert fresh(info.id).mediator_id == mediator.user_id


def test_a_conflict_with_the_platform_excludes_a_mediator(make_case, make_user, make_platform):
    conflicted, free = make_user("mediator"), make_user("mediator")
    platform = make_platform()
    declare_conflict(conflicted, platform_id=platform.id)
    info = negotiating(make_case(platform))
    escalated(info)
    assert fresh(info.id).mediator_id == free.user_id


def test_a_conflict_with_another_platform_does_not_exclude_a_mediator(make_case, make_user, make_platform):
    mediator = make_user("mediator")
    declare_conflict(mediator, platform_id=make_platform().id)
    info = negotiating(make_case(make_platform()))
    escalated(info)
    assert fresh(info.id).mediator_id == mediator.user_id


@pytest.mark.parametrize("role", ["buyer", "seller"])
def test_a_conflict_with_a_party_on_the_cases_platform_excludes_a_mediator(make_case, make_user, make_platform,
                                                                           role):
    conflicted, free = make_user("mediator"), make_user("mediator")
    platform = make_platform()
    declare_conflict(conflicted, platform_id=platform.id, party_external_id=f"{role}-42")
    info = negotiating(make_case(platform, **{role: {"external_id": f"{role}-42", "name": "Pat"}}))
    escalated(info)
    assert fresh(info.id).mediator_id == free.user_id


def test_a_global_conflict_with_a_party_excludes_a_mediator_on_every_platform(make_case, make_user):
    conflicted, free = make_user("mediator"), make_user("mediator")
    declare_conflict(conflicted, party_external_id="s-1")
    info = negotiating(make_case())
    escalated(info)
    assert fresh(info.id).mediator_id == free.user_id


def test_a_conflict_with_a_party_of_another_platform_does_not_exclude_a_mediator(make_case, make_user,
                                                                                 make_platform):
    mediator = make_user("mediator")
    declare_conflict(mediator, platform_id=make_platform().id, party_external_id="b-1")
    info = negotiating(make_case(make_platform()))
    escalated(info)
    assert fresh(info.id).mediator_id == mediator.user_id


def test_without_a_free_mediator_the_case_waits_in_mediation_unassigned(make_case, make_user):
    conflicted = make_user("mediator")
    declare_conflict(conflicted, party_external_id="b-1")
    info = negotiating(make_case())
    escalated(info)
    case = fresh(info.id)
    assert case.state == "mediation" and case.mediator_id is None
    assert event_types(info.id)[-2:] == ["case.escalated", "mediator.unavailable"]


def test_without_any_mediator_the_escalation_still_succeeds(make_case):
    info = negotiating(make_case())
    escalated(info)
    case = fresh(info.id)
    assert case.state == "mediation" and case.mediator_id is None
    assert "mediator.unavailable" in event_types(info.id)


# ---- the mediator on the case ------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["caucus:buyer", "caucus:seller", "joint"])
def test_the_assigned_mediator_posts_in_every_channel(make_case, make_user, channel):
    mediator = make_user("mediator")
    info = negotiating(make_case())
    escalated(info)
    sent = messages.send_message(mediator, info.id, channel, "Tell me privately what you need.", f"m-{channel}")
    assert sent.message.channel == channel and sent.message.author_role == "mediator"


def test_a_party_reads_its_own_caucus_with_the_mediator(make_case, make_user):
    mediator = make_user("mediator")
    info = negotiating(make_case())
    escalated(info)
    messages.send_message(mediator, info.id, "caucus:buyer", "Only for you.", "m-1")
    page = messages.history(info.actor("buyer"), info.id, "caucus:buyer")
    assert [m.body for m in page.messages] == ["Only for you."]


@pytest.mark.parametrize("role", ["buyer", "seller"])
def test_a_party_cannot_post_into_the_other_partys_caucus(make_case, make_user, role):
    make_user("mediator")
    info = negotiating(make_case())
    escalated(info)
    other = "seller" if role == "buyer" else "buyer"
    with pytest.raises(Forbidden):
        messages.send_message(info.actor(role), info.id, f"caucus:{other}", "Psst.", "p-1")
    assert db.session.scalar(select(func.count()).select_from(Message).where(
        Message.channel == f"caucus:{other}")) == 0


def test_a_party_cannot_read_the_other_partys_caucus(make_case, make_user):
    mediator = make_user("mediator")
    info = negotiating(make_case())
    escalated(info)
    messages.send_message(mediator, info.id, "caucus:seller", "Only for the seller.", "m-1")
    with pytest.raises(Forbidden):
        messages.history(info.actor("buyer"), info.id, "caucus:seller")


def test_a_mediator_not_assigned_to_the_case_cannot_see_it(make_case, make_user):
    make_user("mediator")
    info = negotiating(make_case())
    escalated(info)
    outsider = make_user("mediator")
    with pytest.raises(NotFound):
        messages.send_message(outsider, info.id, "caucus:buyer", "Hello?", "o-1")
    with pytest.raises(NotFound):
        messages.history(outsider, info.id, "joint")


def test_an_outsider_escalating_without_a_reason_is_told_no_such_case_not_what_is_missing(make_case, make_user):
    info = negotiating(make_case())
    other = make_case()
    with pytest.raises(NotFound):
        deadlines.escalate_case(other.actor("buyer"), info.id, "")


def test_a_deadline_extension_of_true_days_is_refused(make_case, make_user):
    mediator = make_user("mediator")
    info = negotiating(make_case())
    escalated(info)
    with pytest.raises(Invalid) as caught:
        deadlines.extend_deadline(mediator, info.id, True, "The courier needs time.")
    assert "days" in caught.value.errors
