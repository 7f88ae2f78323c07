"""Whose language and time zone a request is in: the party's own, a remembered choice, the browser's."""
from __future__ import annotations

from flask import current_app, g, has_request_context, request, session

SUPPORTED = ("en", "zh_Hans_CN")


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
    chosen = normalise(request.args.get("lang")) if request else None
    if chosen:
        session["locale"] = chosen
        return chosen
    for candidate in (session.get("locale"), g.get("party_locale")):
        if normalise(candidate):
            return normalise(candidate)
    best = request.accept_languages.best_match(["en", "zh", "zh-CN", "zh-Hans"]) if request else None
    return normalise(best) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return session.get("timezone") or g.get("party_timezone") or current_app.config["BABEL_DEFAULT_TIMEZONE"]
