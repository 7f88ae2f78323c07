"""Opening, reading, withdrawing and closing cases."""
from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, insert, literal, select

from mediation import clock
from mediation.errors import Invalid, InvalidTransition
from mediation.extensions import db
from mediation.models import (
    Case,
    CaseEvent,
    CaseState,
    IdempotencyKey,
    Notification,
    Party,
    Platform,
    Proposal,
    ProposalState,
)
from mediation.models.case import new_reference
from mediation.models.event_log import canonical_json
from mediation.money import Money
from mediation.schemas.case import CASE_OUT
from mediation.schemas.ids import MAX_ID
from mediation.services import access, events, notifications, policy, rulebooks, uow, workflow
from mediation.services.actors import Actor, PartyActor, PlatformActor
from mediation.services.policy import Action

_LOCALES = {"zh": "zh_Hans_CN", "zh-CN": "zh_Hans_CN", "zh_CN": "zh_Hans_CN", "zh-Hans": "zh_Hans_CN",
            "zh_Hans": "zh_Hans_CN"}


@dataclass
class OpenedCase:
    case: Case
    join_tokens: dict[str, str]
    replayed: bool = False
    case_json: dict | None = None  # a new case as its case.opened webhook carries it (CASE_OUT), dumped once


def load(actor: Actor, case_id: int, action: Action = Action.VIEW_CASE, **context) -> Case:
    """Load a case and check `actor` may do `action` on it; missing and hidden look alike (404).

    A party's identity is re-checked here, inside the caller's transaction: revoked links stop at once.
    """
    case = _load_for_party(actor, case_id) if _proven_party(actor) else db.session.get(Case, case_id)
    return policy.require(actor, action, case, **context)


# The case and the party's current link generation in one round trip: every party command starts here.
_PARTY_GENERATION = select(Party.link_generation).where(Party.id == bindparam("party_id")).scalar_subquery()
_CASE_AND_GENERATION = select(Case, _PARTY_GENERATION).where(Case.id == bindparam("case_id"))

_CASES = Case.__table__
_REF_COLUMNS = (_CASES.c.id, _CASES.c.platform_id, _CASES.c.state, _CASES.c.claimant_role, _CASES.c.mediator_id,
                _CASES.c.appeal_mediator_id)
_REF_FOR_PARTY = select(*_REF_COLUMNS, _PARTY_GENERATION.label("generation")).where(
    _CASES.c.id == bindparam("case_id"))
_REF = select(*_REF_COLUMNS).where(_CASES.c.id == bindparam("case_id"))


def load_ref(actor: Actor, case_id: int, action: Action = Action.VIEW_CASE, connection=None, **context):
    """Like `load`, but returns a plain row (id, platform_id, state, claimant_role, the mediators), not a Case:
    for the chat's hot path, which only needs to know who may post where. Same checks, same errors.
    Runs on `connection` when given (uow.core_transaction), else on the session."""
    run = connection if connection is not None else db.session
    if _proven_party(actor):
        ref = run.execute(_REF_FOR_PARTY, {"party_id": actor.party_id, "case_id": case_id}).first()
    else:
        ref = run.execute(_REF, {"case_id": case_id}).first()
    return _checked(actor, action, ref, **context)


def load_ref_and_parties(actor: Actor, case_id: int, action: Action, connection, columns: tuple,
                         params: dict, **context):
    """`load_ref`, and in the same round trip `columns` of the case's parties (one row per party, binding
    `params`): the chat reads its digest bookkeeping this way. Returns (ref, the parties' rows)."""
    rows = connection.execute(_ref_and_parties(columns), {
        "party_id": getattr(actor, "party_id", None), "case_id": case_id, **params}).all()
    return _checked(actor, action, rows[0] if rows else None, **context), rows


def _proven_party(actor: Actor) -> bool:
    return isinstance(actor, PartyActor) and actor.generation is not None


def _checked(actor: Actor, action: Action, ref, **context):
    """A ref row (with the party's `generation` when the actor is a proven party) past revocation and policy."""
    if _proven_party(actor):
        _check_revocation(actor, ref and ref.generation)
    return policy.require(actor, action, ref, **context)


@functools.cache
def _ref_and_parties(columns: tuple):
    parties = Party.__table__
    return (select(*_REF_COLUMNS, _PARTY_GENERATION.label("generation"), *columns)
            .select_from(_CASES.join(parties, parties.c.case_id == _CASES.c.id))
            .where(_CASES.c.id == bindparam("case_id")).order_by(parties.c.id))


def _load_for_party(actor: PartyActor, case_id: int) -> Case | None:
    row = db.session.execute(_CASE_AND_GENERATION, {"party_id": actor.party_id, "case_id": case_id}).first()
    _check_revocation(actor, row and row[1])
    return row and row[0]


def _check_revocation(actor: PartyActor, generation: int | None) -> None:
    """`generation` came with the case; with no case to read it from, it is looked up on its own, so a
    revoked party hears "revoked", not "no such case"."""
    if generation is None:
        access.require_current(actor)
    else:
        access.require_generation(actor, generation)


def open_case(actor: PlatformActor, data: dict, idempotency_key: str | None = None) -> OpenedCase:
    """Open a case for the platform. Same Idempotency-Key and body: the case opened before.

    Raises Invalid (held amount in another currency; key reused with another body). Emits case.opened.
    """
    fingerprint = hashlib.sha256(canonical_json(events._jsonable(data)).encode()).hexdigest()
    held: Money | None = data.get("held_amount")
    if held is not None and held.currency != data["amount"].currency:
        raise Invalid(_l("The held amount must be in the case's currency."),
                      {"held_amount": [_l("Use the same currency as amount.")]})
    one_statement = db.engine.dialect.name == "postgresql"
    with uow.checked_write() as connection:
        platform = connection.execute(_platform_for_opening(one_statement),
                                      {"platform_id": actor.platform_id, "key": idempotency_key}).one()
        earlier = _earlier_case_id(platform, fingerprint)  # None without a key: nothing stored under NULL
        if not earlier:
            case = _new_case(platform, data, held)
            if one_statement:
                case_json = _insert_opening(connection, platform, case, actor, idempotency_key, fingerprint)
            else:
                _insert_case(connection, case)
                if idempotency_key:
                    connection.execute(_INSERT_IDEMPOTENCY_KEY, _key_values(case, idempotency_key, fingerprint))
                case_json = CASE_OUT.dump(case)
                events.record_opening(connection, case, actor, _opening_payload(case), case_json)
    if earlier:
        case = db.session.get(Case, earlier)
        return OpenedCase(case, _initial_tokens(case), replayed=True)
    return OpenedCase(case, _initial_tokens(case), case_json=case_json)


def _opening_payload(case: Case) -> dict:
    return {"reason": case.reason, "amount": case.amount}


def _key_values(case: Case, key: str, fingerprint: str) -> dict:
    return {"platform_id": case.platform_id, "key": key, "fingerprint": fingerprint, "case_id": case.id,
            "created_at": case.created_at}


def _insert_opening(connection, platform, case: Case, actor: PlatformActor, key: str | None,
                    fingerprint: str) -> dict:
    """PostgreSQL: the case, its parties, its first event, the Idempotency-Key, the webhook and the e-mail in one
    statement, which commits by itself (uow.checked_write). Their ids were drawn from the sequences with the
    platform, so everything that names them (the event's hash, the webhook's body) is made before the write.
    Returns the case as CASE_OUT dumps it."""
    case.id = platform.case_id
    for party, party_id in zip(case.parties, sorted((platform.party_id_1, platform.party_id_2)), strict=True):
        party.id, party.case_id = party_id, case.id
    case_json = CASE_OUT.dump(case)
    event = events.opening_event(case, actor, _opening_payload(case))
    mail = notifications.rows_owed(case, event)
    values = {**events.outbox_values(case, event, case_json),
              **_numbered("case", [_columns(case, _CASE_COLUMNS_WITH_ID)]),
              **_numbered("party", [_columns(party, _PARTY_COLUMNS_WITH_ID) for party in case.parties]),
              **_numbered("event", [events.event_values(event)]),
              **_numbered("mail", mail),
              **(_numbered("key", [_key_values(case, key, fingerprint)]) if key else {})}
    deliveries = connection.execute(_opening_statement(len(mail), key is not None), values).scalar_one()
    if deliveries:
        events.outbox_written()
    if any(row["state"] == "pending" for row in mail):
        notifications.mail_written()
    return case_json


def _numbered(name: str, rows: list[dict]) -> dict:
    """Rows' values bound as `_rows(name, …)` names them."""
    return {f"{name}{n}_{column}": value for n, row in enumerate(rows) for column, value in row.items()}


def _rows(table, name: str, columns, count: int) -> list:
    """`count` rows into `table`, each an INSERT in a CTE of its own (`{name}{n}`), row n's `column` bound as
    `{name}{n}_{column}`. One INSERT of several VALUES rows would do too, but SQLAlchemy does not cache its
    compiled form: compiling it cost more than the round trips saved."""
    return [insert(table).values({c: bindparam(f"{name}{n}_{c}", type_=table.c[c].type) for c in columns})
            .cte(f"{name}{n}") for n in range(count)]


@functools.cache
def _opening_statement(mails: int, with_key: bool, with_webhook: bool = True):
    """The write of _insert_opening, built once per shape. Returns how many webhook deliveries it wrote.
    (Without the webhook only for bench/webhooks.py, which measures what the outbox costs.)"""
    writes = [*_rows(_CASES, "case", [c for c, _ in _CASE_COLUMNS_WITH_ID], 1),
              *_rows(Party.__table__, "party", [c for c, _ in _PARTY_COLUMNS_WITH_ID], 2),
              *_rows(CaseEvent.__table__, "event", events.EVENT_COLUMNS, 1),
              *_rows(Notification.__table__, "mail", _MAIL_COLUMNS, mails),
              *_rows(_KEYS, "key", _KEY_COLUMNS, 1 if with_key else 0)]
    statement = select(literal(0))
    if with_webhook:
        deliveries = events.outbox_deliveries().cte("deliveries")
        writes += [events.OUTBOX_MESSAGE, deliveries]
        statement = select(func.count()).select_from(deliveries)
    for write in writes:
        statement = statement.add_cte(write)
    return statement


def _earlier_case_id(platform, fingerprint: str) -> int | None:
    """The case opened before under this Idempotency-Key, if any; Invalid if that was another request."""
    if platform.earlier_case_id is None:
        return None
    if platform.earlier_fingerprint != fingerprint:
        raise Invalid(_l("This Idempotency-Key was used with a different request body."),
                      {"Idempotency-Key": [_l("Already used for another request; use a new key.")]})
    return platform.earlier_case_id


def _insert_case(connection, case: Case) -> None:
    case.id = connection.execute(_INSERT_CASE, _columns(case, _CASE_COLUMNS)).scalar_one()
    for party in case.parties:
        party.case_id = case.id
    ids = connection.execute(_INSERT_PARTIES, [_columns(party, _PARTY_COLUMNS) for party in case.parties])
    for party, party_id in zip(case.parties, ids.scalars(), strict=True):
        party.id = party_id


# Opening a case is the platforms' hottest call: its statements are built once and run on a Connection (the
# ORM's unit of work cost more than the statements themselves). What it returns is a Case made in memory from
# the values it inserted, never attached to a session.
_PLATFORMS = Platform.__table__
_KEYS = IdempotencyKey.__table__


def _earlier(column):
    """What the platform's Idempotency-Key (bound as `key`) stored, NULL for a new key or none."""
    return (select(column).where(_KEYS.c.platform_id == _PLATFORMS.c.id, _KEYS.c.key == bindparam("key"))
            .scalar_subquery())


# The platform, its rulebook version in force and what an Idempotency-Key stored before: one query.
_PLATFORM_FOR_OPENING = select(
    _PLATFORMS.c.id, _PLATFORMS.c.response_days,
    rulebooks.version_in_force(_PLATFORMS.c.rulebook_id).label("rulebook_version_id"),
    _earlier(_KEYS.c.case_id).label("earlier_case_id"),
    _earlier(_KEYS.c.fingerprint).label("earlier_fingerprint"),
).where(_PLATFORMS.c.id == bindparam("platform_id"))


def _next_id(table: str):
    return func.nextval(func.pg_get_serial_sequence(table, "id"))


@functools.cache
def _platform_for_opening(draw_ids: bool):
    """_PLATFORM_FOR_OPENING; with `draw_ids` (PostgreSQL) also the ids of a new case and its two parties. Ids
    drawn for a replayed or failed opening are skipped, as a rolled-back INSERT skips them too."""
    if not draw_ids:
        return _PLATFORM_FOR_OPENING
    return _PLATFORM_FOR_OPENING.add_columns(_next_id("cases").label("case_id"),
                                             _next_id("parties").label("party_id_1"),
                                             _next_id("parties").label("party_id_2"))


def _inserted_columns(model) -> tuple[tuple[str, str], ...]:
    """(column, attribute) of every column but the id (the Case's `metadata` column is its `extra`)."""
    mapper = model.__mapper__
    return tuple((column.key, mapper.get_property_by_column(column).key)
                 for column in model.__table__.c if column.key != "id")


_CASE_COLUMNS = _inserted_columns(Case)
_PARTY_COLUMNS = _inserted_columns(Party)
_CASE_COLUMNS_WITH_ID = (("id", "id"), *_CASE_COLUMNS)
_PARTY_COLUMNS_WITH_ID = (("id", "id"), *_PARTY_COLUMNS)
_KEY_COLUMNS = ("platform_id", "key", "fingerprint", "case_id", "created_at")
_MAIL_COLUMNS = ("case_id", "recipient", "kind", "payload", "created_at", "next_attempt_at", "attempts", "state",
                 "last_error")
_INSERT_CASE = insert(_CASES).returning(_CASES.c.id)
# Both parties in one statement (SQLAlchemy's "insertmanyvalues"), their ids in the order given.
_INSERT_PARTIES = insert(Party.__table__).returning(Party.__table__.c.id, sort_by_parameter_order=True)
_INSERT_IDEMPOTENCY_KEY = insert(IdempotencyKey.__table__)


def _new_case(platform, data: dict, held: Money | None) -> Case:
    """The case and its parties as they will be inserted: every column set, nothing left to a default."""
    now = clock.now()
    case = Case(reference=new_reference(), platform_id=platform.id, external_order_id=data["external_order_id"],
                reason=data["reason"], description=data.get("description", ""),
                currency=data["amount"].currency, amount_minor=data["amount"].minor,
                held_minor=held.minor if held else None, claimant_role=data.get("claimant", "buyer"),
                state=CaseState.OPEN, deadline_at=workflow.deadline_under(platform, CaseState.OPEN, now),
                extra=data.get("metadata") or {}, created_at=now, updated_at=now, version=1,
                rulebook_version_id=platform.rulebook_version_id)
    for role in ("buyer", "seller"):
        info = data[role]
        case.parties.append(Party(role=role, external_id=info["external_id"], name=info["name"],
                                  email=info.get("email"), locale=_LOCALES.get(info.get("locale"), "en"),
                                  timezone="UTC", timezone_chosen=False, link_generation=1))
    return case


def _columns(row, columns: tuple[tuple[str, str], ...]) -> dict:
    return {column: getattr(row, attribute) for column, attribute in columns}


def _initial_tokens(case: Case) -> dict[str, str]:
    expires_at = access.initial_link_expiry(case.created_at)
    return {p.role: access.join_token(p, expires_at) for p in case.parties}


def get_case(actor: Actor, case_id: int) -> Case:
    return load(actor, case_id)


def current(case_id: int) -> Case | None:
    """A fresh read of a case, for answering a caller who lost a race (409 with the current state)."""
    db.session.rollback()
    return db.session.get(Case, case_id)


def list_cases(actor: Actor, *, state: str | None = None, external_order_id: str | None = None,
               cursor: str | None = None, limit: int = 50) -> tuple[list[Case], str | None]:
    """Newest first, keyset-paginated by id; `cursor` is the opaque value from the previous page."""
    query = select(Case).where(policy.visible_cases(actor)).order_by(Case.id.desc()).limit(limit + 1)
    if state:
        query = query.where(Case.state == state)
    if external_order_id:
        query = query.where(Case.external_order_id == external_order_id)
    if cursor:
        query = query.where(Case.id < _decode_cursor(cursor))
    rows = list(db.session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_encode_cursor(rows[-1].id) if more else None)


def _encode_cursor(case_id: int) -> str:
    return base64.urlsafe_b64encode(f"c{case_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text[0] != "c":
            raise ValueError
        case_id = int(text[1:])
        if not 1 <= case_id <= MAX_ID:  # beyond what the database can compare with
            raise ValueError
        return case_id
    except (ValueError, UnicodeDecodeError, IndexError):
        raise Invalid(_l("This cursor is not valid."), {"cursor": [_l("Use next_cursor from the previous page.")]}) \
            from None


def issue_join_link(actor: Actor, case_id: int, role: str, revoke_previous: bool = False) -> tuple[str, object]:
    """A fresh signed link for one party. With revoke_previous, earlier links and tokens stop working."""
    with uow.transaction():
        case = load(actor, case_id, Action.ISSUE_JOIN_LINK)
        if case.state == "closed":
            raise InvalidTransition(_l("The case is closed."), state=case.state)
        party = case.party(role)
        if revoke_previous:
            party.link_generation += 1
            events.record(case, "join_links.revoked", actor, {"role": role})
            events.reset_rooms(case.id)  # the revoked party's open connections stop hearing the case
        expires_at = access.fresh_link_expiry()
        token = access.join_token(party, expires_at)
    return token, expires_at


def withdraw_case(actor: Actor, case_id: int, reason: str) -> Case:
    """The claimant withdraws. Open proposals lapse; the held amount goes back to the seller.

    Raises NotFound, Forbidden, InvalidTransition. Emits case.withdrawn, case.resolved.
    """
    with uow.transaction():
        case = load(actor, case_id, Action.WITHDRAW_CASE)
        workflow.apply(case, "withdraw")
        _lapse_open_proposals(case)
        zero = Money.zero(case.currency)
        case.set_outcome("withdrawn", zero, case.held_amount or zero, False, "")
        events.record(case, "case.withdrawn", actor, {"reason": reason, "by": case.claimant_role})
        events.record(case, "case.resolved", actor, {"outcome": outcome_payload(case)})
    return case


def confirm_execution(actor: Actor, case_id: int, reference: str) -> Case:
    """The platform carried out the outcome; the case closes. Repeating the same reference is harmless.

    Raises NotFound, Forbidden, InvalidTransition. Emits case.closed.
    """
    with uow.transaction():
        case = load(actor, case_id, Action.CONFIRM_EXECUTION)
        if case.state == "closed" and case.execution_reference == reference:
            return case
        workflow.apply(case, "execute")
        case.execution_reference = reference
        case.closed_at = clock.now()
        events.record(case, "case.closed", actor, {"execution_reference": reference})
    return case


@dataclass(frozen=True)
class EventView:
    """A case event as one reader may see it."""

    seq: int
    type: str
    actor: str
    payload: dict
    created_at: datetime
    prev_hash: str
    hash: str


def case_events(actor: Actor, case_id: int) -> list[EventView]:
    """The chained log, oldest first. What happened in a channel the reader may not read (a caucus; for the
    platform, the parties' conversation) keeps its place and hashes in the chain, but not its content."""
    case = load(actor, case_id, Action.VIEW_EVENTS)
    readable = policy.readable_channels(actor, case)
    return [EventView(e.seq, e.type, e.actor, _visible_payload(e.payload, readable), e.created_at, e.prev_hash,
                      e.hash)
            for e in db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                        .order_by(CaseEvent.seq))]


def _visible_payload(payload: dict, readable: tuple[str, ...]) -> dict:
    channel = payload.get("channel")
    if channel is None or channel in readable:
        return payload
    return {"channel": channel, "redacted": True}


def _lapse_open_proposals(case: Case) -> None:
    for proposal in db.session.scalars(select(Proposal).where(
            Proposal.case_id == case.id, Proposal.state == ProposalState.OPEN)):
        proposal.decide(ProposalState.SUPERSEDED, None)


def outcome_payload(case: Case) -> dict:
    return {
        "resolution": case.resolution,
        "buyer_refund": Money(case.refund_minor, case.currency),
        "seller_release": Money(case.release_minor, case.currency),
        "return_required": case.return_required,
        "terms": case.terms,
    }

