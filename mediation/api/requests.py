"""Structured requests and evidence checklists as JSON, for the parties and the case's mediator.

Answers carry codes (`kind`, `key`) and, rendered in the caller's language, `label` / `title` / `hint`.
"""
from __future__ import annotations

from flask_smorest import Blueprint

from mediation.api.auth import current_actor
from mediation.api.cases import case_view
from mediation.api.errors import documented_errors
from mediation.schemas.requests import (
    ChecklistAnswerIn,
    ChecklistItemAnswerOut,
    ChecklistOut,
    KindOut,
    RequestAnswerIn,
    RequestAnswerOut,
    RequestIn,
    RequestOut,
)
from mediation.services import cases, checklists, requests
from mediation.services.actors import PartyActor

blp = Blueprint("requests", __name__, url_prefix="/api/v1",
                description="Structured evidence requests and evidence checklists")
ROOM = [{"partyToken": []}, {"session": []}]


def _with_case(key: str, value, actor, case_id: int) -> dict:
    return {key: value, "case": case_view(cases.get_case(actor, case_id), actor)}


@blp.route("/request-kinds", methods=["GET"])
@blp.response(200, KindOut(many=True))
@documented_errors()
def list_request_kinds():
    """The catalogue of requests, with labels in the caller's language (no sign-in needed)."""
    return list(requests.CATALOGUE)


@blp.route("/cases/<id:case_id>/requests", methods=["GET"])
@blp.response(200, RequestOut(many=True))
@blp.doc(security=ROOM)
@documented_errors(401, 403, 404)
def list_requests(case_id: int):
    """The requests the caller may see (joint ones, and those of private channels they read), newest first."""
    return requests.list_requests(current_actor(case_id), case_id)


@blp.route("/cases/<id:case_id>/requests", methods=["POST"])
@blp.arguments(RequestIn())
@blp.response(201, RequestAnswerOut)
@blp.doc(security=ROOM)
@documented_errors(400, 401, 403, 404, 409, 413, 422)
def create_request(data, case_id: int):
    """Ask a party for something, due in `due_in_days` (default 3). A party asks the other party; the case's
    mediator asks either, jointly or in that party's private channel. Answered with the request and the case."""
    actor = current_actor(case_id)
    made = requests.create_request(actor, case_id, **data)
    return _with_case("request", made, actor, case_id)


@blp.route("/cases/<id:case_id>/requests/<id:request_id>/answer", methods=["POST"])
@blp.arguments(RequestAnswerIn())
@blp.response(200, RequestAnswerOut)
@blp.doc(security=ROOM)
@documented_errors(400, 401, 403, 404, 409, 413, 422)
def answer_request(data, case_id: int, request_id: int):
    """The party asked answers in words. (To answer with a file, upload evidence naming `request_id`.)"""
    actor = current_actor(case_id)
    answered = requests.answer_request(actor, case_id, request_id, data["text"])
    return _with_case("request", answered, actor, case_id)


@blp.route("/cases/<id:case_id>/requests/<id:request_id>/cancel", methods=["POST"])
@blp.response(200, RequestAnswerOut)
@blp.doc(security=ROOM)
@documented_errors(400, 401, 403, 404, 409)
def cancel_request(case_id: int, request_id: int):
    """Who asked takes an open request back."""
    actor = current_actor(case_id)
    cancelled = requests.cancel_request(actor, case_id, request_id)
    return _with_case("request", cancelled, actor, case_id)


@blp.route("/cases/<id:case_id>/checklist", methods=["GET"])
@blp.response(200, ChecklistOut)
@blp.doc(security=ROOM)
@documented_errors(401, 403, 404)
def get_checklist(case_id: int):
    """The evidence checklist for the case's reason, by party: a party gets its own (`checklists.buyer` or
    `checklists.seller`), the mediators and admins both."""
    actor = current_actor(case_id)
    items = checklists.checklist(actor, case_id)
    return {"reason": cases.get_case(actor, case_id).reason, "checklists": _by_role(items, actor)}


@blp.route("/cases/<id:case_id>/checklist/<string:item>", methods=["POST"])
@blp.arguments(ChecklistAnswerIn())
@blp.response(201, ChecklistItemAnswerOut)
@blp.doc(security=ROOM)
@documented_errors(400, 401, 403, 404, 409, 413, 422)
def answer_checklist_item(data, case_id: int, item: str):
    """Answer an item of your own checklist in words (e.g. the tracking number). The first answer stands;
    a second one is refused (409): correct it in the chat. Answered with the ticked item and the case."""
    actor = current_actor(case_id)
    checklists.answer_checklist_item(actor, case_id, item, data["value"])
    ticked = next(view for view in checklists.checklist(actor, case_id) if view.key == item)
    return _with_case("item", ticked, actor, case_id)


def _by_role(items: list, actor) -> dict[str, list]:
    roles = (actor.role,) if isinstance(actor, PartyActor) else ("buyer", "seller")
    return {role: [item for item in items if item.role == role] for role in roles}
