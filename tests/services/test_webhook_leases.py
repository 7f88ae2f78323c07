"""A worker's claim on a delivery while it sends a batch: a claim about to lapse is renewed if nobody took it
over, and given up (not sent) if another worker did, so a stale copy never arrives after its case's next
events. Deliveries to one receiver reuse their connection."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from sqlalchemy import select

from mediation.extensions import db
from mediation.models import WebhookDelivery
from mediation.services import webhooks
from tests.services.test_webhooks import HOOK_URL


def pending() -> WebhookDelivery:
    db.session.expire_all()
    return db.session.scalar(select(WebhookDelivery))


def test_a_claim_with_time_left_is_sent_without_touching_the_row(make_platform, make_case):
    make_case(platform=make_platform(webhook_url=HOOK_URL))
    [item] = webhooks.claim_due()
    assert webhooks.still_ours(item)
    assert pending().next_attempt_at == item.leased_until


def test_a_claim_about_to_lapse_is_renewed_when_nobody_took_it(make_platform, make_case):
    make_case(platform=make_platform(webhook_url=HOOK_URL))
    [item] = webhooks.claim_due()
    first_lease = item.leased_until
    item.claimed_at -= 3600  # the batch has been going for an hour
    assert webhooks.still_ours(item)
    assert item.leased_until > first_lease
    assert pending().next_attempt_at == item.leased_until


def test_a_claim_another_worker_took_over_is_not_sent(make_platform, make_case):
    make_case(platform=make_platform(webhook_url=HOOK_URL))
    [item] = webhooks.claim_due()
    item.claimed_at -= 3600
    delivery = pending()
    delivery.next_attempt_at = item.leased_until.replace(microsecond=(item.leased_until.microsecond + 1) % 1_000_000)
    db.session.commit()  # another worker's claim, after ours lapsed
    taken_over = delivery.next_attempt_at
    assert not webhooks.still_ours(item)
    assert pending().next_attempt_at == taken_over


class _KeepAliveReceiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps the connection open between requests, as most servers do

    def do_POST(self):  # the name http.server calls
        self.rfile.read(int(self.headers["content-length"]))
        self.server.connections.add(self.client_address)
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def keep_alive_receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAliveReceiver)
    server.daemon_threads = True
    server.connections = set()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_deliveries_to_one_receiver_share_a_connection(make_platform, make_case, keep_alive_receiver):
    platform = make_platform(webhook_url=f"http://127.0.0.1:{keep_alive_receiver.server_port}/hooks")
    for _ in range(3):
        make_case(platform=platform)
    with requests.Session() as http:
        assert webhooks.deliver_due(http) == 3
    deadline = time.monotonic() + 5
    while len(keep_alive_receiver.connections) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(keep_alive_receiver.connections) == 1
    assert {d.state for d in db.session.scalars(select(WebhookDelivery))} == {"delivered"}
