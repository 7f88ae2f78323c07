"""Platforms and party clients find a case's documents through the API and fetch them with the same bearer
credential; strangers find nothing."""
from __future__ import annotations

from mediation.services.document_verify import verify


def test_the_platform_lists_the_cases_documents_with_their_addresses(client, ruled):
    answer = client.get(f"/api/v1/cases/{ruled.case.id}/documents", headers=ruled.case.platform.headers)
    assert answer.status_code == 200
    [item] = answer.get_json()["items"]
    assert (item["seq"], item["kind"]) == (ruled.seq, "ruling")
    assert item["pdf_url"].endswith(f"{ruled.url}.pdf") and item["json_url"].endswith(f"{ruled.url}.json")


def test_a_case_without_an_outcome_has_no_documents_yet(client, make_case):
    info = make_case()
    answer = client.get(f"/api/v1/cases/{info.id}/documents", headers=info.platform.headers)
    assert answer.get_json() == {"items": []}


def test_the_platform_fetches_the_json_and_it_verifies(client, settled):
    answer = client.get(f"{settled.url}.json", headers=settled.case.platform.headers)
    assert answer.status_code == 200
    assert verify(answer.data).status == "genuine"


def test_a_party_fetches_the_pdf_with_its_party_token(client, settled):
    answer = client.get(f"{settled.url}.pdf", headers=settled.case.headers("buyer"))
    assert answer.status_code == 200 and answer.data.startswith(b"%PDF")


def test_another_platform_finds_neither_the_list_nor_the_document(client, ruled, make_platform):
    stranger = make_platform()
    assert client.get(f"/api/v1/cases/{ruled.case.id}/documents", headers=stranger.headers).status_code == 404
    assert client.get(f"{ruled.url}.json", headers=stranger.headers).status_code == 404


def test_a_malformed_authorization_header_is_refused(client, ruled):
    assert client.get(f"{ruled.url}.json", headers={"Authorization": "Basic abc"}).status_code == 401


def test_without_credentials_the_list_asks_to_sign_in(client, ruled):
    assert client.get(f"/api/v1/cases/{ruled.case.id}/documents").status_code == 401
