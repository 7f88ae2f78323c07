"""`presence`: who of the case is in the room right now."""
from __future__ import annotations


def test_the_join_ack_lists_the_roles_online(make_case, joined, connect):
    case = make_case()
    joined(case, "buyer")
    ack = connect(token=case.token("seller")).join(case.id)
    assert ack["online"] == ["buyer", "seller"]


def test_joining_is_announced_to_those_already_in_the_room(make_case, joined):
    case = make_case()
    buyer = joined(case, "buyer")
    joined(case, "seller")
    assert buyer.wait_for("presence") == {"case_id": case.id, "role": "seller", "name": "Shen Seller",
                                          "online": True, "roles": ["buyer", "seller"]}


def test_the_joiner_does_not_hear_its_own_arrival(make_case, joined):
    case = make_case()
    buyer = joined(case, "buyer")
    assert buyer.events("presence") == []


def test_leaving_is_announced_as_offline(make_case, joined):
    case = make_case()
    buyer = joined(case, "buyer")
    seller = joined(case, "seller")
    buyer.wait_for("presence")
    seller.close()
    assert buyer.wait_for("presence", lambda p: not p["online"]) == {
        "case_id": case.id, "role": "seller", "name": "Shen Seller", "online": False, "roles": ["buyer"]}


def test_a_party_with_two_tabs_stays_online_until_the_last_one_closes(make_case, joined):
    case = make_case()
    buyer = joined(case, "buyer")
    first_tab, second_tab = joined(case, "seller"), joined(case, "seller")
    first_tab.close()
    assert buyer.wait_for("presence", lambda p: not p["online"])["roles"] == ["buyer", "seller"]
    second_tab.close()
    assert buyer.wait_for("presence", lambda p: p["roles"] == ["buyer"])["online"] is False


def test_presence_is_not_heard_in_other_case_rooms(make_case, joined):
    case, other = make_case(), make_case()
    outsider = joined(other, "buyer")
    joined(case, "seller")
    joined(other, "seller")
    outsider.wait_for("presence")
    assert [p["case_id"] for p in outsider.events("presence")] == [other.id]
