"""Who is owed which e-mail: the outbox rows each command writes, in its own transaction."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import Case, Notification
from mediation.services import deadlines, events, mail, proposals, uow
from mediation.services.actors import SYSTEM
from tests.conftest import money
from tests.mail.conftest import rows


def recipients(case_id: int, kind: str) -> list[str]:
    return sorted(n.recipient for n in rows(case_id, kind))


def test_only_the_respondent_is_mailed_when_a_case_opens(make_case):
    info = make_case()
    assert recipients(info.id, "case.opened") == [f"party:{info.party_ids['seller']}"]


def test_the_join_link_is_not_stored_in_the_outbox(make_case):
    info = make_case()
    case = db.session.get(Case, info.id)
    assert rows(info.id, "case.opened")[0].payload == {"reason": "damaged", "deadline_at": case.deadline_at.isoformat(),
                                                       "amount": {"value": "100.00", "currency": "USD"}}


def test_a_proposal_is_owed_to_the_party_who_must_answer_it(make_case):
    info = make_case()
    proposals.create_proposal(info.actor("seller"), info.id, buyer_refund=money("40.00"),
                              seller_release=money("60.00"))
    assert recipients(info.id, "proposal.created") == [f"party:{info.party_ids['buyer']}"]


def test_a_recommendation_is_owed_to_both_parties(make_mediation_case):
    info, mediator = make_mediation_case()
    proposals.recommend_settlement(mediator, info.id, buyer_refund=money("40.00"), seller_release=money("60.00"))
    assert recipients(info.id, "proposal.created") == sorted(f"party:{i}" for i in info.party_ids.values())


def test_an_escalation_is_owed_to_both_parties_and_the_assignment_to_the_mediator_too(make_mediation_case):
    info, mediator = make_mediation_case()
    parties = sorted(f"party:{i}" for i in info.party_ids.values())
    assert recipients(info.id, "case.escalated") == parties
    assert recipients(info.id, "mediator.assigned") == sorted([*parties, f"user:{mediator.user_id}"])


def test_a_settlement_mails_each_party_the_outcome_once(make_case):
    info = make_case()
    made = proposals.create_proposal(info.actor("seller"), info.id, buyer_refund=money("40.00"),
                                     seller_release=money("60.00"))
    proposals.accept_proposal(info.actor("buyer"), info.id, made.id)
    assert recipients(info.id, "case.resolved") == sorted(f"party:{i}" for i in info.party_ids.values())
    assert rows(info.id, "case.settled") == [] and rows(info.id, "proposal.accepted") == []


def test_a_party_without_an_address_gets_a_dropped_row_that_says_why(make_case):
    info = make_case(seller={"external_id": "s-2", "name": "No Mail", "locale": "en"})
    row = rows(info.id, "case.opened")[0]
    assert (row.state, row.last_error) == ("dropped", "no e-mail address")


def test_the_reminder_goes_through_the_outbox_with_the_mediator_who_decides(frozen_clock, make_mediation_case):
    info, mediator = make_mediation_case()
    frozen_clock.move(days=13, hours=1)
    deadlines.tick()
    assert f"user:{mediator.user_id}" in recipients(info.id, "deadline.reminder")


def test_a_rolled_back_command_writes_no_notification_and_wakes_no_worker(make_case):
    info = make_case()
    before = db.session.scalar(select(func.count()).select_from(Notification))
    mail.wake.clear()
    with pytest.raises(RuntimeError), uow.transaction():
        events.record(db.session.get(Case, info.id), "case.escalated", SYSTEM, {"cause": "escalation"})
        raise RuntimeError("the command failed after recording its event")
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before
    assert not mail.wake.is_set()


def test_a_committed_command_wakes_the_mail_worker(make_case):
    mail.wake.clear()
    make_case()
    assert mail.wake.is_set()

