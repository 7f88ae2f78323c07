"""24 h before each deadline a reminder goes to both parties alike (and to the mediator who must act)."""
from __future__ import annotations

from sqlalchemy import select

from mediation.extensions import db
from mediation.models import Case, CaseEvent, Notification
from mediation.services import deadlines


def reminders(case_id: int) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.case_id == case_id,
                                                              Notification.kind == "deadline.reminder")
                                   .order_by(Notification.id)))


def reminder_events(case_id: int) -> int:
    return len(db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                          CaseEvent.type == "deadline.reminder")).all())


def test_nothing_is_sent_more_than_a_day_before_the_deadline(frozen_clock, make_case):
    info = make_case()
    frozen_clock.move(days=1, hours=23)
    deadlines.tick()
    assert reminders(info.id) == []


def test_both_parties_are_reminded_a_day_before_the_response_deadline(frozen_clock, make_case):
    info = make_case()
    frozen_clock.move(days=2)
    deadlines.tick()
    assert sorted(n.recipient for n in reminders(info.id)) == sorted(f"party:{i}" for i in info.party_ids.values())
    assert reminder_events(info.id) == 1


def test_the_reminder_names_the_deadline_and_the_state(frozen_clock, make_case):
    info = make_case()
    frozen_clock.move(days=2, hours=1)
    deadlines.tick()
    case = db.session.get(Case, info.id)
    assert reminders(info.id)[0].payload == {"state": "open", "deadline_at": case.deadline_at.isoformat()}


def test_a_second_tick_sends_no_second_reminder(frozen_clock, make_case):
    info = make_case()
    frozen_clock.move(days=2)
    deadlines.tick()
    frozen_clock.move(hours=3)
    deadlines.tick()
    assert len(reminders(info.id)) == 2
    assert reminder_events(info.id) == 1


def test_the_mediator_is_reminded_too_before_the_mediation_deadline(frozen_clock, make_mediation_case):
    info, mediator = make_mediation_case()
    frozen_clock.move(days=13, hours=1)
    deadlines.tick()
    assert f"user:{mediator.user_id}" in [n.recipient for n in reminders(info.id)]


def test_an_extended_deadline_earns_a_new_reminder(frozen_clock, make_mediation_case):
    info, mediator = make_mediation_case()
    frozen_clock.move(days=13, hours=1)
    deadlines.tick()
    deadlines.extend_deadline(mediator, info.id, 2, "The courier needs time.")
    frozen_clock.move(days=2)
    deadlines.tick()
    assert reminder_events(info.id) == 2


def test_a_reminder_appears_in_the_room(frozen_clock, make_case, released):
    make_case()
    frozen_clock.move(days=2)
    deadlines.tick()
    assert "deadline.reminder" in released.types()


def test_the_reminder_is_not_a_webhook(frozen_clock, make_case, make_platform):
    from mediation.models import WebhookMessage

    info = make_case(platform=make_platform(webhook_url="https://platform.example/hooks"))
    frozen_clock.move(days=2)
    deadlines.tick()
    assert "deadline.reminder" not in db.session.scalars(
        select(WebhookMessage.type).where(WebhookMessage.case_id == info.id)).all()


def test_a_settled_case_gets_no_reminder(frozen_clock, make_case):
    from mediation.services import proposals
    from tests.conftest import money

    info = make_case()
    made = proposals.create_proposal(info.actor("seller"), info.id, buyer_refund=money("50.00"),
                                     seller_release=money("50.00"))
    proposals.accept_proposal(info.actor("buyer"), info.id, made.id)
    frozen_clock.move(days=2, hours=12)
    deadlines.tick()
    assert reminders(info.id) == []
