"""The document pages for those who may see the case, and nobody else."""
from __future__ import annotations

import json

import pytest

from mediation.errors import NotFound
from mediation.services import documents


def test_a_party_sees_the_document_with_english_and_chinese_side_by_side(settled, client, login_party):
    login_party(settled.case, "seller")
    page = client.get(settled.url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<section lang="en">' in html and '<section lang="zh-CN">' in html
    assert "Refund to the buyer" in html and "退款给买家" in html


def test_the_page_links_the_cited_clauses_to_the_published_rulebook(ruled, client, login_party):
    login_party(ruled.case, "buyer")
    html = client.get(ruled.url).get_data(as_text=True)
    assert f'href="http://localhost{ruled.document().clauses[0].url}"' in html


def test_the_json_download_is_the_canonical_machine_readable_part(ruled, client, login_party):
    login_party(ruled.case, "buyer")
    response = client.get(ruled.url + ".json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert json.loads(response.data) == ruled.data()


def test_the_case_mediator_may_download_the_pdf(make_mediation_case, make_user, staff_login, client, rulebook,
                                                frozen_clock):
    from mediation.services import rulings
    from mediation.services.rulings import Outcome
    from tests.conftest import money
    from tests.documents.conftest import RATIONALE, seq_of

    info, mediator = make_mediation_case()
    rulings.issue_ruling(mediator, info.id, Outcome(money("50.00"), money("50.00")), RATIONALE, rulebook.clause_ids[:1])
    staff_login(mediator)
    assert client.get(f"/cases/{info.id}/documents/{seq_of(info.id, 'ruling.issued')}.pdf").status_code == 200


@pytest.mark.parametrize("suffix", ["", ".pdf", ".json"])
def test_a_party_of_another_case_gets_not_found(settled, make_case, client, login_party, suffix):
    login_party(make_case(), "buyer")
    assert client.get(settled.url + suffix).status_code == 404


@pytest.mark.parametrize("suffix", ["", ".pdf", ".json"])
def test_an_anonymous_visitor_gets_not_found(settled, client, suffix):
    assert client.get(settled.url + suffix).status_code == 404


def test_another_mediator_gets_not_found(ruled, make_user, staff_login, client):
    staff_login(make_user("mediator"))
    assert client.get(ruled.url).status_code == 404


def test_another_platform_cannot_read_the_document(settled, make_platform):
    with pytest.raises(NotFound):
        documents.get_document(make_platform().actor, settled.case.id, settled.seq)


def test_an_admin_may_read_the_document(settled, make_user):
    assert documents.get_document(make_user("admin"), settled.case.id, settled.seq).kind == "settlement"


@pytest.mark.parametrize("seq", [1, 999])
def test_an_event_without_a_document_or_a_missing_one_is_not_found(settled, client, login_party, seq):
    login_party(settled.case, "buyer")
    assert client.get(f"/cases/{settled.case.id}/documents/{seq}").status_code == 404


def test_the_case_room_links_each_document(appeal_decided, client, login_party):
    login_party(appeal_decided.case, "seller")
    html = client.get(f"/cases/{appeal_decided.case.id}").get_data(as_text=True)
    assert f'href="{appeal_decided.url}"' in html and f'href="{appeal_decided.url}.pdf"' in html


def test_the_case_room_shows_no_documents_before_an_outcome(make_case, client, login_party):
    info = make_case()
    login_party(info, "buyer")
    assert 'id="documents-box"' not in client.get(f"/cases/{info.id}").get_data(as_text=True)
