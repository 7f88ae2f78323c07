"""A file answers a request: `mark_answered_by_evidence`, called by the evidence upload in its transaction.

Evidence rows are made here directly: the upload service is built elsewhere.
"""
from __future__ import annotations

import pytest

from mediation.errors import Invalid
from mediation.extensions import db
from mediation.models import Case, Evidence, EvidenceRequest
from mediation.services import checklists, requests, uow
from tests.requests.support import event_types


def upload(info, request_id: int, role: str, channel: str = "joint", case_id: int | None = None) -> bool:
    """What the evidence service does: store the file and mark the request, in one transaction."""
    with uow.transaction():
        case = db.session.get(Case, info.id)
        request = db.session.get(EvidenceRequest, request_id)
        evidence = Evidence(case_id=case_id or info.id, channel=channel, uploader=f"party:{info.party_ids[role]}",
                            uploader_role=role, uploader_name=role.title(), sha256="cd" * 32, size=10,
                            media_type="application/pdf", filename="proof.pdf", request_id=request_id)
        db.session.add(evidence)
        return requests.mark_answered_by_evidence(case, request, evidence)


@pytest.fixture
def asked(make_case):
    info = make_case(reason="not_received")
    made = requests.create_request(info.actor("buyer"), info.id, kind="delivery_proof", addressee="seller")
    return info, made.id


def test_a_file_from_the_party_asked_answers_the_request(asked):
    info, rid = asked
    assert upload(info, rid, "seller") is True
    assert db.session.get(EvidenceRequest, rid).state == "answered"
    assert event_types(info.id)[-1] == "request.answered"


def test_a_file_answering_a_request_ticks_the_matching_checklist_item(asked):
    info, rid = asked
    upload(info, rid, "seller")
    ticked = next(v for v in checklists.checklist(info.actor("seller"), info.id) if v.key == "delivery_proof")
    assert ticked.done and ticked.request_ids == [rid]


def test_a_second_file_for_an_answered_request_changes_nothing(asked):
    info, rid = asked
    upload(info, rid, "seller")
    events_before = event_types(info.id)
    assert upload(info, rid, "seller") is False
    assert event_types(info.id) == events_before


def test_a_file_from_the_requester_does_not_answer_the_request(asked):
    info, rid = asked
    with pytest.raises(Invalid) as refused:
        upload(info, rid, "buyer")
    assert "request_id" in refused.value.errors
    db.session.rollback()
    assert db.session.get(EvidenceRequest, rid).state == "open" and db.session.query(Evidence).count() == 0


def test_a_file_in_a_channel_the_requester_cannot_read_does_not_answer(make_mediation_case):
    info, _mediator = make_mediation_case()
    made = requests.create_request(info.actor("buyer"), info.id, kind="receipt", addressee="seller")
    with pytest.raises(Invalid):
        upload(info, made.id, "seller", channel="caucus:seller")


def test_a_joint_file_answers_a_private_request(make_mediation_case):
    info, mediator = make_mediation_case()
    made = requests.create_request(mediator, info.id, kind="receipt", addressee="seller", channel="caucus:seller")
    assert upload(info, made.id, "seller", channel="joint") is True


def test_a_cancelled_request_cannot_be_answered_by_a_file(asked):
    info, rid = asked
    requests.cancel_request(info.actor("buyer"), info.id, rid)
    with pytest.raises(Invalid):
        upload(info, rid, "seller")


def test_a_request_of_another_case_cannot_be_answered_by_a_file(asked, make_case):
    info, rid = asked
    other = make_case()
    with pytest.raises(Invalid):
        upload(other, rid, "seller")


def test_a_file_that_does_not_name_the_request_does_not_answer_it(asked):
    info, rid = asked
    with uow.transaction():
        case, request = db.session.get(Case, info.id), db.session.get(EvidenceRequest, rid)
        evidence = Evidence(case_id=info.id, channel="joint", uploader=f"party:{info.party_ids['seller']}",
                            uploader_role="seller", uploader_name="Seller", sha256="ef" * 32, size=10,
                            media_type="application/pdf", filename="proof.pdf")
        with pytest.raises(Invalid):
            requests.mark_answered_by_evidence(case, request, evidence)


def test_the_upload_finds_the_request_it_names_in_the_case(asked):
    info, rid = asked
    assert requests.request_in_case(db.session.get(Case, info.id), rid).id == rid


@pytest.mark.parametrize("request_id", [None, 9999])
def test_an_upload_naming_no_such_request_gets_a_field_error(asked, request_id):
    info, _rid = asked
    with pytest.raises(Invalid) as refused:
        requests.request_in_case(db.session.get(Case, info.id), request_id)
    assert "request_id" in refused.value.errors


def test_an_upload_naming_a_request_of_another_case_gets_a_field_error(asked, make_case):
    _info, rid = asked
    other = make_case()
    with pytest.raises(Invalid):
        requests.request_in_case(db.session.get(Case, other.id), rid)
