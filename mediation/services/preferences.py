"""A person's own language and time zone: a party's (its Party row, per case) or a staff member's (its User row).

A preference is not part of the dispute: changing it records no case event and bumps no case version.
"""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mediation.errors import Invalid, NotFound
from mediation.extensions import db
from mediation.i18n import normalise
from mediation.models import Party, User
from mediation.services import policy, uow
from mediation.services.actors import Actor, PartyActor, StaffActor

ZONES = frozenset(available_timezones())
# What a client may send for a language: the tags browsers and platforms use, and our own locale keys.
LANGUAGE_TAGS = frozenset({"en", "en-US", "en-GB", "zh", "zh-CN", "zh-Hans", "zh-Hans-CN", "zh_Hans_CN"})


@dataclass(frozen=True)
class Preferences:
    locale: str
    timezone: str
    timezone_chosen: bool


def preferences_of(actor: Actor) -> Preferences | None:
    """The stored preferences of a party or staff member; None for anyone else (platform, anonymous)."""
    row = _own_row(actor)
    return None if row is None else Preferences(row.locale, row.timezone, row.timezone_chosen)


def set_language(actor: Actor, case_id: int | None, locale: str, *, role: str | None = None) -> Preferences:
    """Remember `locale` as the language of `actor` (the party `role` of `case_id`, by default the actor's own
    party; a staff member's own account without a role). Raises Invalid (field `locale`), NotFound,
    Forbidden. Emits nothing."""
    return change_preferences(actor, case_id, locale=locale, role=role)


def set_time_zone(actor: Actor, case_id: int | None, zone: str, chosen: bool, *,
                  role: str | None = None) -> Preferences:
    """Set the time zone of `actor` (whose row as in `set_language`). A zone the browser reported
    (`chosen=False`) only replaces an earlier report, never the person's own choice; an explicit choice
    (`chosen=True`) always wins and is kept. Raises Invalid (field `timezone`), NotFound, Forbidden. Emits
    nothing."""
    return change_preferences(actor, case_id, timezone=zone, chosen=chosen, role=role)


def change_preferences(actor: Actor, case_id: int | None, *, locale: str | None = None,
                       timezone: str | None = None, chosen: bool = True, role: str | None = None) -> Preferences:
    """Both at once, all or nothing: a bad field changes neither. Raises Invalid (fields `locale`,
    `timezone`), NotFound, Forbidden. Emits nothing."""
    errors = {}
    if locale is not None and locale not in LANGUAGE_TAGS:
        errors["locale"] = [_l("Choose English (en) or Simplified Chinese (zh-CN).")]
    if timezone is not None and timezone not in ZONES:
        errors["timezone"] = [_l("Use an IANA zone such as Asia/Shanghai.")]
    if errors:
        raise Invalid(_l("Some fields are not valid."), errors)
    with uow.transaction():
        row = _target(actor, case_id, role)
        if locale is not None:
            row.locale = normalise(locale)
        if timezone is not None and (chosen or not row.timezone_chosen):
            row.timezone, row.timezone_chosen = timezone, row.timezone_chosen or chosen
        changed = Preferences(row.locale, row.timezone, row.timezone_chosen)
    return changed


def _own_row(actor: Actor) -> Party | User | None:
    match actor:
        case PartyActor():
            return db.session.get(Party, actor.party_id)
        case StaffActor():
            return db.session.get(User, actor.user_id)
    return None


def _target(actor: Actor, case_id: int | None, role: str | None) -> Party | User:
    """The row whose preferences change, after policy allowed it."""
    if role is None and not isinstance(actor, PartyActor):
        row = db.session.get(User, actor.user_id) if isinstance(actor, StaffActor) else None
    else:
        role = role or actor.role
        row = db.session.scalar(select(Party).where(Party.case_id == case_id, Party.role == role))
        if row is None:
            raise NotFound(_l("No such case."))
    policy.require_own(actor, policy.Action.CHANGE_PREFERENCES, row)
    return row
