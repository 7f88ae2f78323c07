"""Evidence on the record: the parties and the mediator put files into a channel of the case.

A file is checked (who, where, when, its name) before a byte is stored, its type is decided from its bytes
while it streams into the store, and only then is its row written, with an `evidence.added` event whose
payload (and so the case's hash chain) carries the file's SHA-256. Files are never altered or erased:
withdrawing one takes it out of view with a reason, and the original stays downloadable by those allowed.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mediation import clock
from mediation.errors import Invalid, InvalidTransition, NotFound
from mediation.extensions import db
from mediation.models import CHANNELS, Case, CaseState, Evidence, EvidenceRequest, EvidenceWithdrawal
from mediation.services import checklists, events, filetypes, policy, previews, storage, uow, workflow
from mediation.services import requests as evidence_requests
from mediation.services.actors import Actor, PartyActor, StaffActor
from mediation.services.cases import load
from mediation.services.messages import note_response
from mediation.services.policy import Action

NAME_LIMIT = 255
CAPTION_LIMIT = 2000
REASON_LIMIT = 2000
PAGE = 50
VARIANTS = ("original", *previews.KINDS)
_CHECKLIST_KEY = re.compile(r"^[a-z_]{1,40}$")
# Control characters, and the invisible direction marks that make "photo‮gpj.exe" look like a photo.
_UNSAFE_IN_NAMES = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass
class EvidencePage:
    items: list[Evidence]
    has_older: bool


@dataclass
class EvidenceFile:
    """A stored file ready to serve: the original (as an attachment) or a preview (inline)."""

    stream: BinaryIO
    media_type: str
    filename: str
    size: int
    etag: str
    created_at: datetime
    attachment: bool


def upload_evidence(actor: Actor, case_id: int, *, stream: BinaryIO, filename: str | None, caption: str = "",
                    channel: str = "joint", checklist_item: str | None = None,
                    request_id: int | None = None) -> Evidence:
    """Put a file on the record in `channel`; images also get a preview and a thumbnail without metadata.

    Raises NotFound, Forbidden (channel), InvalidTransition (case closed, caucus not open), Invalid (name,
    type, caption, checklist item, request), storage.TooLarge. Emits evidence.added to the channel's room,
    and request.answered when the file answers an open request made to the uploader.
    """
    _check_upload(actor, case_id, channel, checklist_item, request_id)
    name = clean_filename(filename)
    caption = _clean_text(caption, "caption", CAPTION_LIMIT)
    db.session.commit()  # end the read: nothing stays open on the database while the bytes stream in
    # The blob goes in first, outside the transaction: it is named by its hash, so a commit that fails
    # afterwards leaves at most a harmless orphan that the same bytes reuse next time.
    blob, detected = _store(stream, name)
    with uow.transaction():
        # Again inside the write: the case may have closed, or the link been revoked, while the bytes came in.
        case = _check_upload(actor, case_id, channel, checklist_item, request_id)
        request = evidence_requests.request_in_case(case, request_id) if request_id is not None else None
        evidence = Evidence(case_id=case.id, channel=channel, uploader=actor.key, uploader_role=_role(actor),
                            uploader_name=(getattr(actor, "name", "") or _role(actor))[:200], sha256=blob.sha256,
                            size=blob.size, media_type=detected.media_type, filename=name, caption=caption,
                            checklist_item=checklist_item or None, request_id=request_id, width=detected.width,
                            height=detected.height, created_at=clock.now())
        db.session.add(evidence)
        db.session.flush()
        note_response(case, actor)  # the respondent's first file answers the dispute, like a first message
        events.record(case, "evidence.added", actor, {"evidence": evidence_json(evidence)}, channel=channel)
        if request is not None:
            evidence_requests.mark_answered_by_evidence(case, request, evidence, actor)
    return evidence


def _store(stream: BinaryIO, name: str) -> tuple[storage.StoredBlob, filetypes.Detected]:
    """Stream the file into the store, with its previews; refused files leave nothing there."""
    config = current_app.config
    found: list[tuple[filetypes.Detected, dict[str, bytes]]] = []

    def inspect(file: BinaryIO) -> None:
        # Every decoding happens here, before the file is published.
        detected = filetypes.inspect(file, name, config["EVIDENCE_MAX_PIXELS"])
        found.append((detected, previews.render(file) if detected.is_image else {}))

    store = storage.get_storage()
    blob = store.put(stream, max_bytes=config["EVIDENCE_MAX_BYTES"], inspect=inspect)
    detected, rendered = found[0]
    for kind, data in rendered.items():
        store.put_derived(blob.sha256, kind, data)
    return blob, detected


def withdraw_evidence(actor: Actor, case_id: int, evidence_id: int, reason: str | None) -> Evidence:
    """Take a file out of view, with a reason. It stays on the record (and downloadable by those allowed).

    Raises NotFound, Forbidden (neither its uploader nor the case's mediator), Invalid (reason),
    InvalidTransition (already withdrawn, case closed). Emits evidence.withdrawn to the file's channel.
    """
    with uow.transaction():
        case, evidence = _find(actor, case_id, evidence_id)
        policy.require(actor, Action.WITHDRAW_EVIDENCE, case, evidence=evidence)
        reason = _clean_text(reason, "reason", REASON_LIMIT, required=True)
        if evidence.withdrawal is not None:
            raise InvalidTransition(_l("This file has already been withdrawn."), state=case.state)
        if case.state == CaseState.CLOSED:
            raise InvalidTransition(_l("The case is closed: its record no longer changes."), state=case.state)
        # By id, not through the relationship: that would mark the (append-only) Evidence row as changed.
        withdrawal = EvidenceWithdrawal(evidence_id=evidence.id, by=actor.key, by_role=_role(actor), reason=reason,
                                        created_at=clock.now())
        db.session.add(withdrawal)
        db.session.flush()
        events.record(case, "evidence.withdrawn", actor,
                      {"evidence_id": evidence.id, "sha256": evidence.sha256, "reason": reason,
                       "by_role": withdrawal.by_role}, channel=evidence.channel)
    db.session.expire(evidence, ["withdrawal"])  # set by id above; the session keeps objects across commits
    return evidence


def list_evidence(actor: Actor, case_id: int, *, before: int | None = None, limit: int = PAGE,
                  channel: str | None = None) -> EvidencePage:
    """The case's files in the channels `actor` may see (or in `channel`), newest first, withdrawn ones
    included (marked); `before` (an evidence id) pages back. For the API and the room page.

    Raises NotFound (case), Forbidden (no evidence for this actor, e.g. the platform; that channel).
    """
    case = load(actor, case_id, Action.VIEW_EVIDENCE, channel=channel or "joint")
    channels = [channel] if channel else [c for c in CHANNELS
                                          if policy.can(actor, Action.VIEW_EVIDENCE, case, channel=c)]
    query = (select(Evidence).options(selectinload(Evidence.withdrawal))
             .where(Evidence.case_id == case.id, Evidence.channel.in_(channels))
             .order_by(Evidence.id.desc()).limit(limit + 1))
    if before is not None:
        query = query.where(Evidence.id < before)
    rows = list(db.session.scalars(query))
    return EvidencePage(rows[:limit], len(rows) > limit)


def evidence_file(actor: Actor, case_id: int, evidence_id: int, variant: str = "original") -> EvidenceFile:
    """The stored bytes of one file: `original` (even once withdrawn), or an image's `preview`/`thumbnail`.

    Raises NotFound (case, file, or no such preview: not an image, withdrawn), Forbidden (no evidence for
    this actor).
    """
    case, evidence = _find(actor, case_id, evidence_id)
    store = storage.get_storage()
    if variant == "original":
        return EvidenceFile(store.open(evidence.sha256), evidence.media_type, download_name(evidence),
                            evidence.size, evidence.sha256, evidence.created_at, attachment=True)
    if variant not in previews.KINDS or evidence.media_type not in filetypes.IMAGES or evidence.withdrawn:
        raise NotFound(_l("This file has no preview."))
    with store.open_derived(evidence.sha256, variant) as stream:
        data = stream.read()  # a few hundred KB at most
    media_type = previews.media_type(data[:8])
    stem = evidence.filename.rsplit(".", 1)[0] if filetypes.extension(evidence.filename) else evidence.filename
    suffix = "png" if media_type == "image/png" else "jpg"
    return EvidenceFile(io.BytesIO(data), media_type, f"{stem}-{variant}.{suffix}", len(data),
                        f"{evidence.sha256}-{variant}", evidence.created_at, attachment=False)


def evidence_json(evidence: Evidence) -> dict:
    """What the case log and the room learn about a new file (plain JSON: it is hashed into the chain)."""
    return {"id": evidence.id, "case_id": evidence.case_id, "channel": evidence.channel,
            "uploader_role": evidence.uploader_role, "uploader_name": evidence.uploader_name,
            "filename": evidence.filename, "media_type": evidence.media_type, "size": evidence.size,
            "sha256": evidence.sha256, "caption": evidence.caption, "checklist_item": evidence.checklist_item,
            "request_id": evidence.request_id, "width": evidence.width, "height": evidence.height,
            "created_at": evidence.created_at.isoformat(), "has_preview": evidence.media_type in filetypes.IMAGES}


def download_name(evidence: Evidence) -> str:
    """The name to save the original as; a name without an extension gets the one its type calls for."""
    if filetypes.extension(evidence.filename):
        return evidence.filename
    return f"{evidence.filename}.{filetypes.EXTENSIONS[evidence.media_type][0]}"


def clean_filename(filename: str | None) -> str:
    """The uploader's name for the file, refused (not silently changed) if it could mislead or break a path."""
    name = (filename or "").strip()
    if not name:
        raise _bad_name(_l("The file has no name."))
    if len(name) > NAME_LIMIT:
        raise _bad_name(_l("The file name is too long: at most %(n)s characters.", n=NAME_LIMIT))
    if "/" in name or "\\" in name:
        raise _bad_name(_l("The file name may not contain / or \\."))
    if _UNSAFE_IN_NAMES.search(name):
        raise _bad_name(_l("The file name contains control characters."))
    if name in (".", ".."):
        raise _bad_name(_l("The file has no name."))
    return name


def _bad_name(message) -> Invalid:
    return Invalid(message, {"file": [_l("Rename the file and send it again.")]})


def _check_upload(actor: Actor, case_id: int, channel: str, checklist_item: str | None,
                  request_id: int | None) -> Case:
    case = load(actor, case_id, Action.UPLOAD_EVIDENCE, channel=channel)
    if not workflow.channel_open(case, channel):
        if case.state == CaseState.CLOSED:
            raise InvalidTransition(_l("The case is closed: no evidence can be added."), state=case.state)
        raise InvalidTransition(_l("This private channel is open only while the case is in mediation."),
                                state=case.state)
    if checklist_item and not _is_checklist_item(actor, case, checklist_item):
        raise Invalid(_l("This is not an item of the case's evidence checklist."),
                      {"checklist_item": [_l("Choose an item of the checklist.")]})
    if request_id is not None:
        _check_request(actor, case, channel, evidence_requests.request_in_case(case, request_id))
    return case


def _check_request(actor: Actor, case: Case, channel: str, request: EvidenceRequest) -> None:
    """Before a byte is stored; requests.mark_answered_by_evidence checks again (and decides) in the write."""
    if not isinstance(actor, PartyActor) or request.addressee_role != actor.role:
        raise Invalid(_l("This request is addressed to the other party."),
                      {"request_id": [_l("Choose a request made to you.")]})
    if channel not in (request.channel, "joint"):
        raise Invalid(_l("Answer this request in the channel it was made in."),
                      {"request_id": [_l("Upload the file into the request's channel, or the joint one.")]})
    if request.state == "cancelled":
        raise Invalid(_l("This request was cancelled."), {"request_id": [_l("Choose an open request.")]})


def _is_checklist_item(actor: Actor, case: Case, key: str) -> bool:
    """On the case's checklist; a party's file ticks the party's own list, so it names one of its items."""
    role = actor.role if isinstance(actor, PartyActor) else None
    return bool(_CHECKLIST_KEY.match(key)) and checklists.is_item(case, key, role)


def _find(actor: Actor, case_id: int, evidence_id: int) -> tuple[Case, Evidence]:
    """The case and one of its files the actor may see; a file of another case or of a channel the actor
    may not read is "not found", exactly like one that does not exist."""
    case = load(actor, case_id, Action.VIEW_EVIDENCE, channel="joint")
    evidence = db.session.get(Evidence, evidence_id)
    if (evidence is None or evidence.case_id != case.id
            or not policy.can(actor, Action.VIEW_EVIDENCE, case, channel=evidence.channel)):
        raise NotFound(_l("No such file in this case."))
    return case, evidence


def _clean_text(value: str | None, field: str, limit: int, required: bool = False) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if required and not text:
        raise Invalid(_l("Say why."), {field: [_l("Required.")]})
    if len(text) > limit:
        raise Invalid(_l("The text is too long."), {field: [_l("At most %(limit)s characters.", limit=limit)]})
    if _UNSAFE_IN_TEXT.search(text):
        raise Invalid(_l("The text has control characters."), {field: [_l("Remove control characters.")]})
    return text


def _role(actor: Actor) -> str:
    return actor.role if isinstance(actor, PartyActor | StaffActor) else "system"
