"""Checking a document against the chain: genuine, altered (naming the fields) or unknown."""
from __future__ import annotations

import json

import pytest

from mediation import create_app
from mediation.errors import Invalid
from mediation.extensions import db
from mediation.services import documents
from mediation.services.document_verify import verify


@pytest.mark.parametrize("made", ["settled", "ruled", "appeal_decided"])
def test_a_genuine_document_verifies(made, request):
    verdict = verify(request.getfixturevalue(made).data())
    assert (verdict.status, verdict.fields) == ("genuine", [])


def test_a_refund_changed_by_one_cent_is_altered_and_the_field_is_named(ruled):
    data = ruled.data()
    data["outcome"]["buyer_refund"] = "40.01 USD"
    verdict = verify(data)
    assert (verdict.status, verdict.fields) == ("altered", ["outcome.buyer_refund"])


def test_the_verdict_on_an_altered_amount_does_not_tell_the_right_amount(ruled):
    data = ruled.data()
    data["outcome"]["buyer_refund"] = "40.01 USD"
    assert "40.00" not in json.dumps(verify(data).as_json())


def test_a_swapped_clause_is_altered_and_the_clause_field_is_named(ruled, rulebook):
    data = ruled.data()
    cited = data["clauses"][1]
    data["clauses"][1] = {"number": "3", "title": {"en": "Clause 3", "zh_Hans_CN": "第3条"},
                          "url": cited["url"].replace("clause-2", "clause-3")}
    verdict = verify(data)
    assert verdict.status == "altered"
    assert verdict.fields == ["clauses.1.number", "clauses.1.title.en", "clauses.1.title.zh_Hans_CN",
                              "clauses.1.url"]


def test_a_document_issued_by_another_deployment_is_unknown(ruled, app):
    other = create_app({"SECRET_KEY": "another deployment", "SQLALCHEMY_DATABASE_URI":
                        app.config["SQLALCHEMY_DATABASE_URI"], "BACKGROUND_WORKERS": False})
    with other.app_context():
        foreign = ruled.document().as_json()
        db.session.remove()
    assert verify(foreign).status == "unknown"


def test_a_case_that_does_not_exist_here_is_unknown_just_like_a_missing_event(ruled):
    no_case = ruled.data() | {"case": "MD-ZZZZ-ZZZZ"}
    no_event = ruled.data() | {"event": {"seq": 999, "hash": ruled.data()["event"]["hash"]}}
    assert verify(no_case) == verify(no_event) == verify(no_case | {"outcome": {}})
    assert (verify(no_case).status, verify(no_case).fields) == ("unknown", [])


def test_a_document_whose_hash_does_not_match_the_event_is_unknown(ruled):
    data = ruled.data()
    data["event"]["hash"] = "0" * 64
    assert verify(data).status == "unknown"


def test_a_document_pointing_at_an_event_that_recorded_no_outcome_is_unknown(ruled):
    from mediation.models import CaseEvent

    opened = db.session.query(CaseEvent).filter_by(case_id=ruled.case.id, seq=1).one()
    assert verify(ruled.data() | {"event": {"seq": 1, "hash": opened.hash}}).status == "unknown"


def test_a_document_still_verifies_after_a_party_picks_another_time_zone(settled):
    from mediation.services import preferences

    data = settled.data()
    preferences.set_time_zone(settled.case.actor("buyer"), settled.case.id, "Europe/Berlin", True)
    assert verify(data).status == "genuine"


def test_a_local_time_that_does_not_match_the_recorded_instant_is_altered(settled):
    data = settled.data()
    data["recorded_at"]["buyer"] = {"zone": "Europe/Berlin", "time": "2026-03-02T09:00:00+01:00"}
    assert verify(data).fields == ["recorded_at.buyer.time"]


def test_an_added_field_is_named_as_altered(settled):
    assert verify(settled.data() | {"note": "paid in full"}).fields == ["note"]


def test_the_json_file_bytes_verify(settled):
    assert verify(json.dumps(settled.data()).encode()).status == "genuine"


@pytest.mark.parametrize("upload", [b"", b"not json", b"[1, 2]", b'{"format": "mediation-document/1"}',
                                    b"%PDF-1.7 broken", b"\xff\xfe\x00garbage"])
def test_input_that_is_not_a_document_is_refused_as_invalid(upload, app):
    with pytest.raises(Invalid):
        verify(upload)


def test_an_oversized_file_is_refused_before_it_is_read(app):
    with pytest.raises(Invalid) as caught:
        verify(b" " * (5 * 1024 * 1024 + 1))
    assert "file" in caught.value.errors


def test_the_issuer_differs_between_secret_keys_and_is_stable_for_one(app):
    first = documents.issuer()
    app.config["SECRET_KEY"] = "another"
    assert documents.issuer() != first
