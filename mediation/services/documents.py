"""Settlement and ruling documents: what a party takes to enforcement, built from the case-log event that
recorded the outcome, so every fact in it is one the chain vouches for.

A document is identified by its case reference, the event's seq and the event's hash. Its machine-readable
part (`as_json`) is what `document_verify.verify` checks against the chain.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mediation.errors import NotFound
from mediation.extensions import db
from mediation.models import Case, CaseEvent, Clause
from mediation.money import Money
from mediation.services import rulebooks
from mediation.services.actors import Actor
from mediation.services.cases import load
from mediation.services.policy import Action

FORMAT = "mediation-document/1"
KINDS = {"ruling.issued": "ruling", "appeal.decided": "appeal_decision", "case.resolved": "settlement"}


@dataclass(frozen=True)
class CitedClause:
    number: str
    title: dict[str, str]
    url: str  # the path of the clause in the published rulebook: /rules/<slug>/v<n>#clause-<number>


@dataclass(frozen=True)
class LocalTime:
    zone: str
    at: datetime


@dataclass
class Document:
    kind: str  # settlement | ruling | appeal_decision
    issuer: str
    case_id: int
    reference: str
    seq: int
    hash: str
    parties: dict[str, str]  # role -> name, as the platform named them
    buyer_refund: str  # "40.00 USD"
    seller_release: str
    return_required: bool
    terms: str
    recorded_at: datetime  # UTC
    local_times: dict[str, LocalTime]  # role -> the same instant in that party's zone
    rationale: str | None = None
    decision: str | None = None  # uphold | replace, for an appeal decision
    clauses: list[CitedClause] = field(default_factory=list)

    def as_json(self) -> dict:
        """The machine-readable part: every field the printed document shows, plus where it sits on the chain."""
        return {
            "format": FORMAT,
            "issuer": self.issuer,
            "kind": self.kind,
            "case": self.reference,
            "event": {"seq": self.seq, "hash": self.hash},
            "parties": dict(self.parties),
            "outcome": {"buyer_refund": self.buyer_refund, "seller_release": self.seller_release,
                        "return_required": self.return_required, "terms": self.terms},
            "rationale": self.rationale,
            "decision": self.decision,
            "clauses": [{"number": c.number, "title": dict(c.title), "url": c.url} for c in self.clauses],
            "recorded_at": {"utc": _iso(self.recorded_at),
                            **{role: {"zone": t.zone, "time": _iso(t.at)} for role, t in self.local_times.items()}},
        }


def issuer() -> str:
    """This deployment's name on its documents: not a secret, but no other deployment (other key) shares it."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"mediation-documents", hashlib.sha256).hexdigest()[:16]


def list_documents(actor: Actor, case_id: int) -> list[tuple[int, str]]:
    """(seq, kind) of each document the case has so far, oldest first. Raises NotFound."""
    case = load(actor, case_id, Action.VIEW_DOCUMENT)
    return [(event.seq, KINDS[event.type]) for event in _document_events(case.id)]


def get_document(actor: Actor, case_id: int, seq: int) -> Document:
    """The document recorded by event `seq` of the case. Raises NotFound (no such case for the actor, or no
    settlement, ruling or appeal decision at that seq)."""
    case = load(actor, case_id, Action.VIEW_DOCUMENT)
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == seq))
    if event is None or not is_document_event(event):
        raise NotFound(_l("No such document in this case."))
    return build(case, event)


def is_document_event(event: CaseEvent) -> bool:
    if event.type == "case.resolved":
        return (event.payload.get("outcome") or {}).get("resolution") == "settled"
    return event.type in KINDS


def build(case: Case, event: CaseEvent, zones: dict[str, str] | None = None) -> Document:
    """The document of `event`, its facts read from the event's payload. `zones` (role -> zone) replaces the
    parties' current zones: a verifier rebuilds the document in the zones the document was printed in."""
    payload = event.payload
    ruling = payload.get("ruling") if event.type != "case.resolved" else None
    outcome = ruling if ruling is not None else payload.get("outcome") or {}
    recorded = event.created_at.astimezone(UTC)
    zones = {**{p.role: p.timezone for p in case.parties}, **(zones or {})}
    return Document(
        kind=KINDS[event.type], issuer=issuer(), case_id=case.id, reference=case.reference, seq=event.seq,
        hash=event.hash, parties={p.role: p.name for p in case.parties},
        buyer_refund=_money(outcome.get("buyer_refund")), seller_release=_money(outcome.get("seller_release")),
        return_required=bool(outcome.get("return_required")), terms=outcome.get("terms") or "",
        recorded_at=recorded, local_times={role: _local(recorded, zone) for role, zone in sorted(zones.items())},
        rationale=ruling.get("rationale") if ruling else None, decision=ruling.get("decision") if ruling else None,
        clauses=[_cited(c) for c in (ruling or {}).get("clauses", [])],
    )


def _document_events(case_id: int) -> list[CaseEvent]:
    rows = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                      CaseEvent.type.in_(tuple(KINDS)))
                              .order_by(CaseEvent.seq))
    return [event for event in rows if is_document_event(event)]


def _money(value: dict | None) -> str:
    if not value:
        return ""
    return str(Money.parse(value["value"], value["currency"]))


def _cited(clause: dict) -> CitedClause:
    # Published clauses never change, so the link read now is the one the ruling cited.
    row = db.session.get(Clause, clause.get("id")) if isinstance(clause.get("id"), int) else None
    return CitedClause(number=str(clause.get("number", "")), title=dict(clause.get("title") or {}),
                       url=rulebooks.clause_path(row) if row is not None else "")


def _local(at: datetime, zone: str) -> LocalTime:
    try:
        return LocalTime(zone, at.astimezone(ZoneInfo(zone)))
    except (ZoneInfoNotFoundError, ValueError):
        return LocalTime("UTC", at)


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")
