"""Whose language and time zone a request is in: the one place that decides it.

Language, first that applies:
1. `?lang=` on a page, for that page (the web adapter also remembers it: see `mediation.web.preferences`);
2. the person the request is from, by their own row: a party (page, JSON API by party token or party
   session, Socket.IO event) reads its Party row's locale, which the platform set when it opened the case and
   the party's own choice in the room overwrote; a staff member reads their account's locale. Their identity
   wins over `Accept-Language`, so the same person gets the same language from the page, the API and the socket;
3. the choice this browser session remembered (anonymous visitors);
4. `Accept-Language` (platforms' API keys, anonymous callers), else English.

Time zone: the person's row, else the zone this browser session reported, else UTC.
"""
from __future__ import annotations

from flask import current_app, g, has_request_context, request, session

SUPPORTED = ("en", "zh_Hans_CN")
_UNKNOWN = object()


def normalise(locale: str | None) -> str | None:
    if not locale:
        return None
    lowered = locale.replace("-", "_").lower()
    if lowered.startswith("zh"):
        return "zh_Hans_CN"
    if lowered.startswith("en"):
        return "en"
    return None


def select_locale() -> str:
    if not has_request_context():  # CLI, scheduler: a lazy error message is rendered in the default locale
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = normalise(request.args.get("lang"))
    if chosen:
        return chosen
    own = person_preferences()
    for candidate in (own.locale if own else None, session.get("locale")):
        if normalise(candidate):
            return normalise(candidate)
    return accepted_locale()


def accepted_locale() -> str:
    best = request.accept_languages.best_match(["en", "zh", "zh-CN", "zh-Hans"])
    return normalise(best) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    own = person_preferences() if has_request_context() else None
    if own is not None:
        return own.timezone
    zone = session.get("timezone") if has_request_context() else None
    return zone or current_app.config["BABEL_DEFAULT_TIMEZONE"]


def locale_of(actor) -> str:
    """The language to answer `actor` in outside the request's own resolution (a socket event's ack)."""
    from mediation.services.preferences import preferences_of

    own = preferences_of(actor) if actor is not None else None
    return normalise(own.locale if own else None) or select_locale()


def person_preferences():
    """The preferences row of whoever this request is from, looked up once per request (None if nobody's)."""
    cached = g.get("_person_preferences", _UNKNOWN)
    if cached is _UNKNOWN:
        from mediation.services.preferences import preferences_of

        actor = g.get("actor") or _quiet_actor()
        cached = preferences_of(actor) if actor is not None else None
        g._person_preferences = cached
    return cached


def forget_person() -> None:
    """Drop the cached preferences (after the request changed them, or learned who the caller is)."""
    g.pop("_person_preferences", None)


def _quiet_actor():
    """Who the request is from, without raising: a language is chosen even for a request that will fail."""
    from mediation.api.auth import bearer_actor
    from mediation.errors import DomainError
    from mediation.web.identity import session_actor

    try:
        return bearer_actor() or session_actor((request.view_args or {}).get("case_id"))
    except DomainError:
        return None
