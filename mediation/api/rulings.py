"""The neutral's actions as JSON: recommendations, rulings, appeals and their decisions."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from mediation.api.auth import current_actor
from mediation.api.cases import case_view
from mediation.api.errors import documented_errors
from mediation.errors import NotFound
from mediation.schemas.chat import ProposalAnswerOut
from mediation.schemas.ruling import (
    AppealAnswerOut,
    AppealDecisionIn,
    AppealIn,
    RecommendationIn,
    RulebookVersionOut,
    RulingAnswerOut,
    RulingIn,
    RulingsOut,
)
from mediation.services import cases, proposals, rulings

blp = Blueprint("rulings", __name__, url_prefix="/api/v1", description="Recommendations, rulings and appeals")
ROOM = [{"partyToken": []}, {"session": []}]
STAFF = [{"session": []}]  # the case's (or the appeal's) mediator, signed in


def _with_case(key: str, value, actor, case_id: int) -> dict:
    return {key: value, "case": case_view(cases.get_case(actor, case_id), actor)}


@blp.route("/cases/<id:case_id>/recommendations", methods=["POST"])
@blp.arguments(RecommendationIn())
@blp.response(201, ProposalAnswerOut)
@blp.doc(security=STAFF)
@documented_errors(400, 401, 403, 404, 409, 413, 422)
def recommend(data, case_id: int):
    """The case's mediator recommends a settlement; it settles the case when both parties accept it
    (`POST proposals/{id}/accept` by each)."""
    actor = current_actor(case_id)
    proposal = proposals.recommend_settlement(actor, case_id, **data)
    return _with_case("proposal", proposal, actor, case_id)


@blp.route("/cases/<id:case_id>/rulebook", methods=["GET"])
@blp.response(200, RulebookVersionOut)
@blp.doc(security=ROOM)
@documented_errors(401, 404)
def case_rulebook(case_id: int):
    """The rulebook version the case is decided by: the one in force when it opened."""
    version = rulings.case_rulebook(current_actor(case_id), case_id)
    if version is None:
        raise NotFound(_l("This case has no rulebook."))
    return version


@blp.route("/cases/<id:case_id>/rulings", methods=["GET"])
@blp.response(200, RulingsOut)
@blp.doc(security=ROOM)
@documented_errors(401, 404)
def list_rulings(case_id: int):
    """The case's rulings and appeals, oldest first."""
    items, appeals = rulings.list_rulings(current_actor(case_id), case_id)
    return {"rulings": items, "appeals": appeals}


@blp.route("/cases/<id:case_id>/rulings", methods=["POST"])
@blp.arguments(RulingIn())
@blp.response(201, RulingAnswerOut)
@blp.doc(security=STAFF)
@documented_errors(400, 401, 403, 404, 409, 413, 422)
def issue_ruling(data, case_id: int):
    """The case's mediator rules: outcome, written rationale, at least one cited clause of the case's
    rulebook. Opens the appeal window."""
    actor = current_actor(case_id)
    ruling = rulings.issue_ruling(actor, case_id, _outcome(data), data["rationale"], data["clauses"])
    return _with_case("ruling", ruling, actor, case_id)


@blp.route("/cases/<id:case_id>/appeals", methods=["POST"])
@blp.arguments(AppealIn())
@blp.response(201, AppealAnswerOut)
@blp.doc(security=ROOM)
@documented_errors(400, 401, 403, 404, 409, 413, 422)
def appeal(data, case_id: int):
    """A party appeals the ruling with written grounds, before the appeal window closes."""
    actor = current_actor(case_id)
    made = rulings.appeal_ruling(actor, case_id, data["grounds"])
    return _with_case("appeal", made, actor, case_id)


@blp.route("/cases/<id:case_id>/appeals/<id:appeal_id>/decision", methods=["POST"])
@blp.arguments(AppealDecisionIn())
@blp.response(200, RulingAnswerOut)
@blp.doc(security=STAFF)
@documented_errors(400, 401, 403, 404, 409, 413, 422)
def decide_appeal(data, case_id: int, appeal_id: int):
    """The appeal mediator upholds the ruling or replaces it (with the new outcome); the result is final."""
    actor = current_actor(case_id)
    outcome = _outcome(data) if data["buyer_refund"] is not None and data["seller_release"] is not None else None
    ruling = rulings.decide_appeal(actor, case_id, appeal_id, data["decision"], data["rationale"],
                                   data["clauses"], outcome)
    return _with_case("ruling", ruling, actor, case_id)


def _outcome(data: dict) -> rulings.Outcome:
    return rulings.Outcome(data["buyer_refund"], data["seller_release"], data.get("return_required", False),
                           data.get("terms", ""))
