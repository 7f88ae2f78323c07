"""The mail outbox: an e-mail owed to a person about a case (a new case, a proposal, a ruling, a deadline
reminder, a digest of unread messages, …), written in the same transaction as the change that causes it and
rendered in the recipient's language and time zone only when sent. The mail worker claims due rows under a
lease, sends each once, and retries a failed send later."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mediation import clock
from mediation.extensions import db
from mediation.models.types import UTCDateTime


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "state", "next_attempt_at"),
                      # The chat reads, per party and message, whether a digest is pending and when the last
                      # one was sent: with sent_at last, the latter is one index entry however many were sent.
                      Index("ix_notifications_recipient", "case_id", "recipient", "kind", "state", "sent_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(40))  # party:{id} or user:{id}
    kind: Mapped[str] = mapped_column(String(40))  # deadline.reminder, case.opened, messages.digest, …
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # pending: to be sent at next_attempt_at; sent; dropped: nothing to send (no address, nothing unread);
    # failed: gave up after the last retry.
    state: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # A worker that claimed the row owns it until then; a worker that died loses the claim, not the mail.
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
