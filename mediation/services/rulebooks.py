"""Rulebooks: which published version a case is decided by, and its clauses."""
from __future__ import annotations

from sqlalchemy import select

from mediation.extensions import db
from mediation.models import Clause, Platform, Rulebook, RulebookVersion


def version_in_force(platform: Platform) -> RulebookVersion | None:
    """The newest published version of the platform's rulebook (the standard one if it chose none)."""
    rulebook_id = platform.rulebook_id or db.session.scalar(
        select(Rulebook.id).join(RulebookVersion).where(RulebookVersion.published_at.is_not(None))
        .order_by(Rulebook.id).limit(1))
    if rulebook_id is None:
        return None
    return db.session.scalar(select(RulebookVersion).where(
        RulebookVersion.rulebook_id == rulebook_id, RulebookVersion.published_at.is_not(None))
        .order_by(RulebookVersion.number.desc()).limit(1))


def clauses_of(version_id: int, clause_ids: list[int]) -> list[Clause]:
    """The clauses among `clause_ids` that belong to the version; the caller compares the counts."""
    if not clause_ids:
        return []
    return list(db.session.scalars(select(Clause).where(Clause.version_id == version_id,
                                                        Clause.id.in_(clause_ids))))
