"""Who may change whose language and time zone: only one's own, and only to a real language and zone."""
from __future__ import annotations

import pytest

from mediation.extensions import db
from mediation.models import Party, User


def party_row(info, role: str) -> tuple:
    party = db.session.get(Party, info.party_ids[role])
    return party.locale, party.timezone, party.timezone_chosen


def change(client, headers: dict, **body):
    return client.post("/api/v1/preferences", json=body, headers=headers)


def test_a_party_changes_its_own_language_and_zone_with_its_token(client, make_case):
    info = make_case()
    response = change(client, info.headers("buyer"), locale="zh-CN", timezone="Asia/Shanghai")
    assert response.status_code == 200
    assert response.get_json() == {"locale": "zh_Hans_CN", "timezone": "Asia/Shanghai", "timezone_chosen": True}
    assert party_row(info, "buyer") == ("zh_Hans_CN", "Asia/Shanghai", True)


def test_a_party_may_not_change_the_other_partys_preferences(client, make_case):
    info = make_case()
    before = party_row(info, "seller")
    response = change(client, info.headers("buyer"), role="seller", locale="en", timezone="Europe/Berlin")
    assert response.status_code == 403
    assert party_row(info, "seller") == before


def test_a_party_of_another_case_is_told_there_is_no_such_case(client, make_case):
    info, other = make_case(), make_case()
    before = party_row(other, "buyer")
    response = change(client, info.headers("buyer"), case_id=other.id, locale="zh-CN")
    assert response.status_code == 404
    assert party_row(other, "buyer") == before


def test_a_platform_key_may_not_change_a_partys_preferences(client, make_case):
    info = make_case()
    before = party_row(info, "buyer")
    response = change(client, info.platform.headers, case_id=info.id, role="buyer", locale="zh-CN")
    assert response.status_code == 403
    assert party_row(info, "buyer") == before


def test_an_anonymous_caller_must_sign_in(client):
    assert change(client, {}, locale="zh-CN").status_code == 401


@pytest.mark.parametrize("body, field", [
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"locale": "fr"}, "locale"),
    ({"locale": "zh-CN", "timezone": "Not/AZone"}, "timezone"),
])
def test_an_invalid_language_or_zone_is_a_field_error_and_changes_nothing(client, make_case, body, field):
    info = make_case()
    before = party_row(info, "buyer")
    response = change(client, info.headers("buyer"), **body)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == [field]
    assert party_row(info, "buyer") == before


def test_a_staff_member_changes_their_own_account(client, make_user, staff_login):
    mediator = make_user("mediator")
    headers = staff_login(mediator)
    response = change(client, headers, locale="zh-CN", timezone="America/New_York")
    assert response.status_code == 200
    user = db.session.get(User, mediator.user_id)
    assert (user.locale, user.timezone, user.timezone_chosen) == ("zh_Hans_CN", "America/New_York", True)


def test_a_staff_member_may_not_change_a_partys_preferences(client, make_case, make_user, staff_login):
    info = make_case()
    headers = staff_login(make_user("admin"))
    before = party_row(info, "buyer")
    response = change(client, headers, case_id=info.id, role="buyer", locale="zh-CN")
    assert response.status_code == 403
    assert party_row(info, "buyer") == before


def test_the_page_endpoint_refuses_an_unknown_zone_and_changes_nothing(client, make_case, login_party):
    info = make_case()
    csrf = login_party(info, "buyer")
    before = party_row(info, "buyer")
    response = client.post("/preferences/timezone", json={"timezone": "Mars/Olympus", "case_id": info.id},
                           headers={"X-CSRFToken": csrf})
    assert response.status_code == 422 and "timezone" in response.get_json()["errors"]
    assert party_row(info, "buyer") == before
