"""Evidence checklists through the JSON API: one shape for parties and staff, answers, field errors."""
from __future__ import annotations

from tests.requests.support import snapshot

# The seller's words come in the seller's own language (the platform's locale for them), so these read English.
ENGLISH_SELLER = {"external_id": "s-1", "name": "Sam Seller", "email": "sam@example.com", "locale": "en"}


def get_checklist(client, info, headers):
    return client.get(f"/api/v1/cases/{info.id}/checklist", headers=headers)


def answer(client, info, item, headers, value="LX 123-456 CN"):
    return client.post(f"/api/v1/cases/{info.id}/checklist/{item}", headers=headers, json={"value": value})


def test_a_party_gets_its_own_checklist_under_its_role(client, make_case):
    info = make_case(reason="not_received")
    body = get_checklist(client, info, info.headers("seller")).get_json()
    assert body["reason"] == "not_received" and list(body["checklists"]) == ["seller"]
    assert [i["key"] for i in body["checklists"]["seller"]] == ["tracking_number", "delivery_proof"]


def test_the_mediator_gets_both_checklists_in_the_same_shape(client, make_mediation_case, staff_login):
    info, mediator = make_mediation_case(reason="damaged")
    body = get_checklist(client, info, staff_login(mediator)).get_json()
    assert sorted(body["checklists"]) == ["buyer", "seller"]
    assert body["checklists"]["seller"][0]["key"] == "packing_proof"


def test_an_item_carries_its_key_kind_of_answer_and_english_words(client, make_case):
    info = make_case(reason="not_received", seller=ENGLISH_SELLER)
    item = get_checklist(client, info, info.headers("seller")).get_json()[
        "checklists"]["seller"][0]
    assert item == {"key": "tracking_number", "role": "seller", "answer_by": "words", "label": "Tracking number",
                    "hint": "The carrier's tracking number for the shipment (letters, digits, spaces and dashes).",
                    "done": False, "answer": None, "answered_at": None, "evidence_ids": [], "request_ids": [],
                    "can_answer": True}


def test_the_platform_is_refused_the_checklist(client, make_case):
    info = make_case()
    assert get_checklist(client, info, info.platform.headers).status_code == 403


def test_anonymous_callers_must_sign_in_for_the_checklist(client, make_case):
    info = make_case()
    assert get_checklist(client, info, {}).status_code == 401
    assert answer(client, info, "tracking_number", {}).status_code == 401


def test_answering_an_item_returns_the_ticked_item_and_the_case(client, make_case):
    info = make_case(reason="not_received")
    response = answer(client, info, "tracking_number", info.headers("seller"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["item"]["done"] is True and body["item"]["answer"] == "LX 123-456 CN"
    assert body["case"]["state"] == "negotiation"


def test_a_second_answer_is_a_409_and_changes_nothing(client, make_case):
    info = make_case(reason="not_received", seller=ENGLISH_SELLER)
    answer(client, info, "tracking_number", info.headers("seller"))
    before = snapshot(info.id)
    response = answer(client, info, "tracking_number", info.headers("seller"), value="LX999")
    assert response.status_code == 409 and "chat" in response.get_json()["message"]
    assert snapshot(info.id) == before


def test_an_unknown_item_is_a_404(client, make_case):
    info = make_case(reason="damaged")
    assert answer(client, info, "favourite_colour", info.headers("buyer")).status_code == 404


def test_the_other_partys_item_is_a_403(client, make_case):
    info = make_case(reason="not_received")
    assert answer(client, info, "tracking_number", info.headers("buyer")).status_code == 403


def test_a_malformed_tracking_number_gets_a_field_error(client, make_case):
    info = make_case(reason="not_received", seller=ENGLISH_SELLER)
    response = answer(client, info, "tracking_number", info.headers("seller"), value="no!")
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"value": ["Use 4 to 40 letters, digits, spaces or dashes."]}


def test_a_missing_value_gets_a_field_error(client, make_case):
    info = make_case(reason="not_received")
    response = client.post(f"/api/v1/cases/{info.id}/checklist/tracking_number", headers=info.headers("seller"),
                           json={})
    assert response.status_code == 422 and "value" in response.get_json()["errors"]


def test_an_admin_may_not_answer_a_checklist(client, make_case, make_user, staff_login):
    info = make_case(reason="not_received")
    assert answer(client, info, "tracking_number", staff_login(make_user("admin"))).status_code == 403
