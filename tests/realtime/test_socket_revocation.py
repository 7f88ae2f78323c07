"""Revoked or expired credentials stop working on the very next event, even on an open connection."""
from __future__ import annotations

import pytest
import requests

from tests.realtime.room_client import NAMESPACE


@pytest.fixture
def revoke(api):
    """revoke(case, role) -> a fresh join token, revoking every earlier link and token of that party
    through the platform's own endpoint."""

    def issue(case, role: str) -> str:
        response = api("POST", f"/cases/{case.id}/join-links", headers=case.platform.headers,
                       json={"role": role, "revoke_previous": True})
        assert response.status_code == 201, response.text
        return response.json()["url"].rsplit("/", 1)[-1]

    return issue


def unauthenticated(ack: dict) -> dict:
    assert ack["ok"] is False and ack["error"]["code"] == 401, ack
    return ack["error"]


def test_a_revoked_token_gets_401_on_its_next_send_and_stores_nothing(make_case, joined, revoke,
                                                                    unchanged_database):
    case = make_case()
    buyer = joined(case, "buyer")
    revoke(case, "buyer")
    with unchanged_database():
        error = unauthenticated(buyer.send(case.id, "Am I still here?", "c-1"))
    assert "revoked" in error["message"]


def test_a_revoked_token_gets_401_on_every_kind_of_event(make_case, joined, revoke, subtests,
                                                         unchanged_database):
    case = make_case()
    buyer = joined(case, "buyer")
    revoke(case, "buyer")
    for event, payload in {"join": {}, "typing": {"channel": "joint"}, "read": {"message_id": 1}}.items():
        with subtests.test(msg=event), unchanged_database():
            unauthenticated(buyer.call(event, {"case_id": case.id, **payload}))


def test_a_revoked_connection_stops_hearing_the_room(make_case, joined, revoke):
    case = make_case()
    buyer = joined(case, "buyer")
    seller = joined(case, "seller")
    revoke(case, "buyer")
    unauthenticated(buyer.call("typing", {"case_id": case.id}))
    seller.send(case.id, "Not for a revoked link.", "c-1")
    unauthenticated(buyer.call("typing", {"case_id": case.id}))  # anything sent before this ack has arrived
    assert buyer.events("message") == []


def rejoin_after_the_revocation(client, case) -> None:
    """What the room page does on every case_event: join again (the revocation emptied the rooms)."""
    client.wait_for("case_event", lambda e: e["type"] == "join_links.revoked")
    assert client.join(case.id)["ok"]


def test_the_room_hears_the_revoked_party_go_offline(make_case, joined, revoke):
    case = make_case()
    seller = joined(case, "seller")
    buyer = joined(case, "buyer")
    revoke(case, "buyer")
    rejoin_after_the_revocation(seller, case)
    buyer.call("typing", {"case_id": case.id})
    assert seller.wait_for("presence", lambda p: not p["online"])["roles"] == ["seller"]


def test_a_revoked_connection_hears_nothing_more_even_if_it_stays_silent(make_case, joined, revoke):
    case = make_case()
    buyer = joined(case, "buyer")
    seller = joined(case, "seller")
    revoke(case, "buyer")
    rejoin_after_the_revocation(seller, case)
    other_tab = joined(case, "seller")
    seller.send(case.id, "Not for a revoked link.", "c-1")
    other_tab.wait_for("message")  # the broadcast has gone out; the buyer would have had it by now
    assert buyer.events("message") == []


def test_revoking_one_party_leaves_the_other_party_working(make_case, joined, revoke):
    case = make_case()
    seller = joined(case, "seller")
    joined(case, "buyer")
    revoke(case, "buyer")
    assert seller.send(case.id, "Still talking.", "c-1")["ok"]


def test_a_revoked_browser_session_gets_401_on_its_next_event(make_case, connect, browser_cookie, revoke,
                                                             unchanged_database):
    case = make_case()
    browser = connect(cookie=browser_cookie(case, "buyer"))
    assert browser.join(case.id)["ok"]
    revoke(case, "buyer")
    with unchanged_database():
        unauthenticated(browser.send(case.id, "Am I still here?", "c-1"))


def test_a_browser_session_whose_link_was_revoked_can_no_longer_connect(make_case, browser_cookie, revoke,
                                                                        refused):
    case = make_case()
    cookie = browser_cookie(case, "buyer")
    revoke(case, "buyer")
    assert "Sign in first" in refused(cookie=cookie)["message"]


def test_a_browser_session_keeps_connecting_while_one_of_its_cases_is_still_granted(
        make_case, revoke, connect, live_server):
    first, second = make_case(), make_case()
    browser = requests.Session()
    for case in (first, second):
        browser.get(f"{live_server.url}/join/{case.join_tokens['buyer']}", allow_redirects=False, timeout=5)
    revoke(first, "buyer")
    client = connect(cookie="; ".join(f"{k}={v}" for k, v in browser.cookies.items()))
    assert client.join(second.id)["ok"]
    assert client.call("join", {"case_id": first.id})["error"]["code"] == 401


def test_the_link_issued_with_the_revocation_works(make_case, connect, revoke, live_server):
    case = make_case()
    fresh = revoke(case, "buyer")
    response = requests.post(f"{live_server.url}/api/v1/party-tokens", json={"join_token": fresh}, timeout=5)
    assert response.status_code == 201, response.text
    buyer = connect(token=response.json()["token"])
    assert buyer.join(case.id)["ok"] and NAMESPACE in buyer.sio.namespaces


def test_a_token_that_expires_while_connected_gets_401_on_its_next_event(frozen_clock, make_case, joined, app,
                                                                        unchanged_database):
    case = make_case()
    buyer = joined(case, "buyer")
    frozen_clock.move(days=app.config["PARTY_TOKEN_DAYS"], seconds=1)
    with unchanged_database():
        error = unauthenticated(buyer.send(case.id, "Too late?", "c-1"))
    assert "expired" in error["message"]
