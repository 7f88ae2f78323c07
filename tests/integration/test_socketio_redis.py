"""Socket.IO through Redis: with REDIS_URL set as the message queue, emits made elsewhere (a worker's
write-only emitter, a second app instance in another process) reach clients of this server.

Each test uses a Socket.IO channel of its own on the shared Redis, so runs side by side never hear each
other; apart from the channel's name this is the path `create_app` sets up from REDIS_URL.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
import redis
from flask_socketio import SocketIO

from mediation.extensions import socketio
from mediation.realtime import presence
from tests.realtime.room_client import NAMESPACE, RoomClient, wait_until

REDIS_URL = os.environ.get("MEDIATION_TEST_REDIS_URL")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not REDIS_URL, reason="MEDIATION_TEST_REDIS_URL not set: Redis message-queue path "
                                             "not exercised"),
]


@pytest.fixture
def app_config() -> dict:
    return {"REDIS_URL": REDIS_URL}


@pytest.fixture
def channel(app) -> str:
    """The app's Socket.IO server publishes and listens on a channel of this test's own."""
    name = f"mediation-test-{uuid.uuid4().hex}"
    manager = socketio.server.manager
    assert type(manager).__name__ == "RedisManager", "REDIS_URL did not make Redis the message queue"
    manager.channel = name  # before the first connection: that is when the server subscribes
    return name


@pytest.fixture
def listening(live_server, channel):
    """listening(case, role) -> a party's client in the room, once the server is subscribed in Redis."""
    clients: list[RoomClient] = []
    queue = redis.Redis.from_url(REDIS_URL)

    def open_room(case, role: str) -> RoomClient:
        client = RoomClient(live_server.url, token=case.token(role))
        clients.append(client)
        assert client.connect().join(case.id)["ok"]
        wait_until(lambda: dict(queue.pubsub_numsub(channel)).get(channel.encode(), 0) >= 1)
        return client

    yield open_room
    for client in clients:
        client.close()
    queue.close()
    joined = {case_id for client in clients for case_id in client.joined}
    wait_until(lambda: not any(presence.online(case_id) for case_id in joined))


def test_an_emit_from_a_write_only_worker_reaches_a_client_of_the_live_server(make_case, listening, channel):
    case = make_case()
    buyer = listening(case, "buyer")
    worker = SocketIO(message_queue=REDIS_URL, channel=channel)  # no app: write-only, as a worker has
    nonce = uuid.uuid4().hex
    worker.emit("case_event", {"type": "case.escalated", "case_id": case.id, "nonce": nonce},
                to=f"case:{case.id}", namespace=NAMESPACE)
    assert buyer.wait_for("case_event", lambda e: e.get("nonce") == nonce)["type"] == "case.escalated"


def test_a_worker_emit_reaches_only_the_room_it_names(make_case, listening, channel):
    case, other = make_case(), make_case()
    outsider = listening(other, "buyer")
    worker = SocketIO(message_queue=REDIS_URL, channel=channel)
    worker.emit("case_event", {"case_id": case.id, "nonce": "for-case"}, to=f"case:{case.id}",
                namespace=NAMESPACE)
    worker.emit("case_event", {"case_id": other.id, "nonce": "for-other"}, to=f"case:{other.id}",
                namespace=NAMESPACE)
    outsider.wait_for("case_event", lambda e: e["nonce"] == "for-other")
    assert [e["nonce"] for e in outsider.events("case_event")] == ["for-other"]


def test_with_the_queue_a_message_sent_by_one_client_reaches_the_other(make_case, listening):
    case = make_case()
    seller = listening(case, "seller")
    ack = listening(case, "buyer").send(case.id, "Through Redis.", "c-1")
    assert seller.wait_for("message")["id"] == ack["id"]


WORKER = textwrap.dedent("""
    import sys

    from mediation import create_app
    from mediation.extensions import socketio
    from mediation.services import access, messages

    database_url, redis_url, channel, join_token, case_id = sys.argv[1:]
    app = create_app({"SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": database_url,
                      "REDIS_URL": redis_url, "BACKGROUND_WORKERS": False})
    socketio.server.manager.channel = channel
    with app.app_context():
        seller = access.party_from_join_token(join_token)
        messages.send_message(seller, int(case_id), "joint", "Sent by another process.", "worker-1")
""")


def test_a_command_run_by_a_second_app_instance_reaches_the_room(make_case, listening, channel, app):
    case = make_case()
    buyer = listening(case, "buyer")
    subprocess.run([sys.executable, "-c", WORKER, app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL, channel,
                    case.join_tokens["seller"], str(case.id)], cwd=ROOT, check=True, timeout=60)
    assert buyer.wait_for("message")["body"] == "Sent by another process."
    event = buyer.wait_for("case_event")
    assert event["type"] == "case.negotiation_started" and event["case"]["state"] == "negotiation"
