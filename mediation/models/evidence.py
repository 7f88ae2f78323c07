"""Evidence on the record: files a participant put into a channel of the case, and what was asked for.

An Evidence row and its bytes never change and are never deleted. Taking a file out of view is a
separate, append-only EvidenceWithdrawal row; the file stays on the record and in the case's chain.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation import clock
from mediation.extensions import db
from mediation.models.event_log import make_append_only
from mediation.models.types import UTCDateTime


class Evidence(db.Model):
    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_case_channel_id", "case_id", "channel", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    channel: Mapped[str] = mapped_column(String(20))
    uploader: Mapped[str] = mapped_column(String(40))  # "party:12", "user:3"
    uploader_role: Mapped[str] = mapped_column(String(10))  # buyer, seller, mediator
    uploader_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))  # cleaned of paths and control characters
    caption: Mapped[str] = mapped_column(Text, default="")
    # What it shows, from the case's evidence checklist (e.g. "tracking_number"), if the uploader said.
    checklist_item: Mapped[str | None] = mapped_column(String(40))
    # The structured request it answers, if any.
    request_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_requests.id"))
    width: Mapped[int | None]
    height: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    withdrawal: Mapped[EvidenceWithdrawal | None] = relationship(back_populates="evidence", uselist=False)

    @property
    def withdrawn(self) -> bool:
        return self.withdrawal is not None


class EvidenceWithdrawal(db.Model):
    """A file taken out of view, by whom and why. The file itself stays on the record."""

    __tablename__ = "evidence_withdrawals"

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), unique=True)
    by: Mapped[str] = mapped_column(String(40))
    by_role: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    evidence: Mapped[Evidence] = relationship(back_populates="withdrawal")


class EvidenceRequest(db.Model):
    """One participant asks another for something from the catalogue ("tracking_number", …) or in free text.

    Stored as data (kind + parameters), rendered in each viewer's language.
    """

    __tablename__ = "evidence_requests"
    __table_args__ = (Index("ix_evidence_requests_case_state", "case_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    channel: Mapped[str] = mapped_column(String(20), default="joint")
    kind: Mapped[str] = mapped_column(String(40))  # a catalogue key, or "free_text"
    text: Mapped[str] = mapped_column(Text, default="")  # the free text, or a note to a catalogue request
    requester: Mapped[str] = mapped_column(String(40))
    requester_role: Mapped[str] = mapped_column(String(10))
    addressee_role: Mapped[str] = mapped_column(String(10))  # buyer or seller
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(20), default="open")  # open, answered, cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_text: Mapped[str | None] = mapped_column(Text)


class ChecklistAnswer(db.Model):
    """A checklist item a party answered in words (e.g. the tracking number itself), not with a file."""

    __tablename__ = "checklist_answers"
    __table_args__ = (UniqueConstraint("case_id", "role", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    role: Mapped[str] = mapped_column(String(10))
    item: Mapped[str] = mapped_column(String(40))
    value: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


# The record is never altered: the ORM and the database refuse updates and deletes of these rows.
make_append_only(Evidence)
make_append_only(EvidenceWithdrawal)
