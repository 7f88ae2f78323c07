"""Escalation and deadline extension through the JSON API: who may, with what body, in which state."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import Case, CaseEvent, User, WebhookMessage
from mediation.services import deadlines, messages, proposals
from tests.conftest import money


def negotiating(info):
    messages.send_message(info.actor("seller"), info.id, "joint", "Let us talk.", "answer-1")
    return info


def in_mediation(info):
    negotiating(info)
    deadlines.escalate_case(info.actor("buyer"), info.id, "We cannot agree.")
    db.session.commit()
    return info


def escalate(client, info, body, headers):
    return client.post(f"/api/v1/cases/{info.id}/escalate", json=body, headers=headers)


def extend(client, info, body, headers=None):
    return client.post(f"/api/v1/cases/{info.id}/deadlines/extend", json=body, headers=headers or {})


def snapshot(case_id: int) -> tuple:
    """Everything a refused request must leave alone: the case row, its events and its webhooks."""
    db.session.rollback()
    case = db.session.get(Case, case_id)

    def count(model) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(model.case_id == case_id))

    return (case.state, case.version, case.deadline_at, case.mediator_id, count(CaseEvent), count(WebhookMessage))


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


@pytest.fixture
def mediator_session(app, client, make_user):
    """A mediator signed in with a password through /login; returns (actor, headers with the CSRF token
    taken from a page, as the browser's script sends it)."""

    def sign_in():
        mediator = make_user("mediator")
        email = db.session.get(User, mediator.user_id).email
        app.config["WTF_CSRF_ENABLED"] = False  # the login form only; the API still checks X-CSRFToken
        assert client.post("/login", data={"email": email, "password": "a long password"}).status_code == 302
        page = client.get("/cases")
        marker = b'name="csrf-token" content="'
        start = page.data.index(marker) + len(marker)
        return mediator, {"X-CSRFToken": page.data[start:page.data.index(b'"', start)].decode()}

    return sign_in


# ---- escalation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["buyer", "seller"])
def test_a_party_escalates_with_its_party_token(client, make_case, make_user, role):
    mediator = make_user("mediator")
    info = negotiating(make_case())
    response = escalate(client, info, {"reason": "We are going round in circles."}, info.headers(role))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()["case"]
    assert body["state"] == "mediation" and body["id"] == info.id
    assert snapshot(info.id)[3] == mediator.user_id


def test_the_escalation_answer_carries_the_new_mediation_deadline(client, make_case, make_user, frozen_clock):
    make_user("mediator")
    info = negotiating(make_case())
    body = escalate(client, info, {"reason": "Stuck."}, info.headers("buyer")).get_json()["case"]
    assert parse(body["deadline_at"]) == frozen_clock.at + timedelta(days=14)


def test_the_escalation_answer_shows_parties_no_contact_details(client, make_case, make_user):
    make_user("mediator")
    info = negotiating(make_case())
    body = escalate(client, info, {"reason": "Stuck."}, info.headers("buyer")).get_json()["case"]
    assert "email" not in body["buyer"] and "metadata" not in body


@pytest.mark.parametrize("payload, field", [
    ({}, "reason"),
    ({"reason": ""}, "reason"),
    ({"reason": "   "}, "reason"),
    ({"reason": 42}, "reason"),
    ({"reason": "x" * 2001}, "reason"),
    ({"reason": "ok", "extra": 1}, "extra"),
])
def test_an_escalation_with_a_bad_body_is_a_422_naming_the_field_and_changes_nothing(client, make_case, make_user,
                                                                                    payload, field):
    make_user("mediator")
    info = negotiating(make_case())
    headers, before = info.headers("buyer"), snapshot(info.id)
    response = escalate(client, info, payload, headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert snapshot(info.id) == before


def test_escalating_an_open_case_is_a_409_with_the_current_case(client, make_case, make_user):
    make_user("mediator")
    info = make_case()
    headers, before = info.headers("buyer"), snapshot(info.id)
    response = escalate(client, info, {"reason": "Too early."}, headers)
    assert response.status_code == 409
    assert response.get_json()["case"]["state"] == "open"
    assert snapshot(info.id) == before


def test_escalating_a_case_already_in_mediation_is_a_409(client, make_case, make_user):
    make_user("mediator")
    info = in_mediation(make_case())
    headers, before = info.headers("seller"), snapshot(info.id)
    response = escalate(client, info, {"reason": "Again."}, headers)
    assert response.status_code == 409 and response.get_json()["case"]["state"] == "mediation"
    assert snapshot(info.id) == before


def test_a_party_of_another_case_gets_a_404_for_escalating_this_one(client, make_case, make_user):
    make_user("mediator")
    info, other = negotiating(make_case()), make_case()
    headers, before = other.headers("buyer"), snapshot(info.id)
    assert escalate(client, info, {"reason": "Not mine."}, headers).status_code == 404
    assert snapshot(info.id) == before


def test_the_platform_gets_a_403_for_escalating_its_own_case(client, make_case, make_user):
    make_user("mediator")
    info = negotiating(make_case())
    before = snapshot(info.id)
    assert escalate(client, info, {"reason": "We decide."}, info.platform.headers).status_code == 403
    assert snapshot(info.id) == before


def test_another_platform_gets_a_404_for_escalating_the_case(client, make_case, make_platform, make_user):
    make_user("mediator")
    info = negotiating(make_case())
    before = snapshot(info.id)
    assert escalate(client, info, {"reason": "Hm."}, make_platform().headers).status_code == 404
    assert snapshot(info.id) == before


def test_escalating_without_credentials_is_a_401(client, make_case, make_user):
    make_user("mediator")
    info = negotiating(make_case())
    before = snapshot(info.id)
    response = escalate(client, info, {"reason": "Who am I?"}, {})
    assert response.status_code == 401
    assert snapshot(info.id) == before


# ---- deadline extension -------------------------------------------------------------------------


def test_the_assigned_mediator_extends_the_deadline_by_exactly_the_days_asked(client, make_case, mediator_session):
    info = make_case()
    mediator, headers = mediator_session()
    in_mediation(info)
    before = snapshot(info.id)[2]
    response = extend(client, info, {"days": 5, "reason": "The courier needs time."}, headers)
    assert response.status_code == 200, response.get_json()
    assert parse(response.get_json()["case"]["deadline_at"]) == before + timedelta(days=5)
    assert snapshot(info.id)[2] == before + timedelta(days=5)


def test_an_extended_deadline_is_the_same_for_both_parties(client, make_case, mediator_session):
    info = make_case()
    _mediator, headers = mediator_session()
    in_mediation(info)
    before = snapshot(info.id)[2]
    extend(client, info, {"days": 3, "reason": "Waiting for photos."}, headers)
    seen = {role: client.get(f"/api/v1/cases/{info.id}", headers=info.headers(role)).get_json()["deadline_at"]
            for role in ("buyer", "seller")}
    assert {parse(value) for value in seen.values()} == {before + timedelta(days=3)}


def test_an_extension_is_recorded_with_its_reason(client, make_case, mediator_session):
    info = make_case()
    mediator, headers = mediator_session()
    in_mediation(info)
    extend(client, info, {"days": 2, "reason": "  Waiting for the courier.  "}, headers)
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == info.id,
                                                      CaseEvent.type == "deadline.extended"))
    assert event.payload["days"] == 2 and event.payload["reason"] == "Waiting for the courier."
    assert event.actor == f"mediator:{mediator.user_id}"
    assert parse(event.payload["to"]) - parse(event.payload["from"]) == timedelta(days=2)


@pytest.mark.parametrize("payload, field", [
    ({"days": 0, "reason": "r"}, "days"),
    ({"days": 31, "reason": "r"}, "days"),
    ({"days": -1, "reason": "r"}, "days"),
    ({"days": "3", "reason": "r"}, "days"),
    ({"days": 1.5, "reason": "r"}, "days"),
    ({"days": True, "reason": "r"}, "days"),
    ({"reason": "r"}, "days"),
    ({"days": 3, "reason": ""}, "reason"),
    ({"days": 3, "reason": "   "}, "reason"),
    ({"days": 3}, "reason"),
])
def test_an_extension_with_a_bad_body_is_a_422_and_changes_nothing(client, make_case, mediator_session,
                                                                   payload, field):
    info = make_case()
    _mediator, headers = mediator_session()
    in_mediation(info)
    before = snapshot(info.id)
    response = extend(client, info, payload, headers)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert snapshot(info.id) == before


@pytest.mark.parametrize("days", [1, 30])
def test_one_and_thirty_days_are_both_allowed(client, make_case, mediator_session, days):
    info = make_case()
    _mediator, headers = mediator_session()
    in_mediation(info)
    assert extend(client, info, {"days": days, "reason": "Bounds."}, headers).status_code == 200


@pytest.mark.parametrize("role", ["buyer", "seller"])
def test_a_party_gets_a_403_for_extending_the_deadline(client, make_case, make_user, role):
    make_user("mediator")
    info = in_mediation(make_case())
    headers, before = info.headers(role), snapshot(info.id)
    assert extend(client, info, {"days": 3, "reason": "More time."}, headers).status_code == 403
    assert snapshot(info.id) == before


def test_the_platform_gets_a_403_for_extending_the_deadline(client, make_case, make_user):
    make_user("mediator")
    info = in_mediation(make_case())
    before = snapshot(info.id)
    assert extend(client, info, {"days": 3, "reason": "More time."}, info.platform.headers).status_code == 403
    assert snapshot(info.id) == before


def test_a_mediator_not_on_the_case_gets_a_404_for_extending_it(client, make_case, make_user, mediator_session):
    make_user("mediator")  # registered first: the case goes to this one
    info = in_mediation(make_case())
    _outsider, headers = mediator_session()
    before = snapshot(info.id)
    assert extend(client, info, {"days": 3, "reason": "Not mine."}, headers).status_code == 404
    assert snapshot(info.id) == before


def test_extending_without_credentials_is_a_401(client, make_case, make_user):
    make_user("mediator")
    info = in_mediation(make_case())
    before = snapshot(info.id)
    assert extend(client, info, {"days": 3, "reason": "Anyone?"}).status_code == 401
    assert snapshot(info.id) == before


def test_extending_without_the_csrf_token_is_refused(client, make_case, mediator_session):
    info = make_case()
    mediator_session()
    in_mediation(info)
    before = snapshot(info.id)
    assert extend(client, info, {"days": 3, "reason": "Forged."}).status_code == 400
    assert snapshot(info.id) == before


def test_extending_a_case_that_left_mediation_is_a_409_with_the_current_case(client, make_case, mediator_session):
    info = make_case()
    _mediator, headers = mediator_session()
    in_mediation(info)
    offer = proposals.create_proposal(info.actor("seller"), info.id, buyer_refund=money("50.00"),
                                      seller_release=money("50.00"))
    proposals.accept_proposal(info.actor("buyer"), info.id, offer.id)
    before = snapshot(info.id)
    response = extend(client, info, {"days": 3, "reason": "Too late."}, headers)
    assert response.status_code == 409 and response.get_json()["case"]["state"] == "settled"
    assert snapshot(info.id) == before
