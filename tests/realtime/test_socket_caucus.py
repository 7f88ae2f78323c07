"""Caucus channels: open once the case is in mediation, and heard only by their own party."""
from __future__ import annotations

from mediation.services import messages
from tests.realtime.conftest import lapse_response_deadline


def test_in_mediation_a_party_may_post_in_its_own_caucus(make_case, joined):
    case = make_case()
    lapse_response_deadline(case.id)
    ack = joined(case, "seller").send(case.id, "Only for the mediator.", "c-1", channel="caucus:seller")
    assert ack["ok"] and not ack["duplicate"]


def test_a_caucus_message_is_not_heard_by_the_other_party(make_case, joined):
    case = make_case()
    lapse_response_deadline(case.id)
    buyer = joined(case, "buyer")
    seller = joined(case, "seller")
    seller.send(case.id, "Only for the mediator.", "c-1", channel="caucus:seller")
    seller.send(case.id, "For everyone.", "c-2")
    buyer.wait_for("message", lambda m: m["client_id"] == "c-2")
    assert [m["channel"] for m in buyer.events("message")] == ["joint"]


def test_a_caucus_message_is_heard_by_the_other_tabs_of_its_own_party(make_case, joined):
    case = make_case()
    lapse_response_deadline(case.id)
    other_tab = joined(case, "seller")
    joined(case, "seller").send(case.id, "Only for the mediator.", "c-1", channel="caucus:seller")
    assert other_tab.wait_for("message")["channel"] == "caucus:seller"


def test_typing_in_a_caucus_is_not_heard_by_the_other_party(make_case, joined):
    case = make_case()
    lapse_response_deadline(case.id)
    buyer = joined(case, "buyer")
    seller = joined(case, "seller")
    seller_tab = joined(case, "seller")
    assert seller.call("typing", {"case_id": case.id, "channel": "caucus:seller"})["ok"]
    seller_tab.wait_for("typing")
    seller.send(case.id, "For everyone.", "c-2")
    buyer.wait_for("message")
    assert buyer.events("typing") == []


def test_catch_up_brings_ones_own_caucus_but_never_the_other_partys(make_case, connect):
    case = make_case()
    lapse_response_deadline(case.id)
    sent = {}
    for role, channel in [("buyer", "joint"), ("buyer", "caucus:buyer"), ("seller", "caucus:seller")]:
        sent[channel] = messages.send_message(case.actor(role), case.id, channel, "text", channel).message.id
    ack = connect(token=case.token("buyer")).join(case.id, since=0)
    assert [(m["id"], m["channel"]) for m in ack["messages"]] == [
        (sent["joint"], "joint"), (sent["caucus:buyer"], "caucus:buyer")]
