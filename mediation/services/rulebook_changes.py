"""What changed between two published versions of a rulebook, clause by clause, in the reader's language.

Clauses are matched by number (the number is what rulings cite, so it is the clause's identity); a clause
whose number is new was added, one whose number is gone was removed, and a kept one changed when its title
or body differs in the language shown. Texts are compared word by word (character by character for
Chinese, which has no spaces), so a reader sees the words that changed rather than whole paragraphs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mediation.errors import NotFound
from mediation.extensions import db
from mediation.models import Clause, RulebookVersion, localized
from mediation.services.rulebooks import published_version

# A word with the space after it, one CJK character, or one other character: the units compared.
_CJK = "\u3400-\u9fff\uf900-\ufaff"
_TOKENS = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+\s*|\s+|.")


@dataclass(frozen=True)
class Piece:
    """A run of text that is the same in both versions ("same"), only in the newer ("added") or only in the
    older ("removed")."""

    kind: str
    text: str


@dataclass(frozen=True)
class ClauseChange:
    number: str
    anchor: str
    status: str  # added, removed, changed, unchanged
    title: list[Piece]
    body: list[Piece]


@dataclass(frozen=True)
class Comparison:
    older: RulebookVersion
    newer: RulebookVersion
    changes: list[ClauseChange]

    @property
    def changed(self) -> list[ClauseChange]:
        return [change for change in self.changes if change.status != "unchanged"]


def previous_published(version: RulebookVersion) -> RulebookVersion | None:
    """The newest published version before `version`, if the rulebook has one."""
    return db.session.scalar(
        select(RulebookVersion).options(selectinload(RulebookVersion.clauses))
        .where(RulebookVersion.rulebook_id == version.rulebook_id, RulebookVersion.number < version.number,
               RulebookVersion.published_at.is_not(None))
        .order_by(RulebookVersion.number.desc()).limit(1))


def compare(slug: str, number: int, locale: str, against: int | None = None) -> Comparison:
    """Published version `number` of rulebook `slug` against version `against` (default: the previous
    published one), in `locale`. Raises NotFound when either is not published or there is nothing earlier."""
    newer = published_version(slug, number)
    if against is None:
        older = previous_published(newer)
        if older is None:
            raise NotFound(_l("Version %(number)s is the first: there is nothing to compare it with.", number=number))
    elif against >= number:
        raise NotFound(_l("Compare a version with an earlier one."))
    else:
        older = published_version(slug, against)
    return Comparison(older, newer, clause_changes(older.clauses, newer.clauses, locale))


def clause_changes(older: list[Clause], newer: list[Clause], locale: str) -> list[ClauseChange]:
    """Every clause of either version, in the newer version's order, with removed ones where they stood."""
    before = {clause.number: clause for clause in older}
    after = {clause.number: clause for clause in newer}
    changes = []
    for clause in older:
        if clause.number not in after:
            changes.append(_change(clause.number, clause, None, locale))
    for clause in newer:
        changes.append(_change(clause.number, before.get(clause.number), clause, locale))
    order = {number: position for position, number in enumerate([*after, *[n for n in before if n not in after]])}
    return sorted(changes, key=lambda change: order[change.number])


def word_diff(old: str, new: str) -> list[Piece]:
    """`old` to `new` as same / removed / added pieces, neighbouring pieces of a kind joined."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    pieces: list[Piece] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            _append(pieces, "same", "".join(a[i1:i2]))
            continue
        _append(pieces, "removed", "".join(a[i1:i2]))
        _append(pieces, "added", "".join(b[j1:j2]))
    return pieces


def _change(number: str, old: Clause | None, new: Clause | None, locale: str) -> ClauseChange:
    old_title, old_body = (localized(old.title, locale), localized(old.body, locale)) if old else ("", "")
    new_title, new_body = (localized(new.title, locale), localized(new.body, locale)) if new else ("", "")
    if old is None:
        status = "added"
    elif new is None:
        status = "removed"
    else:
        status = "unchanged" if (old_title, old_body) == (new_title, new_body) else "changed"
    return ClauseChange(number, f"clause-{number}", status, word_diff(old_title, new_title),
                        word_diff(old_body, new_body))


def _append(pieces: list[Piece], kind: str, text: str) -> None:
    if not text:
        return
    if pieces and pieces[-1].kind == kind:
        pieces[-1] = Piece(kind, pieces[-1].text + text)
    else:
        pieces.append(Piece(kind, text))
