"""Who the browser session is: staff signed in with a password, or a party who followed a join link.

Shared by the pages, the cookie-authenticated JSON API and the Socket.IO connection.
"""
from __future__ import annotations

from flask import session
from flask_login import current_user

from mediation.services import access
from mediation.services.actors import ANONYMOUS, Actor, PartyActor, StaffActor

_PARTIES = "parties"


def remember_party(actor: PartyActor) -> None:
    parties = dict(session.get(_PARTIES, {}))
    parties[str(actor.case_id)] = access.grant(actor)
    session[_PARTIES] = parties
    session.permanent = True


def party_case_ids() -> list[int]:
    return [int(case_id) for case_id in session.get(_PARTIES, {})]


def session_actor(case_id: int | None = None) -> Actor:
    """The actor for `case_id`: the party this browser joined it as, else the signed-in staff member."""
    if case_id is not None:
        claims = session.get(_PARTIES, {}).get(str(case_id))
        if claims:
            party = access.party_from_grant(claims)
            if party is not None:
                return party
    if current_user.is_authenticated:
        return StaffActor(user_id=current_user.id, role=current_user.role, name=current_user.name)
    return ANONYMOUS


def has_identity() -> bool:
    return bool(session.get(_PARTIES)) or current_user.is_authenticated
