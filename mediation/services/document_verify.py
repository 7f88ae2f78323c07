"""Checking a settlement or ruling document against the chain. Anyone may ask; the answer discloses nothing
the document does not already hold.

- unknown: another deployment issued it, or this one holds no event with that case reference, seq *and*
  hash. The hash works as the key: whoever lacks it (never held the genuine document) learns nothing, not
  even whether the case exists, and cannot probe the record field by field.
- altered: the event exists, but fields differ from the document rebuilt from that event (named, never
  with the right value), or the chain no longer verifies up to that event.
- genuine: everything matches.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mediation.errors import Invalid
from mediation.extensions import db
from mediation.models import Case, CaseEvent
from mediation.services import chain, documents

MAX_BYTES = 5 * 1024 * 1024
ATTACHMENT = "document.json"


@dataclass
class Verdict:
    status: str  # genuine | altered | unknown
    fields: list[str] = field(default_factory=list)  # for altered: the fields that differ from the chain

    @property
    def exit_code(self) -> int:
        return {"genuine": 0, "altered": 1}.get(self.status, 2)

    def as_json(self) -> dict:
        return {"status": self.status, "fields": list(self.fields)}


def verify(data: dict | bytes) -> Verdict:
    """Check a document (its JSON object, or the bytes of its JSON or PDF file) against the chain.

    Raises Invalid when the input is not a document at all (not JSON or PDF, too large, fields missing)."""
    document = read(data) if isinstance(data, bytes | bytearray) else data
    _require_shape(document)
    if document["issuer"] != documents.issuer():
        return Verdict("unknown")
    event = _event(document)
    if event is None:
        return Verdict("unknown")
    report = chain.verify_case(event.case_id, until=event.seq)
    if not report.ok:
        return Verdict("altered", ["chain"])
    zones = _zones(document.get("recorded_at"))
    expected = documents.build(db.session.get(Case, event.case_id), event, zones).as_json()
    differing = sorted(set(_flatten(expected).items()) ^ set(_flatten(document).items()))
    names = sorted({name for name, _value in differing})
    return Verdict("altered", names) if names else Verdict("genuine")


def read(data: bytes) -> dict:
    """The document's JSON from an uploaded file: the JSON itself, or a PDF with it attached."""
    if len(data) > MAX_BYTES:
        raise Invalid(_l("The file is too large to be a document."),
                      {"file": [_l("At most %(n)s MB.", n=MAX_BYTES // 2**20)]})
    if data.lstrip().startswith(b"%PDF"):
        data = _attachment(data)
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise Invalid(_l("This is neither a document's PDF nor its JSON."),
                      {"file": [_l("Upload the PDF or the JSON file of a document.")]}) from None
    if not isinstance(document, dict):
        raise _not_a_document()
    return document


def _attachment(pdf: bytes) -> bytes:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        attached = PdfReader(io.BytesIO(pdf)).attachments.get(ATTACHMENT) or []
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError):
        attached = []
    if not attached:
        raise Invalid(_l("This PDF carries no document data."),
                      {"file": [_l("Upload a PDF downloaded from a case, or its JSON file.")]})
    return attached[0]


def _require_shape(document: dict) -> None:
    event = document.get("event")
    if (document.get("format") != documents.FORMAT or not isinstance(document.get("issuer"), str)
            or not isinstance(document.get("case"), str) or not isinstance(event, dict)
            or type(event.get("seq")) is not int or not isinstance(event.get("hash"), str)):
        raise _not_a_document()


def _not_a_document() -> Invalid:
    return Invalid(_l("This is not a Mediation document."),
                   {"file": [_l("A document names its format, issuer, case and event (seq and hash).")]})


def _event(document: dict) -> CaseEvent | None:
    event = db.session.scalar(select(CaseEvent).join(Case, Case.id == CaseEvent.case_id).where(
        Case.reference == document["case"][:20], CaseEvent.seq == document["event"]["seq"],
        CaseEvent.hash == document["event"]["hash"][:64]))
    return event if event is not None and documents.is_document_event(event) else None


def _zones(recorded_at) -> dict[str, str]:
    """The zones the document was printed in (a party may pick another zone later; the instant is what counts)."""
    if not isinstance(recorded_at, dict):
        return {}
    return {role: shown["zone"] for role, shown in recorded_at.items()
            if role in ("buyer", "seller") and isinstance(shown, dict) and isinstance(shown.get("zone"), str)}


def _flatten(value, prefix: str = "") -> dict[str, str]:
    """Dotted field names (`outcome.buyer_refund`, `clauses.0.number`) and each leaf as canonical JSON."""
    if isinstance(value, dict) and value:
        items = value.items()
    elif isinstance(value, list) and value:
        items = ((str(i), item) for i, item in enumerate(value))
    else:
        return {prefix: json.dumps(value, sort_keys=True)}
    flat: dict[str, str] = {}
    for key, item in items:
        flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    return flat
