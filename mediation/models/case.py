"""A dispute between one buyer and one seller about one order, and its parties."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation import clock
from mediation.extensions import db
from mediation.models.types import UTCDateTime
from mediation.money import Money


class CaseState(enum.StrEnum):
    OPEN = "open"
    NEGOTIATION = "negotiation"
    MEDIATION = "mediation"
    SETTLED = "settled"
    RULED = "ruled"
    APPEALED = "appealed"
    FINAL = "final"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


REASONS = ("not_received", "not_as_described", "damaged", "counterfeit", "unauthorized", "other")
PARTY_ROLES = ("buyer", "seller")
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference() -> str:
    code = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"MD-{code[:4]}-{code[4:]}"


def other_role(role: str) -> str:
    return "seller" if role == "buyer" else "buyer"


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("platform_id", "id"),
        Index("ix_cases_platform_order", "platform_id", "external_order_id"),
        Index("ix_cases_platform_state", "platform_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True, default=new_reference)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id"))
    external_order_id: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int]
    held_minor: Mapped[int | None]
    claimant_role: Mapped[str] = mapped_column(String(10), default="buyer")
    state: Mapped[str] = mapped_column(String(20), default=CaseState.OPEN)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extra: Mapped[dict] = mapped_column("metadata", JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Outcome, set when the case is settled, ruled final or withdrawn.
    resolution: Mapped[str | None] = mapped_column(String(20))
    refund_minor: Mapped[int | None]
    release_minor: Mapped[int | None]
    return_required: Mapped[bool | None]
    terms: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    execution_reference: Mapped[str | None] = mapped_column(String(200))
    # The neutral on the case once it is in mediation.
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The second neutral, who decides an appeal; never the one who ruled.
    appeal_mediator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The rules the case is decided by: the version in force when it opened.
    rulebook_version_id: Mapped[int | None] = mapped_column(ForeignKey("rulebook_versions.id"))
    # The deadline the 24 h reminder went out for; a moved deadline earns a new reminder.
    reminded_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Optimistic lock: every recorded event bumps it, so two conflicting commands cannot both win.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    platform = relationship("Platform")
    parties: Mapped[list[Party]] = relationship(back_populates="case", order_by="Party.id")

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def held_amount(self) -> Money | None:
        return None if self.held_minor is None else Money(self.held_minor, self.currency)

    @property
    def respondent_role(self) -> str:
        return other_role(self.claimant_role)

    def party(self, role: str) -> Party:
        return next(p for p in self.parties if p.role == role)

    def set_outcome(self, resolution: str, refund: Money, release: Money, return_required: bool,
                    terms: str) -> None:
        self.resolution = resolution
        self.refund_minor = refund.minor
        self.release_minor = release.minor
        self.return_required = return_required
        self.terms = terms
        self.resolved_at = clock.now()


class Party(db.Model):
    """Buyer or seller of one case, as the platform named them."""

    __tablename__ = "parties"
    __table_args__ = (UniqueConstraint("case_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    role: Mapped[str] = mapped_column(String(10))
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(20), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # False while the zone is the browser's guess (updated on each visit); True once the party picked one.
    timezone_chosen: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # Bumped to revoke every join link and party token issued before.
    link_generation: Mapped[int] = mapped_column(default=1)

    case: Mapped[Case] = relationship(back_populates="parties")


class IdempotencyKey(db.Model):
    """A platform's Idempotency-Key for POST /cases: the same key and body open one case."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("platform_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
