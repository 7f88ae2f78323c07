"""Admin: rulebooks, their versions, and the draft editor (clauses added, edited, removed, reordered; publish).

The forms only carry the input (and the CSRF token); `services.rulebooks` checks it, so a rule and its
message live in one place. An Invalid comes back as field errors on the same form (422); a refused step
(a second draft, publishing an empty one) as a message above the form (409).
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

from mediation.models import Clause, RulebookVersion
from mediation.services import rulebooks
from mediation.web.admin import admin_actor
from mediation.web.admin.forms import FORM_ERRORS, show_error

bp = Blueprint("admin_rulebooks", __name__, url_prefix="/admin/rulebooks")


# ---- forms ---------------------------------------------------------------------------------------


class RulebookForm(FlaskForm):
    slug = StringField(_l("Address (lower-case letters, digits and hyphens)"))
    title_en = StringField(_l("Title in English"))
    title_zh = StringField(_l("Title in Chinese"))


class ClauseForm(FlaskForm):
    number = StringField(_l("Number (such as 4 or 4.2)"))
    title_en = StringField(_l("Title in English"))
    title_zh = StringField(_l("Title in Chinese"))
    body_en = TextAreaField(_l("Text in English"))
    body_zh = TextAreaField(_l("Text in Chinese"))

    def fill(self, clause: Clause) -> ClauseForm:
        self.number.data = clause.number
        for suffix, locale in rulebooks.LOCALES.items():
            self[f"title_{suffix}"].data = clause.title.get(locale, "")
            self[f"body_{suffix}"].data = clause.body.get(locale, "")
        return self


class SummaryForm(FlaskForm):
    summary_en = TextAreaField(_l("What changed, in English"))
    summary_zh = TextAreaField(_l("What changed, in Chinese"))


class ActionForm(FlaskForm):
    """A button: nothing to fill in but the CSRF token."""


def texts(form: FlaskForm, field: str) -> dict[str, str]:
    """The `<field>_en` / `<field>_zh` inputs as per-locale texts."""
    return {locale: form[f"{field}_{suffix}"].data or "" for suffix, locale in rulebooks.LOCALES.items()}


# ---- rulebooks -----------------------------------------------------------------------------------


@bp.route("", methods=["GET", "POST"])
def index():
    form, status = RulebookForm(), 200
    if form.validate_on_submit():
        try:
            rulebook = rulebooks.create_rulebook(admin_actor(), form.slug.data, texts(form, "title"))
        except FORM_ERRORS as error:
            status = show_error(form, error)
        else:
            flash(_("The rulebook %(slug)s was created. Start its first draft.", slug=rulebook.slug))
            return redirect(url_for(".rulebook", rulebook_id=rulebook.id))
    return render_template("admin/rulebooks/index.html", listings=rulebooks.list_rulebooks(admin_actor()),
                           form=form), status


@bp.route("/<id:rulebook_id>", methods=["GET"])
@bp.route("/<id:rulebook_id>/drafts", methods=["POST"], endpoint="start_draft")
def rulebook(rulebook_id: int):
    """The rulebook's versions; POST to /drafts starts the next draft (a copy of the newest version)."""
    form, status = ActionForm(), 200
    if form.validate_on_submit():
        try:
            draft = rulebooks.start_draft(admin_actor(), rulebook_id)
        except FORM_ERRORS as error:  # a draft is open already
            status = show_error(form, error)
        else:
            flash(_("Draft version %(number)s is open, with a copy of the previous clauses.", number=draft.number))
            return redirect(url_for(".version", version_id=draft.id))
    book = rulebooks.get_rulebook(admin_actor(), rulebook_id)
    return render_template("admin/rulebooks/rulebook.html", rulebook=book, draft=rulebooks.draft_of(book),
                           form=form), status


# ---- versions ------------------------------------------------------------------------------------


@bp.route("/versions/<id:version_id>")
def version(version_id: int):
    """A draft opens in the editor; a published version is shown read-only."""
    shown = rulebooks.get_version(admin_actor(), version_id)
    if shown.published:
        return render_template("admin/rulebooks/published.html", version=shown, rulebook=shown.rulebook)
    return draft_page(shown)


def draft_page(draft: RulebookVersion, *, clause_form: ClauseForm | None = None,
               summary_form: SummaryForm | None = None, status: int = 200):
    if summary_form is None:
        summary_form = SummaryForm(formdata=None, summary_en=draft.summary.get("en", ""),
                                   summary_zh=draft.summary.get(rulebooks.LOCALES["zh"], ""))
    return render_template("admin/rulebooks/draft.html", version=draft, rulebook=draft.rulebook,
                           clause_form=clause_form or ClauseForm(formdata=None), summary_form=summary_form,
                           untranslated=rulebooks.missing_translations(draft)), status


@bp.route("/versions/<id:version_id>/clauses", methods=["POST"])
def add_clause(version_id: int):
    form, status = ClauseForm(), 422
    if form.validate_on_submit():
        try:
            clause = rulebooks.add_clause(admin_actor(), version_id, form.number.data, texts(form, "title"),
                                          texts(form, "body"))
        except FORM_ERRORS as error:
            status = show_error(form, error)
        else:
            flash(_("Clause %(number)s was added.", number=clause.number))
            return redirect(url_for(".version", version_id=version_id, _anchor=clause.anchor))
    return draft_page(rulebooks.get_version(admin_actor(), version_id), clause_form=form, status=status)


@bp.route("/versions/<id:version_id>/summary", methods=["POST"])
def summary(version_id: int):
    form, status = SummaryForm(), 422
    if form.validate_on_submit():
        try:
            rulebooks.set_summary(admin_actor(), version_id, texts(form, "summary"))
        except FORM_ERRORS as error:
            status = show_error(form, error)
        else:
            flash(_("The summary was saved."))
            return redirect(url_for(".version", version_id=version_id))
    return draft_page(rulebooks.get_version(admin_actor(), version_id), summary_form=form, status=status)


@bp.route("/versions/<id:version_id>/publish", methods=["GET", "POST"])
def publish(version_id: int):
    """GET asks for confirmation (publishing cannot be undone); POST publishes."""
    form, status = ActionForm(), 200
    if form.validate_on_submit():
        try:
            published = rulebooks.publish_version(admin_actor(), version_id)
        except FORM_ERRORS as error:  # no clauses, or published already
            status = show_error(form, error)
        else:
            flash(_("Version %(number)s is published. Cases opened from now on are decided under it.",
                    number=published.number))
            return redirect(url_for(".version", version_id=version_id))
    draft = rulebooks.get_version(admin_actor(), version_id)
    return render_template("admin/rulebooks/publish.html", version=draft, rulebook=draft.rulebook, form=form,
                           untranslated=rulebooks.missing_translations(draft)), status


# ---- clauses of a draft --------------------------------------------------------------------------


@bp.route("/clauses/<id:clause_id>", methods=["GET", "POST"])
def edit_clause(clause_id: int):
    clause = rulebooks.draft_clause(admin_actor(), clause_id)  # a published one: InvalidTransition, 409
    form = ClauseForm() if request.method == "POST" else ClauseForm(formdata=None).fill(clause)
    status = 200
    if form.validate_on_submit():
        try:
            rulebooks.edit_clause(admin_actor(), clause_id, form.number.data, texts(form, "title"),
                                  texts(form, "body"))
        except FORM_ERRORS as error:
            status = show_error(form, error)
        else:
            flash(_("Clause %(number)s was saved.", number=clause.number))
            return redirect(url_for(".version", version_id=clause.version_id, _anchor=clause.anchor))
    return render_template("admin/rulebooks/clause.html", clause=clause, version=clause.version, form=form), status


# Buttons without a form class: the app-wide CSRFProtect refuses a POST without the page's token.


@bp.route("/clauses/<id:clause_id>/remove", methods=["POST"])
def remove_clause(clause_id: int):
    clause = rulebooks.draft_clause(admin_actor(), clause_id)
    version_id, number = clause.version_id, clause.number
    rulebooks.remove_clause(admin_actor(), clause_id)
    flash(_("Clause %(number)s was removed.", number=number))
    return redirect(url_for(".version", version_id=version_id))


@bp.route("/clauses/<id:clause_id>/move", methods=["POST"])
def move_clause(clause_id: int):
    clause = rulebooks.draft_clause(admin_actor(), clause_id)
    offset = {"up": -1, "down": 1}.get(request.form.get("direction", ""), 0)
    rulebooks.move_clause(admin_actor(), clause_id, offset)  # any other direction: Invalid, the 422 page
    return redirect(url_for(".version", version_id=clause.version_id, _anchor=clause.anchor))
