"""The browser's side of a person's language and time zone.

`?lang=` on any page switches that page's language and is remembered: on the party's row (in a case room)
or the staff member's account, and in the session (for anonymous visitors, and the pages outside a case).
The room reports the browser's zone on every visit (`POST /preferences/timezone`), which only ever fills in
for a person who has not picked a zone themselves; the zone picker sends the same with `chosen: true`.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request, session
from flask_babel import gettext as _

from mediation import i18n
from mediation.api.errors import error_response
from mediation.errors import DomainError
from mediation.services import preferences
from mediation.services.actors import Actor, Anonymous, PartyActor
from mediation.web.identity import party_case_ids, session_actor

bp = Blueprint("preferences", __name__)


@bp.before_app_request
def remember_language() -> None:
    chosen = i18n.normalise(request.args.get("lang"))
    if not chosen or request.path.startswith(("/api/", "/static/")):
        return
    session["locale"] = chosen
    case_id = (request.view_args or {}).get("case_id")
    actor = session_actor(case_id)
    if isinstance(actor, Anonymous):
        return
    try:
        preferences.set_language(actor, case_id if isinstance(actor, PartyActor) else None, chosen)
    except DomainError:  # a revoked link, say: the page itself answers that; the choice stays in the session
        return
    i18n.forget_person()


@bp.route("/preferences/timezone", methods=["POST"])
def set_timezone():
    """The browser's zone (`chosen` false: reported on each visit) or the person's pick (`chosen` true), for
    the staff member signed in and the parties this browser holds (only the party of `case_id`, if given)."""
    body = request.get_json(silent=True) or {}
    zone, chosen, case_id = body.get("timezone"), body.get("chosen") is True, body.get("case_id")
    if zone not in preferences.ZONES:
        return error_response(422, _("Unknown time zone."),
                              {"timezone": [_("Use an IANA zone such as Asia/Shanghai.")]})
    session["timezone"] = zone
    answer = {"timezone": zone, "timezone_chosen": chosen}
    for actor in _people(case_id):
        try:
            changed = preferences.set_time_zone(actor, getattr(actor, "case_id", None), zone, chosen)
        except DomainError:
            continue
        if case_id is None or getattr(actor, "case_id", None) == case_id:
            answer = {"timezone": changed.timezone, "timezone_chosen": changed.timezone_chosen}
    i18n.forget_person()
    return jsonify(answer)


def _people(case_id) -> list[Actor]:
    """Everyone this browser is: the staff member signed in, and the parties it joined (or the one of a case)."""
    case_ids = [case_id] if isinstance(case_id, int) else party_case_ids()
    people = [session_actor()] + [session_actor(number) for number in case_ids]
    unique = [actor for number, actor in enumerate(people) if actor not in people[:number]]
    staff_first = sorted(unique, key=lambda actor: isinstance(actor, PartyActor))
    return [actor for actor in staff_first if not isinstance(actor, Anonymous)]


@bp.app_context_processor
def preferences_context() -> dict:
    """`viewer_preferences()`: the signed-in person's own language and zone, for the header's picker."""
    return {"viewer_preferences": i18n.person_preferences}
