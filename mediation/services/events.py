"""THE emitter. `record` appends to the case's chained log, writes the webhook outbox and the mail outbox
(services/notifications.py) in the same transaction and stages the room emit for after the commit. Only this
module talks to Socket.IO.
"""
from __future__ import annotations

import json
import secrets
from typing import Any

from sqlalchemy import Connection, Integer, bindparam, cast, insert, literal, select, true

from mediation import clock
from mediation.extensions import db, socketio
from mediation.models import Case, CaseEvent, Message, WebhookDelivery, WebhookEndpoint, WebhookMessage
from mediation.models.event_log import GENESIS
from mediation.money import Money
from mediation.schemas.case import CASE_OUT, ROOM_CASE_OUT
from mediation.schemas.chat import message_json
from mediation.services import notifications, uow
from mediation.services.actors import Actor

NAMESPACE = "/cases"

WEBHOOK_TYPES = frozenset({
    "case.opened", "case.escalated", "proposal.created", "proposal.accepted", "case.settled",
    "ruling.issued", "case.appealed", "ruling.final", "case.withdrawn", "case.resolved", "case.closed",
})


# Every event writes these; built once, since building a statement costs about as much as running it.
EVENT_COLUMNS = ("case_id", "seq", "type", "actor", "payload", "created_at", "prev_hash", "hash")
_INSERT_EVENT = insert(CaseEvent.__table__)
_MESSAGES, _ENDPOINTS, _DELIVERIES = WebhookMessage.__table__, WebhookEndpoint.__table__, WebhookDelivery.__table__
_MESSAGE_COLUMNS = ("msg_id", "platform_id", "case_id", "type", "body", "created_at")
_INSERT_MESSAGE = insert(_MESSAGES).returning(_MESSAGES.c.id)


def _insert_deliveries(message_id, message=None) -> Any:
    """A delivery of message `message_id` to each active endpoint of the platform, chosen by the INSERT."""
    chosen = (select(message_id, _ENDPOINTS.c.id, cast(bindparam("case_id"), Integer),
                     literal("pending"), literal(0), bindparam("at", type_=_DELIVERIES.c.next_attempt_at.type))
              .where(_ENDPOINTS.c.platform_id == bindparam("platform_id"), _ENDPOINTS.c.active.is_(True))
              .order_by(_ENDPOINTS.c.id))
    if message is not None:
        chosen = chosen.select_from(message.join(_ENDPOINTS, true()))
    return insert(_DELIVERIES).from_select(
        ["message_id", "endpoint_id", "case_id", "state", "attempts", "next_attempt_at"], chosen)


_INSERT_DELIVERIES = _insert_deliveries(cast(bindparam("message_id"), Integer))
# PostgreSQL takes both in one statement (the message's INSERT as a CTE, which runs whether or not any
# endpoint is chosen): one round trip, not two.
OUTBOX_MESSAGE = (insert(_MESSAGES).values({c: bindparam(c, type_=_MESSAGES.c[c].type) for c in _MESSAGE_COLUMNS})
                  .returning(_MESSAGES.c.id).cte("message"))
_INSERT_OUTBOX = _insert_deliveries(OUTBOX_MESSAGE.c.id, OUTBOX_MESSAGE).add_cte(OUTBOX_MESSAGE)


def outbox_deliveries() -> Any:
    """PostgreSQL: the deliveries of OUTBOX_MESSAGE (a CTE of the same statement), returning their ids."""
    return _insert_deliveries(OUTBOX_MESSAGE.c.id, OUTBOX_MESSAGE).returning(_DELIVERIES.c.id)

# Set after a commit that wrote outbox rows, so the deliverer starts at once instead of polling.
_outbox_listeners: list = []


def on_outbox_written(listener) -> None:
    _outbox_listeners.append(listener)


def case_room(case_id: int) -> str:
    return f"case:{case_id}"


def channel_room(case_id: int, channel: str) -> str:
    return case_room(case_id) if channel == "joint" else f"case:{case_id}:{channel}"


def record(case: Case, type: str, actor: Actor, payload: dict[str, Any] | None = None,
           channel: str | None = None) -> CaseEvent:
    """Append `type` to the case log (chained), queue its webhook and stage the room's `case_event`.

    With a private `channel` (a caucus), the payload names it and the `case_event` goes to that
    channel's room only: the other party never receives it (the log shows them its place, not its content).
    """
    payload = _jsonable(payload or {})
    if channel is not None:
        payload["channel"] = channel
    db.session.flush()  # the case needs its id, and the previous link must be visible
    last = db.session.execute(
        select(CaseEvent.seq, CaseEvent.hash).where(CaseEvent.case_id == case.id)
        .order_by(CaseEvent.seq.desc()).limit(1)
    ).first()
    event = CaseEvent(case_id=case.id, seq=(last.seq + 1) if last else 1, type=type, actor=actor.label,
                      payload=payload, created_at=clock.now(), prev_hash=last.hash if last else GENESIS)
    event.hash = event.compute_hash()
    db.session.add(event)
    # Touching the case bumps its version: two commands racing on one case cannot both commit.
    case.updated_at = event.created_at
    db.session.flush()
    _follow(db.session, case, event)
    room_payload = {"type": type, "case_id": case.id, "seq": event.seq, "actor": event.actor,
                    "payload": payload, "created_at": event.created_at.isoformat(),
                    "case": ROOM_CASE_OUT.dump(case)}
    room = case_room(case.id) if channel in (None, "joint") else channel_room(case.id, channel)
    uow.after_commit(lambda: socketio.emit("case_event", room_payload, to=room, namespace=NAMESPACE))
    return event


def record_opening(connection: Connection, case: Case, actor: Actor, payload: dict[str, Any],
                   case_json: dict[str, Any]) -> CaseEvent:
    """`case.opened`, the first event of a case that `connection` has just inserted (with its parties);
    `case_json` is the case as CASE_OUT dumps it, which the command also answers with.

    The opening command writes through Core statements built once (services/cases.py): the chain starts at
    GENESIS, so there is nothing to read first; and nobody can be in the room of a case that exists only
    from this commit on, so there is no room emit either.
    """
    event = opening_event(case, actor, payload)
    connection.execute(_INSERT_EVENT, event_values(event))
    _follow(connection, case, event, case_json)
    return event


def opening_event(case: Case, actor: Actor, payload: dict[str, Any]) -> CaseEvent:
    """The `case.opened` event of `case` (which has its id), chained to GENESIS, not yet written."""
    event = CaseEvent(case_id=case.id, seq=1, type="case.opened", actor=actor.label, payload=_jsonable(payload),
                      created_at=case.created_at, prev_hash=GENESIS)
    event.hash = event.compute_hash()
    return event


def event_values(event: CaseEvent) -> dict[str, Any]:
    return {column: getattr(event, column) for column in EVENT_COLUMNS}


def outbox_values(case: Case, event: CaseEvent, case_json: dict[str, Any] | None = None) -> dict[str, Any]:
    """The values of OUTBOX_MESSAGE and outbox_deliveries for `event`'s webhook: the message and when its
    deliveries are due."""
    body = json.dumps({
        "type": event.type,
        "timestamp": event.created_at.isoformat(),
        "data": {"case": CASE_OUT.dump(case) if case_json is None else case_json, **event.payload},
    }, separators=(",", ":"), ensure_ascii=False)
    return {"msg_id": "msg_" + secrets.token_hex(16), "platform_id": case.platform_id, "case_id": case.id,
            "type": event.type, "body": body, "created_at": event.created_at, "at": event.created_at}


def outbox_written() -> None:
    """Wake the deliverer once the current transaction commits: it wrote webhook deliveries."""
    for listener in _outbox_listeners:
        uow.after_commit(listener)


def reset_rooms(case_id: int) -> None:
    """After the commit (and after the case_events staged before this call), empty the case's rooms.

    Someone lost access to the case (a reassigned mediator, a party whose links were revoked), but their
    open connections are still subscribed. Everyone is taken out; those who may still see the case join
    again (the room page does so on every case_event, and joining checks policy), the others cannot.
    """
    rooms = [case_room(case_id), *(channel_room(case_id, f"caucus:{role}") for role in ("buyer", "seller"))]

    def close() -> None:
        for room in rooms:
            socketio.close_room(room, namespace=NAMESPACE)

    uow.after_commit(close)


def broadcast_message(message: Message, skip: str | None = None) -> None:
    """Stage a new chat message for everyone in its channel's room (but the connection `skip`), sent once the
    message's transaction commits."""
    data = message_json(message)
    room = channel_room(message.case_id, message.channel)
    uow.after_commit(lambda: socketio.emit("message", data, to=room, namespace=NAMESPACE, skip_sid=skip))


def _follow(run, case: Case, event: CaseEvent, case_json: dict[str, Any] | None = None) -> None:
    """What every event writes besides itself, on `run` (the session or the command's Connection): its
    webhook and its e-mails."""
    if event.type in WEBHOOK_TYPES:
        _write_outbox(run, case, event, case_json)
    notifications.owed(run, case, event)


def _write_outbox(run, case: Case, event: CaseEvent, case_json: dict[str, Any] | None = None) -> None:
    """The event's webhook message and a delivery per active endpoint: statements built once, one on
    PostgreSQL, two elsewhere. `case_json`: the case already dumped with CASE_OUT, if the command has it."""
    values = outbox_values(case, event, case_json)
    if db.engine.dialect.name == "postgresql":
        written = run.execute(_INSERT_OUTBOX, values).rowcount
    else:
        message_id = run.execute(_INSERT_MESSAGE, {c: values[c] for c in _MESSAGE_COLUMNS}).scalar_one()
        written = run.execute(_INSERT_DELIVERIES, {"message_id": message_id, **values}).rowcount
    if written:
        outbox_written()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Money):
        return value.as_json()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
