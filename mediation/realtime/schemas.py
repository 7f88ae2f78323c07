"""Client → server event payloads."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from mediation.models import CHANNELS
from mediation.schemas.chat import MessageIn


class JoinIn(Schema):
    case_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    since = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(min=0))


class SendIn(MessageIn):
    case_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


class TypingIn(Schema):
    case_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    channel = fields.String(load_default="joint", validate=validate.OneOf(CHANNELS))


class ReadIn(TypingIn):
    message_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
