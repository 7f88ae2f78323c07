"""Who is owed which e-mail about a case: rows in the mail outbox (`Notification`).

`events.record` calls `owed` for every case event, and the chat writes the rows `digests_owed` names for every
message, inside the command's own transaction: an e-mail row commits with the change that causes it, and
a command that rolls back leaves none. The mail worker (services/mail.py) renders and sends the rows later.

Who gets what:
- `case.opened`: the respondent (the claimant filed the case and knows); the join link is minted when the
  mail is sent, never stored.
- `proposal.created`: whoever must answer it (the other party; both parties for a mediator's recommendation).
- `case.escalated`, `ruling.issued`, `appeal.decided`: both parties.
- `mediator.assigned`: both parties and the mediator assigned (in mediation or on appeal).
- `deadline.reminder`: both parties, and the mediator who must decide by that deadline.
- `case.resolved`: both parties, one e-mail with the outcome (every settlement, final ruling and withdrawal
  ends in exactly one `case.resolved`, so `case.settled` or `ruling.final` mail nobody on their own).
- `messages.digest`: a party with unread chat messages, at most one e-mail per 15 minutes per case.

A recipient without an e-mail address gets a row in state `dropped` (last_error says why), so the record shows
who could not be told; a digest is never scheduled for them (it would leave a dropped row per message).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import ARRAY, String, bindparam, cast, exists, func, insert, literal, or_, select, true

from mediation import clock
from mediation.extensions import db
from mediation.models import Case, CaseEvent, CaseState, Message, Notification, Party, ReadMarker
from mediation.services import uow

DIGEST = "messages.digest"
# A digest waits this long after the first unread message, so a burst of messages makes one e-mail.
DIGEST_GATHER = timedelta(minutes=2)
# At most one digest e-mail per case and recipient in this span.
DIGEST_EVERY = timedelta(minutes=15)
NO_ADDRESS = "no e-mail address"
# Who decides by the deadline of a waiting state (a column of Case), besides the parties.
_DECIDERS = {CaseState.MEDIATION: "mediator_id", CaseState.APPEALED: "appeal_mediator_id"}
_NOTIFICATIONS = Notification.__table__
_PARTIES = Party.__table__
_MESSAGES = Message.__table__

_listeners: list[Callable[[], None]] = []
_INSERT_NOTIFICATION = insert(_NOTIFICATIONS)

# Built once: digests are checked for every chat message, and building the statement cost more than running it.
_PARTY_RECIPIENT = literal("party:") + cast(_PARTIES.c.id, String)
# A digest a worker holds now (leased) may have been written before this message: it does not cover it.
_PENDING_DIGEST = exists().where(
    _NOTIFICATIONS.c.case_id == bindparam("case_id"),
    _NOTIFICATIONS.c.recipient == _PARTY_RECIPIENT,
    _NOTIFICATIONS.c.kind == DIGEST, _NOTIFICATIONS.c.state == "pending",
    or_(_NOTIFICATIONS.c.leased_until.is_(None),
        _NOTIFICATIONS.c.leased_until <= bindparam("now", type_=_NOTIFICATIONS.c.leased_until.type)))


def _last_digest_sent_to(recipient):
    return select(func.max(_NOTIFICATIONS.c.sent_at)).where(
        _NOTIFICATIONS.c.case_id == bindparam("case_id"), _NOTIFICATIONS.c.recipient == recipient,
        _NOTIFICATIONS.c.kind == DIGEST, _NOTIFICATIONS.c.state == "sent")


_LAST_DIGEST_SENT = _last_digest_sent_to(bindparam("recipient"))
_LAST_SENT_TO_PARTY = _last_digest_sent_to(_PARTY_RECIPIENT).scalar_subquery()
# Per party of the case: whether a digest is pending, and when the last one was sent. The chat reads these
# in the same query as the case it posts to (cases.load_ref_and_parties), so a message costs no extra round trip.
PARTY_DIGESTS = (_PARTIES.c.id.label("party_id"), _PARTIES.c.role.label("party_role"),
                 _PARTIES.c.email.label("party_email"), _PENDING_DIGEST.label("pending"),
                 _LAST_SENT_TO_PARTY.label("last_sent"))
PARTIES_AND_THEIR_DIGESTS = select(*PARTY_DIGESTS).where(_PARTIES.c.case_id == bindparam("case_id"))


def digest_params() -> dict:
    """The values PARTY_DIGESTS binds besides the case id."""
    return {"now": clock.now()}


def on_mail_written(listener: Callable[[], None]) -> None:
    """Call `listener` after each commit that wrote mail rows (the mail worker wakes at once)."""
    _listeners.append(listener)


def owed(run, case: Case, event: CaseEvent) -> None:
    """Write the mail rows `event` earns (none for most events), on `run`: the event's own transaction (the
    session or a Connection)."""
    write(run, rows_owed(case, event))


def rows_owed(case: Case, event: CaseEvent) -> list[dict]:
    """The mail rows `event` earns, not yet written."""
    chooser = _RECIPIENTS.get(event.type)
    if chooser is None:
        return []
    now = clock.now()
    payload = dict(event.payload)
    if case.deadline_at is not None:
        # The deadline as it was at the event: by the time the mail goes out the case may have moved on.
        payload.setdefault("deadline_at", case.deadline_at.isoformat())
    return [{"case_id": case.id, "recipient": recipient, "kind": event.type, "payload": payload,
             "created_at": now, "next_attempt_at": now, "attempts": 0,
             **({"state": "pending", "last_error": None} if address else {"state": "dropped",
                                                                          "last_error": NO_ADDRESS})}
            for recipient, address in chooser(case, event.payload)]


def digests_owed(case_id: int, sender: str, channel: str, parties: list) -> list[dict]:
    """The digest rows a new message in `channel` by `sender` earns: one for each party who may read the channel
    (but the sender) and has no digest pending, given `parties`, their PARTY_DIGESTS rows.

    An existing pending digest already covers the message. A new one is due after the gather time, and never
    sooner than 15 minutes after the last digest sent to that party about this case.
    """
    now = clock.now()
    rows = []
    for party in parties:
        recipient = f"party:{party.party_id}"
        if party.pending or not party.party_email or recipient == sender:
            continue
        if channel not in ("joint", f"caucus:{party.party_role}"):
            continue
        last_sent = now - DIGEST_EVERY if party.last_sent is None else party.last_sent
        rows.append({"case_id": case_id, "recipient": recipient, "kind": DIGEST, "payload": {}, "created_at": now,
                     "state": "pending", "attempts": 0, "next_attempt_at": max(now + DIGEST_GATHER,
                                                                               last_sent + DIGEST_EVERY),
                     "last_error": None})
    return rows


def write(run, rows: list[dict]) -> None:
    """Write mail rows (from rows_owed or digests_owed) on `run`, and wake the mail worker after the commit."""
    if rows:
        run.execute(_INSERT_NOTIFICATION, rows)
        mail_written()


def with_digests(message_insert):
    """PostgreSQL: `message_insert` (an INSERT … RETURNING id) and the digest rows it earns as one statement,
    for a write that must commit by itself (uow.checked_write). The rows come as two arrays, `recipients` and
    `dues`; they are written only if the message is (its insert returned an id). Returns the message's id."""
    message = message_insert.cte("message")
    owed = func.unnest(bindparam("recipients", type_=ARRAY(String)),
                       bindparam("dues", type_=ARRAY(_NOTIFICATIONS.c.next_attempt_at.type))
                       ).table_valued("recipient", "due").render_derived()
    digests = insert(_NOTIFICATIONS).from_select(
        ["case_id", "recipient", "kind", "payload", "created_at", "state", "attempts", "next_attempt_at"],
        select(bindparam("case_id", type_=_NOTIFICATIONS.c.case_id.type), owed.c.recipient, literal(DIGEST),
               literal({}, _NOTIFICATIONS.c.payload.type),
               bindparam("created_at", type_=_NOTIFICATIONS.c.created_at.type), literal("pending"), literal(0),
               owed.c.due)
        .select_from(message).join(owed, true())).cte("digests")
    return select(message.c.id).add_cte(message).add_cte(digests)


def last_digest_sent(case_id: int, recipient: str):
    """When the last digest to `recipient` about the case went out (if never: long enough ago to hold
    nothing back)."""
    sent = db.session.execute(_LAST_DIGEST_SENT, {"case_id": case_id, "recipient": recipient}).scalar()
    return clock.now() - DIGEST_EVERY if sent is None else sent


def unread_messages(case_id: int, party: Party, limit: int) -> tuple[list, int]:
    """What a digest to `party` quotes: others' messages in the channels the party reads that are after both
    the party's read marker there and the last message an earlier digest quoted, oldest first, at most
    `limit`; and how many more there are."""
    key = f"party:{party.id}"
    markers = dict(db.session.execute(select(ReadMarker.channel, ReadMarker.message_id).where(
        ReadMarker.case_id == case_id, ReadMarker.sender == key)).all())
    quoted = _last_quoted(case_id, key)
    rows, total = [], 0
    for channel in ("joint", f"caucus:{party.role}"):
        unread = (_MESSAGES.c.case_id == case_id, _MESSAGES.c.channel == channel, _MESSAGES.c.sender != key,
                  _MESSAGES.c.id > max(quoted, markers.get(channel, 0)))
        total += db.session.execute(select(func.count()).where(*unread)).scalar()
        rows += db.session.execute(select(_MESSAGES).where(*unread).order_by(_MESSAGES.c.id).limit(limit)).all()
    rows = sorted(rows, key=lambda row: row.id)[:limit]
    return rows, total - len(rows)


def _last_quoted(case_id: int, recipient: str) -> int:
    payload = db.session.scalar(select(Notification.payload).where(
        Notification.case_id == case_id, Notification.recipient == recipient, Notification.kind == DIGEST,
        Notification.state == "sent").order_by(Notification.sent_at.desc(), Notification.id.desc()).limit(1))
    return (payload or {}).get("last_message_id", 0)


def mail_written() -> None:
    """Wake the mail worker once the current transaction commits: it wrote mail rows (here, or in a command's
    own statement: the chat's INSERT with its digests, the opening of a case)."""
    for listener in _listeners:
        uow.after_commit(listener)


# ---- recipients: (recipient key, e-mail address or None) ------------------------------------------------


def _parties(case: Case, roles: tuple[str, ...] = ("buyer", "seller")) -> list[tuple[str, str | None]]:
    return [(f"party:{p.id}", p.email) for p in case.parties if p.role in roles]


def _user(user_id: int | None) -> list[tuple[str, str | None]]:
    from mediation.models import User

    user = db.session.get(User, user_id) if user_id else None
    return [] if user is None else [(f"user:{user.id}", user.email)]


def _respondent(case: Case, _payload: dict) -> list:
    return _parties(case, (case.respondent_role,))


def _answerers(case: Case, payload: dict) -> list:
    author = payload["proposal"]["author_role"]
    return _parties(case, ("buyer", "seller") if author == "mediator" else (
        "seller" if author == "buyer" else "buyer",))


def _both(case: Case, _payload: dict) -> list:
    return _parties(case)


def _assigned(case: Case, payload: dict) -> list:
    return _parties(case) + _user(payload["mediator"]["id"])


def _reminded(case: Case, payload: dict) -> list:
    decider = _DECIDERS.get(payload["state"])
    return _parties(case) + (_user(getattr(case, decider)) if decider else [])


_RECIPIENTS: dict[str, Callable[[Case, dict], list]] = {
    "case.opened": _respondent,
    "proposal.created": _answerers,
    "case.escalated": _both,
    "mediator.assigned": _assigned,
    "deadline.reminder": _reminded,
    "ruling.issued": _both,
    "appeal.decided": _both,
    "case.resolved": _both,
}
KINDS = (*_RECIPIENTS, DIGEST)
