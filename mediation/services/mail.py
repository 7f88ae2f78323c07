"""The mail worker: sends the mail outbox (`Notification` rows) over SMTP, each row once.

A worker claims due rows under a lease (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one writer), so two
workers never hold the same row; the lease outlasts an SMTP conversation, and a worker that dies loses its
claim, not the mail. Each row is rendered (services/mail_render.py), handed to the SMTP server with no
transaction open, and marked sent in its own short transaction right after the server accepted it. Only a
crash between those two steps sends a row again, with the same Message-ID, so the receiver can drop the copy.

A party's digests about a case go out one at a time across workers (on PostgreSQL, an advisory lock per party
while one is rendered, sent and settled): each digest holds back until 15 minutes after the last one sent, and
two rendered at the same moment would each find none sent. One that finds the lock taken waits as a new digest
does, then learns from the other's send when it may go.

A failed send (connection refused, timeout, a 4xx or 5xx answer) is retried after 1 min, 5 min, 30 min, 2 h,
6 h and then every 12 h; after the eleventh failure (about three days) the row is `failed`. A 5xx refusal of
the recipient's address is `failed` at once: the server says the mailbox does not exist, and asking again
cannot change that. With no SMTP host configured, mail is printed and kept for /demo/mail in demo mode;
otherwise it waits in the outbox, and a warning says so once.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

from flask import current_app
from sqlalchemy import Integer, bindparam, cast, func, or_, select, update

from mediation import clock
from mediation.demo_store import DemoList
from mediation.extensions import db
from mediation.models import Notification
from mediation.services import notifications, uow
from mediation.services.mail_render import Draft, compose

log = logging.getLogger(__name__)

# The first key of the digest lock (the second is the party's id): keeps it apart from any other advisory lock.
DIGEST_LOCK_SPACE = 0x6D64
_DIGEST_LOCK_KEY = (cast(bindparam("space"), Integer), cast(bindparam("party_id"), Integer))
_TRY_DIGEST_LOCK = select(func.pg_try_advisory_lock(*_DIGEST_LOCK_KEY))
_DIGEST_UNLOCK = select(func.pg_advisory_unlock(*_DIGEST_LOCK_KEY))
RETRY_DELAYS = [60, 300, 1800, 7200, 21600, 43200, 43200, 43200, 43200, 43200]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1

wake = threading.Event()
notifications.on_mail_written(wake.set)
_warned = threading.Event()


class MailError(Exception):
    """A send that did not reach the SMTP server's acceptance. `permanent`: retrying cannot help."""

    def __init__(self, text: str, permanent: bool = False):
        super().__init__(text[:500])
        self.permanent = permanent


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


class SmtpTransport:
    """The standard library's SMTP client; one connection per pass, opened again after a failure."""

    def __init__(self, config):
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            self._drop()
            codes = [code for code, _text in error.recipients.values()]
            raise MailError(f"recipient refused: {error.recipients}", permanent=all(c >= 500 for c in codes)) \
                from error
        except (smtplib.SMTPException, OSError) as error:
            self._drop()
            raise MailError(f"{type(error).__name__}: {error}") from error

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        host, port, timeout = config["MAIL_SMTP_HOST"], config["MAIL_SMTP_PORT"], config["MAIL_TIMEOUT"]
        if config["MAIL_SMTP_SSL"]:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
            if config["MAIL_SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_SMTP_USERNAME"]:
            smtp.login(config["MAIL_SMTP_USERNAME"], config["MAIL_SMTP_PASSWORD"] or "")
        return smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()  # not QUIT: after a failure the server may not answer
            self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


class ConsoleTransport:
    """Demo mode without an SMTP server: print each e-mail and keep the latest for the /demo/mail page (in
    Redis when it is configured, so the page shows what every worker printed)."""

    def __init__(self):
        self.mailbox = DemoList("mail")

    def send(self, message: EmailMessage) -> None:
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        headers = "".join(f"{name}: {message[name]}\n" for name in ("From", "To", "Subject", "Message-ID"))
        print(f"----- e-mail -----\n{headers}\n{text}\n------------------", file=sys.stdout, flush=True)
        self.mailbox.add({"message_id": message["Message-ID"], "to": message["To"], "subject": message["Subject"],
                          "language": message["Content-Language"], "text": text, "html": html, "at": time.time()})

    def received(self) -> list[dict]:
        return self.mailbox.items()

    def close(self) -> None:
        pass


console = ConsoleTransport()


def transport_for(config) -> Transport | None:
    """SMTP when a host is configured; the console in demo mode; else None (mail waits in the outbox)."""
    if config["MAIL_SMTP_HOST"]:
        return SmtpTransport(config)
    if config["DEMO"]:
        return console
    if not _warned.is_set():
        _warned.set()
        log.warning("No SMTP host configured (MEDIATION_SMTP_HOST): e-mail waits in the outbox until one is.")
    return None


def retry_delay(attempts: int) -> int:
    """Seconds until the next try after `attempts` failures."""
    return RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]


@dataclass(frozen=True)
class Claimed:
    id: int
    leased_until: datetime


def claim_due(limit: int = 20) -> list[Claimed]:
    """Lease the due pending rows (oldest due first): nobody else sends them while the lease lasts."""
    now = clock.now()
    query = (select(Notification).where(Notification.state == "pending", Notification.next_attempt_at <= now,
                                        or_(Notification.leased_until.is_(None), Notification.leased_until <= now))
             .order_by(Notification.next_attempt_at, Notification.id).limit(limit))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    lease = now + timedelta(seconds=current_app.config["MAIL_LEASE_SECONDS"])
    with uow.transaction():
        rows = list(db.session.scalars(query))
        for row in rows:
            row.leased_until = lease
    return [Claimed(row.id, lease) for row in rows]


def deliver_due(transport: Transport | None = None, limit: int = 50) -> int:
    """Send everything due; returns how many e-mails the SMTP server (or the console) accepted.

    Every claimed row leaves the round sent, dropped, failed or due later, so the rounds end.
    """
    own = transport is None
    transport = transport or transport_for(current_app.config)
    if transport is None:
        return 0
    sent = 0
    try:
        while claimed := claim_due(limit):
            sent += sum(_deliver(item, transport) for item in claimed)
    finally:
        if own:
            transport.close()
    return sent


def _deliver(item: Claimed, transport: Transport) -> bool:
    notification = db.session.get(Notification, item.id)
    with digest_turn(notification) as turn:
        if not turn:
            _wait_for_turn(item.id)
            return False
        return _render_send_settle(item, notification, transport)


@contextmanager
def digest_turn(notification: Notification | None) -> Iterator[bool]:
    """Whether `notification` may be rendered and sent now: False while another worker holds a digest turn for
    the same party (PostgreSQL only; on SQLite one process sends all mail). A digest's turn lasts until the
    block ends, so the other worker's next check sees this one settled."""
    if (notification is None or notification.kind != notifications.DIGEST
            or db.engine.dialect.name != "postgresql"):
        yield True
        return
    key = {"space": DIGEST_LOCK_SPACE, "party_id": int(notification.recipient.removeprefix("party:"))}
    # A connection of its own, in autocommit: the lock belongs to the connection and outlives transactions, so
    # the worker's own commits and rollbacks in between leave it held; a worker that dies lets it go.
    with uow.read_connection() as connection:
        if not connection.execute(_TRY_DIGEST_LOCK, key).scalar():
            yield False
            return
        try:
            yield True
        finally:
            connection.execute(_DIGEST_UNLOCK, key)


def _wait_for_turn(notification_id: int) -> None:
    """Give up the claim and come due again as a new digest would: by then the other digest is settled."""
    with uow.transaction():
        db.session.execute(update(Notification).where(Notification.id == notification_id,
                                                      Notification.state == "pending")
                           .values(leased_until=None, next_attempt_at=clock.now() + notifications.DIGEST_GATHER))


def _render_send_settle(item: Claimed, notification: Notification | None, transport: Transport) -> bool:
    try:
        draft = compose(notification)
    except Exception as error:  # a row that cannot be rendered must not block the others
        log.exception("could not render notification %s", item.id)
        draft, failure = None, MailError(f"rendering failed: {type(error).__name__}: {error}")
    else:
        failure = None
    db.session.rollback()  # hold no transaction open while talking to the SMTP server
    if draft is not None and draft.message is not None:
        try:
            transport.send(draft.message)
        except MailError as error:
            failure = error
    _settle(item.id, draft, failure)
    return draft is not None and draft.message is not None and failure is None


def _settle(notification_id: int, draft: Draft | None, failure: MailError | None) -> None:
    """Record what became of one claimed row, in a short transaction of its own."""
    with uow.transaction():
        row = db.session.scalars(select(Notification).where(Notification.id == notification_id)
                                 .with_for_update()).one()
        now = clock.now()
        row.leased_until = None
        if row.state != "pending":
            return
        if failure is not None:
            row.attempts += 1
            row.last_error = str(failure)
            if failure.permanent or row.attempts >= MAX_ATTEMPTS:
                row.state = "failed"
            else:
                row.next_attempt_at = now + timedelta(seconds=retry_delay(row.attempts))
        elif draft.postpone_until is not None:
            row.next_attempt_at = draft.postpone_until
        elif draft.message is None:
            row.state, row.last_error = "dropped", draft.reason
        else:
            row.state, row.sent_at, row.payload = "sent", now, draft.payload


def run_forever(app, stop: threading.Event, idle_seconds: float = 5.0) -> None:
    """The mail worker loop, for the background thread of `flask mediation serve`."""
    while not stop.is_set():
        wake.clear()  # before the pass: a commit during the pass then ends the wait at once
        try:
            with app.app_context():
                busy = deliver_due()
        except Exception:
            log.exception("mail pass failed")
            busy = 0
        if not busy:
            wake.wait(idle_seconds)
