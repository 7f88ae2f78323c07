"""A person's own language and time zone, as the API reads and answers them."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from mediation.schemas.ids import id_range


class PreferencesIn(Schema):
    case_id = fields.Integer(validate=id_range(),
                             metadata={"description": "The case a party acts in (a party token names it already)."})
    role = fields.String(validate=validate.OneOf(("buyer", "seller")),
                         metadata={"description": "Whose preferences: only one's own party may be named."})
    locale = fields.String(metadata={"description": "en or zh-CN", "example": "zh-CN"})
    timezone = fields.String(metadata={"description": "An IANA zone", "example": "Asia/Shanghai"})
    detected = fields.Boolean(load_default=False, metadata={
        "description": "The zone is the browser's guess: it never replaces the person's own choice."})


class PreferencesOut(Schema):
    locale = fields.String()
    timezone = fields.String()
    timezone_chosen = fields.Boolean()
