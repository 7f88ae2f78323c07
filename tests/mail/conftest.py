"""A real SMTP server (aiosmtpd) on a loopback port for the mail tests, and helpers to drive the mail worker.

`smtp` accepts every message; `refusing_smtp` answers 451 to the first two DATA commands and then accepts,
as a busy server does; `slow_smtp` takes half a second to accept each message, so sends overlap. All record
every DATA they were offered, so a test sees retries as the server did.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from mediation.extensions import db
from mediation.models import Notification, Party
from mediation.services import mail
from tests.conftest import free_port


@dataclass
class Mailbox:
    """What the SMTP server saw. `refuse_data` DATA commands are answered 451 before any is accepted;
    addresses in `unknown` are refused for good (550) at RCPT; each DATA is answered after `delay` seconds."""

    refuse_data: int = 0
    delay: float = 0.0
    unknown: set[str] = field(default_factory=set)
    received: list[EmailMessage] = field(default_factory=list)
    offered: list[EmailMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd hook)
        if address in self.unknown:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook)
        message = message_from_bytes(envelope.content, policy=policy.default)
        await asyncio.sleep(self.delay)
        with self.lock:
            self.offered.append(message)
            if len(self.offered) <= self.refuse_data:
                return "451 4.3.0 Busy, try again later"
            self.received.append(message)
        return "250 2.0.0 Accepted"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.received if address in m["To"]]


@contextmanager
def _serving(app, mailbox: Mailbox) -> Iterator[Mailbox]:
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=port, MAIL_TIMEOUT=5,
                      MAIL_FROM="Mediation <mediation@mediation.test>")
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def smtp(app):
    with _serving(app, Mailbox()) as mailbox:
        yield mailbox


@pytest.fixture
def slow_smtp(app):
    with _serving(app, Mailbox(delay=0.5)) as mailbox:
        yield mailbox


@pytest.fixture
def refusing_smtp(app):
    with _serving(app, Mailbox(refuse_data=2)) as mailbox:
        yield mailbox


def rows(case_id: int, kind: str | None = None) -> list[Notification]:
    query = select(Notification).where(Notification.case_id == case_id).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    db.session.commit()  # a fresh read: the worker settled the rows in transactions of its own,
    db.session.expire_all()  # and the session keeps what it loaded across commits
    return list(db.session.scalars(query))


def deliver() -> int:
    sent = mail.deliver_due()
    db.session.commit()
    return sent


def set_person(party_id: int, locale: str, zone: str) -> None:
    """A party's language and chosen time zone, as the room's preferences would leave them."""
    party = db.session.get(Party, party_id)
    party.locale, party.timezone, party.timezone_chosen = locale, zone, True
    db.session.commit()


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()


def notification_id(message: EmailMessage) -> int:
    return int(message["Message-ID"].strip("<>").split("@")[0].removeprefix("notification-"))
