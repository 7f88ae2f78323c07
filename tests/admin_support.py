"""Helpers for the admin tests: signing in through the real form (with CSRF), who is refused how, and a
webhook receiver on loopback that verifies signatures like a marketplace would."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from mediation.extensions import db
from mediation.models import WebhookDelivery
from mediation.services import webhooks

PASSWORD = "a long password"
OUTSIDERS = ("anonymous", "mediator", "party")


def csrf_token(page) -> str:
    """The token every page carries in <meta name="csrf-token">."""
    marker = b'name="csrf-token" content="'
    start = page.data.index(marker) + len(marker)
    return page.data[start:page.data.index(b'"', start)].decode()


def sign_in(client, email: str) -> str:
    """Sign in through /login as a person would; returns the session's CSRF token for later posts."""
    token = csrf_token(client.get("/login"))
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.data
    return csrf_token(client.get("/"))


def sign_in_admin(client, make_user) -> str:
    make_user("admin", email="root@example.com")
    return sign_in(client, "root@example.com")


def post(client, path: str, token: str, /, **data):
    return client.post(path, data={"csrf_token": token, **data})


def become(who: str, client, make_user, make_case, login_party) -> str:
    """Make the browser an anonymous visitor, a signed-in mediator or a party; returns its CSRF token, so
    a refusal is the admin gate's and not the CSRF check's."""
    if who == "mediator":
        make_user("mediator", email="outsider@example.com")
        return sign_in(client, "outsider@example.com")
    if who == "party":
        return login_party(make_case(), "buyer")
    return csrf_token(client.get("/login"))


def refused(who: str, response) -> bool:
    """Mediators are refused; anyone not signed in as staff is sent to sign in."""
    if who == "mediator":
        return response.status_code == 403
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def delivery_state(delivery_id: int) -> tuple[str, int]:
    db.session.rollback()  # see what the deliverer committed
    row = db.session.execute(select(WebhookDelivery.state, WebhookDelivery.attempts)
                             .where(WebhookDelivery.id == delivery_id)).one()
    return row.state, row.attempts


def exhaust_retries(delivery_id: int, frozen_clock) -> None:
    """Deliver and move the clock to each retry until the delivery has failed for good."""
    webhooks.deliver_due()
    while delivery_state(delivery_id)[0] == "pending":
        db.session.rollback()
        due = db.session.get(WebhookDelivery, delivery_id).next_attempt_at
        frozen_clock.move(seconds=(due - frozen_clock.at).total_seconds() + 1)
        assert webhooks.deliver_due() >= 1


# ---- a marketplace's webhook receiver on loopback ------------------------------------------------------


@dataclass
class Receiver:
    url: str
    status: int = 204  # what it answers
    received: list[tuple[dict, bytes]] = field(default_factory=list)

    def verified_with(self, secret: str) -> list[dict]:
        """The deliveries whose signature `secret` verifies (as parsed bodies plus their webhook-id)."""
        good = []
        for headers, body in self.received:
            try:
                payload = Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            good.append({**payload, "webhook_id": headers["webhook-id"]})
        return good


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # the name http.server calls
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        receiver: Receiver = self.server.receiver
        receiver.received.append((dict(self.headers), body))
        self.send_response(receiver.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.receiver = Receiver(f"http://127.0.0.1:{server.server_port}/hooks")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
