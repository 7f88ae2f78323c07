"""The room's limits: a message body's length (the service's MESSAGE_MAX_CHARS), a frame's size (the
engine's max_http_buffer_size, 64 KiB: a bigger frame closes that one connection) and each connection's
event rate (a token bucket: SOCKET_EVENTS_BURST at once, then SOCKET_EVENTS_PER_SECOND).
"""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import Message
from mediation.realtime import limits, presence
from mediation.realtime.handlers import _identities
from tests.realtime.room_client import NAMESPACE, TIMEOUT, wait_until
from tests.realtime.test_socket_refusals import refusal


@pytest.fixture
def case(make_case):
    return make_case()


def stored_messages() -> int:
    with db.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(Message)).scalar_one()


def flood(client, event: str, payloads: list[dict]) -> list[dict]:
    """Emit every payload at once, without waiting for acks in between; the acks in the order sent."""
    acks: list = [None] * len(payloads)
    done = threading.Semaphore(0)

    def answered(index: int):
        def keep(ack=None):
            acks[index] = ack
            done.release()
        return keep

    for index, payload in enumerate(payloads):
        client.sio.emit(event, payload, namespace=NAMESPACE, callback=answered(index))
    for _ in payloads:
        assert done.acquire(timeout=TIMEOUT), acks
    return acks


# ---- message bodies ------------------------------------------------------------------------------


def test_a_message_over_the_length_limit_is_refused_with_a_field_error(case, joined, unchanged_database):
    buyer = joined(case, "buyer")
    with unchanged_database():
        error = refusal(buyer.send(case.id, "x" * 4001, "c-1"), 422)
    assert "4000" in error["errors"]["body"][0]


def test_a_message_at_the_length_limit_is_stored(case, joined):
    assert joined(case, "buyer").send(case.id, "x" * 4000, "c-1")["ok"]


def test_a_frame_over_the_size_limit_leaves_the_other_connections_and_the_server_serving(
        case, joined, connect, unchanged_database):
    buyer, seller = joined(case, "buyer"), joined(case, "seller")
    with unchanged_database():
        buyer.sio.emit("send", {"case_id": case.id, "body": "x" * 70_000, "client_id": "c-1"}, namespace=NAMESPACE)
        wait_until(lambda: not buyer.sio.connected)
    assert seller.call("typing", {"case_id": case.id})["ok"]
    assert connect(token=case.token("buyer")).join(case.id)["ok"]


# ---- event rate ----------------------------------------------------------------------------------


def test_an_event_over_the_rate_limit_is_refused_with_429_and_stores_nothing(app, case, joined,
                                                                                unchanged_database):
    app.config.update(SOCKET_EVENTS_PER_SECOND=0.01, SOCKET_EVENTS_BURST=2)
    buyer = joined(case, "buyer")  # the join takes the first token
    assert buyer.send(case.id, "The second event.", "c-1")["ok"]
    with unchanged_database():
        error = refusal(buyer.send(case.id, "One too many.", "c-2"), 429)
    assert error["status"] == "Too Many Requests" and "Wait" in error["message"]


def test_typing_counts_towards_the_rate_limit(app, case, joined):
    app.config.update(SOCKET_EVENTS_PER_SECOND=0.01, SOCKET_EVENTS_BURST=2)
    buyer = joined(case, "buyer")
    assert buyer.call("typing", {"case_id": case.id})["ok"]
    refusal(buyer.call("typing", {"case_id": case.id}), 429)


def test_a_malformed_event_counts_towards_the_rate_limit(app, case, joined):
    app.config.update(SOCKET_EVENTS_PER_SECOND=0.01, SOCKET_EVENTS_BURST=2)
    buyer = joined(case, "buyer")
    refusal(buyer.call("send", "not an object"), 422)
    refusal(buyer.send(case.id, "Now a good one.", "c-1"), 429)


def test_the_bucket_refills_over_time(app, case, joined):
    app.config.update(SOCKET_EVENTS_PER_SECOND=50, SOCKET_EVENTS_BURST=2)
    buyer = joined(case, "buyer")
    buyer.call("typing", {"case_id": case.id})
    acks = flood(buyer, "typing", [{"case_id": case.id}] * 5)
    assert any(not ack["ok"] and ack["error"]["code"] == 429 for ack in acks), acks
    time.sleep(0.1)  # 50 a second: five tokens' worth, of which the bucket holds two
    assert buyer.send(case.id, "Back again.", "c-1")["ok"]


def test_the_rate_limit_is_per_connection(app, case, joined):
    app.config.update(SOCKET_EVENTS_PER_SECOND=0.01, SOCKET_EVENTS_BURST=2)
    buyer = joined(case, "buyer")
    buyer.call("typing", {"case_id": case.id})
    refusal(buyer.call("typing", {"case_id": case.id}), 429)
    assert joined(case, "seller").send(case.id, "I can still talk.", "c-1")["ok"]


def test_a_flood_is_served_for_one_burst_then_refused_while_another_connection_is_unaffected(case, joined):
    buyer, seller = joined(case, "buyer"), joined(case, "seller")
    acks = flood(buyer, "send", [{"case_id": case.id, "body": f"Flood {n}", "client_id": f"f-{n}"}
                                 for n in range(100)])
    served = [ack for ack in acks if ack["ok"]]
    assert all(ack["ok"] for ack in acks[:29]), acks[:29]  # the join took one token of the 30
    assert all(ack["ok"] or ack["error"]["code"] == 429 for ack in acks), acks
    assert len(served) < 50, f"{len(served)} of 100 served"  # the burst, plus 10 a second while it ran
    assert stored_messages() == len(served)
    assert seller.send(case.id, "Still here.", "s-1")["ok"]


def test_a_connection_forgets_its_bucket_when_it_disconnects(case, joined):
    buyer = joined(case, "buyer")
    sid = buyer.sid
    assert limits.tracking(sid)
    buyer.close()
    wait_until(lambda: not limits.tracking(sid))


# ---- events only the server may raise ------------------------------------------------------------


def test_a_disconnect_event_sent_by_the_client_is_ignored(case, joined):
    buyer = joined(case, "buyer")
    assert buyer.call("disconnect", "pretend") is None
    assert presence.online(case.id) == ["buyer"] and buyer.sid in _identities
    assert buyer.call("typing", {"case_id": case.id})["ok"]


def test_a_connect_event_sent_by_the_client_cannot_swap_its_identity(case, make_case, joined):
    other = make_case()
    buyer = joined(case, "buyer")
    assert buyer.call("connect", {"token": other.token("seller")}) is None
    refusal(buyer.call("join", {"case_id": other.id}), 404)
