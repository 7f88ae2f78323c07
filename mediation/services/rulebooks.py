"""Rulebooks: which published version a case is decided by, its clauses, and how admins write new versions.

A rulebook has numbered versions. An admin starts a draft (a copy of the newest version's clauses), edits
its clauses and publishes it; from then on the version and its clauses never change (this module refuses,
and so does the ORM guard in `mediation.models.rulebook`). Cases keep the version they opened under.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from mediation import clock
from mediation.errors import Forbidden, Invalid, InvalidTransition, NotFound
from mediation.extensions import db
from mediation.models import Clause, Rulebook, RulebookVersion
from mediation.services import uow
from mediation.services.actors import Actor, StaffActor

LOCALES = {"en": "en", "zh": "zh_Hans_CN"}  # field suffix -> locale key of the texts
SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
CLAUSE_NUMBER = re.compile(r"[0-9]{1,4}(\.[0-9]{1,4}){0,2}")
MAX_TITLE = 200
MAX_BODY = 10_000
MAX_SUMMARY = 2_000


# ---- reading: cases and the public pages ---------------------------------------------------------


def version_in_force(platform_rulebook_id):
    """The newest published version of a platform's rulebook (the standard one if it chose none), as a scalar
    subquery over `platform_rulebook_id` (the platforms.rulebook_id column of the enclosing query)."""
    standard = (select(Rulebook.id).join(RulebookVersion).where(RulebookVersion.published_at.is_not(None))
                .order_by(Rulebook.id).limit(1).scalar_subquery())
    return (select(RulebookVersion.id)
            .where(RulebookVersion.rulebook_id == func.coalesce(platform_rulebook_id, standard),
                   RulebookVersion.published_at.is_not(None))
            .order_by(RulebookVersion.number.desc()).limit(1).scalar_subquery())


def clauses_of(version_id: int, clause_ids: list[int]) -> list[Clause]:
    """The clauses among `clause_ids` that belong to the version; the caller compares the counts."""
    if not clause_ids:
        return []
    return list(db.session.scalars(select(Clause).where(Clause.version_id == version_id,
                                                        Clause.id.in_(clause_ids))))


@dataclass
class Listing:
    rulebook: Rulebook
    versions: list[RulebookVersion]  # oldest first


def published_rulebooks() -> list[Listing]:
    """The public view: rulebooks with their published versions; drafts and unpublished rulebooks are left out."""
    listings = [Listing(book, [v for v in book.versions if v.published]) for book in _all_rulebooks()]
    return [listing for listing in listings if listing.versions]


def list_rulebooks(actor: Actor) -> list[Listing]:
    """The admin view: every rulebook with all its versions, drafts included. Raises Forbidden."""
    require_admin(actor)
    return [Listing(book, list(book.versions)) for book in _all_rulebooks()]


def _all_rulebooks() -> list[Rulebook]:
    return list(db.session.scalars(select(Rulebook).options(selectinload(Rulebook.versions)).order_by(Rulebook.id)))


def published_version(slug: str, number: int) -> RulebookVersion:
    """A published version with its clauses. Raises NotFound for drafts too: they are never public."""
    version = db.session.scalar(
        select(RulebookVersion).join(Rulebook).options(selectinload(RulebookVersion.clauses))
        .where(Rulebook.slug == slug, RulebookVersion.number == number, RulebookVersion.published_at.is_not(None)))
    if version is None:
        raise NotFound(_l("There is no published version %(number)s of this rulebook.", number=number))
    return version


def newest_published(slug: str) -> RulebookVersion:
    """Raises NotFound when the rulebook does not exist or has nothing published."""
    version = db.session.scalar(
        select(RulebookVersion).join(Rulebook)
        .where(Rulebook.slug == slug, RulebookVersion.published_at.is_not(None))
        .order_by(RulebookVersion.number.desc()).limit(1))
    if version is None:
        raise NotFound(_l("There is no published rulebook at this address."))
    return version


def newer_version(version: RulebookVersion) -> RulebookVersion | None:
    """The newest published version after `version`, if the rulebook has one."""
    return db.session.scalar(select(RulebookVersion).where(
        RulebookVersion.rulebook_id == version.rulebook_id, RulebookVersion.number > version.number,
        RulebookVersion.published_at.is_not(None)).order_by(RulebookVersion.number.desc()).limit(1))


def clause_path(clause: Clause) -> str:
    """Where a cited clause is read: `/rules/<slug>/v<n>#clause-<number>` (web.rules.clause_url wraps it)."""
    version = clause.version
    return f"/rules/{version.rulebook.slug}/v{version.number}#{clause.anchor}"


# ---- permission ----------------------------------------------------------------------------------


def require_admin(actor: Actor) -> StaffActor:
    """Only admins write rulebooks. Raises Forbidden for everyone else (mediators, parties, anonymous)."""
    if not (isinstance(actor, StaffActor) and actor.role == "admin"):
        raise Forbidden(_l("Only an administrator can change rulebooks."))
    return actor


# ---- admin reads ---------------------------------------------------------------------------------


def get_rulebook(actor: Actor, rulebook_id: int) -> Rulebook:
    """Raises Forbidden (not an admin), NotFound."""
    require_admin(actor)
    rulebook = db.session.get(Rulebook, rulebook_id)
    if rulebook is None:
        raise NotFound(_l("No such rulebook."))
    return rulebook


def get_version(actor: Actor, version_id: int) -> RulebookVersion:
    """Any version, drafts included. Raises Forbidden (not an admin), NotFound."""
    require_admin(actor)
    version = db.session.get(RulebookVersion, version_id)
    if version is None:
        raise NotFound(_l("No such rulebook version."))
    return version


def draft_clause(actor: Actor, clause_id: int) -> Clause:
    """A clause the admin may still change. Raises Forbidden, NotFound, InvalidTransition (published)."""
    require_admin(actor)
    clause = db.session.scalar(select(Clause).where(Clause.id == clause_id)
                               .execution_options(populate_existing=True))
    if clause is None:
        raise NotFound(_l("No such clause."))
    _draft(actor, clause.version_id)
    return clause


def draft_of(rulebook: Rulebook) -> RulebookVersion | None:
    return next((version for version in rulebook.versions if not version.published), None)


def missing_translations(version: RulebookVersion) -> list[Clause]:
    """Clauses without a Chinese title or body: allowed, but the admin pages point them out."""
    zh = LOCALES["zh"]
    return [c for c in version.clauses if not (c.title or {}).get(zh) or not (c.body or {}).get(zh)]


# ---- commands ------------------------------------------------------------------------------------


def create_rulebook(actor: Actor, slug: str, title: dict[str, str]) -> Rulebook:
    """A new, empty rulebook. Raises Forbidden, Invalid (slug malformed or taken, English title missing)."""
    require_admin(actor)
    slug = (slug or "").strip()
    errors = _text_errors("title", title, MAX_TITLE)
    if not SLUG.fullmatch(slug) or len(slug) > 64:
        errors["slug"] = [_l("Lower-case letters, digits and single hyphens, at most 64 characters.")]
    if errors:
        raise Invalid(_l("The rulebook needs an address and an English title."), errors)
    with uow.transaction():
        if db.session.scalar(select(Rulebook.id).where(Rulebook.slug == slug)):
            raise Invalid(_l("A rulebook with this address exists."), {"slug": [_l("Already taken.")]})
        rulebook = Rulebook(slug=slug, title=_texts(title), created_at=clock.now())
        db.session.add(rulebook)
    return rulebook


def start_draft(actor: Actor, rulebook_id: int) -> RulebookVersion:
    """The next version as a draft, with a copy of the newest version's clauses so the admin edits
    rather than retypes. Raises Forbidden, NotFound, InvalidTransition (a draft is already open)."""
    require_admin(actor)
    with uow.transaction():
        rulebook = _locked(Rulebook, rulebook_id)  # one new version at a time per rulebook
        if rulebook is None:
            raise NotFound(_l("No such rulebook."))
        versions = list(db.session.scalars(
            select(RulebookVersion).where(RulebookVersion.rulebook_id == rulebook.id)
            .order_by(RulebookVersion.number).execution_options(populate_existing=True)))
        if any(not version.published for version in versions):
            raise InvalidTransition(_l("This rulebook already has a draft; finish or publish it first."))
        previous = versions[-1] if versions else None  # published: its clauses are final
        copies = [Clause(number=clause.number, position=clause.position, title=dict(clause.title),
                         body=dict(clause.body)) for clause in (previous.clauses if previous else [])]
        draft = RulebookVersion(rulebook=rulebook, number=previous.number + 1 if previous else 1,
                                created_by=actor.user_id, created_at=clock.now(), summary={}, clauses=copies)
        db.session.add(draft)
    return draft


def add_clause(actor: Actor, version_id: int, number: str, title: dict[str, str], body: dict[str, str]) -> Clause:
    """A clause at the end of a draft. Raises Forbidden, NotFound, InvalidTransition (published),
    Invalid (number malformed or taken, English title or body missing, texts too long)."""
    number = _check_clause(number, title, body)
    with uow.transaction():
        version = _draft(actor, version_id)
        _check_number_free(version, number)
        clause = Clause(number=number, position=max((c.position for c in version.clauses), default=0) + 1,
                        title=_texts(title), body=_texts(body))
        version.clauses.append(clause)
    return clause


def edit_clause(actor: Actor, clause_id: int, number: str, title: dict[str, str], body: dict[str, str]) -> Clause:
    """Raises Forbidden, NotFound, InvalidTransition (published), Invalid (as for add_clause)."""
    number = _check_clause(number, title, body)
    with uow.transaction():
        clause = draft_clause(actor, clause_id)
        _check_number_free(clause.version, number, besides=clause)
        clause.number, clause.title, clause.body = number, _texts(title), _texts(body)
    return clause


def remove_clause(actor: Actor, clause_id: int) -> None:
    """Raises Forbidden, NotFound, InvalidTransition (published)."""
    with uow.transaction():
        clause = draft_clause(actor, clause_id)
        version = clause.version
        version.clauses.remove(clause)
        db.session.delete(clause)
        _renumber_positions(version.clauses)


def move_clause(actor: Actor, clause_id: int, offset: int) -> None:
    """Moves a clause up (-1) or down (+1) in the draft; at either end it stays where it is.
    Raises Forbidden, NotFound, InvalidTransition (published), Invalid (offset)."""
    if offset not in (-1, 1):
        raise Invalid(_l("A clause moves one place up or down."), {"direction": [_l("Up or down.")]})
    with uow.transaction():
        clause = draft_clause(actor, clause_id)
        ordered = sorted(clause.version.clauses, key=lambda c: (c.position, c.id))
        index = ordered.index(clause)
        target = index + offset
        if 0 <= target < len(ordered):
            ordered[index], ordered[target] = ordered[target], ordered[index]
        _renumber_positions(ordered)


def set_summary(actor: Actor, version_id: int, summary: dict[str, str]) -> RulebookVersion:
    """What changed in this version, per locale (optional). Raises Forbidden, NotFound,
    InvalidTransition (published), Invalid (too long)."""
    errors = {f"summary_{suffix}": [_l("At most %(count)s characters.", count=MAX_SUMMARY)]
              for suffix, locale in LOCALES.items() if len((summary or {}).get(locale) or "") > MAX_SUMMARY}
    if errors:
        raise Invalid(_l("The summary is too long."), errors)
    with uow.transaction():
        version = _draft(actor, version_id)
        version.summary = _texts(summary)
    return version


def publish_version(actor: Actor, version_id: int) -> RulebookVersion:
    """Publishes a draft: from now on it is public, cases opened afterwards are decided by it, and it never
    changes. Raises Forbidden, NotFound, InvalidTransition (already published, or no clauses)."""
    with uow.transaction():
        version = _draft(actor, version_id)
        if not version.clauses:
            raise InvalidTransition(_l("A version needs at least one clause before it is published."))
        version.published_at = clock.now()
    return version


# ---- helpers -------------------------------------------------------------------------------------


def _draft(actor: Actor, version_id: int) -> RulebookVersion:
    """The version, read afresh and locked for this write, so a publication that just happened elsewhere
    is seen (SQLite's writer lock serialises by itself; PostgreSQL needs the row lock)."""
    require_admin(actor)
    version = _locked(RulebookVersion, version_id)
    if version is None:
        raise NotFound(_l("No such rulebook version."))
    if version.published:
        raise InvalidTransition(_l("A published version never changes; start a new draft instead."))
    return version


def _locked(model, row_id: int):
    return db.session.scalar(select(model).where(model.id == row_id).with_for_update()
                             .execution_options(populate_existing=True))


def _renumber_positions(clauses: list[Clause]) -> None:
    # Dense positions 1..n keep "up" and "down" meaningful after removals and copies.
    for position, clause in enumerate(clauses, start=1):
        if clause.position != position:
            clause.position = position


def _check_clause(number: str, title: dict[str, str], body: dict[str, str]) -> str:
    number = (number or "").strip()
    errors = {**_text_errors("title", title, MAX_TITLE), **_text_errors("body", body, MAX_BODY)}
    if not CLAUSE_NUMBER.fullmatch(number):
        errors["number"] = [_l("A number such as 4 or 4.2.")]
    if errors:
        raise Invalid(_l("The clause needs a number and an English title and text."), errors)
    return number


def _check_number_free(version: RulebookVersion, number: str, besides: Clause | None = None) -> None:
    taken = db.session.scalar(select(func.count(Clause.id)).where(
        Clause.version_id == version.id, Clause.number == number,
        Clause.id != (besides.id if besides else -1)))
    if taken:
        raise Invalid(_l("This version already has a clause %(number)s.", number=number),
                      {"number": [_l("Already used in this version.")]})


def _text_errors(field: str, texts: dict[str, str] | None, limit: int) -> dict[str, list]:
    """Field errors `<field>_en` / `<field>_zh`: English is required, Chinese optional."""
    texts = texts or {}
    errors: dict[str, list] = {}
    if not (texts.get("en") or "").strip():
        errors[f"{field}_en"] = [_l("Required in English.")]
    for suffix, locale in LOCALES.items():
        if len((texts.get(locale) or "").strip()) > limit:
            errors[f"{field}_{suffix}"] = [_l("At most %(count)s characters.", count=limit)]
    return errors


def _texts(texts: dict[str, str] | None) -> dict[str, str]:
    """Only the supported locales, trimmed, empty ones left out (so a missing translation is absent)."""
    texts = texts or {}
    return {locale: texts[locale].strip() for locale in LOCALES.values() if (texts.get(locale) or "").strip()}
