"""Structured requests: a party asks the other party, or the case's mediator asks either party, for something
from a catalogue ("the tracking number", "photos of the damage") or in free text, with a due date.

A request is stored as data (kind + the asker's own note) and rendered in each reader's language when read,
so the buyer and the seller each see it in theirs. A request is answered in words (`answer_request`) or by
a file (the evidence upload names it and calls `mark_answered_by_evidence`). Being overdue is only shown,
never acted on: the mediation stays neutral about a late answer.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mediation import clock
from mediation.errors import Invalid, InvalidTransition, NotFound
from mediation.extensions import db
from mediation.models import Case, Evidence, EvidenceRequest
from mediation.services import events, policy, uow, workflow
from mediation.services.actors import Actor, PartyActor
from mediation.services.cases import load
from mediation.services.checklists import require_reader
from mediation.services.messages import note_response
from mediation.services.policy import Action

MAX_TEXT = 1000
MAX_ANSWER = 2000
DEFAULT_DAYS, MIN_DAYS, MAX_DAYS = 3, 1, 14
PARTIES = ("buyer", "seller")


@dataclass(frozen=True)
class Kind:
    key: str
    label: object  # lazy strings, rendered in the reader's language
    ask: object | None  # the request as a sentence; None for free_text, whose text is the request
    answer_with: str  # what usually answers it, for the UI: "words", "file" or "either"


CATALOGUE: tuple[Kind, ...] = (
    Kind("tracking_number", _l("Tracking number"), _l("Please send the tracking number of the shipment."), "words"),
    Kind("delivery_proof", _l("Proof of delivery"), _l("Please send the carrier's proof of delivery."), "file"),
    Kind("damage_photos", _l("Photos of the damage"), _l("Please send photos of the damage to the item."), "file"),
    Kind("packaging_photos", _l("Photos of the packaging"),
         _l("Please send photos of the packaging and how the item was packed."), "file"),
    Kind("listing_comparison", _l("The item compared with the listing"),
         _l("Please send photos that compare the item with the listing."), "file"),
    Kind("receipt", _l("Receipt or invoice"), _l("Please send the receipt or invoice for the item."), "file"),
    Kind("serial_number", _l("Serial number"),
         _l("Please send the item's serial number, or a photo of the label that shows it."), "either"),
    Kind("free_text", _l("Something else"), None, "either"),
)
KINDS = {kind.key: kind for kind in CATALOGUE}


def request_text(request: EvidenceRequest, locale: str | None = None) -> str:
    """The request as a sentence in `locale` (default: the current one); free text stays as written."""
    kind = KINDS.get(request.kind)
    if kind is None or kind.ask is None:
        return request.text
    if locale is None:
        return str(kind.ask)
    with force_locale(locale):
        return str(kind.ask)


def kind_label(kind: str, locale: str | None = None) -> str:
    found = KINDS.get(kind)
    if found is None:
        return kind
    if locale is None:
        return str(found.label)
    with force_locale(locale):
        return str(found.label)


def is_overdue(request: EvidenceRequest, now: datetime | None = None) -> bool:
    return request.state == "open" and request.due_at <= (now or clock.now())


def create_request(actor: Actor, case_id: int, *, kind: str, addressee: str, text: str = "",
                   due_in_days: int = DEFAULT_DAYS, channel: str = "joint") -> EvidenceRequest:
    """Ask a party for something. A party asks the other party in the joint channel; the case's mediator
    asks either party, jointly or (in mediation) in that party's private channel.

    Raises NotFound, Forbidden (not a party or the case's mediator), InvalidTransition (the case is
    decided), Invalid (kind, addressee, text, due_in_days, channel). Emits request.created (to the private
    channel's room only for a caucus request), and case.negotiation_started for the respondent's first step.
    """
    with uow.transaction():
        case = load(actor, case_id, Action.REQUEST_EVIDENCE)
        _require_undecided(case)
        note = _valid_request(actor, case, kind, addressee, text, due_in_days, channel)
        now = clock.now()
        request = EvidenceRequest(case_id=case.id, channel=channel, kind=kind, text=note, requester=actor.key,
                                  requester_role=actor.role, addressee_role=addressee,
                                  due_at=now + timedelta(days=due_in_days), state="open", created_at=now)
        db.session.add(request)
        db.session.flush()
        if channel == "joint":
            note_response(case, actor)
        events.record(case, "request.created", actor, {"request": request_payload(request)},
                      channel=request.channel)
    return request


def answer_request(actor: Actor, case_id: int, request_id: int, text: str | None = None) -> EvidenceRequest:
    """The party asked answers in words (a file answer goes through the evidence upload). Late answers are
    welcome: being overdue has no consequence.

    Raises NotFound (also a request in a channel the actor cannot read), Forbidden (not the addressee; the
    platform),
    InvalidTransition (case decided; request answered or cancelled), Invalid (text). Emits request.answered.
    """
    with uow.transaction():
        case, request = _load(actor, case_id, request_id, Action.ANSWER_REQUEST)
        _require_undecided(case)
        _require_open(request)
        answer = (text or "").strip()
        if not answer or len(answer) > MAX_ANSWER:
            message = (_l("Write your answer.") if not answer
                       else _l("Use at most %(count)s characters.", count=MAX_ANSWER))
            raise Invalid(message, {"text": [message]})
        _answer(request, answer)
        if request.channel == "joint":
            note_response(case, actor)
        events.record(case, "request.answered", actor, {"request": request_payload(request)},
                      channel=request.channel)
    return request


def cancel_request(actor: Actor, case_id: int, request_id: int) -> EvidenceRequest:
    """Who asked takes an open request back.

    Raises NotFound, Forbidden (not the requester), InvalidTransition (case decided; request no longer
    open). Emits request.cancelled.
    """
    with uow.transaction():
        case, request = _load(actor, case_id, request_id, Action.CANCEL_REQUEST)
        _require_undecided(case)
        _require_open(request)
        request.state = "cancelled"
        events.record(case, "request.cancelled", actor, {"request": request_payload(request)},
                      channel=request.channel)
    return request


def list_requests(actor: Actor, case_id: int) -> list[EvidenceRequest]:
    """The case's requests the actor may see (joint ones, and those of private channels they read), newest
    first. Raises NotFound, Forbidden (the platform)."""
    case = load(actor, case_id)
    require_reader(actor, case)
    readable = policy.readable_channels(actor, case)
    return list(db.session.scalars(select(EvidenceRequest).where(
        EvidenceRequest.case_id == case.id, EvidenceRequest.channel.in_(readable))
        .order_by(EvidenceRequest.id.desc()).limit(200)))


def mark_answered_by_evidence(case: Case, request: EvidenceRequest, evidence: Evidence,
                              actor: Actor | None = None) -> bool:
    """A file answers `request`: for the evidence service, inside its own transaction, after it checked
    that the uploader may upload into `evidence.channel`.

    Checks everything that links the three itself, so a wrong combination cannot answer a request: the
    request and the file belong to `case`, the file names the request (`evidence.request_id`, set by the
    caller: the row is append-only), the uploader is the party asked,
    and the file is where the asker can see it (the request's channel, or joint). Returns True when this
    answered the request, False when it was already answered (the file simply adds to the answer).
    Raises Invalid (field request_id) otherwise, which rolls the upload back with a field message.
    Emits request.answered (by `actor`, the uploader; read from the file when not given).
    """
    problem = None
    if request.case_id != case.id or evidence.case_id != case.id or evidence.request_id != request.id:
        problem = _l("There is no such request in this case.")
    elif evidence.uploader_role != request.addressee_role:
        problem = _l("This request is addressed to the other party.")
    elif evidence.channel not in (request.channel, "joint"):
        problem = _l("Answer this request in the channel it was made in.")
    elif request.state == "cancelled" or case.state not in workflow.ACTIVE:
        problem = _l("This request can no longer be answered.")
    if problem is not None:
        raise Invalid(problem, {"request_id": [problem]})
    if request.state != "open":
        return False
    db.session.flush()  # the file's id, for the record
    _answer(request, None)
    events.record(case, "request.answered", actor or _uploader(evidence),
                  {"request": request_payload(request), "evidence_id": evidence.id}, channel=request.channel)
    return True


def request_in_case(case: Case, request_id: int | None) -> EvidenceRequest:
    """The request an upload names, for the evidence service; Invalid (field request_id) if not in `case`."""
    request = db.session.get(EvidenceRequest, request_id) if request_id else None
    if request is None or request.case_id != case.id:
        message = _l("There is no such request in this case.")
        raise Invalid(message, {"request_id": [message]})
    return request


def request_payload(request: EvidenceRequest) -> dict:
    """The request as data for the case log and room events; clients render `kind` in their language."""
    return {
        "id": request.id, "kind": request.kind, "text": request.text, "requester_role": request.requester_role,
        "addressee_role": request.addressee_role, "channel": request.channel,
        "due_at": request.due_at.isoformat(), "state": request.state,
        "answered_at": request.answered_at.isoformat() if request.answered_at else None,
        "answer_text": request.answer_text,
    }


def _require_undecided(case: Case) -> None:
    # Requests help the parties settle or the mediator decide; once the case is decided they are moot.
    if case.state not in workflow.ACTIVE:
        raise InvalidTransition(_l("The case is %(state)s: requests can only be made and answered until it "
                                   "is decided.", state=workflow.state_word(case.state)), state=case.state)


def _require_open(request: EvidenceRequest) -> None:
    if request.state == "answered":
        raise InvalidTransition(_l("This request has already been answered."), request_state=request.state)
    if request.state != "open":
        raise InvalidTransition(_l("This request was cancelled."), request_state=request.state)


def _valid_request(actor: Actor, case: Case, kind: str, addressee: str, text: str | None, days: int,
                   channel: str) -> str:
    """The cleaned note, or Invalid naming every field that is wrong."""
    errors: dict[str, list] = {}
    note = (text or "").strip()
    if kind not in KINDS:
        errors["kind"] = [_l("Choose a request from the list.")]
    elif kind == "free_text" and not note:
        errors["text"] = [_l("Write what you are asking for.")]
    if len(note) > MAX_TEXT:
        errors["text"] = [_l("Use at most %(count)s characters.", count=MAX_TEXT)]
    if addressee not in PARTIES:
        errors["addressee"] = [_l("Ask the buyer or the seller.")]
    elif isinstance(actor, PartyActor) and addressee == actor.role:
        errors["addressee"] = [_l("Ask the other party; you cannot ask yourself.")]
    if not isinstance(days, int) or isinstance(days, bool) or not MIN_DAYS <= days <= MAX_DAYS:
        errors["due_in_days"] = [_l("Give between %(low)s and %(high)s days.", low=MIN_DAYS, high=MAX_DAYS)]
    channel_error = _channel_error(actor, case, addressee, channel)
    if channel_error is not None:
        errors["channel"] = [channel_error]
    if errors:
        raise Invalid(_l("Some fields are not valid."), errors)
    return note


def _channel_error(actor: Actor, case: Case, addressee: str, channel: str):
    if channel == "joint":
        return None
    # A private request is the mediator's, in the caucus of the party asked: only they two can read it.
    if not policy.is_case_mediator(actor, case):
        return _l("Parties make requests in the joint channel.")
    if channel != f"caucus:{addressee}":
        return _l("Use the joint channel or the private channel of the party you ask.")
    if not workflow.channel_open(case, channel):
        return _l("Private channels are open while the case is in mediation.")
    return None


def _load(actor: Actor, case_id: int, request_id: int, action: Action) -> tuple[Case, EvidenceRequest]:
    """The case and its request; a request in a channel the actor cannot read does not exist for them."""
    case = load(actor, case_id)
    require_reader(actor, case)
    request = db.session.get(EvidenceRequest, request_id)
    if (request is None or request.case_id != case.id
            or request.channel not in policy.readable_channels(actor, case)):
        raise NotFound(_l("There is no such request in this case."))
    policy.require(actor, action, case, request=request)
    return case, request


def _answer(request: EvidenceRequest, text: str | None) -> None:
    request.state = "answered"
    request.answered_at = clock.now()
    request.answer_text = text


def _uploader(evidence: Evidence) -> PartyActor:
    """The uploader as an actor, for the log line (a party: its id is in `uploader`, "party:12")."""
    _, _, party_id = evidence.uploader.partition(":")
    return PartyActor(party_id=int(party_id), case_id=evidence.case_id, role=evidence.uploader_role)
