"""Withdrawing a file takes it out of view with a reason; it is never erased from the record."""
from __future__ import annotations

import hashlib

import pytest

from mediation.extensions import db
from mediation.models import CaseEvent, Evidence, EvidenceWithdrawal
from mediation.services import cases
from tests.evidence.files import evidence_url, jpeg, upload


def withdraw(client, info, evidence_id: int, headers: dict, reason: str | None = "Wrong photo"):
    body = {} if reason is None else {"reason": reason}
    return client.post(evidence_url(info, evidence_id, "withdraw"), json=body, headers=headers)


@pytest.fixture
def photo(client, make_mediation_case):
    """A case in mediation and the buyer's photo in the joint channel."""
    info, mediator = make_mediation_case()
    data = jpeg()
    evidence_id = upload(client, info, "buyer", data, "photo.jpg").get_json()["evidence"]["id"]
    return info, mediator, evidence_id, data


def test_the_uploader_withdraws_a_file_with_a_reason(client, photo):
    info, _mediator, evidence_id, _data = photo
    response = withdraw(client, info, evidence_id, info.headers("buyer"))
    assert response.status_code == 200
    assert response.get_json()["evidence"]["withdrawal"]["reason"] == "Wrong photo"


def test_the_case_mediator_withdraws_a_partys_file(client, photo, staff_login):
    info, mediator, evidence_id, _data = photo
    response = withdraw(client, info, evidence_id, staff_login(mediator), reason="Shows a card number")
    assert response.status_code == 200
    assert db.session.query(EvidenceWithdrawal).one().by_role == "mediator"


def test_the_other_party_cannot_withdraw_a_file(client, photo):
    info, _mediator, evidence_id, _data = photo
    assert withdraw(client, info, evidence_id, info.headers("seller")).status_code == 403
    assert db.session.query(EvidenceWithdrawal).count() == 0


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_withdrawal_without_a_reason_is_refused(client, photo, reason):
    info, _mediator, evidence_id, _data = photo
    response = withdraw(client, info, evidence_id, info.headers("buyer"), reason=reason)
    assert response.status_code == 422 and "reason" in response.get_json()["errors"]
    assert db.session.query(EvidenceWithdrawal).count() == 0


def test_withdrawing_twice_is_a_conflict(client, photo):
    info, _mediator, evidence_id, _data = photo
    withdraw(client, info, evidence_id, info.headers("buyer"))
    again = withdraw(client, info, evidence_id, info.headers("buyer"), reason="Again")
    assert again.status_code == 409 and again.get_json()["case"]["id"] == info.id
    assert db.session.query(EvidenceWithdrawal).count() == 1


def test_a_withdrawn_original_stays_downloadable(client, photo):
    info, _mediator, evidence_id, data = photo
    withdraw(client, info, evidence_id, info.headers("buyer"))
    response = client.get(evidence_url(info, evidence_id), headers=info.headers("seller"))
    assert response.status_code == 200 and hashlib.sha256(response.data).digest() == hashlib.sha256(data).digest()


@pytest.mark.parametrize("variant", ["preview", "thumbnail"])
def test_a_withdrawn_files_previews_are_gone(client, photo, variant):
    info, _mediator, evidence_id, _data = photo
    withdraw(client, info, evidence_id, info.headers("buyer"))
    assert client.get(evidence_url(info, evidence_id, variant), headers=info.headers("buyer")).status_code == 404


def test_the_list_shows_a_withdrawn_file_with_its_reason_and_without_preview(client, photo):
    info, _mediator, evidence_id, _data = photo
    withdraw(client, info, evidence_id, info.headers("buyer"))
    [item] = client.get(f"/api/v1/cases/{info.id}/evidence", headers=info.headers("seller")).get_json()["items"]
    assert item["withdrawn"] is True and item["withdrawal"]["reason"] == "Wrong photo"
    assert item["has_preview"] is False and item["preview_url"] is None and item["thumbnail_url"] is None


def test_the_row_stays_on_the_record_unchanged(client, photo):
    info, _mediator, evidence_id, data = photo
    withdraw(client, info, evidence_id, info.headers("buyer"))
    db.session.expire_all()
    assert db.session.get(Evidence, evidence_id).sha256 == hashlib.sha256(data).hexdigest()


def test_a_withdrawal_is_logged_and_announced_in_the_files_channel(client, make_mediation_case, released):
    info, _mediator = make_mediation_case()
    evidence_id = upload(client, info, "seller", jpeg(), "p.jpg", channel="caucus:seller").get_json()["evidence"]["id"]
    withdraw(client, info, evidence_id, info.headers("seller"))
    event = db.session.query(CaseEvent).filter_by(case_id=info.id, type="evidence.withdrawn").one()
    assert event.payload["evidence_id"] == evidence_id and event.payload["reason"] == "Wrong photo"
    rooms = [room for _n, data, room in released.emits if data.get("type") == "evidence.withdrawn"]
    assert rooms == [f"case:{info.id}:caucus:seller"]


def test_a_file_of_a_closed_case_cannot_be_withdrawn(client, make_case):
    info = make_case()
    evidence_id = upload(client, info, "buyer", jpeg(), "p.jpg").get_json()["evidence"]["id"]
    cases.withdraw_case(info.actor("buyer"), info.id, "Found it")
    cases.confirm_execution(info.platform.actor, info.id, "ref-1")
    assert withdraw(client, info, evidence_id, info.headers("buyer")).status_code == 409
