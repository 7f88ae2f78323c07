"""Browser pages: join links, the case room, staff sign-in, error pages, both languages."""
from __future__ import annotations

import pytest

from mediation.services import admin


def test_a_join_link_signs_the_party_in_and_opens_the_room(client, make_case):
    info = make_case()
    response = client.get(f"/join/{info.join_tokens['seller']}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{info.id}")
    page = client.get(f"/cases/{info.id}")
    assert page.status_code == 200
    assert b"socket.io.min.js" in page.data and b'id="bootstrap"' in page.data


@pytest.mark.parametrize("token", ["forged", "eyJwIjoxLCJnIjoxLCJlIjo5OTk5OTk5OTk5fQ.AAAA"])
def test_a_forged_join_link_gets_a_clear_page_and_no_session(client, make_case, token):
    info = make_case()
    response = client.get(f"/join/{token}")
    assert response.status_code == 401
    assert b"This link does not work" in response.data
    assert client.get(f"/cases/{info.id}").status_code == 401


def test_an_expired_join_link_says_so(client, make_case, frozen_clock):
    info = make_case()
    frozen_clock.move(days=30)
    response = client.get(f"/join/{info.join_tokens['buyer']}")
    assert response.status_code == 401 and b"expired" in response.data


def test_a_party_cannot_open_another_cases_room(client, make_case, login_party):
    mine, other = make_case(), make_case()
    login_party(mine, "buyer")
    assert client.get(f"/cases/{other.id}").status_code == 401


def test_a_party_whose_links_were_revoked_loses_the_room(client, make_case, login_party):
    info = make_case()
    login_party(info, "buyer")
    client.post(f"/api/v1/cases/{info.id}/join-links", json={"role": "buyer", "revoke_previous": True},
                headers=info.platform.headers)
    assert client.get(f"/cases/{info.id}").status_code == 401


def test_the_room_speaks_chinese_when_asked(client, make_case, login_party):
    info = make_case()
    login_party(info, "seller")
    page = client.get(f"/cases/{info.id}?lang=zh")
    assert page.status_code == 200 and b'lang="zh-CN"' in page.data


def test_staff_sign_in_with_a_wrong_password_reshows_the_form_with_a_message(client, app):
    app.config["WTF_CSRF_ENABLED"] = False
    admin.create_user(email="m@example.com", name="M", role="mediator", password="correct horse")
    response = client.post("/login", data={"email": "m@example.com", "password": "wrong"})
    assert response.status_code == 422 and b"wrong" in response.data


def test_staff_sign_in_opens_the_case_list(client, app, make_case):
    app.config["WTF_CSRF_ENABLED"] = False
    make_case()
    admin.create_user(email="a@example.com", name="A", role="admin", password="correct horse")
    response = client.post("/login", data={"email": "a@example.com", "password": "correct horse"})
    assert response.status_code == 302
    assert b"MD-" in client.get("/cases").data


def test_the_case_list_needs_a_sign_in(client):
    assert client.get("/cases").status_code == 302


def test_the_landing_page_renders(client):
    assert client.get("/").status_code == 200


def test_an_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and b"<html" in response.data


def test_a_time_zone_from_the_browser_is_remembered_and_deadlines_show_in_it(client, make_case, login_party):
    info = make_case()
    csrf_token = login_party(info, "seller")
    response = client.post("/preferences/timezone", json={"timezone": "Asia/Shanghai"},
                           headers={"X-CSRFToken": csrf_token})
    assert response.status_code == 200
    assert b"(Asia/Shanghai)" in client.get(f"/cases/{info.id}").data


def test_a_time_zone_without_the_csrf_token_is_refused(client):
    assert client.post("/preferences/timezone", json={"timezone": "Asia/Shanghai"}).status_code == 400


def test_an_unknown_time_zone_is_refused(client, app):
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/preferences/timezone", json={"timezone": "Mars/Olympus"})
    assert response.status_code == 422


def test_a_wrong_method_on_a_page_is_an_error_page_that_names_the_allowed_methods(client):
    response = client.put("/login")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]
    assert response.mimetype == "text/html"
