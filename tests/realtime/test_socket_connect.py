"""Connecting to /cases: a party token or the browser's session cookie, and nothing else, lets one in."""
from __future__ import annotations

from tests.realtime.room_client import NAMESPACE


def test_a_party_token_in_the_auth_payload_connects_to_the_cases_namespace(make_case, connect):
    case = make_case()
    buyer = connect(token=case.token("buyer"))
    assert buyer.sio.connected and NAMESPACE in buyer.sio.namespaces


def test_a_party_token_connection_acts_as_that_party(make_case, connect):
    case = make_case()
    seller = connect(token=case.token("seller"))
    ack = seller.join(case.id)
    assert ack["ok"] and ack["channels"] == ["joint", "caucus:seller"]


def test_a_session_cookie_from_the_join_link_connects_as_that_party(make_case, connect, browser_cookie):
    case = make_case()
    seller = connect(cookie=browser_cookie(case, "seller"))
    ack = seller.join(case.id)
    assert ack["ok"] and ack["channels"] == ["joint", "caucus:seller"]


def test_a_connection_without_any_credentials_is_refused(refused):
    refusal = refused()
    assert "Sign in first" in refusal["message"]


def test_a_genuine_session_cookie_that_holds_no_party_is_refused(app, refused):
    signed = app.session_interface.get_signing_serializer(app).dumps({"timezone": "Asia/Shanghai"})
    refusal = refused(cookie=f"{app.config['SESSION_COOKIE_NAME']}={signed}")
    assert "Sign in first" in refusal["message"]


def test_a_forged_session_cookie_is_refused(make_case, browser_cookie, refused):
    cookie = browser_cookie(make_case(), "buyer")
    refusal = refused(cookie=cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB"))
    assert "Sign in first" in refusal["message"]


def _tampered(token: str) -> str:
    return token[:-3] + ("abc" if not token.endswith("abc") else "xyz")


FORGERIES = {
    "signature changed": _tampered,
    "made up": lambda token: "pt_" + "A" * 40,
    "without its prefix": lambda token: token[3:],
    "not a string": lambda token: 12345,
}


def test_a_forged_party_token_is_refused(make_case, refused, subtests):
    token = make_case().token("buyer")
    for name, forge in FORGERIES.items():
        with subtests.test(msg=name):
            assert "not valid" in refused(token=forge(token))["message"]


def test_a_join_link_token_is_not_a_party_token_and_is_refused(make_case, refused):
    case = make_case()
    refusal = refused(token="pt_" + case.join_tokens["buyer"])
    assert "not valid" in refusal["message"]


def test_an_expired_party_token_is_refused(frozen_clock, make_case, app, refused):
    case = make_case()
    token = case.token("buyer")
    frozen_clock.move(days=app.config["PARTY_TOKEN_DAYS"], seconds=1)
    refusal = refused(token=token)
    assert "expired" in refusal["message"]


def test_a_revoked_party_token_is_refused(make_case, api, refused):
    case = make_case()
    token = case.token("buyer")
    response = api("POST", f"/cases/{case.id}/join-links", headers=case.platform.headers,
                   json={"role": "buyer", "revoke_previous": True})
    assert response.status_code == 201, response.text
    refusal = refused(token=token)
    assert "revoked" in refusal["message"]


def test_a_cookie_connection_from_a_foreign_origin_is_refused(make_case, browser_cookie, refused):
    cookie = browser_cookie(make_case(), "buyer")
    refusal = refused(cookie=cookie, origin="https://evil.example")
    assert not isinstance(refusal, dict)  # the websocket upgrade itself was refused (400), before Socket.IO
