"""Client → server event payloads."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from mediation.models import CHANNELS
from mediation.schemas.chat import MessageIn

# Row ids are 32-bit in the database: a larger number names no row (and SQLite cannot even bind it).
MAX_ID = 2**31 - 1


def _id(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class JoinIn(Schema):
    case_id = _id(required=True)
    since = fields.Integer(load_default=None, allow_none=True, strict=True,
                           validate=validate.Range(min=0, max=MAX_ID))


class SendIn(MessageIn):
    case_id = _id(required=True)


class TypingIn(Schema):
    case_id = _id(required=True)
    channel = fields.String(load_default="joint", validate=validate.OneOf(CHANNELS))


class ReadIn(TypingIn):
    message_id = _id(required=True)
