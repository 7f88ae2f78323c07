"""'What usually happens in cases like this' as JSON, for platforms' own front-ends and party clients."""
from __future__ import annotations

from marshmallow import Schema, fields

from mediation.services.guidance import SCOPES

_RATE = "A share of the resolved cases, 0 to 1; null when the scope is too_few."


class OutcomeSplitOut(Schema):
    full_refund = fields.Float(attribute="full_refund_rate", allow_none=True, metadata={"description": _RATE})
    partial_refund = fields.Float(attribute="partial_refund_rate", allow_none=True,
                                  metadata={"description": _RATE})
    release_to_seller = fields.Float(attribute="release_rate", allow_none=True, metadata={"description": _RATE})


class GuidanceOut(Schema):
    case_id = fields.Integer()
    reason = fields.String()
    scope = fields.String(metadata={"enum": list(SCOPES), "description": (
        "Which past cases the figures come from: `platform` (the same reason on this case's marketplace), "
        "`all_platforms` (the same reason everywhere: the marketplace has too few), or `too_few` (fewer than "
        "`min_cases` everywhere: no figures, not even the count).")})
    in_progress = fields.Boolean(metadata={"description": "The case has no outcome yet; the room shows the "
                                                          "guidance only until it has one."})
    min_cases = fields.Integer(metadata={"description": "The fewest resolved cases a figure is given for."})
    cases = fields.Integer(allow_none=True, metadata={"description": "Resolved cases the figures are taken over."})
    settled_rate = fields.Float(allow_none=True, metadata={"description": "Share settled by agreement, 0 to 1."})
    median_buyer_share = fields.Float(allow_none=True, metadata={
        "description": "Median of the buyer's refund divided by the disputed amount, 0 to 1."})
    outcomes = fields.Function(lambda guidance: OutcomeSplitOut().dump(guidance),
                               metadata={"description": "How the resolved cases ended, as shares."})
    median_days = fields.Float(allow_none=True, metadata={"description": "Median days from opening to resolution."})
