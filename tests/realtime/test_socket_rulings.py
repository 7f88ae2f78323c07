"""The room's view of rulings and appeals over the socket: `join` acks them with the case (which names its
mediators), and joining again on the same connection is how a page refreshes what the viewer may do after
a `case_event`, without announcing the viewer as newly arrived.
"""
from __future__ import annotations

import re

import pytest
import requests

from mediation.services import rulings
from tests.conftest import money

RATIONALE = "The photos show the lid cracked before shipping."
GROUNDS = "The courier's report says the crack happened in transit."
PASSWORD = "a long mediator password"


def rule(case, mediator, clause_ids) -> None:
    rulings.issue_ruling(mediator, case.id, rulings.Outcome(money("70.00"), money("30.00")), RATIONALE,
                         clause_ids[:1])


@pytest.fixture
def staff_cookie(live_server):
    """staff_cookie(email, password) -> the `Cookie` header of a browser signed in through /login."""

    def sign_in(email: str, password: str) -> str:
        browser = requests.Session()
        page = browser.get(f"{live_server.url}/login", timeout=5).text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        response = browser.post(f"{live_server.url}/login", timeout=5, allow_redirects=False,
                                data={"email": email, "password": password, "csrf_token": token})
        assert response.status_code == 302, response.text[:500]
        return "; ".join(f"{name}={value}" for name, value in browser.cookies.items())

    return sign_in


def test_join_acks_the_ruling_and_the_appeal(make_mediation_case, make_user, rulebook, connect):
    case, mediator = make_mediation_case()
    make_user("mediator", name="Ada Appeals")
    rule(case, mediator, rulebook.clause_ids)
    rulings.appeal_ruling(case.actor("seller"), case.id, GROUNDS)
    ack = connect(token=case.token("buyer")).join(case.id)
    [ruling] = ack["rulings"]
    assert (ruling["kind"], ruling["rationale"], ruling["mediator"]["name"]) == ("ruling", RATIONALE, mediator.name)
    assert ruling["buyer_refund"] == {"value": "70.00", "currency": "USD"}
    assert [(c["id"], c["number"], c["anchor"]) for c in ruling["clauses"]] == [(rulebook.clause_ids[0], "1",
                                                                                 "clause-1")]
    [appeal] = ack["appeals"]
    assert (appeal["appellant"], appeal["grounds"], appeal["ruling_id"], appeal["decided_at"]) == (
        "seller", GROUNDS, ruling["id"], None)


def test_the_room_names_the_mediator_and_the_appeal_mediator(make_mediation_case, make_user, rulebook, joined):
    case, mediator = make_mediation_case()
    ada = make_user("mediator", name="Ada Appeals")
    buyer = joined(case, "buyer")
    rule(case, mediator, rulebook.clause_ids)
    rulings.appeal_ruling(case.actor("seller"), case.id, GROUNDS)
    assigned = buyer.wait_for("case_event", lambda e: e["type"] == "mediator.assigned")
    assert assigned["case"]["mediator"] == {"id": mediator.user_id, "name": mediator.name}
    assert assigned["case"]["appeal_mediator"] == {"id": ada.user_id, "name": "Ada Appeals"}


def test_joining_again_acks_what_the_change_allows_now(make_mediation_case, rulebook, connect):
    case, mediator = make_mediation_case()
    seller = connect(token=case.token("seller"))
    first = seller.join(case.id)
    assert "appeal" not in first["allowed_actions"] and first["rulings"] == []
    rule(case, mediator, rulebook.clause_ids)
    seller.wait_for("case_event", lambda e: e["type"] == "ruling.issued")
    again = seller.join(case.id, since=0)
    assert again["case"]["state"] == "ruled"
    assert again["allowed_actions"] == ["send_message", "appeal"]
    assert [r["kind"] for r in again["rulings"]] == ["ruling"]


def test_joining_again_is_not_announced_as_an_arrival(make_case, joined):
    case = make_case()
    buyer = joined(case, "buyer")
    seller = joined(case, "seller")
    buyer.wait_for("presence")
    assert seller.join(case.id, since=0)["ok"]
    seller.send(case.id, "after joining again", "c-1")
    buyer.wait_for("message")  # anything the second join sent would have arrived before this
    assert [p["role"] for p in buyer.events("presence")] == ["seller"]


def test_the_appeal_mediator_joins_the_open_record_only_and_may_decide(make_mediation_case, make_user, rulebook,
                                                                       connect, staff_cookie):
    case, mediator = make_mediation_case()
    make_user("mediator", name="Ada Appeals", email="ada@example.com", password=PASSWORD)
    rule(case, mediator, rulebook.clause_ids)
    rulings.appeal_ruling(case.actor("seller"), case.id, GROUNDS)
    ack = connect(cookie=staff_cookie("ada@example.com", PASSWORD)).join(case.id)
    assert ack["ok"], ack
    assert ack["channels"] == ["joint"]
    assert ack["allowed_actions"] == ["send_message", "decide_appeal"]
    assert [a["appellant"] for a in ack["appeals"]] == ["seller"]


def test_a_mediator_reassigned_away_stops_hearing_the_room_at_once(make_mediation_case, make_user, joined, connect,
                                                                  staff_cookie):
    from mediation.services import assignment, messages

    mei = make_user("mediator", name="Mei Mediator", email="mei@example.com", password=PASSWORD)
    case, _mediator = make_mediation_case(mei)
    ada = make_user("mediator", name="Ada Appeals")
    admin = make_user("admin")
    old = connect(cookie=staff_cookie("mei@example.com", PASSWORD))
    assert old.join(case.id)["ok"]
    seller = joined(case, "seller")
    assignment.reassign_case(admin, case.id, ada.user_id, "Mei is on leave.")
    seller.wait_for("case_event", lambda e: e["type"] == "mediator.reassigned")
    assert seller.join(case.id)["ok"]  # what the page does on every case_event; the old mediator does nothing
    messages.send_message(case.actor("seller"), case.id, "caucus:seller", "for the new mediator", "c-1")
    messages.send_message(case.actor("seller"), case.id, "joint", "for everyone", "c-2")
    seller.wait_for("message", lambda m: m["client_id"] == "c-2")  # the seller's tab hears both
    old.call("typing", {"case_id": case.id, "channel": "joint"})  # a round trip: queued after the broadcasts
    assert old.events("message") == []


def test_a_mediator_reassigned_away_who_joins_again_is_refused(make_mediation_case, make_user, connect,
                                                              staff_cookie):
    from mediation.services import assignment

    mei = make_user("mediator", name="Mei Mediator", email="mei@example.com", password=PASSWORD)
    case, _mediator = make_mediation_case(mei)
    old = connect(cookie=staff_cookie("mei@example.com", PASSWORD))
    assert old.join(case.id)["ok"]
    assignment.reassign_case(make_user("admin"), case.id, make_user("mediator").user_id, "Mei is on leave.")
    old.wait_for("case_event", lambda e: e["type"] == "mediator.reassigned")
    assert old.join(case.id)["error"]["code"] == 404
