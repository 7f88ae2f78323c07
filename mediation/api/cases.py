"""Platform endpoints: open, list and read cases, issue join links, confirm execution."""
from __future__ import annotations

from flask import jsonify, request, url_for
from flask.views import MethodView
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from mediation.api.auth import current_actor, current_platform
from mediation.api.errors import documented_errors
from mediation.errors import Invalid
from mediation.schemas.case import (
    CASE_OUT,
    ROOM_CASE_OUT,
    ROOM_CASE_REF,
    CaseCreatedOut,
    CaseIn,
    CaseListArgs,
    CaseOut,
    CasePageOut,
    ExecutionIn,
    JoinLinkIn,
    JoinLinkOut,
)
from mediation.services import cases
from mediation.services.actors import PlatformActor

blp = Blueprint("cases", __name__, url_prefix="/api/v1", description="Cases, for platforms")
ERRORS = (400, 401, 403, 404, 409, 413, 422)


def join_url(token: str) -> str:
    return url_for("web.join", token=token, _external=True)


def case_view(case, actor) -> dict:
    """The platform sees contacts and metadata; parties and staff see the room's view."""
    return (CASE_OUT if isinstance(actor, PlatformActor) else ROOM_CASE_OUT).dump(case)


class _WithLinks:
    """A case plus the join links issued with it, for CaseCreatedOut."""

    def __init__(self, case, join_urls: dict[str, str]):
        self._case, self.join_urls = case, join_urls

    def __getattr__(self, name):
        return getattr(self._case, name)

    def party(self, role):
        return self._case.party(role)


@blp.route("/cases")
class Cases(MethodView):
    @blp.arguments(CaseListArgs(), location="query")
    @blp.response(200, CasePageOut)
    @blp.doc(security=[{"apiKey": []}])
    @documented_errors(401, 403, 422)
    def get(self, args):
        """List the platform's cases, newest first (cursor pagination)."""
        items, next_cursor = cases.list_cases(current_platform(), **args)
        return {"items": items, "next_cursor": next_cursor}

    @blp.arguments(CaseIn())
    @blp.response(201, CaseCreatedOut)
    @blp.doc(security=[{"apiKey": []}], parameters=[{
        "in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string", "maxLength": 255},
        "description": "Retry safely: the same key and body return the case opened the first time."}])
    @documented_errors(400, 401, 403, 413, 422)
    def post(self, data):
        """Open a case. The answer carries a join link for each party."""
        actor = current_platform()
        key = request.headers.get("Idempotency-Key")
        if key is not None and not (1 <= len(key) <= 255 and key.isprintable()):
            raise Invalid(_l("The Idempotency-Key is not valid."),
                          {"Idempotency-Key": [_l("Use 1 to 255 printable characters.")]})
        opened = cases.open_case(actor, data, key)
        links = {role: join_url(token) for role, token in opened.join_tokens.items()}
        if opened.replayed:
            return _WithLinks(opened.case, links), 201, {"Idempotent-Replayed": "true"}
        # CaseCreatedOut is CaseOut and the links: the case as its webhook carries it, dumped once.
        return jsonify({**opened.case_json, "join_urls": links}), 201


@blp.route("/cases/<id:case_id>")
@blp.response(200, {"anyOf": [{"$ref": "#/components/schemas/CaseOut"}, ROOM_CASE_REF]},
              description="The case: a platform gets CaseOut; parties and staff the room's view (RoomCaseOut), "
                          "without contacts or metadata")
@blp.doc(security=[{"apiKey": []}, {"partyToken": []}, {"session": []}])
@documented_errors(401, 404)
def get_case(case_id: int):
    """One case, as the caller may see it."""
    actor = current_actor(case_id)
    return jsonify(case_view(cases.get_case(actor, case_id), actor))


@blp.route("/cases/<id:case_id>/join-links", methods=["POST"])
@blp.arguments(JoinLinkIn())
@blp.response(201, JoinLinkOut)
@blp.doc(security=[{"apiKey": []}])
@documented_errors(400, 401, 403, 404, 409, 413, 422)
def create_join_link(data, case_id: int):
    """A fresh signed, expiring join link for one party."""
    token, expires_at = cases.issue_join_link(current_actor(case_id), case_id, data["role"],
                                              data["revoke_previous"])
    return {"role": data["role"], "url": join_url(token), "expires_at": expires_at}


@blp.route("/cases/<id:case_id>/execution", methods=["POST"])
@blp.arguments(ExecutionIn())
@blp.response(200, CaseOut)
@blp.doc(security=[{"apiKey": []}])
@documented_errors(400, 401, 403, 404, 409, 413, 422)
def confirm_execution(data, case_id: int):
    """The platform carried out the outcome (refund, release); the case closes."""
    return cases.confirm_execution(current_actor(case_id), case_id, data["reference"])
