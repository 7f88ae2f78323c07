"""State changes reach the room as `case_event`, whichever adapter caused them."""
from __future__ import annotations

from sqlalchemy import select

from mediation.extensions import db
from mediation.models import Case, CaseEvent

REFUND_30 = {"buyer_refund": {"value": "30.00", "currency": "USD"},
             "seller_release": {"value": "70.00", "currency": "USD"}}


def case_state(case_id: int) -> str:
    with db.engine.connect() as connection:
        return connection.scalar(select(Case.state).where(Case.id == case_id))


def logged(case_id: int) -> list[str]:
    with db.engine.connect() as connection:
        return list(connection.scalars(select(CaseEvent.type).where(CaseEvent.case_id == case_id)
                                       .order_by(CaseEvent.seq)))


def test_the_respondents_first_message_moves_the_case_from_open_to_negotiation(make_case, joined):
    case = make_case()
    assert joined(case, "seller").send(case.id, "Let us sort this out.", "c-1")["ok"]
    assert case_state(case.id) == "negotiation"
    assert logged(case.id) == ["case.opened", "case.negotiation_started"]


def test_the_room_hears_that_negotiation_started_when_the_respondent_first_writes(make_case, joined):
    case = make_case()
    buyer = joined(case, "buyer")
    joined(case, "seller").send(case.id, "Let us sort this out.", "c-1")
    event = buyer.wait_for("case_event")
    assert event["type"] == "case.negotiation_started" and event["case_id"] == case.id
    assert event["payload"] == {"respondent": "seller"} and event["actor"].startswith("seller:")
    assert event["case"]["state"] == "negotiation" and event["seq"] == 2


def test_the_sender_hears_the_state_change_by_the_time_its_send_is_acked(make_case, joined):
    case = make_case()
    seller = joined(case, "seller")
    seller.send(case.id, "Let us sort this out.", "c-1")
    assert [e["type"] for e in seller.events("case_event")] == ["case.negotiation_started"]


def test_the_respondents_later_messages_change_the_state_no_more(make_case, joined):
    case = make_case()
    buyer = joined(case, "buyer")
    seller = joined(case, "seller")
    seller.send(case.id, "first", "c-1")
    seller.send(case.id, "second", "c-2")
    buyer.wait_for("message", lambda m: m["client_id"] == "c-2")
    assert [e["type"] for e in buyer.events("case_event")] == ["case.negotiation_started"]
    assert logged(case.id) == ["case.opened", "case.negotiation_started"]


def test_the_claimants_message_leaves_the_case_open(make_case, joined):
    case = make_case()
    seller = joined(case, "seller")
    joined(case, "buyer").send(case.id, "Hello?", "c-1")
    seller.wait_for("message")
    assert case_state(case.id) == "open"
    assert seller.events("case_event") == []


def test_a_proposal_created_through_the_json_api_reaches_the_room_as_a_case_event(make_case, joined, api):
    case = make_case()
    seller = joined(case, "seller")
    response = api("POST", f"/cases/{case.id}/proposals", headers=case.headers("buyer"), json=REFUND_30)
    assert response.status_code == 201, response.text
    event = seller.wait_for("case_event", lambda e: e["type"] == "proposal.created")
    proposal = event["payload"]["proposal"]
    assert proposal["id"] == response.json()["proposal"]["id"] and proposal["author_role"] == "buyer"
    assert proposal["buyer_refund"] == {"value": "30.00", "currency": "USD"}
    assert proposal["seller_release"] == {"value": "70.00", "currency": "USD"}


def test_the_respondents_first_proposal_through_the_api_also_starts_negotiation_in_the_room(
        make_case, joined, api):
    case = make_case()
    buyer = joined(case, "buyer")
    response = api("POST", f"/cases/{case.id}/proposals", headers=case.headers("seller"), json=REFUND_30)
    assert response.status_code == 201, response.text
    buyer.wait_for("case_event", lambda e: e["type"] == "proposal.created")
    assert [e["type"] for e in buyer.events("case_event")] == ["case.negotiation_started", "proposal.created"]


def test_accepting_a_proposal_through_the_api_reaches_the_room_as_settlement(make_case, joined, api):
    case = make_case()
    buyer = joined(case, "buyer")
    created = api("POST", f"/cases/{case.id}/proposals", headers=case.headers("buyer"), json=REFUND_30).json()
    response = api("POST", f"/cases/{case.id}/proposals/{created['proposal']['id']}/accept",
                   headers=case.headers("seller"))
    assert response.status_code == 200, response.text
    settled = buyer.wait_for("case_event", lambda e: e["type"] == "case.resolved")
    assert settled["case"]["state"] == "settled"
    assert [e["type"] for e in buyer.events("case_event")][-3:] == [
        "proposal.accepted", "case.settled", "case.resolved"]


def test_a_message_posted_through_the_json_api_reaches_the_socket_room(make_case, joined, api):
    case = make_case()
    seller = joined(case, "seller")
    response = api("POST", f"/cases/{case.id}/messages", headers=case.headers("buyer"),
                   json={"body": "Posted by the marketplace app.", "client_id": "app-1"})
    assert response.status_code == 201, response.text
    message = seller.wait_for("message")
    assert message["id"] == response.json()["id"] and message["body"] == "Posted by the marketplace app."


def test_case_events_show_the_case_without_contact_details_or_platform_metadata(make_case, joined, api):
    case = make_case(metadata={"internal_note": "vip"})
    seller = joined(case, "seller")
    api("POST", f"/cases/{case.id}/proposals", headers=case.headers("buyer"), json=REFUND_30)
    event = seller.wait_for("case_event")
    assert "olivia@example.com" not in str(event) and "vip" not in str(event)
    assert event["case"]["buyer"] == {"role": "buyer", "name": "Olivia Buyer"}


def test_a_case_event_reaches_only_the_room_of_its_case(make_case, joined, api):
    case, other = make_case(), make_case()
    outsider = joined(other, "seller")
    api("POST", f"/cases/{case.id}/proposals", headers=case.headers("buyer"), json=REFUND_30)
    api("POST", f"/cases/{other.id}/proposals", headers=other.headers("buyer"), json=REFUND_30)
    outsider.wait_for("case_event")
    assert {e["case_id"] for e in outsider.events("case_event")} == {other.id}
