"""What a document says: the facts of the case-log event that recorded the outcome."""
from __future__ import annotations

import pytest

from mediation.errors import NotFound
from mediation.extensions import db
from mediation.models import Case
from mediation.services import documents, preferences


def test_a_settlement_document_names_the_case_the_parties_and_the_agreed_outcome(settled):
    document = settled.document()
    assert document.kind == "settlement"
    assert document.reference == db.session.get(Case, settled.case.id).reference
    assert document.parties == {"buyer": "Olivia Buyer", "seller": "Shen Seller"}
    assert (document.buyer_refund, document.seller_release) == ("30.00 USD", "70.00 USD")
    assert (document.terms, document.return_required, document.rationale) == ("Keep the item.", False, None)


def test_a_ruling_document_carries_the_rationale_and_the_cited_clauses_with_their_public_links(ruled, rulebook):
    document = ruled.document()
    assert document.kind == "ruling"
    assert document.rationale.startswith("The photos show a crack")
    assert [c.number for c in document.clauses] == ["1", "2"]
    assert document.clauses[0].title == {"en": "Clause 1", "zh_Hans_CN": "第1条"}
    assert document.clauses[0].url.endswith("/v1#clause-1") and document.clauses[0].url.startswith("/rules/")


def test_an_appeal_decision_document_names_the_decision_and_the_replacing_outcome(appeal_decided):
    document = appeal_decided.document()
    assert (document.kind, document.decision) == ("appeal_decision", "replace")
    assert (document.buyer_refund, document.seller_release, document.return_required) == (
        "100.00 USD", "0.00 USD", True)


def test_the_document_sits_on_the_chain_at_the_event_that_recorded_it(ruled):
    from mediation.models import CaseEvent

    document = ruled.document()
    event = db.session.query(CaseEvent).filter_by(case_id=ruled.case.id, seq=ruled.seq).one()
    assert (document.seq, document.hash, document.recorded_at) == (event.seq, event.hash, event.created_at)


def test_the_time_is_shown_in_utc_and_in_each_partys_own_zone(frozen_clock, make_case):
    info = make_case()
    preferences.set_time_zone(info.actor("seller"), info.id, "Asia/Shanghai", True)
    from mediation.services import proposals
    from tests.conftest import money

    proposal = proposals.create_proposal(info.actor("seller"), info.id, buyer_refund=money("100.00"),
                                         seller_release=money("0.00"))
    proposals.accept_proposal(info.actor("buyer"), info.id, proposal.id)
    seq = documents.list_documents(info.platform.actor, info.id)[0][0]
    recorded = documents.get_document(info.platform.actor, info.id, seq).as_json()["recorded_at"]
    assert recorded["utc"] == "2026-03-02T09:00:00+00:00"
    assert recorded["seller"] == {"zone": "Asia/Shanghai", "time": "2026-03-02T17:00:00+08:00"}
    assert recorded["buyer"]["zone"] == "UTC"


def test_the_machine_readable_part_names_its_format_issuer_case_and_event(ruled):
    data = ruled.data()
    assert data["format"] == documents.FORMAT
    assert len(data["issuer"]) == 16 and data["issuer"] == documents.issuer()
    assert data["event"] == {"seq": ruled.seq, "hash": ruled.document().hash}
    assert data["outcome"]["buyer_refund"] == "40.00 USD"


def test_a_case_lists_each_of_its_documents_in_order(appeal_decided):
    listed = documents.list_documents(appeal_decided.case.platform.actor, appeal_decided.case.id)
    assert [kind for _seq, kind in listed] == ["ruling", "appeal_decision"]


def test_an_event_that_recorded_no_outcome_has_no_document(ruled):
    with pytest.raises(NotFound):
        documents.get_document(ruled.case.platform.actor, ruled.case.id, 1)  # case.opened


def test_a_case_without_a_settlement_or_ruling_has_no_documents(make_case):
    info = make_case()
    assert documents.list_documents(info.actor("buyer"), info.id) == []
