"""What the admin pages read: platforms, mediators and their load, the webhook delivery log, every case.

Read-only; each function takes the acting admin and refuses anyone else (admin.require_admin). Long lists
are keyset-paginated by id, newest first: `before` is the smallest id of the page before.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from mediation.errors import NotFound
from mediation.extensions import db
from mediation.models import (
    ApiKey,
    Case,
    CaseEvent,
    DeliveryAttempt,
    MediatorConflict,
    Platform,
    Rulebook,
    RulebookVersion,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)
from mediation.services import cases, messages, policy
from mediation.services.actors import StaffActor
from mediation.services.admin import require_admin
from mediation.services.assignment import mediator_name
from mediation.services.mediators import _OPEN_WORK as OPEN_WORK  # the load shown is the load assignment balances

PAGE_SIZE = 50
JOINT_MESSAGES = 100
DELIVERY_STATES = ("pending", "delivered", "failed")


@dataclass
class Page:
    rows: list[Any]
    next_before: int | None  # pass as `before` for the next (older) page; None: this is the last


@dataclass
class PlatformRow:
    platform: Platform
    active_keys: int
    active_endpoints: int


@dataclass
class PlatformDetail:
    platform: Platform
    keys: list[ApiKey]
    endpoints: list[WebhookEndpoint]


@dataclass
class MediatorRow:
    user: User
    open_cases: int


@dataclass
class MediatorDetail:
    user: User
    open_cases: int
    conflicts: list[tuple[MediatorConflict, str | None]]  # with the platform's name, if on one


@dataclass
class DeliveryRow:
    delivery: WebhookDelivery
    message: WebhookMessage
    url: str
    platform: str


@dataclass
class DeliveryDetail(DeliveryRow):
    attempts: list[DeliveryAttempt]


@dataclass
class CaseRecord:
    case: Case
    platform: str
    mediator: str | None
    appeal_mediator: str | None
    events: list[CaseEvent]
    joint: list[Any]  # the joint channel's latest messages, oldest first
    older_messages: bool
    outcome: dict | None  # cases.outcome_payload, once there is one


def platforms(actor: StaffActor) -> list[PlatformRow]:
    require_admin(actor)
    keys = (select(func.count(ApiKey.id)).where(ApiKey.platform_id == Platform.id, ApiKey.revoked_at.is_(None))
            .correlate(Platform).scalar_subquery())
    endpoints = (select(func.count(WebhookEndpoint.id))
                 .where(WebhookEndpoint.platform_id == Platform.id, WebhookEndpoint.active.is_(True))
                 .correlate(Platform).scalar_subquery())
    rows = db.session.execute(select(Platform, keys, endpoints).order_by(Platform.name))
    return [PlatformRow(*row) for row in rows]


def platform_names(actor: StaffActor) -> list[tuple[int, str]]:
    """(id, name) of every platform, by name: for filters and selects."""
    require_admin(actor)
    return [tuple(row) for row in db.session.execute(select(Platform.id, Platform.name).order_by(Platform.name))]


def platform_detail(actor: StaffActor, platform_id: int) -> PlatformDetail:
    require_admin(actor)
    platform = db.session.get(Platform, platform_id)
    if platform is None:
        raise NotFound(_l("No such platform."))
    keys = db.session.scalars(select(ApiKey).where(ApiKey.platform_id == platform_id).order_by(ApiKey.id.desc()))
    endpoints = db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.platform_id == platform_id)
                                   .order_by(WebhookEndpoint.id))
    return PlatformDetail(platform, list(keys), list(endpoints))


def published_rulebooks(actor: StaffActor) -> list[Rulebook]:
    """Rulebooks with at least one published version: the ones a platform may choose."""
    require_admin(actor)
    published = select(RulebookVersion.id).where(RulebookVersion.rulebook_id == Rulebook.id,
                                                 RulebookVersion.published_at.is_not(None))
    return list(db.session.scalars(select(Rulebook).where(published.exists()).order_by(Rulebook.id)))


def mediators(actor: StaffActor, *, active_only: bool = False) -> list[MediatorRow]:
    """Mediators by name with the number of open cases each works (as mediator or appeal mediator)."""
    require_admin(actor)
    query = select(User, _open_load()).where(User.role == "mediator").order_by(User.name, User.id)
    if active_only:
        query = query.where(User.active.is_(True))
    return [MediatorRow(*row) for row in db.session.execute(query)]


def mediator_detail(actor: StaffActor, mediator_id: int) -> MediatorDetail:
    require_admin(actor)
    row = db.session.execute(select(User, _open_load()).where(User.id == mediator_id,
                                                              User.role == "mediator")).first()
    if row is None:
        raise NotFound(_l("No such mediator."))
    conflicts = db.session.execute(
        select(MediatorConflict, Platform.name).outerjoin(Platform, Platform.id == MediatorConflict.platform_id)
        .where(MediatorConflict.mediator_id == mediator_id).order_by(MediatorConflict.id))
    return MediatorDetail(row[0], row[1], [tuple(c) for c in conflicts])


def _open_load():
    return (select(func.count(Case.id))
            .where(or_(Case.mediator_id == User.id, Case.appeal_mediator_id == User.id), Case.state.in_(OPEN_WORK))
            .correlate(User).scalar_subquery())


_DELIVERIES = (select(WebhookDelivery, WebhookMessage, WebhookEndpoint.url, Platform.name)
               .join(WebhookMessage, WebhookMessage.id == WebhookDelivery.message_id)
               .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
               .join(Platform, Platform.id == WebhookMessage.platform_id))


def deliveries(actor: StaffActor, *, platform_id: int | None = None, state: str | None = None,
               before: int | None = None, limit: int = PAGE_SIZE) -> Page:
    """The delivery log, newest first."""
    require_admin(actor)
    query = _DELIVERIES.order_by(WebhookDelivery.id.desc()).limit(limit + 1)
    if platform_id is not None:
        query = query.where(WebhookMessage.platform_id == platform_id)
    if state:
        query = query.where(WebhookDelivery.state == state)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    return _page([DeliveryRow(*row) for row in db.session.execute(query)], limit, lambda r: r.delivery.id)


def delivery_detail(actor: StaffActor, delivery_id: int) -> DeliveryDetail:
    require_admin(actor)
    row = db.session.execute(_DELIVERIES.where(WebhookDelivery.id == delivery_id)).first()
    if row is None:
        raise NotFound(_l("No such delivery."))
    attempts = db.session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id)
                                  .order_by(DeliveryAttempt.id))
    return DeliveryDetail(*row, attempts=list(attempts))


def case_list(actor: StaffActor, *, state: str | None = None, platform_id: int | None = None,
              before: int | None = None, limit: int = PAGE_SIZE) -> Page:
    """Every case the admin may see (all of them), newest first, with the platform's name."""
    require_admin(actor)
    query = (select(Case, Platform.name).join(Platform, Platform.id == Case.platform_id)
             .where(policy.visible_cases(actor)).order_by(Case.id.desc()).limit(limit + 1))
    if state:
        query = query.where(Case.state == state)
    if platform_id is not None:
        query = query.where(Case.platform_id == platform_id)
    if before is not None:
        query = query.where(Case.id < before)
    return _page([tuple(row) for row in db.session.execute(query)], limit, lambda r: r[0].id)


def case_record(actor: StaffActor, case_id: int) -> CaseRecord:
    """The case as the admin sees it: facts, the chained log and the joint channel (never a caucus:
    policy lets an admin read the joint channel only)."""
    require_admin(actor)
    events = cases.case_events(actor, case_id)  # raises NotFound like every case read
    case = cases.get_case(actor, case_id)
    joint = messages.history(actor, case_id, "joint", limit=JOINT_MESSAGES)
    return CaseRecord(case, case.platform.name, mediator_name(case.mediator_id),
                      mediator_name(case.appeal_mediator_id), events, joint.messages, joint.has_older,
                      cases.outcome_payload(case) if case.resolution else None)


def _page(rows: list, limit: int, key) -> Page:
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, key(rows[-1]) if more else None)
