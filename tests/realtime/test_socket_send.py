"""`send {case_id, channel, body, client_id}`: acked after the commit, stored once per client_id, and
heard live by the room."""
from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import Message
from tests.realtime.room_client import TIMEOUT


def stored(**where) -> list:
    """Messages as the database has them, read through a connection of its own."""
    with db.engine.connect() as connection:
        return connection.execute(select(Message.id, Message.body, Message.sender, Message.channel)
                                  .filter_by(**where).order_by(Message.id)).all()


def test_send_acks_ok_with_the_stored_id_and_time(make_case, joined):
    case = make_case()
    ack = joined(case, "buyer").send(case.id, "The lid was cracked.", "c-1")
    assert ack["ok"] is True and ack["duplicate"] is False
    [row] = stored(client_id="c-1")
    assert ack["id"] == row.id and row.body == "The lid was cracked."
    assert datetime.fromisoformat(ack["created_at"]).tzinfo is not None


def test_when_the_send_ack_arrives_the_message_is_already_committed(make_case, joined):
    case = make_case()
    buyer = joined(case, "buyer")
    engine = db.engine
    seen: dict = {}
    arrived = threading.Event()

    def on_ack(ack):  # runs on the client's thread the moment the ack arrives
        with engine.connect() as connection:
            seen["row"] = connection.execute(select(Message.id).where(Message.client_id == "c-1")).first()
        seen["ack"] = ack
        arrived.set()

    buyer.sio.emit("send", {"case_id": case.id, "body": "hello", "client_id": "c-1"}, namespace="/cases",
                   callback=on_ack)
    assert arrived.wait(TIMEOUT)
    assert seen["ack"]["ok"] and seen["row"] is not None and seen["row"].id == seen["ack"]["id"]


def test_sending_the_same_client_id_twice_stores_one_message(make_case, joined):
    case = make_case()
    buyer = joined(case, "buyer")
    first = buyer.send(case.id, "hello", "c-1")
    again = buyer.send(case.id, "hello", "c-1")
    assert again == {"ok": True, "id": first["id"], "created_at": first["created_at"], "duplicate": True}
    assert len(stored(client_id="c-1")) == 1


def test_a_resent_client_id_keeps_the_first_body(make_case, joined):
    case = make_case()
    buyer = joined(case, "buyer")
    buyer.send(case.id, "first words", "c-1")
    buyer.send(case.id, "second thoughts", "c-1")
    assert [row.body for row in stored(client_id="c-1")] == ["first words"]


def test_a_resent_client_id_is_not_broadcast_again(make_case, joined):
    case = make_case()
    seller = joined(case, "seller")
    buyer = joined(case, "buyer")
    buyer.send(case.id, "hello", "c-1")
    buyer.send(case.id, "hello", "c-1")
    buyer.send(case.id, "later", "c-2")
    seller.wait_for("message", lambda m: m["client_id"] == "c-2")
    assert [m["client_id"] for m in seller.events("message")] == ["c-1", "c-2"]


def test_the_same_client_id_from_each_party_is_two_messages(make_case, joined):
    case = make_case()
    buyer_ack = joined(case, "buyer").send(case.id, "from the buyer", "c-1")
    seller_ack = joined(case, "seller").send(case.id, "from the seller", "c-1")
    assert seller_ack["duplicate"] is False and seller_ack["id"] != buyer_ack["id"]
    assert len(stored(client_id="c-1")) == 2


def test_the_other_party_in_the_room_receives_the_message_live(make_case, joined):
    case = make_case()
    seller = joined(case, "seller")
    ack = joined(case, "buyer").send(case.id, "Where is my refund?", "c-1")
    message = seller.wait_for("message")
    assert message == {"id": ack["id"], "case_id": case.id, "channel": "joint", "author_role": "buyer",
                       "author_name": "Olivia Buyer", "body": "Where is my refund?", "client_id": "c-1",
                       "created_at": ack["created_at"]}


def test_the_senders_other_tabs_receive_the_message_too(make_case, joined):
    case = make_case()
    other_tab = joined(case, "buyer")
    ack = joined(case, "buyer").send(case.id, "hello", "c-1")
    assert other_tab.wait_for("message")["id"] == ack["id"]


def test_messages_reach_the_other_party_in_the_order_they_were_sent(make_case, joined):
    case = make_case()
    seller = joined(case, "seller")
    buyer = joined(case, "buyer")
    for n in range(5):
        buyer.send(case.id, f"line {n}", f"c-{n}")
    seller.wait_for("message", lambda m: m["client_id"] == "c-4")
    assert [m["body"] for m in seller.events("message")] == [f"line {n}" for n in range(5)]


def test_a_party_connected_by_browser_cookie_can_send(make_case, connect, browser_cookie):
    case = make_case()
    seller = connect(cookie=browser_cookie(case, "seller"))
    seller.join(case.id)
    ack = seller.send(case.id, "Sent from the browser.", "c-1")
    assert ack["ok"]
    assert stored(client_id="c-1")[0].sender.startswith("party:")


def test_a_body_of_exactly_the_size_limit_is_accepted(make_case, joined, app):
    case = make_case()
    body = "x" * app.config["MESSAGE_MAX_CHARS"]
    assert joined(case, "buyer").send(case.id, body, "c-1")["ok"]


def test_line_breaks_and_tabs_are_kept_and_surrounding_space_trimmed(make_case, joined):
    case = make_case()
    joined(case, "buyer").send(case.id, "  first line\n\tsecond line  ", "c-1")
    assert stored(client_id="c-1")[0].body == "first line\n\tsecond line"


def test_sending_to_a_channel_omitted_means_the_joint_channel(make_case, joined):
    case = make_case()
    ack = joined(case, "buyer").call("send", {"case_id": case.id, "body": "hi", "client_id": "c-1"})
    assert ack["ok"] and stored(client_id="c-1")[0].channel == "joint"


def test_send_works_without_joining_first(make_case, connect):
    case = make_case()
    buyer = connect(token=case.token("buyer"))
    assert buyer.send(case.id, "hello", "c-1")["ok"]
    with db.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Message)) == 1


def test_two_tabs_racing_with_one_client_id_store_one_message(make_case, joined):
    case = make_case()
    tabs = [joined(case, "buyer"), joined(case, "buyer")]
    acks: list[dict] = []
    both = threading.Barrier(len(tabs))
    done = threading.Event()

    def on_ack(ack):
        acks.append(ack)
        if len(acks) == len(tabs):
            done.set()

    def fire(tab):
        both.wait(TIMEOUT)
        tab.sio.emit("send", {"case_id": case.id, "body": "hello", "client_id": "c-1"}, namespace="/cases",
                     callback=on_ack)

    threads = [threading.Thread(target=fire, args=(tab,)) for tab in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert done.wait(TIMEOUT)
    assert all(ack["ok"] for ack in acks) and len({ack["id"] for ack in acks}) == 1
    assert sorted(ack["duplicate"] for ack in acks) == [False, True]
    assert len(stored(client_id="c-1")) == 1
