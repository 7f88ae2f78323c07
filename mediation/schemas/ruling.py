"""Rulings, appeals and the clauses they cite, as JSON."""
from __future__ import annotations

from flask_babel import get_locale
from marshmallow import Schema, fields, validate

from mediation.models import localized
from mediation.schemas.case import room_case_field
from mediation.schemas.ids import id_range
from mediation.schemas.money import MoneyField


class OutcomeIn(Schema):
    buyer_refund = MoneyField(required=True)
    seller_release = MoneyField(required=True)
    return_required = fields.Boolean(load_default=False)
    terms = fields.String(load_default="", validate=validate.Length(max=4000))


class RecommendationIn(OutcomeIn):
    """A settlement the mediator recommends; it settles the case when both parties accept it."""


class RulingIn(OutcomeIn):
    rationale = fields.String(required=True, validate=validate.Length(max=20000),
                              metadata={"description": "The written reasons (at least 20 characters)."})
    clauses = fields.List(fields.Integer(strict=True, validate=id_range()), required=True,
                          validate=validate.Length(max=50),
                          metadata={"description": "Ids of cited clauses of the case's rulebook version."})


class AppealIn(Schema):
    grounds = fields.String(required=True, validate=validate.Length(max=10000),
                            metadata={"description": "Why the ruling is wrong (at least 20 characters)."})


class AppealDecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("uphold", "replace")))
    rationale = fields.String(required=True, validate=validate.Length(max=20000))
    clauses = fields.List(fields.Integer(strict=True, validate=id_range()), required=True,
                          validate=validate.Length(max=50))
    buyer_refund = MoneyField(load_default=None, metadata={"description": "Required to replace the ruling."})
    seller_release = MoneyField(load_default=None)
    return_required = fields.Boolean(load_default=False)
    terms = fields.String(load_default="", validate=validate.Length(max=4000))


def _text(field: str):
    return fields.Function(lambda obj: localized(getattr(obj, field), str(get_locale() or "en")))


class ClauseOut(Schema):
    id = fields.Integer()
    number = fields.String()
    title = _text("title")
    body = _text("body")
    anchor = fields.String()


class RulebookVersionOut(Schema):
    id = fields.Integer()
    slug = fields.Function(lambda version: version.rulebook.slug)
    title = fields.Function(lambda version: localized(version.rulebook.title, str(get_locale() or "en")))
    number = fields.Integer()
    published_at = fields.DateTime()
    url = fields.Function(lambda version: f"/rules/{version.rulebook.slug}/v{version.number}")
    clauses = fields.List(fields.Nested(ClauseOut))


class RulingOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    kind = fields.String(metadata={"description": "ruling, or appeal (the appeal mediator's decision)"})
    decision = fields.String(allow_none=True, metadata={"description": "uphold or replace, for kind=appeal"})
    mediator = fields.Function(lambda ruling: {"id": ruling.mediator_id, "name": ruling.mediator.name})
    buyer_refund = MoneyField()
    seller_release = MoneyField()
    return_required = fields.Boolean()
    terms = fields.String()
    rationale = fields.String()
    clauses = fields.List(fields.Nested(ClauseOut))
    created_at = fields.DateTime()


class AppealOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    ruling_id = fields.Integer()
    appellant = fields.String(attribute="appellant_role")
    grounds = fields.String()
    created_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    decision_id = fields.Integer(allow_none=True)


class RulingsOut(Schema):
    rulings = fields.List(fields.Nested(RulingOut))
    appeals = fields.List(fields.Nested(AppealOut))


class RulingAnswerOut(Schema):
    ruling = fields.Nested(RulingOut)
    case = room_case_field()


class AppealAnswerOut(Schema):
    appeal = fields.Nested(AppealOut)
    case = room_case_field()
