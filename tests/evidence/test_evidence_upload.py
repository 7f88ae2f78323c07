"""Putting files on the record through the API: what is accepted, what is kept, who hears of it."""
from __future__ import annotations

import hashlib
import io

import pytest

from mediation import clock
from mediation.extensions import db
from mediation.models import CaseEvent, Evidence, EvidenceRequest
from tests.evidence.files import ACCEPTED, evidence_url, jpeg, pdf, stored_files, upload


@pytest.mark.parametrize("media_type", list(ACCEPTED))
def test_each_accepted_type_is_stored_with_the_type_its_bytes_show(client, make_case, media_type):
    info = make_case()
    make, name = ACCEPTED[media_type]
    response = upload(client, info, "buyer", make(), name)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["evidence"]["media_type"] == media_type


def test_the_record_keeps_uploader_channel_size_hash_caption_and_dimensions(client, make_case):
    info = make_case()
    data = jpeg(size=(64, 48))
    upload(client, info, "buyer", data, "lid.jpg", caption="The cracked lid")
    evidence = db.session.query(Evidence).one()
    assert (evidence.uploader_role, evidence.uploader_name, evidence.channel) == ("buyer", "Olivia Buyer", "joint")
    assert (evidence.size, evidence.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert (evidence.caption, evidence.filename, evidence.width, evidence.height) == ("The cracked lid", "lid.jpg",
                                                                                     64, 48)


def test_the_answer_carries_the_record_and_the_case(client, make_case):
    info = make_case()
    body = upload(client, info, "seller", pdf(), "invoice.pdf").get_json()
    assert body["evidence"]["url"] == evidence_url(info, body["evidence"]["id"])
    assert body["evidence"]["has_preview"] is False and body["case"]["id"] == info.id


def test_the_hash_goes_into_the_case_chain(client, make_case):
    info = make_case()
    data = pdf()
    upload(client, info, "buyer", data, "invoice.pdf")
    event = db.session.query(CaseEvent).filter_by(case_id=info.id, type="evidence.added").one()
    assert event.payload["evidence"]["sha256"] == hashlib.sha256(data).hexdigest()


def test_the_chain_still_verifies_after_uploads(client, make_case, runner):
    info = make_case()
    upload(client, info, "buyer", jpeg(), "a.jpg")
    upload(client, info, "seller", pdf(), "b.pdf")
    result = runner.invoke(args=["mediation", "verify", str(info.id)])
    assert result.exit_code == 0 and "1 of 1 case chains verify" in result.output


def test_the_same_bytes_uploaded_twice_are_stored_once(client, make_case, store_dir):
    info = make_case()
    data = pdf()
    upload(client, info, "buyer", data, "invoice.pdf")
    upload(client, info, "seller", data, "same-invoice.pdf")
    originals = [path for path in stored_files(store_dir) if path.name == hashlib.sha256(data).hexdigest()]
    assert len(originals) == 1 and db.session.query(Evidence).count() == 2


def test_the_store_is_outside_the_web_root_and_named_by_the_hash(client, make_case, store_dir):
    info = make_case()
    data = pdf()
    upload(client, info, "buyer", data, "invoice.pdf")
    digest = hashlib.sha256(data).hexdigest()
    assert (store_dir / digest[:2] / digest[2:4] / digest).read_bytes() == data


def test_a_joint_upload_reaches_the_whole_case_room(client, make_case, released):
    info = make_case()
    upload(client, info, "buyer", pdf(), "invoice.pdf")
    [(name, data, room)] = [emit for emit in released.emits if emit[1].get("type") == "evidence.added"]
    assert room == f"case:{info.id}" and data["payload"]["evidence"]["filename"] == "invoice.pdf"


def test_a_caucus_upload_reaches_only_that_caucus_room(client, make_mediation_case, released):
    info, _mediator = make_mediation_case()
    response = upload(client, info, "buyer", pdf(), "invoice.pdf", channel="caucus:buyer")
    assert response.status_code == 201
    rooms = [room for _name, data, room in released.emits if data.get("type") == "evidence.added"]
    assert rooms == [f"case:{info.id}:caucus:buyer"]


def test_the_other_party_sees_a_caucus_upload_in_the_log_only_as_redacted(client, make_mediation_case):
    info, _mediator = make_mediation_case()
    upload(client, info, "buyer", pdf(), "invoice.pdf", channel="caucus:buyer")
    events = client.get(f"/api/v1/cases/{info.id}/events", headers=info.headers("seller")).get_json()
    added = [e for e in events if e["type"] == "evidence.added"]
    assert added[0]["payload"] == {"channel": "caucus:buyer", "redacted": True}


def test_the_mediator_may_upload_into_a_caucus(client, make_mediation_case, staff_login):
    info, mediator = make_mediation_case()
    headers = staff_login(mediator)
    response = upload(client, info, None, pdf(), "note.pdf", headers=headers, channel="caucus:seller")
    assert response.status_code == 201
    assert response.get_json()["evidence"]["uploader_role"] == "mediator"


def test_a_party_may_upload_through_the_browser_session_with_its_csrf_token(client, make_case, login_party):
    info = make_case()
    token = login_party(info, "seller")
    response = upload(client, info, None, pdf(), "invoice.pdf", headers={"X-CSRFToken": token})
    assert response.status_code == 201


def test_a_browser_session_upload_larger_than_a_json_body_is_taken_with_its_csrf_token(client, make_case,
                                                                                      login_party):
    """The CSRF check of cookie calls must not read an upload's body before its own size limit applies."""
    import os

    from PIL import Image

    info = make_case()
    token = login_party(info, "seller")
    photo = io.BytesIO()
    Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3)).save(photo, "PNG")
    assert photo.tell() > client.application.config["MAX_CONTENT_LENGTH"]
    response = upload(client, info, None, photo.getvalue(), "noise.png", headers={"X-CSRFToken": token})
    assert response.status_code == 201, response.get_json()


def test_a_browser_session_upload_without_the_csrf_token_is_refused(client, make_case, login_party, nothing_stored):
    info = make_case()
    login_party(info, "seller")
    response = upload(client, info, None, pdf(), "invoice.pdf", headers={})
    assert response.status_code == 400
    nothing_stored()


def test_a_checklist_item_is_kept_with_the_file(client, make_case):
    info = make_case(reason="damaged")
    upload(client, info, "buyer", jpeg(), "box.jpg", checklist_item="packaging_photos")
    assert db.session.query(Evidence).one().checklist_item == "packaging_photos"


def test_an_item_of_the_other_partys_checklist_is_refused(client, make_case, nothing_stored):
    info = make_case(reason="damaged")
    response = upload(client, info, "buyer", pdf(), "packing.pdf", checklist_item="packing_proof")
    assert response.status_code == 422 and "checklist_item" in response.get_json()["errors"]
    nothing_stored()


def test_an_item_of_another_reasons_checklist_is_refused(client, make_case, nothing_stored):
    info = make_case(reason="damaged")
    response = upload(client, info, "seller", pdf(), "label.pdf", checklist_item="tracking_number")
    assert response.status_code == 422
    nothing_stored()


def test_a_malformed_checklist_item_is_refused(client, make_case, nothing_stored):
    info = make_case()
    response = upload(client, info, "buyer", pdf(), "label.pdf", checklist_item="Tracking-Number!")
    assert response.status_code == 422 and "checklist_item" in response.get_json()["errors"]
    nothing_stored()


def _request_to(info, role: str, **fields) -> int:
    request = EvidenceRequest(case_id=info.id, kind="tracking_number", requester="user:1", requester_role="mediator",
                              addressee_role=role, due_at=clock.now(), **fields)
    db.session.add(request)
    db.session.commit()
    return request.id


def test_a_file_answering_a_request_made_to_the_uploader_keeps_its_id(client, make_case):
    info = make_case()
    request_id = _request_to(info, "seller")
    response = upload(client, info, "seller", pdf(), "label.pdf", request_id=request_id)
    assert response.get_json()["evidence"]["request_id"] == request_id


def test_a_file_answers_the_open_request_it_names(client, make_case):
    info = make_case()
    request_id = _request_to(info, "seller")
    upload(client, info, "seller", pdf(), "label.pdf", request_id=request_id)
    db.session.expire_all()
    assert db.session.get(EvidenceRequest, request_id).state == "answered"
    assert db.session.query(CaseEvent).filter_by(case_id=info.id, type="request.answered").count() == 1


def test_a_cancelled_request_cannot_be_answered(client, make_case, nothing_stored):
    info = make_case()
    request_id = _request_to(info, "seller", state="cancelled")
    response = upload(client, info, "seller", pdf(), "label.pdf", request_id=request_id)
    assert response.status_code == 422 and "request_id" in response.get_json()["errors"]
    nothing_stored()


def test_a_request_made_to_the_other_party_cannot_be_answered(client, make_case, nothing_stored):
    info = make_case()
    request_id = _request_to(info, "seller")
    response = upload(client, info, "buyer", pdf(), "label.pdf", request_id=request_id)
    assert response.status_code == 422 and "request_id" in response.get_json()["errors"]
    nothing_stored()


def test_a_request_of_another_case_cannot_be_answered(client, make_case):
    info, other = make_case(), make_case()
    response = upload(client, info, "seller", pdf(), "label.pdf", request_id=_request_to(other, "seller"))
    assert response.status_code == 422


def test_the_respondents_first_file_starts_negotiation(client, make_case):
    info = make_case(claimant="buyer")
    response = upload(client, info, "seller", pdf(), "receipt.pdf")
    assert response.get_json()["case"]["state"] == "negotiation"


def test_the_claimants_file_leaves_the_case_open(client, make_case):
    info = make_case(claimant="buyer")
    assert upload(client, info, "buyer", pdf(), "receipt.pdf").get_json()["case"]["state"] == "open"


def test_a_file_larger_than_a_json_body_may_be_is_accepted(client, make_case):
    info = make_case()
    data = b"A long courier log line.\n" * (3 * 1024 * 1024 // 25)
    response = upload(client, info, "buyer", data, "courier-log.txt")
    assert response.status_code == 201 and response.get_json()["evidence"]["size"] == len(data)


def test_fields_left_blank_by_a_form_count_as_not_given(client, make_case):
    info = make_case()
    response = upload(client, info, "buyer", pdf(), "a.pdf", checklist_item="", request_id="", caption="")
    assert response.status_code == 201 and response.get_json()["evidence"]["checklist_item"] is None
