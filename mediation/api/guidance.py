"""'What usually happens in cases like this', for platforms' own front-ends and party clients."""
from __future__ import annotations

from flask_smorest import Blueprint

from mediation.api.auth import current_actor
from mediation.api.errors import documented_errors
from mediation.schemas.guidance import GuidanceOut
from mediation.services import guidance

blp = Blueprint("guidance", __name__, url_prefix="/api/v1", description="Guidance from past outcomes")


@blp.route("/cases/<id:case_id>/guidance", methods=["GET"])
@blp.response(200, GuidanceOut)
@blp.doc(security=[{"apiKey": []}, {"partyToken": []}, {"session": []}])
@documented_errors(401, 404)
def case_guidance(case_id: int):
    """How resolved cases of the same reason ended: on the case's marketplace, else on all marketplaces, else
    `too_few` with no figures. The case itself is never counted; figures follow the transparency page."""
    return guidance.guidance_for(current_actor(case_id), case_id)
