"""Rulings and appeals. Both are written once and never changed: a decision on appeal is a new row."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation import clock
from mediation.extensions import db
from mediation.models.types import UTCDateTime
from mediation.money import Money

ruling_clauses = Table(
    "ruling_clauses", db.metadata,
    Column("ruling_id", ForeignKey("rulings.id"), primary_key=True),
    Column("clause_id", ForeignKey("clauses.id"), primary_key=True),
)


class Ruling(db.Model):
    """A mediator's decision: the outcome, a written rationale and the clauses it rests on.

    `kind` is `ruling` (issued in mediation) or `appeal` (the appeal mediator's decision, which upholds
    the ruling appealed or replaces it).
    """

    __tablename__ = "rulings"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    mediator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10), default="ruling")
    decision: Mapped[str | None] = mapped_column(String(10))  # uphold | replace, for kind=appeal
    refund_minor: Mapped[int]
    release_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    return_required: Mapped[bool] = mapped_column(default=False)
    terms: Mapped[str] = mapped_column(Text, default="")
    rationale: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    clauses = relationship("Clause", secondary=ruling_clauses, order_by="Clause.position")
    mediator = relationship("User")

    @property
    def buyer_refund(self) -> Money:
        return Money(self.refund_minor, self.currency)

    @property
    def seller_release(self) -> Money:
        return Money(self.release_minor, self.currency)


class Appeal(db.Model):
    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    ruling_id: Mapped[int] = mapped_column(ForeignKey("rulings.id"))
    appellant_role: Mapped[str] = mapped_column(String(10))
    grounds: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("rulings.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ruling: Mapped[Ruling] = relationship(foreign_keys=[ruling_id])
    decision: Mapped[Ruling | None] = relationship(foreign_keys=[decision_id])
