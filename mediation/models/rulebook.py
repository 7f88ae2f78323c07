"""Published rules that rulings cite: a rulebook, its numbered versions, and their clauses.

A version is written as a draft and then published; a published version and its clauses never change.
Texts are kept per locale (`{"en": ..., "zh_Hans_CN": ...}`) and shown in the reader's language.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation import clock
from mediation.extensions import db
from mediation.models.types import UTCDateTime


def localized(texts: dict | None, locale: str) -> str:
    """The text in `locale`, else English, else any."""
    texts = texts or {}
    return texts.get(locale) or texts.get(locale.split("_")[0]) or texts.get("en") or next(iter(texts.values()), "")


class Rulebook(db.Model):
    __tablename__ = "rulebooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    versions: Mapped[list[RulebookVersion]] = relationship(back_populates="rulebook",
                                                           order_by="RulebookVersion.number")


class RulebookVersion(db.Model):
    __tablename__ = "rulebook_versions"
    __table_args__ = (UniqueConstraint("rulebook_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rulebook_id: Mapped[int] = mapped_column(ForeignKey("rulebooks.id"))
    number: Mapped[int]
    summary: Mapped[dict] = mapped_column(JSON, default=dict)  # what changed, per locale
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: a draft

    rulebook: Mapped[Rulebook] = relationship(back_populates="versions")
    clauses: Mapped[list[Clause]] = relationship(back_populates="version", order_by="Clause.position")

    @property
    def published(self) -> bool:
        return self.published_at is not None


class Clause(db.Model):
    __tablename__ = "clauses"
    __table_args__ = (UniqueConstraint("version_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("rulebook_versions.id"), index=True)
    number: Mapped[str] = mapped_column(String(16))  # "4", "4.2": the anchor is clause-4.2
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[dict] = mapped_column(JSON, default=dict)
    body: Mapped[dict] = mapped_column(JSON, default=dict)

    version: Mapped[RulebookVersion] = relationship(back_populates="clauses")

    @property
    def anchor(self) -> str:
        return f"clause-{self.number}"
