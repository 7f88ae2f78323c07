"""Recommendations, rulings and appeals through the JSON API: bodies, field errors, states."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import Case, CaseEvent, Ruling
from mediation.services import preferences, rulings
from tests.conftest import money

RATIONALE = "The photos show the lid cracked before shipping."
GROUNDS = "The ruling ignored the courier's damage report."


def amounts(refund: str = "40.00", release: str = "60.00") -> dict:
    return {"buyer_refund": {"value": refund, "currency": "USD"},
            "seller_release": {"value": release, "currency": "USD"}}


def snapshot(case_id: int) -> tuple:
    db.session.rollback()
    case = db.session.get(Case, case_id)
    events = db.session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id))
    return case.state, case.version, events, db.session.scalar(select(func.count()).select_from(Ruling))


@pytest.fixture
def mediating(make_mediation_case, staff_login):
    """A case in mediation and its mediator's signed-in browser headers."""
    info, mediator = make_mediation_case()
    return info, mediator, staff_login(mediator)


def test_the_mediator_issues_a_ruling_and_gets_the_ruled_case(client, mediating, rulebook):
    info, _mediator, headers = mediating
    response = client.post(f"/api/v1/cases/{info.id}/rulings", headers=headers,
                           json={**amounts(), "rationale": RATIONALE, "clauses": rulebook.clause_ids[:2]})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["case"]["state"] == "ruled"
    assert [c["number"] for c in body["ruling"]["clauses"]] == ["1", "2"]
    assert body["ruling"]["buyer_refund"] == {"value": "40.00", "currency": "USD"}


@pytest.mark.parametrize(("body", "field"), [
    ({"rationale": "", "clauses": [1]}, "rationale"),
    ({"rationale": "Short", "clauses": [1]}, "rationale"),
    ({"rationale": RATIONALE, "clauses": []}, "clauses"),
    ({"rationale": RATIONALE, "clauses": ["1"]}, "clauses"),
    ({"rationale": RATIONALE}, "clauses"),
    ({"clauses": [1]}, "rationale"),
], ids=["empty-rationale", "short-rationale", "no-clauses", "clause-as-string", "clauses-missing",
        "rationale-missing"])
def test_a_ruling_without_reasons_or_clauses_gets_a_field_error_and_changes_nothing(client, mediating, body, field):
    info, _mediator, headers = mediating
    before = snapshot(info.id)
    response = client.post(f"/api/v1/cases/{info.id}/rulings", headers=headers, json={**amounts(), **body})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert snapshot(info.id) == before


def test_a_clause_of_another_rulebook_gets_a_field_error(client, mediating, make_rulebook):
    info, _mediator, headers = mediating
    foreign = make_rulebook()
    before = snapshot(info.id)
    response = client.post(f"/api/v1/cases/{info.id}/rulings", headers=headers,
                           json={**amounts(), "rationale": RATIONALE, "clauses": foreign.clause_ids[:1]})
    assert response.status_code == 422
    assert response.get_json()["errors"]["clauses"] == ["Not a clause of this case's rulebook."]
    assert snapshot(info.id) == before


@pytest.mark.parametrize("clause", [2**31, 2**63], ids=["past-postgres-integer", "past-sqlite-integer"])
def test_a_clause_id_no_row_can_have_gets_a_field_error(client, mediating, clause):
    """Such ids reached the database and overflowed it (a 500)."""
    info, _mediator, headers = mediating
    before = snapshot(info.id)
    response = client.post(f"/api/v1/cases/{info.id}/rulings", headers=headers,
                           json={**amounts(), "rationale": RATIONALE, "clauses": [clause]})
    assert response.status_code == 422, response.get_json()
    assert "clauses" in response.get_json()["errors"]
    assert snapshot(info.id) == before


def test_the_field_error_comes_in_the_mediators_own_language(client, mediating, make_rulebook):
    info, mediator, headers = mediating
    preferences.set_language(mediator, None, "zh-CN")
    response = client.post(f"/api/v1/cases/{info.id}/rulings", headers=headers,
                           json={**amounts(), "rationale": "", "clauses": [1]})
    assert response.status_code == 422
    message = response.get_json()["errors"]["rationale"][0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message


def test_the_case_rulebook_lists_its_clauses_for_the_parties(client, mediating, rulebook):
    info, _mediator, _headers = mediating
    response = client.get(f"/api/v1/cases/{info.id}/rulebook", headers=info.headers("seller"))
    body = response.get_json()
    assert response.status_code == 200
    assert [c["id"] for c in body["clauses"]] == rulebook.clause_ids
    assert body["clauses"][0]["anchor"] == "clause-1"


def ruled(info, mediator, rulebook):
    rulings.issue_ruling(mediator, info.id, rulings.Outcome(money("40.00"), money("60.00")), RATIONALE,
                         rulebook.clause_ids[:1])


def test_a_party_appeals_with_its_token(client, mediating, rulebook, make_user):
    info, mediator, _headers = mediating
    ruled(info, mediator, rulebook)
    make_user("mediator")
    response = client.post(f"/api/v1/cases/{info.id}/appeals", json={"grounds": GROUNDS},
                           headers=info.headers("seller"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["case"]["state"], body["appeal"]["appellant"]) == ("appealed", "seller")


def test_an_appeal_without_grounds_gets_a_field_error(client, mediating, rulebook):
    info, mediator, _headers = mediating
    ruled(info, mediator, rulebook)
    before = snapshot(info.id)
    response = client.post(f"/api/v1/cases/{info.id}/appeals", json={"grounds": "No."},
                           headers=info.headers("buyer"))
    assert (response.status_code, list(response.get_json()["errors"])) == (422, ["grounds"])
    assert snapshot(info.id) == before


def test_an_appeal_after_the_window_gets_409_with_the_case(client, frozen_clock, make_mediation_case, rulebook):
    info, mediator = make_mediation_case()
    ruled(info, mediator, rulebook)
    frozen_clock.move(days=5, seconds=1)
    response = client.post(f"/api/v1/cases/{info.id}/appeals", json={"grounds": GROUNDS},
                           headers=info.headers("buyer"))
    assert response.status_code == 409
    assert response.get_json()["case"]["state"] == "ruled"


def test_the_appeal_mediator_replaces_the_ruling(client, make_mediation_case, make_user, staff_login, rulebook):
    info, mediator = make_mediation_case()
    ruled(info, mediator, rulebook)
    second = make_user("mediator")
    appeal = rulings.appeal_ruling(info.actor("seller"), info.id, GROUNDS)
    headers = staff_login(second)
    response = client.post(f"/api/v1/cases/{info.id}/appeals/{appeal.id}/decision", headers=headers, json={
        "decision": "replace", "rationale": "The courier's report shows the damage.", "clauses": rulebook.clause_ids,
        **amounts("100.00", "0.00")})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["case"]["state"] == "final"
    assert body["case"]["outcome"]["buyer_refund"] == {"value": "100.00", "currency": "USD"}


def test_replacing_without_the_new_outcome_names_both_amounts(client, make_mediation_case, make_user, staff_login,
                                                             rulebook):
    info, mediator = make_mediation_case()
    ruled(info, mediator, rulebook)
    second = make_user("mediator")
    appeal = rulings.appeal_ruling(info.actor("seller"), info.id, GROUNDS)
    headers = staff_login(second)
    before = snapshot(info.id)
    response = client.post(f"/api/v1/cases/{info.id}/appeals/{appeal.id}/decision", headers=headers, json={
        "decision": "replace", "rationale": "The courier's report shows the damage.", "clauses": rulebook.clause_ids})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"buyer_refund", "seller_release"}
    assert snapshot(info.id) == before


def test_the_parties_accept_a_recommendation_one_after_the_other(client, mediating):
    info, _mediator, headers = mediating
    response = client.post(f"/api/v1/cases/{info.id}/recommendations", headers=headers, json=amounts("70.00", "30.00"))
    assert response.status_code == 201, response.get_json()
    proposal_id = response.get_json()["proposal"]["id"]
    first = client.post(f"/api/v1/cases/{info.id}/proposals/{proposal_id}/accept", headers=info.headers("buyer"))
    assert first.get_json()["case"]["state"] == "mediation"
    assert first.get_json()["proposal"]["accepted_by"] == ["buyer"]
    second = client.post(f"/api/v1/cases/{info.id}/proposals/{proposal_id}/accept", headers=info.headers("seller"))
    assert second.get_json()["case"]["state"] == "settled"
