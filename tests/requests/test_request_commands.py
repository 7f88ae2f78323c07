"""Structured requests as service commands: asking, answering, cancelling, due dates, case states, the log."""
from __future__ import annotations

from datetime import timedelta

import pytest

from mediation import clock
from mediation.errors import Invalid, InvalidTransition
from mediation.extensions import db
from mediation.models import Case, CaseEvent, EvidenceRequest
from mediation.services import cases, requests
from tests.requests.support import event_types, snapshot


def test_a_party_asks_the_other_party_and_the_request_is_due_in_three_days(make_case, frozen_clock):
    info = make_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    assert (made.state, made.requester_role, made.addressee_role, made.channel) == (
        "open", "buyer", "seller", "joint")
    assert made.due_at == frozen_clock.at + timedelta(days=3)


@pytest.mark.parametrize("days", [1, 14])
def test_the_due_date_may_be_one_to_fourteen_days_away(make_case, frozen_clock, days):
    info = make_case()
    made = requests.create_request(info.actor("seller"), info.id, kind="damage_photos", addressee="buyer",
                                   due_in_days=days)
    assert made.due_at == frozen_clock.at + timedelta(days=days)


@pytest.mark.parametrize("addressee", ["buyer", "seller"])
def test_the_cases_mediator_asks_either_party(make_mediation_case, addressee):
    info, mediator = make_mediation_case()
    made = requests.create_request(mediator, info.id, kind="receipt", addressee=addressee)
    assert (made.requester, made.requester_role, made.addressee_role) == (mediator.key, "mediator", addressee)


def test_the_mediator_asks_a_party_privately_in_its_caucus(make_mediation_case):
    info, mediator = make_mediation_case()
    made = requests.create_request(mediator, info.id, kind="free_text", text="Anything you did not want to say?",
                                   addressee="seller", channel="caucus:seller")
    assert made.channel == "caucus:seller"


def test_a_note_to_a_catalogue_request_is_kept_trimmed(make_case):
    info = make_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller",
                                   text="  The one from the shipping e-mail.  ")
    assert made.text == "The one from the shipping e-mail."


def test_the_party_asked_answers_in_words(make_case, frozen_clock):
    info = make_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    answered = requests.answer_request(info.actor("seller"), info.id, made.id, " LX 123-456 CN ")
    assert (answered.state, answered.answer_text, answered.answered_at) == ("answered", "LX 123-456 CN",
                                                                            frozen_clock.at)


def test_the_requester_cancels_an_open_request(make_case):
    info = make_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    assert requests.cancel_request(info.actor("buyer"), info.id, made.id).state == "cancelled"


def test_an_answered_request_cannot_be_answered_again(make_case):
    info = make_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    requests.answer_request(info.actor("seller"), info.id, made.id, "LX123")
    with pytest.raises(InvalidTransition, match="already been answered"):
        requests.answer_request(info.actor("seller"), info.id, made.id, "LX456")


def test_a_cancelled_request_cannot_be_answered(make_case):
    info = make_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    requests.cancel_request(info.actor("buyer"), info.id, made.id)
    with pytest.raises(InvalidTransition, match="cancelled"):
        requests.answer_request(info.actor("seller"), info.id, made.id, "LX123")


def test_an_answered_request_cannot_be_cancelled(make_case):
    info = make_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    requests.answer_request(info.actor("seller"), info.id, made.id, "LX123")
    with pytest.raises(InvalidTransition):
        requests.cancel_request(info.actor("buyer"), info.id, made.id)


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001])
def test_an_empty_or_overlong_answer_is_refused(make_case, text):
    info = make_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    with pytest.raises(Invalid) as refused:
        requests.answer_request(info.actor("seller"), info.id, made.id, text)
    assert "text" in refused.value.errors


def test_a_request_past_its_due_date_shows_as_overdue(make_case, frozen_clock):
    info = make_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller",
                                   due_in_days=1)
    frozen_clock.move(days=1, seconds=1)
    assert requests.is_overdue(made)


def test_an_overdue_request_has_no_consequence_and_can_still_be_answered(make_case, frozen_clock):
    info = make_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller",
                                   due_in_days=1)
    frozen_clock.move(days=2)
    answered = requests.answer_request(info.actor("seller"), info.id, made.id, "LX123")
    assert answered.state == "answered" and not requests.is_overdue(answered)


def test_a_request_before_its_due_date_is_not_overdue(make_case, frozen_clock):
    info = make_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    frozen_clock.move(days=2, hours=23)
    assert not requests.is_overdue(made)


@pytest.mark.parametrize("step", ["open", "negotiation", "mediation"])
def test_requests_are_made_while_the_case_is_undecided(make_case, make_mediation_case, step):
    info = make_mediation_case()[0] if step == "mediation" else make_case()
    if step == "negotiation":
        requests.create_request(info.actor("seller"), info.id, kind="damage_photos", addressee="buyer")
    assert db.session.get(Case, info.id).state == step
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    assert made.state == "open"


def test_a_settled_case_refuses_new_requests(make_case, settle):
    info = make_case()
    settle(info)
    before = snapshot(info.id)
    with pytest.raises(InvalidTransition, match="settled"):
        requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    assert snapshot(info.id) == before


def test_a_withdrawn_case_refuses_new_requests(make_case):
    info = make_case()
    cases.withdraw_case(info.actor("buyer"), info.id, "We sorted it out.")
    with pytest.raises(InvalidTransition):
        requests.create_request(info.actor("seller"), info.id, kind="damage_photos", addressee="buyer")


def test_an_open_request_cannot_be_answered_once_the_case_is_settled(make_case, settle):
    info = make_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    settle(info)
    with pytest.raises(InvalidTransition):
        requests.answer_request(info.actor("seller"), info.id, made.id, "LX123")


def test_the_respondents_first_request_starts_the_negotiation(make_case):
    info = make_case()
    requests.create_request(info.actor("seller"), info.id, kind="damage_photos", addressee="buyer")
    assert event_types(info.id)[-2:] == ["case.negotiation_started", "request.created"]


def test_the_claimants_request_leaves_the_case_open(make_case):
    info = make_case()
    requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    assert db.session.get(Case, info.id).state == "open"


def test_asking_answering_and_cancelling_are_on_the_record(make_case):
    info = make_case()
    first = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    second = requests.create_request(info.actor("buyer"), info.id, kind="receipt", addressee="seller")
    requests.answer_request(info.actor("seller"), info.id, first.id, "LX123")
    requests.cancel_request(info.actor("buyer"), info.id, second.id)
    assert [t for t in event_types(info.id) if t.startswith("request.")] == [
        "request.created", "request.created", "request.answered", "request.cancelled"]


def test_the_logged_request_carries_its_kind_and_parties_not_rendered_text(make_case):
    info = make_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    db.session.rollback()
    event = db.session.query(CaseEvent).filter_by(case_id=info.id, type="request.created").one()
    assert event.payload["request"] | {"due_at": None} == {
        "id": made.id, "kind": "tracking_number", "text": "", "requester_role": "buyer",
        "addressee_role": "seller", "channel": "joint", "due_at": None, "state": "open", "answered_at": None,
        "answer_text": None}


def test_a_refused_request_releases_nothing(make_case, released):
    info = make_case()
    released.emits.clear()
    with pytest.raises(Invalid):
        requests.create_request(info.actor("buyer"), info.id, kind="nonsense", addressee="seller")
    assert released.emits == []


def test_a_request_is_released_to_the_room_after_its_commit(make_case, released):
    info = make_case()
    requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    [event] = [data for data in released.named("case_event") if data["type"] == "request.created"]
    assert event["payload"]["request"]["kind"] == "tracking_number"


def test_the_due_date_comes_from_the_one_clock(make_case, frozen_clock):
    info = make_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    db.session.rollback()
    assert db.session.get(EvidenceRequest, made.id).created_at == clock.now()
