"""A worker's claim on a delivery while it sends a batch: a claim about to lapse is renewed if nobody took it
over, and given up (not sent) if another worker did, so a stale copy never arrives after its case's next
events. A batch's arrivals go on record together, unless their claims could lapse first. Deliveries to one
receiver reuse their connection."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from sqlalchemy import func, select

from mediation import clock
from mediation.extensions import db
from mediation.models import DeliveryAttempt, WebhookDelivery
from mediation.services import webhooks
from tests.services.test_webhooks import HOOK_URL, ScriptedAdapter, session_with


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


# ---- a batch's arrivals -----------------------------------------------------------------------------------


class RecordWatcher(ScriptedAdapter):
    """Answers 204 and notes, as each request goes out, how many deliveries are on record as delivered."""

    def __init__(self):
        super().__init__()
        self.on_record: list[int] = []

    def send(self, request, **kwargs):
        with db.engine.connect() as connection:
            self.on_record.append(connection.scalar(
                select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.state == "delivered")))
        return super().send(request, **kwargs)


def deliver_three_cases(make_platform, make_case) -> RecordWatcher:
    """Three cases' first events delivered in one pass; what was on record as each request went out."""
    platform = make_platform(webhook_url=HOOK_URL)
    for _ in range(3):
        make_case(platform=platform)
    watcher = RecordWatcher()
    assert webhooks.deliver_due(session_with(watcher)) == 3
    return watcher


def test_a_batchs_arrivals_go_on_record_together_after_the_batch(make_platform, make_case):
    assert deliver_three_cases(make_platform, make_case).on_record == [0, 0, 0]
    assert [(d.state, d.attempts) for d in delivered_rows()] == [("delivered", 1)] * 3
    assert len({a.attempted_at for a in db.session.scalars(select(DeliveryAttempt))}) == 3  # each its own time


def test_arrivals_go_on_record_before_their_claims_could_lapse(app, make_platform, make_case):
    app.config.update(WEBHOOK_LEASE_SECONDS=30, WEBHOOK_TIMEOUT_SECONDS=15)  # one request could outlast a claim
    assert deliver_three_cases(make_platform, make_case).on_record == [0, 1, 2]


def test_an_arrival_of_a_delivery_settled_meanwhile_only_counts_its_attempt(make_platform, make_case):
    make_case(platform=make_platform(webhook_url=HOOK_URL))
    [item] = webhooks.claim_due()
    webhooks.record_result(item, 200, None, 5)  # another worker, after our claim lapsed
    webhooks.record_arrivals([webhooks.Arrival(item, 204, 7, clock.now())])
    [delivery] = delivered_rows()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 2, 200)
    assert sorted(a.status_code for a in db.session.scalars(select(DeliveryAttempt))) == [200, 204]


def delivered_rows() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


# ---- the environment, read once -----------------------------------------------------------------------


@pytest.fixture
def environment_read_afresh():
    """The environment as this test sets it, and forgotten afterwards (webhooks reads it once per URL)."""
    webhooks._environment.cache_clear()
    yield
    webhooks._environment.cache_clear()


def test_deliveries_go_through_the_proxy_the_environment_names(make_platform, make_case, monkeypatch,
                                                                environment_read_afresh):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "")
    make_case(platform=make_platform(webhook_url=HOOK_URL))
    adapter = ProxyWatcher()
    http = session_with(adapter)
    http.trust_env = False  # as the deliverer's own session: the environment comes from webhooks._environment
    assert webhooks.deliver_due(http) == 1
    assert adapter.proxies == [{"http": "http://proxy.example:3128"}]


def test_the_deliverers_session_leaves_the_environment_to_be_read_once():
    with webhooks.new_session() as http:
        assert http.trust_env is False


class ProxyWatcher(ScriptedAdapter):
    def __init__(self):
        super().__init__()
        self.proxies: list[dict] = []

    def send(self, request, **kwargs):
        self.proxies.append({k: v for k, v in (kwargs.get("proxies") or {}).items() if k == "http"})
        return super().send(request, **kwargs)


# ---- connections ------------------------------------------------------------------------------------------


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
