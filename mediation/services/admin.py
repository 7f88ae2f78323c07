"""Operator commands: platforms, keys, endpoints, staff accounts, mediators' conflicts of interest.

The commands without an actor serve the command line and the demo; the admin pages use those that take
the acting admin (`actor`), which refuse anyone else."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from mediation import clock
from mediation.errors import Forbidden, Invalid, NotFound
from mediation.extensions import db
from mediation.models import ApiKey, MediatorConflict, Platform, RulebookVersion, User, WebhookEndpoint
from mediation.models.platform import new_webhook_secret
from mediation.services import uow
from mediation.services.actors import StaffActor


@dataclass
class CreatedPlatform:
    platform_id: int
    api_key: str
    webhook_secret: str | None


def create_platform(name: str, webhook_url: str | None = None) -> CreatedPlatform:
    """Raises Invalid when the name is taken or the URL is not http(s)."""
    name = name.strip()
    if not name:
        raise Invalid(_l("A platform needs a name."), {"name": [_l("Required.")]})
    if webhook_url and not webhook_url.startswith(("http://", "https://")):
        raise Invalid(_l("The webhook URL must start with http:// or https://."), {"webhook_url": [_l("Not a URL.")]})
    with uow.transaction():
        if db.session.scalar(select(Platform.id).where(Platform.name == name)):
            raise Invalid(_l("A platform named %(name)s exists.", name=repr(name)), {"name": [_l("Already taken.")]})
        platform = Platform(name=name)
        db.session.add(platform)
        key, plain = ApiKey.issue(platform)
        db.session.add(key)
        endpoint = None
        if webhook_url:
            endpoint = WebhookEndpoint(platform=platform, url=webhook_url)
            db.session.add(endpoint)
        db.session.flush()
    return CreatedPlatform(platform.id, plain, endpoint.secret if endpoint else None)


def create_user(*, email: str, name: str, role: str, password: str, locale: str = "en",
                timezone: str = "UTC") -> int:
    if len(password) < 10:
        raise Invalid(_l("The password is too short."), {"password": [_l("At least 10 characters.")]})
    with uow.transaction():
        if db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower())):
            raise Invalid(_l("This e-mail is taken."), {"email": [_l("Already registered.")]})
        user = User(email=email, name=name, role=role, locale=locale, timezone=timezone)
        user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
        db.session.add(user)
        db.session.flush()
    return user.id


# ---- the admin pages: every command names the acting admin ----------------------------------------------

DEADLINE_FIELDS = ("response_days", "negotiation_days", "mediation_days", "appeal_days", "proposal_days")
DAYS_MIN, DAYS_MAX = 1, 60
STAFF_LOCALES = ("en", "zh_Hans_CN")
_TIMEZONES = frozenset(available_timezones())


@dataclass
class IssuedSecret:
    """A credential made just now: `secret` is shown once and cannot be read back later."""

    id: int
    secret: str


def require_admin(actor: object) -> StaffActor:
    """Raises Forbidden unless `actor` is an admin."""
    if not (isinstance(actor, StaffActor) and actor.role == "admin"):
        raise Forbidden(_l("Only an admin can do this."))
    return actor


def register_platform(actor: StaffActor, name: str, webhook_url: str | None = None) -> CreatedPlatform:
    """A new platform with its first API key (and endpoint, given a URL). Raises Forbidden, Invalid."""
    require_admin(actor)
    name, webhook_url = (name or "").strip(), (webhook_url or "").strip() or None
    if len(name) > 200:
        raise Invalid(_l("The name is too long."), {"name": [_l("At most %(count)s characters.", count=200)]})
    if webhook_url:
        _check_url(webhook_url, "webhook_url")
    return create_platform(name, webhook_url)


def set_deadline_defaults(actor: StaffActor, platform_id: int, days: Mapping[str, object]) -> Platform:
    """Set the platform's deadlines in days, one value per stage for both parties alike.

    Cases keep the deadlines they have; new ones are set from these. Raises Forbidden, NotFound, Invalid.
    """
    require_admin(actor)
    errors = {field: [_l("A whole number from %(low)s to %(high)s.", low=DAYS_MIN, high=DAYS_MAX)]
              for field in DEADLINE_FIELDS if not _is_days(days.get(field))}
    if errors:
        raise Invalid(_l("Each deadline is from %(low)s to %(high)s days.", low=DAYS_MIN, high=DAYS_MAX), errors)
    with uow.transaction():
        platform = _platform(platform_id)
        for field in DEADLINE_FIELDS:
            setattr(platform, field, days[field])
    return platform


def choose_rulebook(actor: StaffActor, platform_id: int, rulebook_id: int | None) -> Platform:
    """Decide the platform's new cases by a rulebook with a published version; None: the standard one.

    Open cases keep the version they were opened under. Raises Forbidden, NotFound, Invalid.
    """
    require_admin(actor)
    with uow.transaction():
        platform = _platform(platform_id)
        if rulebook_id is not None and not _has_published_version(rulebook_id):
            raise Invalid(_l("Choose a rulebook with a published version."),
                          {"rulebook_id": [_l("Not a published rulebook.")]})
        platform.rulebook_id = rulebook_id
    return platform


def create_api_key(actor: StaffActor, platform_id: int) -> IssuedSecret:
    """Another API key for the platform; only its hint is kept. Raises Forbidden, NotFound."""
    require_admin(actor)
    with uow.transaction():
        key, plain = ApiKey.issue(_platform(platform_id))
        db.session.add(key)
        db.session.flush()
    return IssuedSecret(key.id, plain)


def revoke_api_key(actor: StaffActor, platform_id: int, key_id: int) -> ApiKey:
    """The key stops authenticating at once; revoking it again changes nothing. Raises Forbidden, NotFound."""
    require_admin(actor)
    with uow.transaction():
        key = db.session.get(ApiKey, key_id)
        if key is None or key.platform_id != platform_id:
            raise NotFound(_l("No such API key."))
        key.revoked_at = key.revoked_at or clock.now()
    return key


def add_endpoint(actor: StaffActor, platform_id: int, url: str) -> IssuedSecret:
    """A webhook endpoint with a fresh signing secret; later events go to it too.

    Raises Forbidden, NotFound, Invalid (not an http(s) URL).
    """
    require_admin(actor)
    url = (url or "").strip()
    _check_url(url, "url")
    with uow.transaction():
        endpoint = WebhookEndpoint(platform=_platform(platform_id), url=url, secret=new_webhook_secret())
        db.session.add(endpoint)
        db.session.flush()
    return IssuedSecret(endpoint.id, endpoint.secret)


def set_endpoint_active(actor: StaffActor, platform_id: int, endpoint_id: int, active: bool) -> WebhookEndpoint:
    """A disabled endpoint gets no deliveries for events written after; enabling it again (also one the
    deliverer disabled on a 410 Gone) lifts any pause and sends what waited. Raises Forbidden, NotFound."""
    require_admin(actor)
    with uow.transaction():
        endpoint = _endpoint(platform_id, endpoint_id)
        endpoint.active = active
        if active:
            endpoint.disabled_reason = endpoint.paused_until = None
    return endpoint


ROTATION_GRACE_HOURS = (0, 24, 72)


def rotate_endpoint_secret(actor: StaffActor, platform_id: int, endpoint_id: int,
                           grace_hours: int = 24) -> IssuedSecret:
    """A new signing secret. For `grace_hours` the old one signs too (a second signature in the header), so
    the platform can switch its receiver over; with 0 it stops at once (a leaked secret). The deliverer
    reads the secrets at each attempt, retries included. Raises Forbidden, NotFound, Invalid (grace)."""
    require_admin(actor)
    if grace_hours not in ROTATION_GRACE_HOURS:
        raise Invalid(_l("Choose one of the offered grace periods."),
                      {"grace_hours": [_l("One of %(choices)s.", choices=", ".join(map(str, ROTATION_GRACE_HOURS)))]})
    with uow.transaction():
        endpoint = _endpoint(platform_id, endpoint_id)
        endpoint.previous_secret = endpoint.secret if grace_hours else None
        endpoint.previous_secret_until = clock.now() + timedelta(hours=grace_hours) if grace_hours else None
        endpoint.secret = new_webhook_secret()
    return IssuedSecret(endpoint.id, endpoint.secret)


def register_mediator(actor: StaffActor, *, name: str, email: str, password: str, locale: str = "en",
                      timezone: str = "UTC") -> int:
    """A mediator account. Raises Forbidden, Invalid (every bad field at once; the e-mail is taken)."""
    require_admin(actor)
    name, email = (name or "").strip(), (email or "").strip()
    errors: dict[str, list] = {}
    if not name or len(name) > 200:
        errors["name"] = [_l("Required, at most %(count)s characters.", count=200)]
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        errors["email"] = [_l("Not an e-mail address.")]
    if len(password or "") < 10:
        errors["password"] = [_l("At least 10 characters.")]
    if locale not in STAFF_LOCALES:
        errors["locale"] = [_l("Not a supported language.")]
    if timezone not in _TIMEZONES:
        errors["timezone"] = [_l("Use an IANA zone such as Asia/Shanghai.")]
    if errors:
        raise Invalid(_l("Please correct the marked fields."), errors)
    return create_user(email=email, name=name, role="mediator", password=password, locale=locale,
                       timezone=timezone)


def set_mediator_active(actor: StaffActor, mediator_id: int, active: bool) -> User:
    """An inactive mediator cannot sign in and is never assigned; the cases they have stay theirs until an
    admin reassigns them. Raises Forbidden, NotFound."""
    require_admin(actor)
    with uow.transaction():
        mediator = _mediator(mediator_id)
        mediator.active = active
    return mediator


def declare_conflict(actor: StaffActor, mediator_id: int, *, platform_id: int | None = None,
                     party_external_id: str | None = None, reason: str = "") -> int:
    """Record that the mediator cannot be neutral towards a platform, or towards a party (by the platform's
    id for them; on one platform, or on any when `platform_id` is None). They are not assigned such cases.

    Raises Forbidden, NotFound, Invalid (neither platform nor party, no reason, declared already).
    """
    require_admin(actor)
    party_external_id, reason = (party_external_id or "").strip() or None, (reason or "").strip()
    errors: dict[str, list] = {}
    if platform_id is None and party_external_id is None:
        errors["party_external_id"] = [_l("Name a platform, a party, or both.")]
    if party_external_id and len(party_external_id) > 128:
        errors["party_external_id"] = [_l("At most %(count)s characters.", count=128)]
    if not reason or len(reason) > 500:
        errors["reason"] = [_l("Required, at most %(count)s characters.", count=500)]
    if errors:
        raise Invalid(_l("Please correct the marked fields."), errors)
    with uow.transaction():
        _mediator(mediator_id)
        if platform_id is not None and db.session.get(Platform, platform_id) is None:
            raise Invalid(_l("No such platform."), {"platform_id": [_l("Choose a platform from the list.")]})
        if _conflict_exists(mediator_id, platform_id, party_external_id):
            raise Invalid(_l("This conflict is declared already."), {"party_external_id": [_l("Declared already.")]})
        conflict = MediatorConflict(mediator_id=mediator_id, platform_id=platform_id,
                                    party_external_id=party_external_id, reason=reason)
        db.session.add(conflict)
        db.session.flush()
    return conflict.id


def remove_conflict(actor: StaffActor, mediator_id: int, conflict_id: int) -> None:
    """The mediator may be assigned such cases again. Raises Forbidden, NotFound."""
    require_admin(actor)
    with uow.transaction():
        conflict = db.session.get(MediatorConflict, conflict_id)
        if conflict is None or conflict.mediator_id != mediator_id:
            raise NotFound(_l("No such conflict of interest."))
        db.session.delete(conflict)

EMBED_ORIGINS_MAX = 20
# scheme://host[:port] and nothing else: the origin goes into a Content-Security-Policy header as it is.
_ORIGIN = re.compile(r"https://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?")


def set_embed_origins(actor: StaffActor, platform_id: int, origins: list[str]) -> Platform:
    """Let pages at these https origins show the platform's case rooms in a frame; [] lets none.

    Origins are compared lower-case and kept once each. Raises Forbidden, NotFound, Invalid (nothing changes).
    """
    require_admin(actor)
    cleaned = list(dict.fromkeys(origin.strip().lower() for origin in origins if origin.strip()))
    wrong = [origin for origin in cleaned if not _ORIGIN.fullmatch(origin)]
    if wrong:
        raise Invalid(_l("Each origin is https:// and a host name, with an optional port and no path."),
                      {"embed_origins": [_l("Not an https origin: %(origin)s", origin=origin) for origin in wrong]})
    if len(cleaned) > EMBED_ORIGINS_MAX:
        raise Invalid(_l("Too many origins."),
                      {"embed_origins": [_l("At most %(count)s origins.", count=EMBED_ORIGINS_MAX)]})
    with uow.transaction():
        platform = _platform(platform_id)
        platform.embed_origins = cleaned
    return platform


# Enough to catch a typo; whether the address works only a sent e-mail can tell.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _check_url(url: str, field: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000 or any(c.isspace() for c in url):
        raise Invalid(_l("The webhook URL must start with http:// or https://."),
                      {field: [_l("Enter an http:// or https:// URL.")]})


def _is_days(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and DAYS_MIN <= value <= DAYS_MAX


def _platform(platform_id: int) -> Platform:
    platform = db.session.get(Platform, platform_id)
    if platform is None:
        raise NotFound(_l("No such platform."))
    return platform


def _endpoint(platform_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.platform_id != platform_id:
        raise NotFound(_l("No such webhook endpoint."))
    return endpoint


def _mediator(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role != "mediator":
        raise NotFound(_l("No such mediator."))
    return user


def _has_published_version(rulebook_id: int) -> bool:
    return db.session.scalar(select(RulebookVersion.id).where(
        RulebookVersion.rulebook_id == rulebook_id, RulebookVersion.published_at.is_not(None)).limit(1)) is not None


def _conflict_exists(mediator_id: int, platform_id: int | None, party_external_id: str | None) -> bool:
    conflict = MediatorConflict
    return db.session.scalar(select(conflict.id).where(
        conflict.mediator_id == mediator_id,
        conflict.platform_id.is_(None) if platform_id is None else conflict.platform_id == platform_id,
        conflict.party_external_id.is_(None) if party_external_id is None
        else conflict.party_external_id == party_external_id).limit(1)) is not None
