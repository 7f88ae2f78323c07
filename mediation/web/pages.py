"""Pages: landing, join links, the case room, the staff case list, error pages."""
from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.exceptions import HTTPException

from mediation import security
from mediation.errors import DomainError, Unauthenticated
from mediation.schemas.case import ROOM_CASE_OUT
from mediation.schemas.chat import MessageOut, ProposalOut
from mediation.schemas.ruling import AppealOut, RulebookVersionOut, RulingOut
from mediation.services import access, cases, mediators, room, rulings
from mediation.services import requests as evidence_requests
from mediation.services.actors import Anonymous
from mediation.web import guidance, labels
from mediation.web.identity import party_case_ids, remember_party, session_actor

bp = Blueprint("web", __name__)


@bp.route("/")
def index():
    return render_template("index.html", party_cases=party_case_ids())


@bp.route("/join/<token>")
def join(token: str):
    """A join link: sign this browser in as the party and open the case room."""
    try:
        actor = access.party_from_join_token(token)
    except Unauthenticated as error:
        return render_template("error.html", title=_("This link does not work"), message=str(error.message)), 401
    remember_party(actor)
    return redirect(url_for("web.case_room", case_id=actor.case_id))


@bp.route("/cases/<id:case_id>")
def case_room(case_id: int):
    actor = session_actor(case_id)
    if isinstance(actor, Anonymous):
        return render_template("error.html", title=_("Sign in to see this case"),
                               message=_("Open the link the marketplace sent you, or sign in.")), 401
    g.actor = actor  # the page speaks the viewer's language and shows their zone (mediation.i18n)
    snapshot = room.open_room(actor, case_id)
    security.allow_framing(snapshot.embed_origins)
    version = rulings.case_rulebook(actor, case_id)
    rulebook = RulebookVersionOut().dump(version) if version is not None else None
    bootstrap = {
        "case": ROOM_CASE_OUT.dump(snapshot.case),
        "me": {"role": actor.role, "name": getattr(actor, "name", ""), "id": getattr(actor, "user_id", None)},
        "messages": MessageOut(many=True).dump(snapshot.messages),
        "has_older": snapshot.has_older,
        "proposals": ProposalOut(many=True).dump(snapshot.proposals),
        "rulings": RulingOut(many=True).dump(snapshot.rulings),
        "appeals": AppealOut(many=True).dump(snapshot.appeals),
        "rulebook": rulebook,
        "allowed_actions": snapshot.allowed_actions,
        "channels": list(snapshot.channels),
        "evidence": _evidence_bootstrap(snapshot),
    }
    return render_template("room.html", room=snapshot, actor=actor, bootstrap=bootstrap, rulebook=rulebook,
                           labels=labels.for_script(), min_reasons=rulings.MIN_RATIONALE,
                           guidance=guidance.card(actor, case_id))


def _evidence_bootstrap(snapshot: room.Room) -> dict:
    """What the evidence part of the room (evidence.js) needs besides the API: where the viewer may add files,
    whether they may ask for evidence, the size limit and the range of a request's due date. The files, the
    checklist and the requests themselves come from the API, on load and whenever the room reports a change."""
    return {"upload_channels": list(snapshot.upload_channels), "may_request": snapshot.may_request,
            "max_bytes": current_app.config["EVIDENCE_MAX_BYTES"],
            "request_days": {"min": evidence_requests.MIN_DAYS, "max": evidence_requests.MAX_DAYS,
                             "default": evidence_requests.DEFAULT_DAYS}}


@bp.route("/cases")
@login_required
def cases_list():
    actor = session_actor()
    if actor.role == "mediator":
        return render_template("queue.html", items=mediators.queue(actor))
    items, _cursor = cases.list_cases(actor, limit=100)
    return render_template("cases.html", cases=items)


def render_domain_error(error: DomainError):
    titles = {401: _("Please sign in"), 403: _("Not allowed"), 404: _("Not found"), 409: _("Already changed"),
              422: _("Please check your input")}
    return render_template("error.html", title=titles.get(error.status, _("Something went wrong")),
                           message=str(error.message)), error.status


def render_http_error(error: HTTPException):
    from mediation.api.errors import protocol_headers

    return (render_template("error.html", title=f"{error.code} {error.name}", message=error.description),
            error.code, protocol_headers(error))

