"""`typing` and `read`: passing signals to the others in the channel; read markers that only move forward."""
from __future__ import annotations

from sqlalchemy import select

from mediation.extensions import db
from mediation.models import ReadMarker
from mediation.services import messages


def say(case, role: str, body: str) -> int:
    return messages.send_message(case.actor(role), case.id, "joint", body, f"{role}-{body}").message.id


def markers(case_id: int) -> list[tuple[str, str, int]]:
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            select(ReadMarker.sender, ReadMarker.channel, ReadMarker.message_id)
            .where(ReadMarker.case_id == case_id).order_by(ReadMarker.id))]


def test_typing_is_acked_ok(make_case, joined):
    case = make_case()
    assert joined(case, "buyer").call("typing", {"case_id": case.id, "channel": "joint"}) == {"ok": True}


def test_typing_reaches_the_other_party_in_the_channel(make_case, joined):
    case = make_case()
    seller = joined(case, "seller")
    joined(case, "buyer").call("typing", {"case_id": case.id, "channel": "joint"})
    assert seller.wait_for("typing") == {"case_id": case.id, "channel": "joint", "role": "buyer",
                                         "name": "Olivia Buyer"}


def test_the_typist_does_not_hear_its_own_typing(make_case, joined):
    case = make_case()
    buyer = joined(case, "buyer")
    buyer.call("typing", {"case_id": case.id})
    assert buyer.events("typing") == []  # it would have arrived before the ack


def test_typing_changes_nothing_in_the_database(make_case, joined, unchanged_database):
    case = make_case()
    buyer = joined(case, "buyer")
    with unchanged_database():
        assert buyer.call("typing", {"case_id": case.id})["ok"]


def test_read_stores_the_read_marker_and_acks_it(make_case, joined):
    case = make_case()
    first = say(case, "seller", "one")
    ack = joined(case, "buyer").call("read", {"case_id": case.id, "channel": "joint", "message_id": first})
    assert ack == {"ok": True, "message_id": first}
    [(sender, channel, upto)] = markers(case.id)
    assert sender.startswith("party:") and channel == "joint" and upto == first


def test_read_moves_the_marker_forward(make_case, joined):
    case = make_case()
    first, second = say(case, "seller", "one"), say(case, "seller", "two")
    buyer = joined(case, "buyer")
    buyer.call("read", {"case_id": case.id, "message_id": first})
    assert buyer.call("read", {"case_id": case.id, "message_id": second})["message_id"] == second
    assert [upto for _s, _c, upto in markers(case.id)] == [second]


def test_the_read_marker_never_moves_back(make_case, joined):
    case = make_case()
    first, second = say(case, "seller", "one"), say(case, "seller", "two")
    buyer = joined(case, "buyer")
    buyer.call("read", {"case_id": case.id, "message_id": second})
    ack = buyer.call("read", {"case_id": case.id, "message_id": first})
    assert ack == {"ok": True, "message_id": second}
    assert [upto for _s, _c, upto in markers(case.id)] == [second]


def test_each_party_has_its_own_read_marker(make_case, joined):
    case = make_case()
    first = say(case, "seller", "one")
    joined(case, "buyer").call("read", {"case_id": case.id, "message_id": first})
    joined(case, "seller").call("read", {"case_id": case.id, "message_id": first})
    assert len({sender for sender, _c, _upto in markers(case.id)}) == 2


def test_the_other_party_hears_how_far_one_has_read(make_case, joined):
    case = make_case()
    first = say(case, "seller", "one")
    seller = joined(case, "seller")
    joined(case, "buyer").call("read", {"case_id": case.id, "message_id": first})
    assert seller.wait_for("read") == {"case_id": case.id, "channel": "joint", "role": "buyer",
                                       "message_id": first}


def test_the_reader_does_not_hear_its_own_read(make_case, joined):
    case = make_case()
    first = say(case, "seller", "one")
    buyer = joined(case, "buyer")
    buyer.call("read", {"case_id": case.id, "message_id": first})
    assert buyer.events("read") == []
