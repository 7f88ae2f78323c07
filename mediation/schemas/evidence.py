"""Evidence files as JSON: the multipart upload, the list, one file's record."""
from __future__ import annotations

from flask import url_for
from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, fields, validate

from mediation.models import CHANNELS
from mediation.schemas.case import room_case_field
from mediation.schemas.ids import id_range
from mediation.services import filetypes


class EvidenceUploadIn(Schema):
    """multipart/form-data. The file's type is decided from its bytes; its name and Content-Type are not trusted."""

    class Meta:
        unknown = EXCLUDE  # a page may send its csrf_token as a form field too

    file = Upload(required=True, metadata={"description": "The file: JPEG, PNG, WebP, GIF, PDF, MP4 or plain "
                                                          "UTF-8 text, at most EVIDENCE_MAX_BYTES (25 MB)."})
    caption = fields.String(load_default="", validate=validate.Length(max=2000))
    channel = fields.String(load_default="joint", validate=validate.OneOf(CHANNELS),
                            metadata={"description": "joint, or your own caucus while the case is in mediation"})
    checklist_item = fields.String(load_default=None, validate=validate.Regexp(r"^[a-z_]{1,40}$"),
                                   metadata={"description": "The checklist item it shows, e.g. tracking_number"})
    request_id = fields.Integer(load_default=None, validate=id_range(),
                                metadata={"description": "The structured request (made to you) it answers"})


class EvidenceListArgs(Schema):
    before = fields.Integer(validate=id_range(), metadata={"description": "An evidence id: older ones"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))
    channel = fields.String(validate=validate.OneOf(CHANNELS), metadata={"description": "Only this channel"})


class WithdrawalOut(Schema):
    by_role = fields.String()
    reason = fields.String()
    created_at = fields.DateTime()


def _url(variant: str | None):
    def url(evidence) -> str | None:
        if variant is not None and (evidence.media_type not in filetypes.IMAGES or evidence.withdrawn):
            return None
        endpoint = "evidence.download_evidence" if variant is None else f"evidence.evidence_{variant}"
        return url_for(endpoint, case_id=evidence.case_id, evidence_id=evidence.id)
    return url


class EvidenceOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    channel = fields.String()
    uploader_role = fields.String(metadata={"description": "buyer, seller or mediator"})
    uploader_name = fields.String()
    filename = fields.String()
    media_type = fields.String(metadata={"description": "Decided from the bytes"})
    size = fields.Integer(metadata={"description": "Bytes"})
    sha256 = fields.String(metadata={"description": "Also in the case's hash chain (event evidence.added)"})
    caption = fields.String()
    checklist_item = fields.String(allow_none=True)
    request_id = fields.Integer(allow_none=True)
    width = fields.Integer(allow_none=True)
    height = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    withdrawn = fields.Boolean()
    withdrawal = fields.Nested(WithdrawalOut, allow_none=True)
    has_preview = fields.Function(lambda e: e.media_type in filetypes.IMAGES and not e.withdrawn)
    url = fields.Function(_url(None), metadata={"description": "The original file (an attachment)"})
    preview_url = fields.Function(_url("preview"), metadata={"description": "At most 1600 px, no metadata"})
    thumbnail_url = fields.Function(_url("thumbnail"), metadata={"description": "At most 320 px, no metadata"})


class EvidencePageOut(Schema):
    items = fields.List(fields.Nested(EvidenceOut))
    has_older = fields.Boolean()


class EvidenceAnswerOut(Schema):
    evidence = fields.Nested(EvidenceOut)
    case = room_case_field()
