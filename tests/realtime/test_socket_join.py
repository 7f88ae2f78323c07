"""`join {case_id, since}`: the ack is what the party missed and the case as it is now."""
from __future__ import annotations

from mediation.services import messages


def say(case, role: str, body: str, channel: str = "joint") -> int:
    """Set-up: a message stored through the service, as if sent earlier."""
    return messages.send_message(case.actor(role), case.id, channel, body, f"{role}-{body}").message.id


def test_join_acks_the_case_as_the_room_sees_it(make_case, connect):
    case = make_case()
    ack = connect(token=case.token("buyer")).join(case.id)
    assert ack["ok"] is True
    assert ack["case"]["id"] == case.id and ack["case"]["state"] == "open"
    assert ack["case"]["buyer"] == {"role": "buyer", "name": "Olivia Buyer"}
    assert "email" not in str(ack["case"])  # the room never shows contact details


def test_join_acks_the_channels_and_actions_open_to_the_party(make_case, connect):
    case = make_case()
    ack = connect(token=case.token("buyer")).join(case.id)
    assert ack["channels"] == ["joint", "caucus:buyer"]
    assert ack["allowed_actions"] == ["send_message", "propose", "withdraw_case"]
    assert ack["proposals"] == []


def test_join_with_since_acks_only_the_messages_after_it(make_case, connect):
    case = make_case()
    first = say(case, "buyer", "one")
    second = say(case, "seller", "two")
    third = say(case, "buyer", "three")
    ack = connect(token=case.token("seller")).join(case.id, since=first)
    assert [(m["id"], m["body"]) for m in ack["messages"]] == [(second, "two"), (third, "three")]
    assert ack["has_older"] is False


def test_join_with_since_the_latest_message_acks_no_messages(make_case, connect):
    case = make_case()
    latest = say(case, "buyer", "one")
    ack = connect(token=case.token("seller")).join(case.id, since=latest)
    assert ack["ok"] and ack["messages"] == []


def test_join_without_since_acks_the_latest_joint_messages_oldest_first(make_case, connect):
    case = make_case()
    ids = [say(case, "buyer", "one"), say(case, "seller", "two")]
    ack = connect(token=case.token("buyer")).join(case.id)
    assert [m["id"] for m in ack["messages"]] == ids
    assert ack["messages"][1] | {"created_at": None} == {
        "id": ids[1], "case_id": case.id, "channel": "joint", "author_role": "seller",
        "author_name": "Shen Seller", "body": "two", "client_id": "seller-two", "created_at": None}


def test_join_acks_the_proposals_of_the_case(make_case, connect, api):
    case = make_case()
    response = api("POST", f"/cases/{case.id}/proposals", headers=case.headers("buyer"),
                   json={"buyer_refund": {"value": "30.00", "currency": "USD"},
                         "seller_release": {"value": "70.00", "currency": "USD"}})
    assert response.status_code == 201, response.text
    ack = connect(token=case.token("seller")).join(case.id)
    assert [(p["author_role"], p["buyer_refund"]["value"]) for p in ack["proposals"]] == [("buyer", "30.00")]


def test_a_party_joined_by_browser_cookie_gets_the_same_room(make_case, connect, browser_cookie):
    case = make_case()
    first = say(case, "buyer", "one")
    ack = connect(cookie=browser_cookie(case, "seller")).join(case.id, since=0)
    assert [m["id"] for m in ack["messages"]] == [first]
    assert ack["channels"] == ["joint", "caucus:seller"]


def test_after_join_the_party_hears_new_messages_of_the_room(make_case, connect):
    case = make_case()
    seller = connect(token=case.token("seller"))
    seller.join(case.id)
    say(case, "buyer", "hello")
    assert seller.wait_for("message")["body"] == "hello"


def test_without_join_a_connected_party_hears_nothing_of_the_room(make_case, connect):
    case = make_case()
    seller = connect(token=case.token("seller"))
    buyer = connect(token=case.token("buyer"))
    buyer.join(case.id)
    say(case, "buyer", "hello")
    buyer.wait_for("message")
    seller.call("typing", {"case_id": 999})  # any ack: whatever was sent to the seller before it has arrived
    assert seller.received == []
