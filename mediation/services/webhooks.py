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
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased

from mediation import clock
from mediation.errors import InvalidTransition, NotFound
from mediation.extensions import db
from mediation.models import DeliveryAttempt, WebhookDelivery, WebhookEndpoint
from mediation.services import events, uow
from mediation.services.actors import StaffActor
from mediation.services.admin import require_admin

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
    """Seconds until the next try after `attempts` failures: the schedule plus up to 10 % jitter.

    The jitter only ever delays, so retries never come earlier than the schedule and the whole span
    stays at least the specification's three days (the schedule itself adds up to 3.15 days).
    """
    base = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    return base * random.uniform(1.0, 1.1)


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
    # A disabled endpoint's deliveries wait (in order) until it is enabled again; nothing is dropped.
    enabled = select(WebhookEndpoint.id).where(WebhookEndpoint.id == WebhookDelivery.endpoint_id,
                                               WebhookEndpoint.active.is_(True)).exists()
    query = (select(WebhookDelivery).where(WebhookDelivery.state == "pending",
                                           WebhookDelivery.next_attempt_at <= now, ~blocked, enabled)
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
    """POST one delivery, signed. Only a 2xx counts; redirects are not followed. Never raises for HTTP.

    The webhook-timestamp is the real wall clock (the receiver checks it against its own), not `clock`.
    """
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
        with http.post(item.url, data=item.body.encode(), headers=headers, allow_redirects=False,
                       timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"], stream=True) as response:
            status = response.status_code
            # Read at most a snippet: a receiver's answer is only kept for the delivery log.
            error = None if _succeeded(status) else _describe(response)
    except requests.RequestException as exc:
        status, error = None, f"{type(exc).__name__}: {exc}"[:500]
    return status, error, int((time.monotonic() - started) * 1000)


def _succeeded(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def _describe(response: requests.Response) -> str:
    snippet = next(response.iter_content(200), b"")[:200].decode("utf-8", "replace")
    return f"HTTP {response.status_code}: {snippet}"[:500]


def record_result(item: Claimed, status: int | None, error: str | None, duration_ms: int) -> None:
    """Log the attempt; settle the delivery (delivered, failed) or schedule its retry.

    A result that comes back after the delivery was settled (its lease lapsed and another worker sent it
    again) is logged but changes nothing: a late failure must not undo an arrival.
    """
    with uow.transaction():
        delivery = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.id == item.delivery_id)
                                      .with_for_update()).one()
        now = clock.now()
        delivery.attempts += 1
        db.session.add(DeliveryAttempt(delivery_id=delivery.id, attempted_at=now, status_code=status,
                                       error=error, duration_ms=duration_ms))
        if delivery.state != "pending":
            return
        delivery.last_status, delivery.last_error = status, error
        if _succeeded(status):
            delivery.state, delivery.delivered_at = "delivered", now
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.state = "failed"
        else:
            delivery.next_attempt_at = now + timedelta(seconds=retry_delay(delivery.attempts))


def deliver_due(http: requests.Session | None = None, limit: int = 20) -> int:
    """Deliver everything due, each case in order; returns how many attempts were made.

    Claims in rounds: an event that arrives releases the next one of its case for the following round,
    so one pass empties a case's queue; a failure waits for its retry. Stops after a round with no
    arrival (nothing more can be due until the clock moves or a new event is written).
    """
    session = http or requests.Session()
    attempted = 0
    try:
        while claimed := claim_due(limit):
            arrived = 0
            for item in claimed:
                status, error, duration_ms = send(item, session)
                record_result(item, status, error, duration_ms)
                arrived += _succeeded(status)
            attempted += len(claimed)
            if not arrived:
                break
    finally:
        if http is None:
            session.close()
    return attempted


def run_forever(app, stop: threading.Event, idle_seconds: float = 1.0) -> None:
    """The deliverer loop, for the background thread and for `flask mediation deliver-webhooks`."""
    http = requests.Session()
    while not stop.is_set():
        # Clear before the pass, not after the wait: a commit that lands during the pass then makes the
        # wait return at once instead of its wake-up being wiped out.
        wake.clear()
        try:
            with app.app_context():
                busy = deliver_due(http)
        except Exception:
            log.exception("webhook delivery pass failed")
            busy = 0
        if not busy:
            wake.wait(idle_seconds)
    http.close()


def redeliver(actor: StaffActor, delivery_id: int) -> WebhookDelivery:
    """An admin sends a delivery again: it is pending and due now, with the same message and webhook-id,
    so a receiver that has it already can drop the duplicate. Nothing goes on the case's record.

    The attempt count is kept: a delivery that had failed gets one more try (and its retries are spent),
    one that had arrived gets the schedule's remaining retries. A pending one is simply due now.
    Raises Forbidden (not an admin), NotFound, InvalidTransition (its endpoint is disabled).
    """
    require_admin(actor)
    with uow.transaction():
        delivery = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                                      .with_for_update()).first()
        if delivery is None:
            raise NotFound(_l("No such delivery."))
        if not delivery.endpoint.active:
            raise InvalidTransition(_l("The endpoint is disabled: enable it before redelivering."))
        delivery.state, delivery.delivered_at, delivery.next_attempt_at = "pending", None, clock.now()
        uow.after_commit(wake.set)  # the deliverer in this process starts now instead of at its next poll
    return delivery
