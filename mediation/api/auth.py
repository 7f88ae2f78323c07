"""Who is calling the API: `Authorization: Bearer` (API key or party token), or the browser session."""
from __future__ import annotations

from flask import g, request
from flask_babel import lazy_gettext as _l

from mediation.errors import Forbidden, Unauthenticated
from mediation.extensions import csrf
from mediation.services import access
from mediation.services.actors import Anonymous, PlatformActor
from mediation.web.identity import has_identity, session_actor

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def bearer_actor():
    """Who an `Authorization: Bearer` header names (a platform or a party); None without the header.

    Raises Unauthenticated for a header of another scheme or a token that does not hold."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(_l("Use the header Authorization: Bearer <API key or party token>."))
    return access.actor_from_bearer(token.strip())


def protect_cookie_calls() -> None:
    """Before a state-changing API call is read: when no bearer token is sent and the browser session is
    signed in, the cookie authenticates it, so it must carry the session's CSRF token (refused with 400
    otherwise, whatever its body says)."""
    if request.method not in SAFE_METHODS and "Authorization" not in request.headers and has_identity():
        if request.mimetype == "multipart/form-data":
            return  # an upload: its view sets the upload's size limit first, then checks (current_actor)
        csrf.protect()


def current_actor(case_id: int | None = None):
    """The authenticated caller; raises Unauthenticated when there is none."""
    actor = bearer_actor()
    if actor is None:
        actor = session_actor(case_id)
        if isinstance(actor, Anonymous):
            raise Unauthenticated(_l("Sign in: send Authorization: Bearer <API key or party token>."))
        if request.method not in SAFE_METHODS:
            csrf.protect()  # cookies ride along with any request; the token proves it came from our page
    g.actor = actor
    return actor


def current_platform() -> PlatformActor:
    actor = current_actor()
    if not isinstance(actor, PlatformActor):
        raise Forbidden(_l("Only a platform's API key may do this."))
    return actor
