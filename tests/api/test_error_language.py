"""API error messages follow the caller's language (Accept-Language), in English and Simplified Chinese."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("language, message", [
    ("en", "Only the party who opened the dispute can withdraw it."),
    ("zh-CN", "只有申请人可以撤回此案件。"),
])
def test_a_refusal_is_in_the_callers_language(client, make_case, language, message):
    info = make_case()
    headers = {**info.headers("seller"), "Accept-Language": language}
    response = client.post(f"/api/v1/cases/{info.id}/withdraw", json={"reason": "Changed my mind"}, headers=headers)
    assert response.status_code == 403
    assert response.get_json()["message"] == message


@pytest.mark.parametrize("language, message, field_message", [
    ("en", "The amounts must be in the case's currency.", "Use the case's currency, USD."),
    ("zh-CN", "金额必须使用案件的币种。", "请使用案件的币种 USD。"),
])
def test_field_errors_are_in_the_callers_language_too(client, make_case, language, message, field_message):
    info = make_case()
    headers = {**info.headers("buyer"), "Accept-Language": language}
    body = {"buyer_refund": {"value": "10.00", "currency": "EUR"},
            "seller_release": {"value": "30.00", "currency": "EUR"}, "terms": "Keep the item"}
    response = client.post(f"/api/v1/cases/{info.id}/proposals", json=body, headers=headers)
    assert response.status_code == 422
    data = response.get_json()
    assert data["message"] == message
    assert data["errors"]["buyer_refund"] == [field_message]


def test_a_missing_case_is_a_404_in_chinese(client, make_case):
    info = make_case()
    headers = {**info.headers("buyer"), "Accept-Language": "zh-CN"}
    response = client.get("/api/v1/cases/999999", headers=headers)
    assert response.status_code == 404
    assert response.get_json()["message"] == "没有这个案件。"
