"""Published rules that rulings cite: a rulebook, its numbered versions, and their clauses.

A version is written as a draft and then published; a published version and its clauses never change
(the ORM refuses it below; bulk `update()`/`delete()` statements bypass that guard, so services use neither).
Texts are kept per locale (`{"en": ..., "zh_Hans_CN": ...}`) and shown in the reader's language.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Connection, ForeignKey, String, UniqueConstraint, event, select
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


class PublishedRulebookError(RuntimeError):
    """A published version, or one of its clauses, was about to change: rulings cite them as they are."""


def _published_in_database(connection: Connection, version_id: int | None) -> bool:
    # Ask the database, not the object: the object already carries the change being refused, and a
    # draft that is being published right now must still be writable in this one flush.
    if version_id is None:
        return False
    versions = RulebookVersion.__table__
    return connection.scalar(select(versions.c.published_at).where(versions.c.id == version_id)) is not None


@event.listens_for(RulebookVersion, "before_update")
@event.listens_for(RulebookVersion, "before_delete")
def _refuse_version_change(_mapper, connection: Connection, target: RulebookVersion) -> None:
    if _published_in_database(connection, target.id):
        raise PublishedRulebookError(f"rulebook version {target.id} is published and cannot change")


@event.listens_for(Clause, "before_update")
@event.listens_for(Clause, "before_delete")
def _refuse_clause_change(_mapper, connection: Connection, target: Clause) -> None:
    clauses = Clause.__table__
    stored_version = connection.scalar(select(clauses.c.version_id).where(clauses.c.id == target.id))
    # Both the version the row is in and the one it would move to must be drafts.
    if _published_in_database(connection, stored_version) or _published_in_database(connection, target.version_id):
        raise PublishedRulebookError(f"clause {target.id} belongs to a published version and cannot change")
