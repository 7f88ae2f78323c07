"""JSON and Socket.IO answers in the caller's own language: a party's or staff member's row decides, whatever
the client's Accept-Language; only platforms and anonymous callers are answered by Accept-Language."""
from __future__ import annotations

from mediation.services import preferences
from tests.i18n.conftest import ZH, person, words

REFUSAL = "Only the party who opened the dispute can withdraw it."


def test_a_party_token_error_is_in_the_partys_language_whatever_the_header(client, make_case):
    info = make_case(seller=person("zh-CN"))
    response = client.post(f"/api/v1/cases/{info.id}/withdraw", json={"reason": "Changed my mind"},
                           headers={**info.headers("seller"), "Accept-Language": "en-US"})
    assert response.status_code == 403
    assert response.get_json()["message"] == words(REFUSAL, ZH)


def test_a_party_token_error_follows_the_choice_the_party_made_in_the_room(client, make_case, login_party):
    info = make_case(seller=person("en"))
    login_party(info, "seller")
    client.get(f"/cases/{info.id}?lang=zh")
    response = client.post(f"/api/v1/cases/{info.id}/withdraw", json={"reason": "Changed my mind"},
                           headers={**info.headers("seller"), "Accept-Language": "en"})
    assert response.get_json()["message"] == words(REFUSAL, ZH)


def test_a_platform_is_answered_in_its_accept_language(client, make_case):
    info = make_case()
    response = client.get("/api/v1/cases/999999", headers={**info.platform.headers, "Accept-Language": "zh-CN"})
    assert response.status_code == 404
    assert response.get_json()["message"] == words("No such case.", ZH)


def test_a_signed_in_mediators_json_errors_are_in_their_own_language(client, make_mediation_case, staff_login):
    info, mediator = make_mediation_case()
    headers = staff_login(mediator)
    preferences.set_language(mediator, None, "zh-CN")
    response = client.post(f"/api/v1/cases/{info.id}/withdraw", json={"reason": "Not mine to withdraw"},
                           headers={**headers, "Accept-Language": "en"})
    assert response.status_code == 403
    assert response.get_json()["message"] == words(REFUSAL, ZH)


def test_a_socket_error_ack_is_in_the_partys_language(make_case, connect):
    info = make_case(buyer=person("zh-CN", "b-1"))
    buyer = connect(token=info.token("buyer"), headers={"Accept-Language": "en"})
    assert buyer.join(info.id)["ok"]
    ack = buyer.send(info.id, "Let me listen in.", "c-1", channel="caucus:seller")
    assert ack["error"]["message"] == words("You may not post in this channel.", ZH)


def test_a_socket_error_ack_follows_a_language_changed_while_connected(make_case, connect):
    info = make_case(buyer=person("en", "b-1"))
    buyer = connect(token=info.token("buyer"), headers={"Accept-Language": "en"})
    assert buyer.join(info.id)["ok"]
    preferences.set_language(info.actor("buyer"), info.id, "zh-CN")
    ack = buyer.send(info.id, "Let me listen in.", "c-1", channel="caucus:seller")
    assert ack["error"]["message"] == words("You may not post in this channel.", ZH)


def test_a_browser_sessions_socket_ack_is_in_the_partys_language(make_case, connect, browser_cookie):
    info = make_case(seller=person("zh-CN"))
    seller = connect(cookie=browser_cookie(info, "seller"), headers={"Accept-Language": "en"})
    assert seller.join(info.id)["ok"]
    ack = seller.send(info.id, "Psst", "c-2", channel="caucus:buyer")
    assert ack["error"]["message"] == words("You may not post in this channel.", ZH)
