"""Who may ask, answer, cancel and see structured requests, and who may not (PRODUCT.md, People, Channels).

Refusals change nothing: no row, no event, the request keeps its state.
"""
from __future__ import annotations

import pytest

from mediation.services import cases, requests
from tests.requests.support import ask, snapshot


def answer(client, info, rid, headers, text="LX123"):
    return client.post(f"/api/v1/cases/{info.id}/requests/{rid}/answer", headers=headers, json={"text": text})


def cancel(client, info, rid, headers):
    return client.post(f"/api/v1/cases/{info.id}/requests/{rid}/cancel", headers=headers)


@pytest.fixture
def asked(make_case):
    """The buyer asked the seller for the tracking number."""
    info = make_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    return info, made.id


def test_the_requester_cannot_answer_their_own_request(client, asked):
    info, rid = asked
    before = snapshot(info.id)
    assert answer(client, info, rid, info.headers("buyer")).status_code == 403
    assert snapshot(info.id) == before


def test_the_other_party_cannot_answer_a_mediators_request_to_the_buyer(client, make_mediation_case):
    info, mediator = make_mediation_case()
    made = requests.create_request(mediator, info.id, kind="damage_photos", addressee="buyer")
    assert answer(client, info, made.id, info.headers("seller")).status_code == 403


def test_the_mediator_cannot_answer_for_a_party(client, make_mediation_case, staff_login):
    info, mediator = make_mediation_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    assert answer(client, info, made.id, staff_login(mediator)).status_code == 403


def test_a_party_of_another_case_finds_nothing(client, asked, make_case):
    info, rid = asked
    stranger = make_case()
    assert answer(client, info, rid, stranger.headers("seller")).status_code == 404
    assert ask(client, info, stranger.headers("buyer")).status_code == 404
    assert client.get(f"/api/v1/cases/{info.id}/requests", headers=stranger.headers("buyer")).status_code == 404


def test_the_platform_may_not_ask(client, make_case):
    info = make_case()
    assert ask(client, info, info.platform.headers).status_code == 403


def test_the_platform_may_not_answer(client, asked):
    info, rid = asked
    assert answer(client, info, rid, info.platform.headers).status_code == 403


def test_the_platform_may_not_read_the_requests(client, asked):
    info, _rid = asked
    assert client.get(f"/api/v1/cases/{info.id}/requests", headers=info.platform.headers).status_code == 403


def test_anonymous_callers_must_sign_in(client, asked):
    info, rid = asked
    assert ask(client, info, {}).status_code == 401
    assert answer(client, info, rid, {}).status_code == 401
    assert client.get(f"/api/v1/cases/{info.id}/requests").status_code == 401


def test_an_admin_may_not_ask(client, make_case, make_user, staff_login):
    info = make_case()
    headers = staff_login(make_user("admin"))
    assert ask(client, info, headers).status_code == 403


def test_an_admin_may_not_answer(client, asked, make_user, staff_login):
    info, rid = asked
    assert answer(client, info, rid, staff_login(make_user("admin"))).status_code == 403


def test_a_mediator_not_on_the_case_finds_nothing(client, make_mediation_case, make_user, staff_login):
    info, _mediator = make_mediation_case()
    headers = staff_login(make_user("mediator"))
    assert ask(client, info, headers, addressee="buyer").status_code == 404
    assert client.get(f"/api/v1/cases/{info.id}/requests", headers=headers).status_code == 404


def test_the_party_asked_cannot_cancel_the_request(client, asked):
    info, rid = asked
    before = snapshot(info.id)
    assert cancel(client, info, rid, info.headers("seller")).status_code == 403
    assert snapshot(info.id) == before


def test_the_mediator_cannot_cancel_a_partys_request(client, make_mediation_case, staff_login):
    info, mediator = make_mediation_case()
    made = requests.create_request(info.actor("seller"), info.id, kind="damage_photos", addressee="buyer")
    assert cancel(client, info, made.id, staff_login(mediator)).status_code == 403


def test_a_party_cannot_cancel_the_mediators_request(client, make_mediation_case):
    info, mediator = make_mediation_case()
    made = requests.create_request(mediator, info.id, kind="receipt", addressee="seller")
    assert cancel(client, info, made.id, info.headers("seller")).status_code == 403


def test_the_mediator_cancels_their_own_request(client, make_mediation_case, staff_login):
    info, mediator = make_mediation_case()
    made = requests.create_request(mediator, info.id, kind="receipt", addressee="seller")
    assert cancel(client, info, made.id, staff_login(mediator)).status_code == 200


# ---- a private request stays in its caucus -------------------------------------------------------


@pytest.fixture
def private(make_mediation_case):
    """The mediator asked the buyer privately, in caucus:buyer."""
    info, mediator = make_mediation_case()
    made = requests.create_request(mediator, info.id, kind="free_text", text="Was the box already open?",
                                   addressee="buyer", channel="caucus:buyer")
    return info, mediator, made.id


def test_the_other_party_does_not_see_a_private_request_in_the_list(client, private):
    info, _mediator, _rid = private
    listed = client.get(f"/api/v1/cases/{info.id}/requests", headers=info.headers("seller")).get_json()
    assert listed == []


def test_the_party_asked_sees_the_private_request(client, private):
    info, _mediator, rid = private
    listed = client.get(f"/api/v1/cases/{info.id}/requests", headers=info.headers("buyer")).get_json()
    assert [(r["id"], r["channel"]) for r in listed] == [(rid, "caucus:buyer")]


def test_the_mediator_sees_every_request_including_private_ones(client, private, staff_login):
    info, mediator, rid = private
    joint = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    listed = client.get(f"/api/v1/cases/{info.id}/requests", headers=staff_login(mediator)).get_json()
    assert [r["id"] for r in listed] == [joint.id, rid]


def test_an_admin_sees_joint_requests_but_not_private_ones(client, private, make_user, staff_login):
    info, _mediator, _rid = private
    joint = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    listed = client.get(f"/api/v1/cases/{info.id}/requests", headers=staff_login(make_user("admin"))).get_json()
    assert [r["id"] for r in listed] == [joint.id]


def test_the_other_party_cannot_reach_a_private_request_by_its_id(client, private):
    info, _mediator, rid = private
    assert answer(client, info, rid, info.headers("seller")).status_code == 404
    assert cancel(client, info, rid, info.headers("seller")).status_code == 404


def test_a_private_request_is_emitted_to_its_caucus_room_only(make_mediation_case, released):
    info, mediator = make_mediation_case()
    requests.create_request(mediator, info.id, kind="receipt", addressee="seller", channel="caucus:seller")
    rooms = [room for name, data, room in released.emits
             if name == "case_event" and data["type"] == "request.created"]
    assert rooms == [f"case:{info.id}:caucus:seller"]


def test_answering_a_private_request_is_emitted_to_its_caucus_room_only(private, released):
    info, _mediator, rid = private
    requests.answer_request(info.actor("buyer"), info.id, rid, "Yes, the tape was cut.")
    rooms = [room for name, data, room in released.emits
             if name == "case_event" and data["type"] == "request.answered"]
    assert rooms == [f"case:{info.id}:caucus:buyer"]


def test_the_other_party_sees_a_private_requests_place_in_the_log_but_not_its_content(private):
    info, _mediator, _rid = private
    [entry] = [e for e in cases.case_events(info.actor("seller"), info.id) if e.type == "request.created"]
    assert entry.payload == {"channel": "caucus:buyer", "redacted": True}


def test_a_joint_request_is_emitted_to_the_whole_case_room(make_case, released):
    info = make_case()
    requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    rooms = [room for name, data, room in released.emits
             if name == "case_event" and data["type"] == "request.created"]
    assert rooms == [f"case:{info.id}"]
