"""Structured requests and evidence checklists as JSON. Stored as codes; every `label`, `title` and `hint`
is rendered here, at read time, in the caller's language (flask_babel's current locale)."""
from __future__ import annotations

from marshmallow import Schema, fields

from mediation.models import CHANNELS
from mediation.schemas.case import room_case_field
from mediation.services.requests import (
    CATALOGUE,
    DEFAULT_DAYS,
    KINDS,
    MAX_DAYS,
    MIN_DAYS,
    is_overdue,
    kind_label,
    request_text,
)

# The service checks these values and answers with translated field messages; the enums here document them.
_KIND_KEYS = [kind.key for kind in CATALOGUE]


class RequestIn(Schema):
    kind = fields.String(required=True, metadata={"enum": _KIND_KEYS,
                                                  "description": "What is asked for; see GET /request-kinds"})
    addressee = fields.String(required=True, metadata={"enum": ["buyer", "seller"],
                                                       "description": "The party asked (a party asks the other)"})
    text = fields.String(load_default="", metadata={
        "description": "Required for free_text (the request itself); otherwise an optional note. At most 1000."})
    due_in_days = fields.Integer(strict=True, load_default=DEFAULT_DAYS, metadata={
        "minimum": MIN_DAYS, "maximum": MAX_DAYS, "description": "Days from now until it is due"})
    channel = fields.String(load_default="joint", metadata={
        "enum": list(CHANNELS), "description": "joint, or (the mediator, in mediation) caucus:<addressee>"})


class RequestAnswerIn(Schema):
    text = fields.String(required=True, metadata={"description": "The answer in words (at most 2000)"})


class ChecklistAnswerIn(Schema):
    value = fields.String(required=True, metadata={"description": "The answer in words (at most 500)"})


class RequestOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    kind = fields.String(metadata={"description": "A catalogue key: clients may render it themselves"})
    label = fields.Function(lambda request: kind_label(request.kind),
                            metadata={"description": "The kind's name in the caller's language"})
    title = fields.Function(lambda request: request_text(request),
                            metadata={"description": "The request as a sentence in the caller's language; "
                                                     "for free_text, the text as written"})
    text = fields.String(metadata={"description": "The asker's own words: the free text, or a note"})
    answer_with = fields.Function(lambda request: KINDS[request.kind].answer_with if request.kind in KINDS
                                  else "either", metadata={"description": "words, file or either (a hint)"})
    requester_role = fields.String(metadata={"description": "buyer, seller or mediator"})
    addressee_role = fields.String()
    channel = fields.String()
    state = fields.String(metadata={"description": "open, answered or cancelled"})
    due_at = fields.DateTime()
    overdue = fields.Function(lambda request: is_overdue(request),
                              metadata={"description": "Open and past due_at (shown only; nothing follows)"})
    created_at = fields.DateTime()
    answered_at = fields.DateTime(allow_none=True)
    answer_text = fields.String(allow_none=True, metadata={"description": "A words answer; null for a file "
                                                           "answer (the file's evidence row names request_id)"})


class KindOut(Schema):
    key = fields.String()
    label = fields.Function(lambda kind: str(kind.label))
    ask = fields.Function(lambda kind: None if kind.ask is None else str(kind.ask),
                          metadata={"description": "The request as a sentence; null for free_text"})
    answer_with = fields.String(metadata={"description": "words, file or either (a hint for the form)"})
    text_required = fields.Function(lambda kind: kind.ask is None)


class ChecklistItemOut(Schema):
    key = fields.String()
    role = fields.String(metadata={"description": "The party whose checklist it is on"})
    answer_by = fields.String(metadata={"description": "file (upload evidence with checklist_item=key) or "
                                                       "words (POST checklist/{key})"})
    label = fields.Function(lambda item: str(item.label))
    hint = fields.Function(lambda item: str(item.hint))
    done = fields.Boolean()
    answer = fields.String(allow_none=True, metadata={"description": "The words answer, once given"})
    answered_at = fields.DateTime(allow_none=True)
    evidence_ids = fields.List(fields.Integer(), metadata={"description": "Files (not withdrawn) naming it"})
    request_ids = fields.List(fields.Integer(), metadata={"description": "Answered requests that tick it"})
    can_answer = fields.Boolean(metadata={"description": "The caller may answer it in words now"})


class ChecklistOut(Schema):
    reason = fields.String()
    checklists = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(ChecklistItemOut)),
                             metadata={"description": "By party: a party gets only its own key "
                                                      "(buyer or seller); the mediators and admins get both"})


class RequestAnswerOut(Schema):
    request = fields.Nested(RequestOut)
    case = room_case_field()


class ChecklistItemAnswerOut(Schema):
    item = fields.Nested(ChecklistItemOut)
    case = room_case_field()
