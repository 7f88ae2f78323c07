"""Socket.IO handlers. Each authenticates, validates its payload and calls one service; the handler's
return value is the ack: {"ok": true, ...} or {"ok": false, "error": {code, message, errors}}.

Being in a room is never permission: every event goes through the services (and so policy) again.
"""
from __future__ import annotations

import functools
import logging
from datetime import datetime
from http import HTTPStatus

from flask import current_app, request
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_socketio import ConnectionRefusedError, Namespace, emit, join_room, leave_room, rooms
from marshmallow import Schema, ValidationError

from mediation import clock, i18n, serving
from mediation.errors import DomainError, NotFound, Unauthenticated, plain
from mediation.realtime import limits, presence
from mediation.realtime.schemas import JoinIn, ReadIn, SendIn, TypingIn
from mediation.schemas.case import ROOM_CASE_OUT
from mediation.schemas.chat import ProposalOut, message_json
from mediation.schemas.messages import localized
from mediation.schemas.ruling import AppealOut, RulingOut
from mediation.services import access, messages, room
from mediation.services.actors import Anonymous, PartyActor
from mediation.services.events import case_room, channel_room
from mediation.web.identity import party_case_ids, session_actor

log = logging.getLogger(__name__)
# sid -> (party proven by token at connect, token expiry). The services re-check the party's link
# generation inside every command's transaction, so a revocation still stops the very next event.
_identities: dict[str, tuple[PartyActor, datetime]] = {}


def _error(code: int, message: str, errors: dict | None = None) -> dict:
    return {"ok": False, "error": {"code": code, "status": HTTPStatus(code).phrase, "message": str(message),
                                   "errors": plain(localized(errors or {}))}}


def _actor(case_id: int):
    proven = _identities.get(request.sid)
    if proven is not None:
        actor, expires_at = proven
        if clock.now() >= expires_at:
            raise Unauthenticated(_l("This token has expired. Ask the marketplace for a new link."))
        return actor
    actor = session_actor(case_id)
    if isinstance(actor, Anonymous):
        raise Unauthenticated(_l("Sign in again."))
    return actor


def _signed_in() -> bool:
    """The session holds a staff login or a party grant that still holds (revoked links do not count)."""
    return any(not isinstance(session_actor(case_id), Anonymous) for case_id in (None, *party_case_ids()))


def _announce_left(left: list[tuple[int, str, str, list[str]]]) -> None:
    for case_id, role, name, roles in left:
        emit("presence", {"case_id": case_id, "role": role, "name": name, "online": False, "roles": roles},
             to=case_room(case_id))


def _leave_case(case_id: int) -> None:
    """Take this connection out of the case's rooms: a revoked party stops hearing the room too."""
    prefix = case_room(case_id)
    for name in rooms():
        if name == prefix or name.startswith(prefix + ":"):
            leave_room(name)
    _announce_left(presence.leave(case_id, request.sid))


@functools.cache
def _schema(schema: type[Schema]) -> Schema:
    """One instance per schema: loading is stateless, and building a schema costs more than a load."""
    return schema()


def _load(schema: type[Schema], args: tuple) -> dict:
    """One JSON object is a payload; no argument reads as {}; anything else is refused."""
    if not args:
        return _schema(schema).load({})
    if len(args) > 1 or not isinstance(args[0], dict):
        raise ValidationError({"_schema": [_l("Send one JSON object, such as {\"case_id\": 1}.")]})
    return _schema(schema).load(args[0])


def handler(schema: type[Schema]):
    """Validate the payload with `schema`, map domain errors to an error ack. Every event gets an ack, in the
    language of whoever sent the event (not the handshake's Accept-Language). A connection over its event
    rate is answered 429 before its payload is even read."""
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args):
            if not _within_rate():
                return _error_ack(args, 429, _l("Too many events at once. Wait a moment, then try again."))
            try:
                payload = _load(schema, args)
                try:
                    return method(self, payload, _actor(payload["case_id"]))
                except Unauthenticated:
                    _leave_case(payload["case_id"])
                    raise
            except ValidationError as error:
                return _error_ack(args, 422, _l("Some fields are not valid."), error.messages)
            except DomainError as error:
                return _error_ack(args, error.status, error.message, error.errors)
            except Exception:  # the client must not wait for an ack that never comes
                log.exception("socket event %s failed", method.__name__)
                return _error_ack(args, 500, _l("Something went wrong on our side. Try again."))
        return wrapper
    return decorate


def _within_rate() -> bool:
    config = current_app.config
    return limits.allow(request.sid, config["SOCKET_EVENTS_PER_SECOND"], config["SOCKET_EVENTS_BURST"])


def _error_ack(args: tuple, code: int, message, errors: dict | None = None) -> dict:
    with force_locale(i18n.locale_of(_quiet_actor(args))):
        return _error(code, message, errors)


def _quiet_actor(args: tuple):
    """Whoever sent the event, if they can still be told apart (None for an unknown or expired one)."""
    case_id = args[0].get("case_id") if len(args) == 1 and isinstance(args[0], dict) else None
    try:
        return _actor(case_id if isinstance(case_id, int) else None)
    except DomainError:
        return None


class CasesNamespace(Namespace):
    def trigger_event(self, event: str, *args):
        """Socket.IO hands a client's own event named "connect" or "disconnect" to the same methods as the
        real ones: a client could shed its identity and presence while staying in its rooms, or re-run
        connect with another token. The server runs the real ones while the connection is not yet (or no
        longer) fully connected; a client's event only arrives while it is. A forged one is ignored, like
        any event without a handler (Socket.IO still acks it, with no arguments)."""
        if event in ("connect", "disconnect") and args and self.server.manager.is_connected(args[0], self.namespace):
            log.warning("ignored a %r event sent by the client %s", event, args[0])
            return None
        return super().trigger_event(event, *args)

    def on_connect(self, auth=None):
        serving.send_frames_at_once(request.environ)
        token = auth.get("token") if isinstance(auth, dict) else None
        if token:
            try:
                actor = access.party_from_token(str(token))
            except Unauthenticated as error:
                raise ConnectionRefusedError(str(error.message)) from None
            _identities[request.sid] = (actor, access.token_expiry(str(token)))
        elif not _signed_in():
            raise ConnectionRefusedError(str(_l("Sign in first: a join link, a party token or a staff login.")))

    def on_disconnect(self, reason=None):
        _identities.pop(request.sid, None)
        limits.forget(request.sid)
        _announce_left(presence.leave_all(request.sid))

    @handler(JoinIn)
    def on_join(self, data, actor):
        """Enter the room, or refresh it: a client that saw the case change joins again (with `since`)
        for its new allowed actions, proposals, rulings and missed messages. Only the first join of a
        connection tells the others that the actor came online. One who may no longer see the case (a
        mediator reassigned away) is taken out of its rooms."""
        with force_locale(i18n.locale_of(actor)):  # rulings' titles and clauses in the viewer's language
            return self._join(data, actor)

    def _join(self, data, actor) -> dict:
        try:
            snapshot = room.open_room(actor, data["case_id"], data["since"])
        except NotFound:
            _leave_case(data["case_id"])
            raise
        rejoin = case_room(data["case_id"]) in rooms()
        for channel in snapshot.channels:
            join_room(channel_room(data["case_id"], channel))
        roles = presence.enter(data["case_id"], request.sid, actor.role, getattr(actor, "name", ""))
        if not rejoin:
            emit("presence", {"case_id": data["case_id"], "role": actor.role, "name": getattr(actor, "name", ""),
                              "online": True, "roles": roles}, to=case_room(data["case_id"]), include_self=False)
        return {"ok": True, "case": ROOM_CASE_OUT.dump(snapshot.case),
                "messages": [message_json(m) for m in snapshot.messages], "has_older": snapshot.has_older,
                "proposals": ProposalOut(many=True).dump(snapshot.proposals),
                "rulings": RulingOut(many=True).dump(snapshot.rulings),
                "appeals": AppealOut(many=True).dump(snapshot.appeals),
                "allowed_actions": snapshot.allowed_actions, "channels": list(snapshot.channels),
                "online": roles}

    @handler(SendIn)
    def on_send(self, data, actor):
        sent = messages.send_message(actor, data["case_id"], data["channel"], data["body"], data["client_id"],
                                     origin=request.sid)
        return {"ok": True, "id": sent.message.id, "created_at": sent.message.created_at.isoformat(),
                "duplicate": sent.duplicate}

    @handler(TypingIn)
    def on_typing(self, data, actor):
        messages.require_post(actor, data["case_id"], data["channel"])
        emit("typing", {"case_id": data["case_id"], "channel": data["channel"], "role": actor.role,
                        "name": getattr(actor, "name", "")},
             to=channel_room(data["case_id"], data["channel"]), include_self=False)
        return {"ok": True}

    @handler(ReadIn)
    def on_read(self, data, actor):
        upto = messages.mark_read(actor, data["case_id"], data["channel"], data["message_id"])
        emit("read", {"case_id": data["case_id"], "channel": data["channel"], "role": actor.role,
                      "message_id": upto},
             to=channel_room(data["case_id"], data["channel"]), include_self=False)
        return {"ok": True, "message_id": upto}
