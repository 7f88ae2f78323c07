"""Several processes, as `make run-cluster` runs them: two gunicorn web processes (gevent) on their own
loopback ports and a worker, on PostgreSQL with Redis as the message queue between them."""
from __future__ import annotations

import os
import signal
import statistics
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field

import pytest
import redis
from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import Message
from tests.admin_support import running_receiver
from tests.api.test_cases_api import case_body
from tests.conftest import PG_URL, REDIS_URL
from tests.integration.cluster_support import environment, start_web, wait_healthy
from tests.integration.processes import Worker
from tests.realtime.room_client import RoomClient, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (PG_URL and REDIS_URL), reason="MEDIATION_TEST_DATABASE_URL and MEDIATION_TEST_REDIS_URL "
                                                          "not both set: several processes need PostgreSQL and Redis"),
]


# The processes outlive each test (starting them is the slow part): they and the tests' app share one channel
# and presence prefix of this module's own; each test still starts from an empty database.
SHARED = {"SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": PG_URL, "REDIS_URL": REDIS_URL,
          "SOCKETIO_CHANNEL": f"mediation-test-{uuid.uuid4().hex}",
          "PRESENCE_KEY_PREFIX": f"mediation-test:{uuid.uuid4().hex}:presence"}


@pytest.fixture
def app_config() -> dict:
    return {key: SHARED[key] for key in ("REDIS_URL", "SOCKETIO_CHANNEL", "PRESENCE_KEY_PREFIX")}


@dataclass
class Cluster:
    web: list
    worker: object


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    logs = tmp_path_factory.mktemp("cluster")
    env = environment(SHARED)
    web = [start_web(env, logs), start_web(env, logs)]
    worker = Worker(SHARED["SQLALCHEMY_DATABASE_URI"], logs / "worker.log", env=env)
    yield Cluster(web, worker)
    worker.stop()
    worker.close()
    for process in web:
        process.stop()


def subscribed(processes: int) -> bool:
    """Whether `processes` Socket.IO servers listen on the module's channel (a server subscribes when its
    first client connects; what is published before that is not for it)."""
    channel = SHARED["SOCKETIO_CHANNEL"]
    return dict(redis.Redis.from_url(REDIS_URL).pubsub_numsub(channel)).get(channel.encode(), 0) >= processes


def test_a_message_sent_on_one_web_process_reaches_a_client_of_the_other_within_a_second(cluster, make_case):
    case = make_case()
    buyer = RoomClient(cluster.web[0].url, token=case.token("buyer")).connect()
    seller = RoomClient(cluster.web[1].url, token=case.token("seller")).connect()
    try:
        assert buyer.join(case.id)["ok"] and seller.join(case.id)["ok"]
        wait_until(lambda: subscribed(2), timeout=10)
        delays = []
        for n in range(5):
            body = f"across processes {n}"
            sent = time.monotonic()
            assert seller.send(case.id, body, uuid.uuid4().hex)["ok"]
            buyer.wait_for("message", lambda m, body=body: m["body"] == body, timeout=10)
            delays.append(time.monotonic() - sent)
    finally:
        buyer.close()
        seller.close()
    assert statistics.median(delays) < 1.0, delays


def test_a_webhook_raised_on_one_web_process_is_delivered_by_the_worker(cluster, make_platform):
    import requests

    with running_receiver() as receiver:
        platform = make_platform(webhook_url=receiver.url)
        response = requests.post(f"{cluster.web[0].url}/api/v1/cases", json=case_body(), timeout=10,
                                 headers={**platform.headers, "Idempotency-Key": uuid.uuid4().hex})
        assert response.status_code == 201, response.text
        wait_until(lambda: receiver.verified_with(platform.webhook_secret), timeout=30)
        [delivered] = receiver.verified_with(platform.webhook_secret)
    assert (delivered["type"], delivered["data"]["case"]["id"]) == ("case.opened", response.json()["id"])


@dataclass
class ChattingParty:
    """A client that sends its messages in order and, when its connection dies, connects to the other web
    process and resends what was not acknowledged, with the same client_id (as room.js does)."""
    case_id: int
    token: str
    urls: list[str]
    pending: deque = field(default_factory=deque)
    acked: dict[str, int] = field(default_factory=dict)
    duplicates_acked: dict[str, int] = field(default_factory=dict)
    reconnections: int = 0
    error: BaseException | None = None

    def run(self, deadline: float) -> None:
        try:
            url = 0
            while self.pending and time.monotonic() < deadline:
                client = RoomClient(self.urls[url], token=self.token)
                try:
                    client.connect()
                    assert client.join(self.case_id)["ok"]
                    if self.reconnections and self.acked:  # a resent acknowledged message is not stored twice
                        client_id = next(iter(self.acked))
                        self.duplicates_acked[client_id] = client.send(self.case_id, "again", client_id)["id"]
                    while self.pending:
                        client_id, body = self.pending[0]
                        ack = client.send(self.case_id, body, client_id)
                        assert ack["ok"], ack
                        self.acked[client_id] = ack["id"]
                        self.pending.popleft()
                except AssertionError:
                    raise
                except Exception:  # the connection died under it: go to the other process
                    self.reconnections += 1
                    url = 1 - url
                    time.sleep(0.1)
                finally:
                    client.close()
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error


def test_every_acknowledged_message_is_stored_once_after_a_web_process_is_killed_under_load(cluster, make_case):
    cases = [make_case() for _ in range(2)]
    parties = []
    for case in cases:
        for role in ("buyer", "seller"):
            party = ChattingParty(case.id, case.token(role), [cluster.web[0].url, cluster.web[1].url])
            party.pending.extend((uuid.uuid4().hex, f"{role} {n}") for n in range(60))
            parties.append(party)
    deadline = time.monotonic() + 90
    threads = [threading.Thread(target=p.run, args=(deadline,), daemon=True) for p in parties]
    for thread in threads:
        thread.start()

    wait_until(lambda: sum(len(p.acked) for p in parties) >= 40, timeout=30)
    os.kill(cluster.web[0].serving_pid(), signal.SIGKILL)
    for thread in threads:
        thread.join(max(1.0, deadline - time.monotonic()))

    assert [p.error for p in parties] == [None] * len(parties)
    assert all(not p.pending for p in parties), [len(p.pending) for p in parties]
    assert any(p.reconnections for p in parties), "the kill interrupted no client"
    stored = {row.client_id: (row.id, row.n) for row in db.session.execute(
        select(Message.client_id, func.min(Message.id).label("id"), func.count().label("n"))
        .where(Message.case_id.in_([c.id for c in cases])).group_by(Message.client_id))}
    acked = {client_id: message_id for p in parties for client_id, message_id in p.acked.items()}
    assert {client_id: (message_id, 1) for client_id, message_id in acked.items()} == stored
    for party in parties:
        for client_id, message_id in party.duplicates_acked.items():
            assert party.acked[client_id] == message_id
    wait_healthy(cluster.web[0])  # gunicorn's master has started a new web process in place of the killed one
