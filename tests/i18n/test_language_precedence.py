"""Whose language a page is in: the party's own (the platform's locale, then the party's choice in the room,
which is remembered on its row), the staff member's account, else the session's choice, else Accept-Language."""
from __future__ import annotations

from mediation.extensions import db
from mediation.models import Party
from tests.i18n.conftest import ZH, person, words

CASE_PAGE_WORDS = "Next deadline"


def shows(response, text: str, locale: str) -> bool:
    return words(text, locale) in response.get_data(as_text=True)


def test_the_room_is_in_the_language_the_platform_gave_the_party(client, make_case, login_party):
    info = make_case(seller=person("zh-CN"))
    login_party(info, "seller")
    page = client.get(f"/cases/{info.id}", headers={"Accept-Language": "en"})
    assert shows(page, CASE_PAGE_WORDS, ZH)


def test_the_partys_choice_in_the_room_overrides_the_platforms_locale(client, make_case, login_party):
    info = make_case(seller=person("zh-CN"))
    login_party(info, "seller")
    page = client.get(f"/cases/{info.id}?lang=en")
    assert shows(page, CASE_PAGE_WORDS, "en") and not shows(page, CASE_PAGE_WORDS, ZH)
    assert db.session.get(Party, info.party_ids["seller"]).locale == "en"


def test_the_partys_choice_holds_in_a_new_session_after_joining_again(client, new_browser, make_case, login_party):
    info = make_case(buyer=person("en"))
    login_party(info, "buyer")
    client.get(f"/cases/{info.id}?lang=zh")
    other_device = new_browser()
    other_device.get(f"/join/{info.join_tokens['buyer']}")
    page = other_device.get(f"/cases/{info.id}", headers={"Accept-Language": "en-US"})
    assert shows(page, CASE_PAGE_WORDS, ZH)


def test_a_partys_browser_language_does_not_override_its_own(client, make_case, login_party):
    info = make_case(buyer=person("en"))
    login_party(info, "buyer")
    page = client.get(f"/cases/{info.id}", headers={"Accept-Language": "zh-CN"})
    assert shows(page, CASE_PAGE_WORDS, "en")


def test_an_anonymous_visitor_gets_the_browsers_language(client):
    page = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert shows(page, "Staff sign-in", ZH)


def test_an_anonymous_visitors_choice_is_remembered_in_the_session(client):
    client.get("/?lang=zh", headers={"Accept-Language": "en"})
    page = client.get("/", headers={"Accept-Language": "en"})
    assert shows(page, "Staff sign-in", ZH)


def test_choosing_a_language_is_not_an_event_of_the_case(client, make_case, login_party):
    info = make_case()
    login_party(info, "buyer")
    before = client.get(f"/api/v1/cases/{info.id}/events", headers=info.headers("buyer")).get_json()
    client.get(f"/cases/{info.id}?lang=zh")
    after = client.get(f"/api/v1/cases/{info.id}/events", headers=info.headers("buyer")).get_json()
    assert after == before
