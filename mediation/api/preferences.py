"""One's own language and time zone as JSON: parties (party token or session) and staff (session)."""
from __future__ import annotations

from flask_smorest import Blueprint

from mediation import i18n
from mediation.api.auth import current_actor
from mediation.api.errors import documented_errors
from mediation.schemas.preferences import PreferencesIn, PreferencesOut
from mediation.services import preferences

blp = Blueprint("api_preferences", __name__, url_prefix="/api/v1", description="A person's language and time zone")


@blp.route("/preferences", methods=["POST"])
@blp.arguments(PreferencesIn())
@blp.response(200, PreferencesOut)
@blp.doc(security=[{"partyToken": []}, {"session": []}])
@documented_errors(400, 401, 403, 404, 413, 422)
def change_preferences(data):
    """Change one's own language and/or time zone. A party's apply to its party in the case; a staff member's
    to their account. Messages, pages and times follow them from the next request on."""
    case_id = data.get("case_id")
    actor = current_actor(case_id)
    if case_id is None:
        case_id = getattr(actor, "case_id", None)  # a party token names its case
    changed = preferences.change_preferences(actor, case_id, locale=data.get("locale"),
                                             timezone=data.get("timezone"), chosen=not data["detected"],
                                             role=data.get("role"))
    i18n.forget_person()
    return changed
