"""Chat messages. Immutable: a correction is a new message."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mediation import clock
from mediation.extensions import db
from mediation.models.types import UTCDateTime

CHANNELS = ("joint", "caucus:buyer", "caucus:seller")


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        # History and catch-up are keyset scans of this index: cost does not grow with the case.
        Index("ix_messages_case_channel_id", "case_id", "channel", "id"),
        # One stored message per sender and client_id, however often the client resends.
        UniqueConstraint("case_id", "sender", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    channel: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(40))  # "party:12", "user:3"
    author_role: Mapped[str] = mapped_column(String(10))  # buyer, seller, mediator, admin
    author_name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ReadMarker(db.Model):
    """How far one participant has read one channel."""

    __tablename__ = "read_markers"
    __table_args__ = (UniqueConstraint("case_id", "sender", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    sender: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    message_id: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
