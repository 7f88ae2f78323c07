"""Settlement proposals: an outcome one side offers and the other accepts, rejects or counters."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mediation import clock
from mediation.extensions import db
from mediation.models.types import UTCDateTime
from mediation.money import Money


class ProposalState(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    COUNTERED = "countered"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


class Proposal(db.Model):
    __tablename__ = "proposals"
    __table_args__ = (Index("ix_proposals_case_state", "case_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    author_role: Mapped[str] = mapped_column(String(10))  # buyer, seller (mediator: a recommendation)
    refund_minor: Mapped[int]
    release_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    return_required: Mapped[bool] = mapped_column(default=False)
    terms: Mapped[str] = mapped_column(Text, default="")
    counter_to_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"))
    state: Mapped[str] = mapped_column(String(20), default=ProposalState.OPEN)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(10))
    # A recommendation needs both parties: who has accepted so far ("buyer", "seller" or "buyer,seller").
    accepted_by: Mapped[str] = mapped_column(String(20), default="")

    @property
    def buyer_refund(self) -> Money:
        return Money(self.refund_minor, self.currency)

    @property
    def seller_release(self) -> Money:
        return Money(self.release_minor, self.currency)

    def needs_answer_from(self) -> tuple[str, ...]:
        """Who must accept: the other party, or both parties for a mediator's recommendation."""
        if self.author_role == "mediator":
            return ("buyer", "seller")
        return ("seller",) if self.author_role == "buyer" else ("buyer",)

    def decide(self, state: ProposalState, by: str | None) -> None:
        self.state = state
        self.decided_at = clock.now()
        self.decided_by = by
