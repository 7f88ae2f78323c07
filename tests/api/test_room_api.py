"""Party actions through the JSON API: party tokens, messages, proposals, withdrawal, the case log."""
from __future__ import annotations

import io

import pytest

from mediation.extensions import db
from mediation.models import Case, Message, Proposal


def usd(value: str) -> dict:
    return {"value": value, "currency": "USD"}


def propose(client, info, role, refund="40.00", release="60.00", **extra):
    body = {"buyer_refund": usd(refund), "seller_release": usd(release), **extra}
    return client.post(f"/api/v1/cases/{info.id}/proposals", json=body, headers=info.headers(role))


def state_of(case_id: int) -> tuple[str, int, int, int]:
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    return (case.state, case.version, db.session.query(Message).count(), db.session.query(Proposal).count())


def test_a_join_token_is_exchanged_for_a_party_token(client, make_case):
    info = make_case()
    response = client.post("/api/v1/party-tokens", json={"join_token": info.join_tokens["seller"]})
    assert response.status_code == 201
    body = response.get_json()
    assert body["role"] == "seller" and body["case_id"] == info.id and body["token"].startswith("pt_")


@pytest.mark.parametrize("token", ["forged", "eyJwIjoxfQ.bad", "", "x" * 1001])
def test_a_forged_join_token_gets_no_party_token(client, token):
    response = client.post("/api/v1/party-tokens", json={"join_token": token})
    assert response.status_code in (401, 422)


def test_an_expired_join_token_gets_a_401(client, make_case, frozen_clock):
    info = make_case()
    frozen_clock.move(days=15)
    response = client.post("/api/v1/party-tokens", json={"join_token": info.join_tokens["buyer"]})
    assert response.status_code == 401
    assert "expired" in response.get_json()["message"]


def test_a_message_is_stored_once_per_client_id(client, make_case):
    info = make_case()
    headers = info.headers("buyer")
    first = client.post(f"/api/v1/cases/{info.id}/messages", json={"body": "Hello", "client_id": "c-1"},
                        headers=headers)
    again = client.post(f"/api/v1/cases/{info.id}/messages", json={"body": "Hello", "client_id": "c-1"},
                        headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["duplicate"] is True
    assert db.session.query(Message).count() == 1


def test_the_respondents_first_message_starts_negotiation(client, make_case):
    info = make_case()
    response = client.post(f"/api/v1/cases/{info.id}/messages", json={"body": "我们看看", "client_id": "s-1"},
                           headers=info.headers("seller"))
    assert response.get_json()["case"]["state"] == "negotiation"


def test_history_is_keyset_paginated_oldest_first(client, make_case):
    info = make_case()
    headers = info.headers("buyer")
    ids = [client.post(f"/api/v1/cases/{info.id}/messages", json={"body": f"m{i}", "client_id": f"c{i}"},
                       headers=headers).get_json()["id"] for i in range(5)]
    page = client.get(f"/api/v1/cases/{info.id}/messages?limit=2", headers=headers).get_json()
    assert [m["id"] for m in page["items"]] == ids[3:] and page["has_older"]
    older = client.get(f"/api/v1/cases/{info.id}/messages?limit=2&before={ids[3]}", headers=headers).get_json()
    assert [m["id"] for m in older["items"]] == ids[1:3]


@pytest.mark.parametrize("body, field", [
    ({"body": "", "client_id": "a"}, "body"),
    ({"body": "   ", "client_id": "a"}, "body"),
    ({"body": "x" * 4001, "client_id": "a"}, "body"),
    ({"body": "bell\x07", "client_id": "a"}, "body"),
    ({"body": "hi"}, "client_id"),
    ({"body": "hi", "client_id": "has space"}, "client_id"),
    ({"body": 5, "client_id": "a"}, "body"),
    ({"body": "hi", "client_id": "a", "channel": "everyone"}, "channel"),
    ({"body": "hi", "client_id": "a", "extra": True}, "extra"),
])
def test_invalid_messages_get_a_422_and_store_nothing(client, make_case, body, field):
    info = make_case()
    response = client.post(f"/api/v1/cases/{info.id}/messages", json=body, headers=info.headers("buyer"))
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert db.session.query(Message).count() == 0


def test_a_party_cannot_post_in_the_other_partys_caucus(client, make_case):
    info = make_case()
    response = client.post(f"/api/v1/cases/{info.id}/messages",
                           json={"body": "psst", "client_id": "a", "channel": "caucus:seller"},
                           headers=info.headers("buyer"))
    assert response.status_code == 403


def test_a_party_cannot_read_the_other_partys_caucus(client, make_case):
    info = make_case()
    response = client.get(f"/api/v1/cases/{info.id}/messages?channel=caucus:seller", headers=info.headers("buyer"))
    assert response.status_code == 403


def test_a_caucus_is_closed_before_mediation(client, make_case):
    info = make_case()
    response = client.post(f"/api/v1/cases/{info.id}/messages",
                           json={"body": "psst", "client_id": "a", "channel": "caucus:buyer"},
                           headers=info.headers("buyer"))
    assert response.status_code == 409


def test_accepting_a_proposal_settles_the_case_with_its_outcome(client, make_case):
    info = make_case()
    created = propose(client, info, "seller", "40.00", "60.00", return_required=True, terms="Keep the item")
    assert created.status_code == 201
    pid = created.get_json()["proposal"]["id"]
    accepted = client.post(f"/api/v1/cases/{info.id}/proposals/{pid}/accept", headers=info.headers("buyer"))
    assert accepted.status_code == 200
    case = accepted.get_json()["case"]
    assert case["state"] == "settled"
    assert case["outcome"]["buyer_refund"] == usd("40.00")
    assert case["outcome"]["seller_release"] == usd("60.00")
    assert case["outcome"]["return_required"] is True


def test_a_proposal_that_does_not_add_up_to_the_held_amount_is_a_422(client, make_case):
    info = make_case()
    before = state_of(info.id)
    response = propose(client, info, "buyer", "40.00", "50.00")
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"buyer_refund", "seller_release"}
    assert state_of(info.id) == before


def test_a_proposal_in_another_currency_is_a_422(client, make_case):
    info = make_case()
    body = {"buyer_refund": {"value": "40.00", "currency": "EUR"}, "seller_release": usd("60.00")}
    response = client.post(f"/api/v1/cases/{info.id}/proposals", json=body, headers=info.headers("buyer"))
    assert response.status_code == 422 and "buyer_refund" in response.get_json()["errors"]


def test_the_author_cannot_accept_their_own_proposal(client, make_case):
    info = make_case()
    pid = propose(client, info, "buyer").get_json()["proposal"]["id"]
    before = state_of(info.id)
    response = client.post(f"/api/v1/cases/{info.id}/proposals/{pid}/accept", headers=info.headers("buyer"))
    assert response.status_code == 403
    assert state_of(info.id) == before


def test_a_second_acceptance_is_a_409_with_the_current_state(client, make_case):
    info = make_case()
    pid = propose(client, info, "seller").get_json()["proposal"]["id"]
    client.post(f"/api/v1/cases/{info.id}/proposals/{pid}/accept", headers=info.headers("buyer"))
    again = client.post(f"/api/v1/cases/{info.id}/proposals/{pid}/accept", headers=info.headers("buyer"))
    assert again.status_code == 409
    assert again.get_json()["case"]["state"] == "settled"


def test_a_counter_offer_marks_the_answered_proposal_countered(client, make_case):
    info = make_case()
    first = propose(client, info, "buyer", "100.00", "0.00").get_json()["proposal"]["id"]
    counter = propose(client, info, "seller", "30.00", "70.00", counter_to=first)
    assert counter.status_code == 201 and counter.get_json()["proposal"]["counter_to"] == first
    states = {p["id"]: p["state"] for p in client.get(f"/api/v1/cases/{info.id}/proposals",
                                                       headers=info.headers("buyer")).get_json()}
    assert states[first] == "countered"


def test_a_newer_proposal_supersedes_the_authors_open_one(client, make_case):
    info = make_case()
    first = propose(client, info, "buyer", "100.00", "0.00").get_json()["proposal"]["id"]
    propose(client, info, "buyer", "80.00", "20.00")
    assert db.session.get(Proposal, first).state == "superseded"


def test_an_expired_proposal_cannot_be_accepted(client, make_case, frozen_clock):
    info = make_case()
    pid = propose(client, info, "seller").get_json()["proposal"]["id"]
    frozen_clock.move(days=3, seconds=1)
    response = client.post(f"/api/v1/cases/{info.id}/proposals/{pid}/accept", headers=info.headers("buyer"))
    assert response.status_code == 409


def test_a_proposal_of_another_case_is_a_404(client, make_case):
    info, other = make_case(), make_case()
    pid = propose(client, other, "seller").get_json()["proposal"]["id"]
    response = client.post(f"/api/v1/cases/{info.id}/proposals/{pid}/accept", headers=info.headers("buyer"))
    assert response.status_code == 404


def test_withdrawing_ends_the_case_and_further_proposals_are_refused(client, make_case):
    info = make_case()
    response = client.post(f"/api/v1/cases/{info.id}/withdraw", json={"reason": "Parcel arrived"},
                           headers=info.headers("buyer"))
    assert response.status_code == 200 and response.get_json()["case"]["state"] == "withdrawn"
    assert propose(client, info, "seller").status_code == 409


def test_withdrawing_without_a_reason_is_a_422(client, make_case):
    info = make_case()
    response = client.post(f"/api/v1/cases/{info.id}/withdraw", json={}, headers=info.headers("buyer"))
    assert response.status_code == 422 and "reason" in response.get_json()["errors"]


def test_the_case_log_is_chained(client, make_case):
    info = make_case()
    propose(client, info, "seller")
    events = client.get(f"/api/v1/cases/{info.id}/events", headers=info.headers("buyer")).get_json()
    assert [e["type"] for e in events] == ["case.opened", "proposal.created", "case.negotiation_started"] or \
        [e["type"] for e in events] == ["case.opened", "case.negotiation_started", "proposal.created"]
    assert events[0]["prev_hash"] == "0" * 64
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in zip(events, events[1:], strict=False))


def test_a_cookie_session_must_send_the_csrf_token(client, make_case, login_party):
    info = make_case()
    csrf_token = login_party(info, "buyer")
    url = f"/api/v1/cases/{info.id}/messages"
    refused = client.post(url, json={"body": "hi", "client_id": "a"})
    assert refused.status_code == 400
    accepted = client.post(url, json={"body": "hi", "client_id": "a"}, headers={"X-CSRFToken": csrf_token})
    assert accepted.status_code == 201


def test_a_party_reads_the_case_without_contacts_or_platform_metadata(client, make_case):
    info = make_case(metadata={"risk_score": 3})
    body = client.get(f"/api/v1/cases/{info.id}", headers=info.headers("seller")).get_json()
    assert body["buyer"] == {"name": "Olivia Buyer", "role": "buyer"}
    assert "metadata" not in body and "email" not in body["seller"]


@pytest.mark.parametrize("number", [2**31, 2**63], ids=["past-postgres-integer", "past-sqlite-integer"])
@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/cases/{case}/messages?before={n}", None, "before"),
    ("/api/v1/cases/{case}/evidence?before={n}", None, "before"),
    ("/api/v1/cases/{case}/proposals", {"buyer_refund": usd("40.00"), "seller_release": usd("60.00")}, "counter_to"),
    ("/api/v1/preferences", {"locale": "en"}, "case_id"),
], ids=["messages", "evidence", "proposal", "preferences"])
def test_an_id_no_row_can_have_in_a_query_or_body_is_a_422(client, make_case, path, body, field, number):
    """Such ids reached the database and overflowed it (a 500); found by tests/api/test_openapi_fuzz.py."""
    info = make_case()
    url, headers = path.format(case=info.id, n=number), info.headers("buyer")
    if body is None:
        response = client.get(url, headers=headers)
    else:
        response = client.post(url, headers=headers, json={**body, field: number})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize("number", [2**31, 2**63], ids=["past-postgres-integer", "past-sqlite-integer"])
def test_an_upload_answering_a_request_id_no_row_can_have_is_a_422(client, make_case, number):
    info = make_case()
    response = client.post(f"/api/v1/cases/{info.id}/evidence", headers=info.headers("buyer"),
                           data={"file": (io.BytesIO(b"Tracking: LX1\n"), "tracking.txt"), "request_id": str(number)})
    assert response.status_code == 422, response.get_json()
    assert "request_id" in response.get_json()["errors"]
