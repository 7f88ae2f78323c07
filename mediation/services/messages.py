"""Chat: send (stored once per client_id, acknowledged after commit), history, catch-up, read markers.

Every read is a keyset scan of (case_id, channel, id): opening a room costs the same with ten or ten
million messages in the case (bench/history.py).
"""
from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import any_, bindparam, select
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mediation import clock
from mediation.errors import Invalid, InvalidTransition, NotFound
from mediation.extensions import db
from mediation.models import Case, CaseState, Message, ReadMarker
from mediation.services import events, notifications, policy, uow, workflow
from mediation.services.actors import Actor, PartyActor
from mediation.services.cases import load, load_ref, load_ref_and_parties
from mediation.services.policy import Action

# Reads return plain rows (attribute access like a Message, none of an ORM instance's upkeep): opening
# a room then costs little more per message than the JSON it sends.
_MESSAGES = Message.__table__


@dataclass
class Sent:
    message: Message
    duplicate: bool
    case_id: int


@dataclass
class Page:
    messages: list[Message]
    has_older: bool


def send_message(actor: Actor, case_id: int, channel: str, body: str, client_id: str,
                 origin: str | None = None) -> Sent:
    """Store a message and stage its broadcast. The same client_id again returns the stored one.

    `origin` names the connection the message came from; it learns the result from its ack, so the
    broadcast skips it (the sender's other connections still receive the message).

    Raises NotFound, Forbidden (channel), InvalidTransition (channel closed), Invalid (body).
    The respondent's first message moves an open case to negotiation (case.negotiation_started).
    """
    body = _clean(body)
    with uow.checked_write() as connection:
        # The case, who may post, and the parties' digest bookkeeping: one round trip.
        ref, parties = load_ref_and_parties(actor, case_id, Action.SEND_MESSAGE, connection,
                                            notifications.PARTY_DIGESTS, notifications.digest_params(),
                                            channel=channel)
        _require_open(ref, channel)
        if not _first_answer(ref, actor):
            return _store(connection, ref, actor, channel, body, client_id, origin, parties)
    # The respondent's first words also move the case to negotiation: that takes the full (ORM) path.
    with uow.transaction():
        ref = _load_case(actor, case_id, channel)
        if _first_answer(ref, actor):
            note_response(db.session.get(Case, case_id), actor)
        return _store(db.session, ref, actor, channel, body, client_id, origin)


def _first_answer(ref, actor: Actor) -> bool:
    return ref.state == CaseState.OPEN and isinstance(actor, PartyActor) and actor.role != ref.claimant_role


def _store(run, ref, actor: Actor, channel: str, body: str, client_id: str, origin: str | None,
           parties: list | None = None) -> Sent:
    """Store the message once, with the digests it earns, in one statement where the database allows it (the
    chat's write on PostgreSQL commits by itself: uow.checked_write); then stage its broadcast."""
    values = {"case_id": ref.id, "channel": channel, "sender": actor.key, "author_role": actor.role,
              "author_name": getattr(actor, "name", ""), "body": body, "client_id": client_id,
              "created_at": clock.now()}
    if parties is None:
        parties = run.execute(notifications.PARTIES_AND_THEIR_DIGESTS,
                              {"case_id": ref.id, **notifications.digest_params()}).all()
    digests = notifications.digests_owed(ref.id, actor.key, channel, parties)
    new_id = _insert_once(run, values, digests)
    if new_id is None:
        return Sent(_stored(run, ref.id, actor, client_id), True, ref.id)
    message = Message(id=new_id, **values)
    events.broadcast_message(message, skip=origin)
    return Sent(message, False, ref.id)


def _insert_once(run, values: dict, digests: list[dict]) -> int | None:
    """INSERT … ON CONFLICT DO NOTHING: stores the message unless this sender already stored this client_id
    (then None, and no digest is written). Concurrent resends cannot both insert; the unique key decides.
    On PostgreSQL the digests are written by the same statement."""
    dialect = db.engine.dialect.name
    if dialect == "postgresql" and digests:
        new_id = run.execute(_insert_with_digests(), {
            **values, "recipients": [d["recipient"] for d in digests],
            "dues": [d["next_attempt_at"] for d in digests]}).scalar()
        if new_id is not None:
            notifications.mail_written()
        return new_id
    new_id = run.execute(_insert_statement(dialect), values).scalar()
    if new_id is not None:
        notifications.write(run, digests)
    return new_id


@functools.cache
def _insert_statement(dialect: str):
    """Built once per dialect: chat is the hottest write path, and building the statement cost as much
    as running it. Its values are named bind parameters, so it also serves as a CTE (_insert_with_digests)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (insert(_MESSAGES).values({c.name: bindparam(c.name, type_=c.type) for c in _MESSAGES.c if c.name != "id"})
            .on_conflict_do_nothing(index_elements=["case_id", "sender", "client_id"])
            .returning(_MESSAGES.c.id))


@functools.cache
def _insert_with_digests():
    return notifications.with_digests(_insert_statement("postgresql"))


def note_response(case: Case, actor: Actor) -> None:
    """The respondent's first message or proposal: the case moves from open to negotiation."""
    if case.state == CaseState.OPEN and isinstance(actor, PartyActor) and actor.role == case.respondent_role:
        workflow.apply(case, "respond")
        events.record(case, "case.negotiation_started", actor, {"respondent": actor.role})


def history(actor: Actor, case_id: int, channel: str = "joint", before: int | None = None,
            limit: int | None = None) -> Page:
    """The newest `limit` messages of a channel older than message id `before`, oldest first."""
    load(actor, case_id, Action.READ_CHANNEL, channel=channel)
    limit = limit or current_app.config["HISTORY_PAGE"]
    query = (select(_MESSAGES).where(*_in_channel(case_id, channel))
             .order_by(_MESSAGES.c.case_id.desc(), _MESSAGES.c.id.desc()).limit(limit + 1))
    if before:
        query = query.where(_MESSAGES.c.id < before)
    rows = db.session.execute(query).all()
    return Page(list(reversed(rows[:limit])), len(rows) > limit)


def catch_up(actor: Actor, case_id: int, since: int) -> Page:
    """Messages after id `since` in every channel the actor may read, oldest first (bounded)."""
    case = load(actor, case_id)
    limit = current_app.config["CATCH_UP_LIMIT"]
    rows: list = []
    for channel in policy.readable_channels(actor, case):
        rows += db.session.execute(select(_MESSAGES).where(*_in_channel(case_id, channel), _MESSAGES.c.id > since)
                                   .order_by(_MESSAGES.c.case_id, _MESSAGES.c.id).limit(limit + 1)).all()
    rows.sort(key=lambda m: m.id)
    return Page(rows[:limit], len(rows) > limit)


def _in_channel(case_id: int, channel: str) -> tuple:
    """The messages of one channel, for a read ordered by (case_id, id): a scan of ix_messages_case_channel_id.

    On PostgreSQL the case is matched with `case_id = ANY(ARRAY[:id])`. With `case_id = :id` the planner
    takes case_id for a constant and the order for plain `id`, which the primary key gives too; when one case
    holds most of the table it then picks a walk down the primary key, filtering out every newer message of
    every other case before it finds the page (100,000 of them made opening the room 1.6 × slower in
    bench/history.py, and it grows with them). (case_id, id) is an order only the keyset index gives. SQLite's
    planner picks that index from plain equality, and has no arrays."""
    if db.engine.dialect.name == "postgresql":
        return _MESSAGES.c.case_id == any_(array([case_id])), _MESSAGES.c.channel == channel
    return _MESSAGES.c.case_id == case_id, _MESSAGES.c.channel == channel


def mark_read(actor: Actor, case_id: int, channel: str, message_id: int) -> int:
    """Move the actor's read marker forward (never back). Returns the marker's message id.

    Raises NotFound (the case, or `message_id` is no message of that channel), Forbidden (channel).
    """
    with uow.transaction():
        load(actor, case_id, Action.READ_CHANNEL, channel=channel)
        if db.session.scalar(select(Message.id).where(
                Message.id == message_id, Message.case_id == case_id, Message.channel == channel)) is None:
            raise NotFound(_l("No such message in this channel."))
        marker = db.session.scalar(select(ReadMarker).where(
            ReadMarker.case_id == case_id, ReadMarker.sender == actor.key, ReadMarker.channel == channel))
        if marker is None:
            marker = ReadMarker(case_id=case_id, sender=actor.key, channel=channel, message_id=0)
            db.session.add(marker)
        marker.message_id = max(marker.message_id, message_id)
        marker.updated_at = clock.now()
    return marker.message_id


def _load_case(actor: Actor, case_id: int, channel: str, connection=None):
    case = load_ref(actor, case_id, Action.SEND_MESSAGE, connection=connection, channel=channel)
    _require_open(case, channel)
    return case


def _require_open(case, channel: str) -> None:
    if not workflow.channel_open(case, channel):
        raise InvalidTransition(
            _l("The case is closed.") if case.state == CaseState.CLOSED
            else _l("Private channels open once a mediator is on the case."), state=case.state)


def _stored(run, case_id: int, actor: Actor, client_id: str):
    return run.execute(select(_MESSAGES).where(
        _MESSAGES.c.case_id == case_id, _MESSAGES.c.sender == actor.key, _MESSAGES.c.client_id == client_id)).first()


def _clean(body: str) -> str:
    """Messages keep line breaks and tabs; other control characters are refused."""
    body = (body or "").strip()
    limit = current_app.config["MESSAGE_MAX_CHARS"]
    if not body:
        raise Invalid(_l("The message is empty."), {"body": [_l("Write something first.")]})
    if len(body) > limit:
        raise Invalid(_l("The message is too long."), {"body": [_l("At most %(limit)s characters.", limit=limit)]})
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in body):
        raise Invalid(_l("The message has control characters."), {"body": [_l("Remove control characters.")]})
    return body


def require_post(actor: Actor, case_id: int, channel: str) -> None:
    """Check the actor could post in `channel` now (for typing indicators). Raises like send_message."""
    _load_case(actor, case_id, channel)
