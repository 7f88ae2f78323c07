"""Webhook delivery per the Standard Webhooks specification.

Deliveries are claimed with a lease (so a crashed worker's claim lapses and the event is sent again,
with the same webhook-id), sent without holding a transaction open, and recorded attempt by attempt.
Within one endpoint and case they go strictly in order: a failing event holds back that case's later
events, never other cases'. A receiver that answers 410 Gone has its endpoint disabled (its deliveries
wait, nothing is dropped); one that answers 429, 502 or 504, or sends Retry-After, pauses its endpoint.
After a secret rotation, deliveries carry both signatures for a grace period.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import requests
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, insert, or_, select, update

from mediation import clock
from mediation.errors import InvalidTransition, NotFound
from mediation.extensions import db
from mediation.models import DeliveryAttempt, WebhookDelivery, WebhookEndpoint, WebhookMessage
from mediation.models.platform import signing_secrets
from mediation.services import events, uow
from mediation.services.actors import StaffActor
from mediation.services.admin import require_admin

log = logging.getLogger(__name__)

# The specification's schedule after the first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
RETRY_DELAYS = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# Answers that mean "not now, slower": the endpoint pauses, not just the delivery.
SLOW_DOWN = frozenset({429, 502, 504})
GONE = 410
# A receiver's Retry-After is honoured up to the schedule's longest gap.
MAX_RETRY_AFTER = RETRY_DELAYS[-1]

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
    secrets: list[str]  # each signs; more than one during a rotation's grace period
    body: str
    attempts: int
    leased_until: datetime | None = None  # this worker's claim, as written to next_attempt_at
    claimed_at: float = 0.0  # time.monotonic() when claimed


@dataclass
class Result:
    status: int | None
    error: str | None
    duration_ms: int
    retry_after: float | None = None  # seconds the receiver asked us to wait


def claim_due(limit: int = 20) -> list[Claimed]:
    """Lease the next due delivery of each (endpoint, case) whose earlier events have all arrived.

    One query reads the deliveries with their message and endpoint, one UPDATE leases them all."""
    now = clock.now()
    lease = now + timedelta(seconds=current_app.config["WEBHOOK_LEASE_SECONDS"])
    with uow.core_transaction() as connection:
        rows = connection.execute(_due_statement(db.engine.dialect.name, limit), {"now": now}).all()
        if rows:
            connection.execute(_LEASE, {"ids": [row.id for row in rows], "leased_until": lease})
    claimed_at = time.monotonic()
    return [Claimed(row.id, row.msg_id, row.url, signing_secrets(row, now), row.body, row.attempts, lease,
                    claimed_at) for row in rows]


_DELIVERIES, _MESSAGES, _ENDPOINTS = WebhookDelivery.__table__, WebhookMessage.__table__, WebhookEndpoint.__table__
_NOW = bindparam("now", type_=_DELIVERIES.c.next_attempt_at.type)
_LEASE = (update(_DELIVERIES).where(_DELIVERIES.c.id.in_(bindparam("ids", expanding=True)))
          .values(next_attempt_at=bindparam("leased_until", type_=_DELIVERIES.c.next_attempt_at.type)))


@functools.cache
def _due_statement(dialect: str, limit: int):
    """Built once: the worker runs it several times a second.

    A queue's head is its lowest pending id: one grouped pass over the pending deliveries finds every head,
    so no plan can compare each pending delivery with every other (which a "no earlier pending delivery"
    test did when the statistics still said nothing was pending: after an outage, the moment it matters).
    """
    heads = (select(func.min(_DELIVERIES.c.id)).where(_DELIVERIES.c.state == "pending")
             .group_by(_DELIVERIES.c.endpoint_id, _DELIVERIES.c.case_id))
    query = (select(_DELIVERIES.c.id, _DELIVERIES.c.attempts, _MESSAGES.c.msg_id, _MESSAGES.c.body,
                    _ENDPOINTS.c.url, _ENDPOINTS.c.secret, _ENDPOINTS.c.previous_secret,
                    _ENDPOINTS.c.previous_secret_until)
             .join_from(_DELIVERIES, _MESSAGES, _MESSAGES.c.id == _DELIVERIES.c.message_id)
             .join(_ENDPOINTS, _ENDPOINTS.c.id == _DELIVERIES.c.endpoint_id)
             .where(_DELIVERIES.c.id.in_(heads), _DELIVERIES.c.next_attempt_at <= _NOW,
                    # A disabled endpoint's deliveries wait (in order) until it is enabled again; nothing is
                    # dropped. A paused one's wait until the pause ends.
                    _ENDPOINTS.c.active.is_(True),
                    or_(_ENDPOINTS.c.paused_until.is_(None), _ENDPOINTS.c.paused_until <= _NOW))
             .order_by(_DELIVERIES.c.next_attempt_at, _DELIVERIES.c.id).limit(limit))
    if dialect == "postgresql":
        query = query.with_for_update(skip_locked=True, of=_DELIVERIES)
    return query


def still_ours(item: Claimed) -> bool:
    """Before sending a claimed delivery: whether the claim will outlast the request. A batch is sent one by
    one, so to a slow receiver its last deliveries could go out after their lease lapsed and another worker
    had already delivered them and the next events of their case: the stale copy would then arrive after
    its successors. A claim with too little time left is renewed if nobody took it over, else given up."""
    if not _lease_short(item):
        return True
    renewed = clock.now() + timedelta(seconds=current_app.config["WEBHOOK_LEASE_SECONDS"])
    with uow.transaction():
        taken = db.session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == item.delivery_id, WebhookDelivery.state == "pending",
                                          WebhookDelivery.next_attempt_at == item.leased_until)
            .values(next_attempt_at=renewed)).rowcount
    if not taken:
        return False
    item.leased_until, item.claimed_at = renewed, time.monotonic()
    return True


def _lease_short(item: Claimed) -> bool:
    """Whether the claim could lapse before one more request is over."""
    needed = current_app.config["WEBHOOK_TIMEOUT_SECONDS"] * 2 + 5  # connect and read timeouts, and a margin
    return (item.leased_until is not None
            and time.monotonic() - item.claimed_at + needed >= current_app.config["WEBHOOK_LEASE_SECONDS"])


def send(item: Claimed, http: requests.Session) -> Result:
    """POST one delivery, signed. Only a 2xx counts; redirects are not followed. Never raises for HTTP.

    The webhook-timestamp is the real wall clock (the receiver checks it against its own), not `clock`.
    """
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": "Mediation-Webhooks/1",
        "webhook-id": item.msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(secret, item.msg_id, timestamp, item.body) for secret in item.secrets),
    }
    started = time.monotonic()
    retry_after = None
    try:
        with http.post(item.url, data=item.body.encode(), headers=headers, allow_redirects=False,
                       timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"], stream=True,
                       **_environment(item.url)) as response:
            status = response.status_code
            answer = _read_answer(response)
            error = None if _succeeded(status) else f"HTTP {status}: {answer[:200].decode('utf-8', 'replace')}"[:500]
            if not _succeeded(status):
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    except requests.RequestException as exc:
        status, error = None, f"{type(exc).__name__}: {exc}"[:500]
    return Result(status, error, int((time.monotonic() - started) * 1000), retry_after)


def new_session() -> requests.Session:
    """The deliverer's HTTP session. It does not read the environment on every request (requests scans
    os.environ for proxies each time, a tenth of a delivery's CPU); `_environment` reads it once per URL."""
    session = requests.Session()
    session.trust_env = False
    return session


@functools.lru_cache(maxsize=1024)
def _environment(url: str) -> dict:
    """The proxies and CA bundle the environment sets for `url` (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE…),
    as requests itself would read them."""
    settings = requests.Session().merge_environment_settings(url, {}, None, None, None)
    return {key: settings[key] for key in ("proxies", "verify", "cert")}


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from now, at most MAX_RETRY_AFTER;
    None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()  # the receiver's date is wall-clock time
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _succeeded(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def _read_answer(response: requests.Response, limit: int = 64 * 1024) -> bytes:
    """The receiver's answer, read to its end when short (the connection then goes back to the pool for the
    next delivery to that receiver), at most `limit` bytes: a longer one is cut off with its connection.
    Only its start is kept, for the delivery log."""
    read = b""
    for chunk in response.iter_content(8192):
        read += chunk
        if len(read) > limit:
            break
    return read


def record_result(item: Claimed, status: int | None, error: str | None, duration_ms: int,
                  retry_after: float | None = None) -> None:
    """Log the attempt; settle the delivery (delivered, failed) or schedule its retry.

    410 Gone disables the endpoint (the delivery waits for it to be enabled again, its attempt counted);
    429, 502, 504 or a Retry-After pause the whole endpoint until the retry, never sooner than asked.
    A result that comes back after the delivery was settled (its lease lapsed and another worker sent it
    again) is logged but changes nothing: a late failure must not undo an arrival. Arrivals take the short
    path (`record_arrivals`); failures, rarer, take the ORM's.
    """
    if _succeeded(status):
        record_arrivals([Arrival(item, status, duration_ms, clock.now())])
        return
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
        if status == GONE:
            _disable_gone(delivery, now)
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.state = "failed"
        else:
            delay = max(retry_delay(delivery.attempts), retry_after or 0)
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            if status in SLOW_DOWN or retry_after is not None:
                delivery.endpoint.paused_until = delivery.next_attempt_at


@dataclass
class Arrival:
    item: Claimed
    status: int
    duration_ms: int
    at: datetime  # when the answer came


def record_arrivals(arrivals: list[Arrival]) -> None:
    """Arrivals in one transaction, however many: their attempts in one INSERT, the deliveries settled by
    one UPDATE per status (nearly always one). A delivery settled already (its lease lapsed and another
    worker sent it too) only has its attempt counted."""
    if not arrivals:
        return
    with uow.core_transaction() as connection:
        connection.execute(_INSERT_ATTEMPT, [
            {"delivery_id": a.item.delivery_id, "attempted_at": a.at, "status_code": a.status, "error": None,
             "duration_ms": a.duration_ms} for a in arrivals])
        settled: set[int] = set()
        for status in {a.status for a in arrivals}:
            ids = [a.item.delivery_id for a in arrivals if a.status == status]
            settled.update(connection.execute(_SETTLE_ARRIVED, {"ids": ids, "status": status,
                                                                "now": arrivals[-1].at}).scalars())
        if late := [a.item.delivery_id for a in arrivals if a.item.delivery_id not in settled]:
            connection.execute(_COUNT_LATE_ATTEMPTS, {"ids": late})


_INSERT_ATTEMPT = insert(DeliveryAttempt.__table__)
_SETTLE_ARRIVED = (update(_DELIVERIES)
                   .where(_DELIVERIES.c.id.in_(bindparam("ids", expanding=True)), _DELIVERIES.c.state == "pending")
                   .values(attempts=_DELIVERIES.c.attempts + 1, state="delivered", delivered_at=_NOW,
                           last_status=bindparam("status"), last_error=None)
                   .returning(_DELIVERIES.c.id))
_COUNT_LATE_ATTEMPTS = (update(_DELIVERIES).where(_DELIVERIES.c.id.in_(bindparam("ids", expanding=True)))
                        .values(attempts=_DELIVERIES.c.attempts + 1))


def _disable_gone(delivery: WebhookDelivery, now: datetime) -> None:
    """The receiver says the endpoint is gone for good: stop sending to it until an admin enables it again."""
    delivery.endpoint.active = False
    delivery.endpoint.disabled_reason = "gone"
    delivery.next_attempt_at = now
    log.warning("webhook endpoint %s answered 410 Gone and was disabled", delivery.endpoint_id)


def deliver_due(http: requests.Session | None = None, limit: int = 20) -> int:
    """Deliver everything due, each case in order; returns how many attempts were made.

    Claims in rounds: an event that arrives releases the next one of its case for the following round,
    so one pass empties a case's queue; a failure waits for its retry. Stops after a round with no
    arrival (nothing more can be due until the clock moves or a new event is written).

    A round's arrivals go on record together at its end (one commit, not one each), or sooner when their
    claims could lapse first. A worker that dies before then has them sent again, with their webhook-ids.
    """
    session = http or new_session()
    attempted = 0
    try:
        while claimed := claim_due(limit):
            unrecorded: list[Arrival] = []
            arrived = 0
            try:
                for item in claimed:
                    if unrecorded and _lease_short(unrecorded[0].item):
                        record_arrivals(unrecorded)
                        unrecorded = []
                    if not still_ours(item):
                        continue
                    result = send(item, session)
                    attempted += 1
                    if _succeeded(result.status):
                        unrecorded.append(Arrival(item, result.status, result.duration_ms, clock.now()))
                        arrived += 1
                    else:
                        record_result(item, result.status, result.error, result.duration_ms, result.retry_after)
            finally:
                record_arrivals(unrecorded)
            if not arrived:
                break
    finally:
        if http is None:
            session.close()
    return attempted


# After a pass that delivered something, more may come due in moments without a wake-up in this process (the
# next events of cases another worker is delivering, once its round is on record): the wait starts this short
# and doubles up to `idle_seconds`.
_SHORT_WAIT = 0.01


def run_forever(app, stop: threading.Event, idle_seconds: float = 1.0) -> None:
    """The deliverer loop, for the background thread and for `flask mediation deliver-webhooks`."""
    http = new_session()
    wait = idle_seconds
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
        if busy:
            wait = _SHORT_WAIT
            continue
        wake.wait(wait)
        wait = min(wait * 2, idle_seconds)
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
