"""Cases as each audience sees them: the platform (with party contacts) and the case room."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from mediation.extensions import db
from mediation.models import REASONS, Case, CaseState, User
from mediation.money import Money
from mediation.schemas.money import MoneyField

LOCALES = ("en", "zh", "zh-CN", "zh_CN", "zh-Hans", "zh_Hans", "zh_Hans_CN", "en-US", "en_US", "en-GB")


class PartyIn(Schema):
    external_id = fields.String(required=True, validate=validate.Length(1, 128))
    name = fields.String(required=True, validate=validate.Length(1, 200))
    email = fields.Email(load_default=None, validate=validate.Length(max=254))
    locale = fields.String(load_default="en", validate=validate.OneOf(LOCALES))


class CaseIn(Schema):
    external_order_id = fields.String(required=True, validate=validate.Length(1, 128))
    reason = fields.String(required=True, validate=validate.OneOf(REASONS))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    amount = MoneyField(required=True, positive=True)
    held_amount = MoneyField(load_default=None, allow_none=True)
    buyer = fields.Nested(PartyIn, required=True)
    seller = fields.Nested(PartyIn, required=True)
    claimant = fields.String(load_default="buyer", validate=validate.OneOf(("buyer", "seller")))
    metadata = fields.Dict(keys=fields.String(validate=validate.Length(1, 64)), load_default=dict,
                           metadata={"description": "Free key/value data of the platform, returned as given."})


class PartyOut(Schema):
    role = fields.String()
    external_id = fields.String()
    name = fields.String()
    email = fields.String(allow_none=True)
    locale = fields.String()


class RoomPartyOut(Schema):
    role = fields.String()
    name = fields.String()


class OutcomeOut(Schema):
    resolution = fields.String(metadata={"description": "settled, ruled or withdrawn"})
    buyer_refund = MoneyField()
    seller_release = MoneyField()
    return_required = fields.Boolean()
    terms = fields.String()
    resolved_at = fields.DateTime()


# Made once: constructing a schema costs more than the dump it is used for.
_PARTY, _ROOM_PARTY, _OUTCOME = PartyOut(), RoomPartyOut(), OutcomeOut()


def outcome_of(case: Case) -> dict | None:
    if case.resolution is None:
        return None
    return {
        "resolution": case.resolution,
        "buyer_refund": Money(case.refund_minor, case.currency),
        "seller_release": Money(case.release_minor, case.currency),
        "return_required": case.return_required,
        "terms": case.terms,
        "resolved_at": case.resolved_at,
    }


class _CaseBase(Schema):
    id = fields.Integer()
    reference = fields.String()
    state = fields.String(metadata={"enum": [s.value for s in CaseState]})
    version = fields.Integer()
    external_order_id = fields.String()
    reason = fields.String()
    description = fields.String()
    amount = MoneyField()
    held_amount = MoneyField(allow_none=True)
    claimant = fields.String(attribute="claimant_role")
    deadline_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    outcome = fields.Function(lambda case: _OUTCOME.dump(outcome_of(case)) if case.resolution else None,
                              metadata={"description": "Set once the case is settled, final or withdrawn"})


class CaseOut(_CaseBase):
    """The platform's view."""

    buyer = fields.Function(lambda case: _PARTY.dump(case.party("buyer")))
    seller = fields.Function(lambda case: _PARTY.dump(case.party("seller")))
    metadata = fields.Dict(attribute="extra")
    execution_reference = fields.String(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


def _staff(user_id: int | None) -> dict | None:
    """A mediator as the room names them (the session's identity map usually has the row already)."""
    user = db.session.get(User, user_id) if user_id is not None else None
    return None if user is None else {"id": user.id, "name": user.name}


class RoomCaseOut(_CaseBase):
    """What everyone in the case room sees: no contact details, no platform metadata."""

    buyer = fields.Function(lambda case: _ROOM_PARTY.dump(case.party("buyer")))
    seller = fields.Function(lambda case: _ROOM_PARTY.dump(case.party("seller")))
    mediator = fields.Function(lambda case: _staff(case.mediator_id),
                               metadata={"description": "{id, name} of the case's mediator, once assigned"})
    appeal_mediator = fields.Function(lambda case: _staff(case.appeal_mediator_id),
                                      metadata={"description": "{id, name} of the mediator hearing an appeal"})


# Made once, for everyone who dumps a case: constructing a schema costs more than a dump.
CASE_OUT, ROOM_CASE_OUT = CaseOut(), RoomCaseOut()

ROOM_CASE_REF = {"$ref": "#/components/schemas/RoomCaseOut"}


def room_case_field() -> fields.Raw:
    """The case in the answer to an action in its room, already dumped for the caller (api.cases.case_view):
    the room's view, as parties and staff, the only ones who act there, see it."""
    return fields.Raw(metadata={"allOf": [ROOM_CASE_REF], "description": "The case, as the caller sees it"})


class CaseAnswerOut(Schema):
    case = room_case_field()


class CaseCreatedOut(CaseOut):
    join_urls = fields.Dict(keys=fields.String(), values=fields.String())


class CaseListArgs(Schema):
    state = fields.String(validate=validate.OneOf([s.value for s in CaseState]))
    external_order_id = fields.String(validate=validate.Length(1, 128))
    cursor = fields.String(validate=validate.Length(1, 64))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 100))


class CasePageOut(Schema):
    items = fields.List(fields.Nested(CaseOut))
    next_cursor = fields.String(allow_none=True)


class JoinLinkIn(Schema):
    role = fields.String(required=True, validate=validate.OneOf(("buyer", "seller")))
    revoke_previous = fields.Boolean(
        load_default=False, metadata={"description": "Make every earlier link and token of this party invalid"})


class JoinLinkOut(Schema):
    role = fields.String()
    url = fields.String()
    expires_at = fields.DateTime()


class ExecutionIn(Schema):
    reference = fields.String(required=True, validate=validate.Length(1, 200))


class ReasonIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class ExtendIn(Schema):
    days = fields.Integer(required=True, strict=True, validate=validate.Range(1, 30))
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class PartyTokenIn(Schema):
    join_token = fields.String(required=True, validate=validate.Length(1, 1000))


class PartyTokenOut(Schema):
    token = fields.String()
    case_id = fields.Integer()
    role = fields.String()
    expires_at = fields.DateTime()


class EventOut(Schema):
    seq = fields.Integer()
    type = fields.String()
    actor = fields.String()
    payload = fields.Dict()
    created_at = fields.DateTime()
    prev_hash = fields.String()
    hash = fields.String()
