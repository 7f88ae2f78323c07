"""Structured requests through the JSON API: answers, field errors, states."""
from __future__ import annotations

import pytest

from mediation.services import requests
from tests.requests.support import ask, snapshot


def test_a_new_request_is_answered_with_the_request_and_the_case(client, make_case):
    info = make_case()
    response = ask(client, info, info.headers("buyer"), text="From the shipping e-mail", due_in_days=5)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["request"]["kind"] == "tracking_number" and body["request"]["state"] == "open"
    assert body["request"]["text"] == "From the shipping e-mail" and body["request"]["overdue"] is False
    assert body["case"]["id"] == info.id and "state" in body["case"]


def test_the_party_asked_answers_through_the_api(client, make_case):
    info = make_case()
    rid = ask(client, info, info.headers("buyer")).get_json()["request"]["id"]
    response = client.post(f"/api/v1/cases/{info.id}/requests/{rid}/answer", headers=info.headers("seller"),
                           json={"text": "LX123456CN"})
    assert response.status_code == 200
    assert response.get_json()["request"]["answer_text"] == "LX123456CN"
    assert response.get_json()["case"]["state"] == "negotiation"


def test_the_requester_cancels_through_the_api(client, make_case):
    info = make_case()
    rid = ask(client, info, info.headers("buyer")).get_json()["request"]["id"]
    response = client.post(f"/api/v1/cases/{info.id}/requests/{rid}/cancel", headers=info.headers("buyer"))
    assert response.status_code == 200 and response.get_json()["request"]["state"] == "cancelled"


def test_the_signed_in_mediator_asks_with_the_csrf_header(client, mediating):
    info, _mediator, headers = mediating
    response = ask(client, info, headers, kind="delivery_proof", addressee="seller")
    assert response.status_code == 201
    assert response.get_json()["request"]["requester_role"] == "mediator"


def test_the_mediator_without_the_csrf_header_is_refused(client, mediating):
    info, _mediator, _headers = mediating
    assert ask(client, info, {}).status_code == 400


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "passport_scan"}, "kind"),
    ({"kind": "free_text"}, "text"),
    ({"kind": "free_text", "text": "   "}, "text"),
    ({"text": "x" * 1001}, "text"),
    ({"due_in_days": 0}, "due_in_days"),
    ({"due_in_days": 15}, "due_in_days"),
    ({"due_in_days": "3"}, "due_in_days"),
    ({"addressee": "buyer"}, "addressee"),
    ({"addressee": "mediator"}, "addressee"),
    ({"channel": "caucus:buyer"}, "channel"),
    ({"channel": "caucus:seller"}, "channel"),
    ({"kind": None}, "kind"),
], ids=["unknown-kind", "free-text-without-text", "free-text-blank", "text-over-1000", "due-0-days",
        "due-15-days", "due-as-string", "addressee-self", "addressee-mediator", "own-caucus", "other-caucus",
        "kind-null"])
def test_a_bad_request_gets_a_field_error_and_changes_nothing(client, make_case, body, field):
    info = make_case()
    before = snapshot(info.id)
    response = ask(client, info, info.headers("buyer"), **body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert snapshot(info.id) == before


def test_a_request_of_exactly_1000_characters_is_accepted(client, make_case):
    info = make_case()
    assert ask(client, info, info.headers("buyer"), kind="free_text", text="x" * 1000).status_code == 201


def test_asking_yourself_says_so(client, make_case):
    info = make_case()
    response = ask(client, info, info.headers("buyer"), addressee="buyer")  # the buyer reads English
    assert response.get_json()["errors"]["addressee"] == ["Ask the other party; you cannot ask yourself."]


def test_the_mediator_asks_in_the_wrong_caucus_gets_a_field_error(client, mediating):
    info, _mediator, headers = mediating
    response = ask(client, info, headers, addressee="seller", channel="caucus:buyer")
    assert response.status_code == 422 and "channel" in response.get_json()["errors"]


def test_an_empty_answer_gets_a_field_error(client, make_case):
    info = make_case()
    rid = ask(client, info, info.headers("buyer")).get_json()["request"]["id"]
    response = client.post(f"/api/v1/cases/{info.id}/requests/{rid}/answer", headers=info.headers("seller"),
                           json={"text": ""})
    assert response.status_code == 422 and "text" in response.get_json()["errors"]


def test_an_answer_without_text_gets_a_field_error(client, make_case):
    info = make_case()
    rid = ask(client, info, info.headers("buyer")).get_json()["request"]["id"]
    response = client.post(f"/api/v1/cases/{info.id}/requests/{rid}/answer", headers=info.headers("seller"),
                           json={})
    assert response.status_code == 422 and "text" in response.get_json()["errors"]


def test_a_second_answer_is_a_409_with_the_case(client, make_case):
    info = make_case()
    rid = ask(client, info, info.headers("buyer")).get_json()["request"]["id"]
    url = f"/api/v1/cases/{info.id}/requests/{rid}/answer"
    client.post(url, headers=info.headers("seller"), json={"text": "LX1"})
    response = client.post(url, headers=info.headers("seller"), json={"text": "LX2"})
    assert response.status_code == 409 and response.get_json()["case"]["id"] == info.id


def test_a_settled_case_refuses_a_new_request_with_409_and_its_state(client, make_case, settle):
    info = make_case()
    settle(info)
    response = ask(client, info, info.headers("buyer"))
    assert response.status_code == 409
    assert response.get_json()["case"]["state"] == "settled"


def test_an_unknown_request_is_a_404(client, make_case):
    info = make_case()
    response = client.post(f"/api/v1/cases/{info.id}/requests/9999/answer", headers=info.headers("seller"),
                           json={"text": "LX1"})
    assert response.status_code == 404


def test_a_request_of_another_case_is_a_404(client, make_case):
    info, other = make_case(), make_case()
    made = requests.create_request(other.actor("buyer"), other.id, kind="tracking_number", addressee="seller")
    response = client.post(f"/api/v1/cases/{info.id}/requests/{made.id}/answer", headers=info.headers("seller"),
                           json={"text": "LX1"})
    assert response.status_code == 404


def test_the_list_is_newest_first_with_overdue_computed(client, make_case, frozen_clock):
    info = make_case()
    requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller",
                            due_in_days=1)
    requests.create_request(info.actor("buyer"), info.id, kind="receipt", addressee="seller", due_in_days=5)
    frozen_clock.move(days=2)
    listed = client.get(f"/api/v1/cases/{info.id}/requests", headers=info.headers("seller")).get_json()
    assert [(r["kind"], r["overdue"]) for r in listed] == [("receipt", False), ("tracking_number", True)]
