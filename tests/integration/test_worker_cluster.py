"""Several `flask mediation worker` processes sharing the webhook outbox, and one killed mid-delivery.

Real worker processes on the test's database post to a receiver on loopback that verifies every signature,
as a marketplace would. Two workers at once need PostgreSQL (FOR UPDATE SKIP LOCKED shares the rows out);
a killed worker and its replacement run one after the other, so that test also runs on SQLite.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from standardwebhooks.webhooks import Webhook

from mediation import clock
from mediation.extensions import db
from mediation.models import CaseEvent, DeliveryAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage
from mediation.services import cases, proposals
from mediation.services.admin import set_endpoint_active
from mediation.services.events import WEBHOOK_TYPES
from tests.conftest import PG_URL, money
from tests.integration.processes import Worker

pytestmark = pytest.mark.integration
needs_postgres = pytest.mark.skipif(
    not PG_URL, reason="MEDIATION_TEST_DATABASE_URL not set: two workers at once need PostgreSQL "
                       "(FOR UPDATE SKIP LOCKED); SQLite has a single writer")

# 160 settled-and-closed cases (6 webhook events each) and 10 withdrawn-and-closed ones (4 each), over 3
# platforms: 1,000 events, at most 6 per case, in an order the receiver must see per case.
SETTLED, WITHDRAWN, PLATFORMS = 160, 10, 3
EVENTS = SETTLED * 6 + WITHDRAWN * 4
DELIVERY_BOUND = 90  # seconds for two workers to deliver the 1,000
HOLD_LIMIT = 30  # seconds the receiver holds a request open at most
LEASE = 3  # seconds: a killed worker's claim lapses this soon (MEDIATION_WEBHOOK_LEASE_SECONDS)
SAMPLE = 20  # every 20th request, the receiver finds out which worker sent it


# ---- a marketplace's receiver on loopback ------------------------------------------------------------


@dataclass
class Request:
    webhook_id: str
    headers: dict
    body: bytes
    answered: bool = False  # answered 204 (the held request never is: its sender is killed first)
    sender: int | None = None  # the pid of the process that sent it, for a sample of the requests

    @property
    def payload(self) -> dict:
        return json.loads(self.body)

    @property
    def case_id(self) -> int:
        return self.payload["data"]["case"]["id"]


class Receiver:
    """Answers 204 to everything, in arrival order. `hold_next()` makes it hold the next request open (the
    sender is provably mid-delivery) until `release` is set."""

    def __init__(self, url: str):
        self.url = url
        self.requests: list[Request] = []
        self.held: Request | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self.senders: list[int] = []  # pids to tell apart (see sender_of)
        self._hold = False
        self._lock = threading.Lock()

    def hold_next(self) -> None:
        self._hold = True

    def sender_of(self, client_port: int, server_port: int) -> int | None:
        """Which of `senders` holds the client end of this loopback connection (Linux /proc; None elsewhere)."""
        try:
            rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
        except OSError:
            return None
        ends = (f":{client_port:04X}", f":{server_port:04X}")
        inode = next((f[9] for f in map(str.split, rows) if (f[1][-5:], f[2][-5:]) == ends), None)
        for pid in self.senders:
            with contextlib.suppress(OSError):
                if any(os.readlink(fd) == f"socket:[{inode}]" for fd in Path(f"/proc/{pid}/fd").iterdir()):
                    return pid
        return None

    def arrived(self, request: Request) -> bool:
        """Record a request; True when it is the one to hold."""
        with self._lock:
            self.requests.append(request)
            if self._hold and self.held is None:
                self.held = request
                return True
            return False

    def answered(self) -> list[Request]:
        return [r for r in self.requests if r.answered]


class _Handler(BaseHTTPRequestHandler):
    timeout = HOLD_LIMIT + 5  # a stuck connection cannot keep a handler thread for ever

    def do_POST(self):  # the name http.server calls
        receiver: Receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        request = Request(self.headers["webhook-id"], dict(self.headers), body)
        if receiver.senders and len(receiver.requests) % SAMPLE == 0:  # the sender waits for us: its end is open
            request.sender = receiver.sender_of(self.client_address[1], self.server.server_port)
        if receiver.arrived(request):
            receiver.holding.set()
            receiver.release.wait(HOLD_LIMIT)
            return  # never answered: the test kills its sender before releasing it
        request.answered = True
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.receiver = Receiver(f"http://127.0.0.1:{server.server_port}/hooks")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.receiver
    server.receiver.release.set()
    server.shutdown()
    server.server_close()
    thread.join(10)


@pytest.fixture
def workers(app, tmp_path):
    """Start workers on the test's database with `start(**env)`; all are gone after the test."""
    started: list[Worker] = []

    def start(**env: str) -> Worker:
        worker = Worker(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / f"worker-{len(started)}.log", env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.close()


# ---- cases through the real services ----------------------------------------------------------------


def settle_and_close(info) -> None:
    """The seller proposes, the buyer accepts, the platform confirms it paid out: 5 more webhook events."""
    proposal = proposals.create_proposal(info.actor("seller"), info.id, buyer_refund=money("40.00"),
                                         seller_release=money("60.00"))
    proposals.accept_proposal(info.actor("buyer"), info.id, proposal.id)
    cases.confirm_execution(info.platform.actor, info.id, f"PAYOUT-{info.id}")


def withdraw_and_close(info) -> None:
    """The buyer withdraws, the platform confirms: 3 more webhook events."""
    cases.withdraw_case(info.actor("buyer"), info.id, "Sorted it out with the seller.")
    cases.confirm_execution(info.platform.actor, info.id, f"RELEASE-{info.id}")


def pause(platforms) -> list[tuple[int, int]]:
    """Pause the platforms' endpoints for an hour (what a 429 does); returns (platform id, endpoint id)s."""
    ids = [p.id for p in platforms]
    db.session.execute(update(WebhookEndpoint).where(WebhookEndpoint.platform_id.in_(ids))
                       .values(paused_until=clock.now() + timedelta(hours=1)))
    db.session.commit()
    return list(db.session.execute(select(WebhookEndpoint.platform_id, WebhookEndpoint.id)
                                   .where(WebhookEndpoint.platform_id.in_(ids))))


def outbox() -> dict[int, list[str]]:
    """Per case, the webhook-ids of its outbox messages in the order they were written."""
    db.session.rollback()  # see what other processes committed
    order: dict[int, list[str]] = defaultdict(list)
    for case_id, msg_id in db.session.execute(select(WebhookMessage.case_id, WebhookMessage.msg_id)
                                              .order_by(WebhookMessage.id)):
        order[case_id].append(msg_id)
    return dict(order)


def logged_types() -> dict[int, list[str]]:
    """Per case, the types of its webhook events in the order of the case log (seq)."""
    order: dict[int, list[str]] = defaultdict(list)
    for case_id, type_ in db.session.execute(select(CaseEvent.case_id, CaseEvent.type)
                                             .where(CaseEvent.type.in_(WEBHOOK_TYPES))
                                             .order_by(CaseEvent.case_id, CaseEvent.seq)):
        order[case_id].append(type_)
    return dict(order)


def per_case(requests: list[Request], field: str) -> dict[int, list]:
    order: dict[int, list] = defaultdict(list)
    for request in requests:
        order[request.case_id].append(request.webhook_id if field == "id" else request.payload["type"])
    return dict(order)


def secrets_by_msg_id(platforms) -> dict[str, str]:
    secret = {p.id: p.webhook_secret for p in platforms}
    return {msg_id: secret[platform_id] for msg_id, platform_id in
            db.session.execute(select(WebhookMessage.msg_id, WebhookMessage.platform_id))}


def verifies(request: Request, secret: str) -> bool:
    Webhook(secret).verify(request.body, request.headers)  # raises WebhookVerificationError otherwise
    return True


def deliveries() -> list:
    db.session.rollback()
    return db.session.execute(select(WebhookDelivery.id, WebhookDelivery.state, WebhookDelivery.attempts,
                                     WebhookMessage.msg_id).join(WebhookMessage)).all()


def attempt_statuses() -> dict[int, list[int | None]]:
    statuses: dict[int, list[int | None]] = defaultdict(list)
    for delivery_id, status in db.session.execute(select(DeliveryAttempt.delivery_id, DeliveryAttempt.status_code)
                                                  .order_by(DeliveryAttempt.id)):
        statuses[delivery_id].append(status)
    return dict(statuses)


def attempt_log(delivery_id: int) -> list[tuple]:
    """One delivery's attempts as the worker logged them: when, status, error (for a failure message)."""
    return list(db.session.execute(select(DeliveryAttempt.attempted_at, DeliveryAttempt.status_code,
                                          DeliveryAttempt.error).where(DeliveryAttempt.delivery_id == delivery_id)
                                   .order_by(DeliveryAttempt.id)))


def wait_until_delivered(count: int, seconds: float, receiver: Receiver, running: list[Worker]) -> None:
    """Until `count` deliveries are settled as delivered; fails after `seconds` with the counts."""
    deadline = time.monotonic() + seconds
    while True:
        db.session.rollback()
        done = db.session.scalar(select(func.count()).where(WebhookDelivery.state == "delivered"))
        if done >= count:
            return
        if time.monotonic() >= deadline or any(w.process.poll() is not None for w in running):
            logs = "\n".join(f"--- worker {w.pid} (exit {w.process.poll()}):\n{w.output()[-1500:]}"
                             for w in running)
            pytest.fail(f"{done} of {count} deliveries delivered after {seconds} s; the receiver got "
                        f"{len(receiver.requests)} requests\n{logs}")
        time.sleep(0.1)


# ---- two workers at once --------------------------------------------------------------------------------


@needs_postgres
def test_two_workers_deliver_1000_events_once_each_signed_and_in_order_per_case(make_platform, make_case, make_user,
                                                                                receiver, workers):
    platforms = [make_platform(webhook_url=receiver.url) for _ in range(PLATFORMS)]
    # The endpoints are paused, as a 429 would pause them: the workers start up meanwhile, and then face the
    # whole backlog at once, up to 6 events of each case waiting.
    endpoints = pause(platforms)
    running = [workers(), workers()]
    receiver.senders = [w.pid for w in running]
    for n in range(SETTLED + WITHDRAWN):
        info = make_case(platform=platforms[n % PLATFORMS])
        (withdraw_and_close if n % 17 == 16 else settle_and_close)(info)
    written = outbox()
    assert sum(map(len, written.values())) == EVENTS
    for worker in running:
        worker.wait_running()
    admin = make_user("admin")
    for platform_id, endpoint_id in endpoints:  # enabling an endpoint lifts its pause
        set_endpoint_active(admin, platform_id, endpoint_id, True)
    db.session.commit()  # the test holds nothing open while the workers run

    wait_until_delivered(EVENTS, DELIVERY_BOUND, receiver, running)
    assert [w.stop() for w in running] == [0, 0]  # SIGTERM: a delivery in flight finishes first

    sent = Counter(r.webhook_id for r in receiver.requests)
    assert not {i: n for i, n in sent.items() if n > 1}, "a healthy receiver got a webhook-id twice"
    assert set(sent) == {i for ids in written.values() for i in ids}, "an event is missing"
    assert all(r.answered for r in receiver.requests)
    secret = secrets_by_msg_id(platforms)
    assert all(verifies(r, secret[r.webhook_id]) for r in receiver.requests)
    assert per_case(receiver.requests, "id") == written, "a case's events arrived out of order"
    assert per_case(receiver.requests, "type") == logged_types(), "arrival order is not the case log's"
    rows = deliveries()
    assert Counter((state, attempts) for _id, state, attempts, _msg in rows) == {("delivered", 1): EVENTS}
    assert all(statuses == [204] for statuses in attempt_statuses().values())
    assert all(not w.said("delivery pass failed") for w in running)
    if Path("/proc/net/tcp").exists():  # both did their share of the work
        senders = Counter(r.sender for r in receiver.requests if r.sender)
        assert set(senders) == set(receiver.senders), f"deliveries sampled per worker pid: {dict(senders)}"


# ---- a worker killed mid-delivery --------------------------------------------------------------------


def test_a_worker_killed_mid_delivery_is_replaced_and_the_event_arrives_again_with_its_webhook_id(
        make_platform, make_case, receiver, workers):
    platform = make_platform(webhook_url=receiver.url)
    for _ in range(8):
        settle_and_close(make_case(platform=platform))
    written = outbox()
    db.session.commit()
    lease = {"MEDIATION_WEBHOOK_LEASE_SECONDS": str(LEASE)}

    receiver.hold_next()
    first = workers(**lease)
    assert receiver.holding.wait(30), f"no delivery arrived:\n{first.output()}"
    held = receiver.held
    # Mid-delivery: the request is in, no answer has gone back, nothing is settled or logged yet.
    [row] = [r for r in deliveries() if r.msg_id == held.webhook_id]
    assert (row.state, row.attempts, attempt_statuses().get(row.id)) == ("pending", 0, None)
    assert first.kill() == -signal.SIGKILL
    receiver.release.set()

    second = workers(**lease)
    wait_until_delivered(sum(map(len, written.values())), 30, receiver, [second])
    assert second.stop() == 0

    sent = Counter(r.webhook_id for r in receiver.requests)
    assert sent == {i: 2 if i == held.webhook_id else 1 for ids in written.values() for i in ids}, \
        "only the event in flight when the worker died may arrive twice"
    again = [r for r in receiver.requests if r.webhook_id == held.webhook_id]
    assert [r.answered for r in again] == [False, True]
    assert all(verifies(r, platform.webhook_secret) for r in receiver.requests)
    assert per_case(receiver.answered(), "id") == written, "a case's events arrived out of order"
    rows = deliveries()
    assert Counter((state, attempts) for _id, state, attempts, _msg in rows) == {("delivered", 1): len(rows)}, \
        {row.msg_id: (row.state, attempt_log(row.id)) for row in rows if row.attempts != 1}
    # The log holds the attempts whose answer was recorded: the killed worker never had one to record.
    assert attempt_statuses()[row.id] == [204]
    assert all(statuses == [204] for statuses in attempt_statuses().values())
