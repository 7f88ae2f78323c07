"""Webhook delivery per the Standard Webhooks specification.

Deliveries are claimed with a lease (so a crashed worker's claim lapses and the event is sent again,
with the same webhook-id), sent without holding a transaction open, and recorded attempt by attempt.
Within one endpoint and case they go strictly in order: a failing event holds back that case's later
events, never other cases'.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import requests
from flask import current_app
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased

from mediation import clock
from mediation.extensions import db
from mediation.models import DeliveryAttempt, WebhookDelivery
from mediation.services import events, uow

log = logging.getLogger(__name__)

# The specification's schedule after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
RETRY_DELAYS = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1

wake = threading.Event()
events.on_outbox_written(wake.set)


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def retry_delay(attempts: int) -> float:
    """Seconds until the next try after `attempts` failures, with ±10 % jitter."""
    base = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    return base * random.uniform(0.9, 1.1)


@dataclass
class Claimed:
    delivery_id: int
    msg_id: str
    url: str
    secret: str
    body: str
    attempts: int


def claim_due(limit: int = 20) -> list[Claimed]:
    """Lease the next due delivery of each (endpoint, case) whose earlier events have all arrived."""
    now = clock.now()
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(and_(earlier.endpoint_id == WebhookDelivery.endpoint_id,
                                  earlier.case_id == WebhookDelivery.case_id,
                                  earlier.state == "pending", earlier.id < WebhookDelivery.id))
    query = (select(WebhookDelivery).where(WebhookDelivery.state == "pending",
                                           WebhookDelivery.next_attempt_at <= now, ~blocked)
             .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
    lease = timedelta(seconds=current_app.config["WEBHOOK_LEASE_SECONDS"])
    with uow.transaction():
        claimed = []
        for delivery in db.session.scalars(query):
            delivery.next_attempt_at = now + lease
            claimed.append(Claimed(delivery.id, delivery.message.msg_id, delivery.endpoint.url,
                                   delivery.endpoint.secret, delivery.message.body, delivery.attempts))
    return claimed


def send(item: Claimed, http: requests.Session) -> tuple[int | None, str | None, int]:
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": "Mediation-Webhooks/1",
        "webhook-id": item.msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(item.secret, item.msg_id, timestamp, item.body),
    }
    started = time.monotonic()
    try:
        response = http.post(item.url, data=item.body.encode(), headers=headers, allow_redirects=False,
                             timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"])
        status, error = response.status_code, None if 200 <= response.status_code < 300 else response.text[:200]
    except requests.RequestException as exc:
        status, error = None, f"{type(exc).__name__}: {exc}"[:500]
    return status, error, int((time.monotonic() - started) * 1000)


def record_result(item: Claimed, status: int | None, error: str | None, duration_ms: int) -> None:
    with uow.transaction():
        delivery = db.session.get(WebhookDelivery, item.delivery_id)
        now = clock.now()
        delivery.attempts += 1
        delivery.last_status, delivery.last_error = status, error
        db.session.add(DeliveryAttempt(delivery_id=delivery.id, attempted_at=now, status_code=status,
                                       error=error, duration_ms=duration_ms))
        if status is not None and 200 <= status < 300:
            delivery.state, delivery.delivered_at = "delivered", now
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.state = "failed"
        else:
            delivery.next_attempt_at = now + timedelta(seconds=retry_delay(delivery.attempts))


def deliver_due(http: requests.Session | None = None, limit: int = 20) -> int:
    """One pass: claim what is due, send it, record each outcome. Returns how many were attempted."""
    http = http or requests.Session()
    claimed = claim_due(limit)
    for item in claimed:
        record_result(item, *send(item, http))
    return len(claimed)


def run_forever(app, stop: threading.Event, idle_seconds: float = 1.0) -> None:
    """The deliverer loop, for the background thread and for `flask mediation deliver-webhooks`."""
    http = requests.Session()
    while not stop.is_set():
        try:
            with app.app_context():
                busy = deliver_due(http)
        except Exception:
            log.exception("webhook delivery pass failed")
            busy = 0
        if not busy:
            wake.wait(idle_seconds)
            wake.clear()
