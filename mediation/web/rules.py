"""Public rulebook pages (no sign-in): the published versions rulings cite, each clause with a stable anchor."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import format_date, get_locale

from mediation.models import Clause, RulebookVersion, localized
from mediation.services import rulebook_changes, rulebooks

bp = Blueprint("rules", __name__, url_prefix="/rules")


def viewer_locale() -> str:
    return str(get_locale() or "en")


def text(texts: dict | None) -> str:
    """A per-locale text in the viewer's language, English when it has none."""
    return localized(texts, viewer_locale())


def clause_url(clause: Clause, external: bool = False) -> str:
    """The public address of a cited clause: /rules/<slug>/v<n>#clause-<number>. Works in and out of a
    request (a webhook or e-mail built by a worker gets the plain path unless `external`)."""
    version = clause.version
    try:
        return url_for("rules.version", slug=version.rulebook.slug, number=version.number,
                       _anchor=clause.anchor, _external=external)
    except RuntimeError:  # no request and no SERVER_NAME to build one from
        return rulebooks.clause_path(clause)


@bp.record_once
def _template_helpers(state: BlueprintSetupState) -> None:
    # Other pages (rulings, appeals) link the clauses they cite with these.
    state.app.jinja_env.globals.update(clause_url=clause_url, rule_text=text, format_date=format_date)


@bp.route("")
def index():
    return render_template("rules/index.html", listings=rulebooks.published_rulebooks())


@bp.route("/<slug>")
def newest(slug: str):
    version = rulebooks.newest_published(slug)  # NotFound renders the 404 page
    return redirect(url_for("rules.version", slug=slug, number=version.number))


@bp.route("/<slug>/v<id:number>")
def version(slug: str, number: int):
    shown: RulebookVersion = rulebooks.published_version(slug, number)
    return render_template("rules/version.html", version=shown, rulebook=shown.rulebook,
                           newer=rulebooks.newer_version(shown), previous=rulebook_changes.previous_published(shown))


@bp.route("/<slug>/v<id:number>/changes")
def changes(slug: str, number: int):
    """What changed in a version since the previous published one (or since `?from=<n>`)."""
    against = request.args.get("from", type=int)
    comparison = rulebook_changes.compare(slug, number, viewer_locale(), against)
    return render_template("rules/changes.html", comparison=comparison, rulebook=comparison.newer.rulebook)
