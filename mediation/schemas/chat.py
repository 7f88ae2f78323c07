"""Messages and proposals, for the API, the socket and the room page alike."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from mediation.models import CHANNELS
from mediation.schemas.case import room_case_field
from mediation.schemas.ids import id_range
from mediation.schemas.money import MoneyField


class MessageIn(Schema):
    channel = fields.String(load_default="joint", validate=validate.OneOf(CHANNELS))
    body = fields.String(required=True, validate=validate.Length(1, 4000))
    client_id = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_.:-]{1,64}$", error="Use 1 to 64 letters, digits or _ . : -"))


class MessageOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    channel = fields.String()
    author_role = fields.String()
    author_name = fields.String()
    body = fields.String()
    client_id = fields.String()
    created_at = fields.DateTime()


def message_json(message) -> dict:
    """MessageOut's shape without marshmallow: every chat message passes through here (broadcast, acks)."""
    return {"id": message.id, "case_id": message.case_id, "channel": message.channel,
            "author_role": message.author_role, "author_name": message.author_name, "body": message.body,
            "client_id": message.client_id, "created_at": message.created_at.isoformat()}


class HistoryArgs(Schema):
    channel = fields.String(load_default="joint", validate=validate.OneOf(CHANNELS))
    before = fields.Integer(validate=id_range())
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class MessagePageOut(Schema):
    items = fields.List(fields.Nested(MessageOut))
    has_older = fields.Boolean()


class SentOut(Schema):
    id = fields.Integer()
    created_at = fields.DateTime()
    duplicate = fields.Boolean(metadata={"description": "True when this client_id was already stored"})
    message = fields.Nested(MessageOut)
    case = room_case_field()


class ProposalIn(Schema):
    buyer_refund = MoneyField(required=True)
    seller_release = MoneyField(required=True)
    return_required = fields.Boolean(load_default=False)
    terms = fields.String(load_default="", validate=validate.Length(max=4000))
    counter_to = fields.Integer(load_default=None, allow_none=True, validate=id_range())


class ProposalOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    author_role = fields.String(metadata={"description": "buyer, seller, or mediator for a recommendation"})
    buyer_refund = MoneyField()
    seller_release = MoneyField()
    return_required = fields.Boolean()
    terms = fields.String()
    counter_to = fields.Integer(attribute="counter_to_id", allow_none=True)
    state = fields.String()
    accepted_by = fields.Function(lambda proposal: [role for role in proposal.accepted_by.split(",") if role],
                                  metadata={"description": "Who has accepted so far (a recommendation needs both)"})
    expires_at = fields.DateTime()
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)


class ProposalAnswerOut(Schema):
    proposal = fields.Nested(ProposalOut)
    case = room_case_field()
