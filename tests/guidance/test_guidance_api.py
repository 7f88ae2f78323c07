"""GET /api/v1/cases/{id}/guidance: the same guidance for platforms' own front-ends and party clients."""
from __future__ import annotations

import pytest


@pytest.fixture
def open_case(past_cases, alpha):
    return past_cases.open(alpha, "damaged", "03-20 09:00")


@pytest.mark.parametrize("role", ["buyer", "seller"])
def test_a_party_reads_the_guidance_of_its_case(client, open_case, role):
    response = client.get(f"/api/v1/cases/{open_case.id}/guidance", headers=open_case.headers(role))
    assert response.status_code == 200
    assert response.get_json() == {
        "case_id": open_case.id, "reason": "damaged", "scope": "platform", "in_progress": True, "min_cases": 5,
        "cases": 5, "settled_rate": 0.6, "median_buyer_share": 0.6, "median_days": 3.0,
        "outcomes": {"full_refund": 0.4, "partial_refund": 0.4, "release_to_seller": 0.2},
    }


def test_the_platform_reads_the_guidance_of_its_own_case(client, open_case):
    response = client.get(f"/api/v1/cases/{open_case.id}/guidance", headers=open_case.platform.headers)
    assert response.status_code == 200 and response.get_json()["cases"] == 5


def test_too_few_cases_comes_back_with_every_figure_null(client, past_cases, alpha):
    info = past_cases.open(alpha, "counterfeit", "03-20 09:00")
    body = client.get(f"/api/v1/cases/{info.id}/guidance", headers=info.headers("buyer")).get_json()
    assert body["scope"] == "too_few"
    assert [body[k] for k in ("cases", "settled_rate", "median_buyer_share", "median_days")] == [None] * 4
    assert body["outcomes"] == {"full_refund": None, "partial_refund": None, "release_to_seller": None}


def test_another_platform_is_told_there_is_no_such_case(client, open_case, beta):
    response = client.get(f"/api/v1/cases/{open_case.id}/guidance", headers=beta.headers)
    assert response.status_code == 404


def test_a_party_of_another_case_is_told_there_is_no_such_case(client, open_case, past_cases, alpha):
    other = past_cases.open(alpha, "damaged", "03-20 09:00")
    response = client.get(f"/api/v1/cases/{open_case.id}/guidance", headers=other.headers("buyer"))
    assert response.status_code == 404


def test_an_anonymous_caller_must_sign_in(client, open_case):
    response = client.get(f"/api/v1/cases/{open_case.id}/guidance")
    assert response.status_code == 401 and response.get_json()["code"] == 401


def test_the_guidance_is_in_the_api_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/cases/{case_id}/guidance"]
