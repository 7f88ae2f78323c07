"""API error messages follow the caller's own language (English or Simplified Chinese): a party's is the one
the platform gave it (or its own choice since), whatever its client's Accept-Language says."""
from __future__ import annotations

import pytest


def party(language: str) -> dict:
    return {"external_id": "s-1", "name": "Shen Seller", "email": "shen@example.cn", "locale": language}


@pytest.mark.parametrize("language, header, message", [
    ("en", "zh-CN", "Only the party who opened the dispute can withdraw it."),
    ("zh-CN", "en", "只有申请人可以撤回此案件。"),
])
def test_a_refusal_is_in_the_callers_language(client, make_case, language, header, message):
    info = make_case(seller=party(language))
    headers = {**info.headers("seller"), "Accept-Language": header}
    response = client.post(f"/api/v1/cases/{info.id}/withdraw", json={"reason": "Changed my mind"}, headers=headers)
    assert response.status_code == 403
    assert response.get_json()["message"] == message


@pytest.mark.parametrize("language, message, field_message", [
    ("en", "The amounts must be in the case's currency.", "Use the case's currency, USD."),
    ("zh-CN", "金额必须使用案件的币种。", "请使用案件的币种 USD。"),
])
def test_field_errors_are_in_the_callers_language_too(client, make_case, language, message, field_message):
    info = make_case(buyer={**party(language), "external_id": "b-1"})
    body = {"buyer_refund": {"value": "10.00", "currency": "EUR"},
            "seller_release": {"value": "30.00", "currency": "EUR"}, "terms": "Keep the item"}
    response = client.post(f"/api/v1/cases/{info.id}/proposals", json=body, headers=info.headers("buyer"))
    assert response.status_code == 422
    data = response.get_json()
    assert data["message"] == message
    assert data["errors"]["buyer_refund"] == [field_message]


def test_a_missing_case_is_a_404_in_chinese(client, make_case):
    info = make_case(seller=party("zh-CN"))
    response = client.get("/api/v1/cases/999999", headers=info.headers("seller"))
    assert response.status_code == 404
    assert response.get_json()["message"] == "没有这个案件。"
