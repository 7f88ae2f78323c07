"""Admin: mediator accounts, their case load, (de)activation and declared conflicts of interest."""
from __future__ import annotations

from zoneinfo import available_timezones

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField

from mediation.services import admin, admin_views
from mediation.web.admin import admin_actor
from mediation.web.admin.forms import FORM_ERRORS, optional_int, options, show_error

bp = Blueprint("admin_mediators", __name__, url_prefix="/admin/mediators")

# Language names in their own language: a reader finds theirs whatever the page's language.
_LANGUAGES = options([("en", "English"), ("zh_Hans_CN", "简体中文")])
_ZONES = sorted(available_timezones())


class MediatorForm(FlaskForm):
    # Parsing only: the rules (length, format, a free e-mail) are admin.register_mediator's.
    name = StringField(_l("Name"))
    email = EmailField(_l("E-mail"))
    password = PasswordField(_l("Password (at least 10 characters)"))
    locale = SelectField(_l("Language"), choices=_LANGUAGES, validate_choice=False)
    timezone = SelectField(_l("Time zone"), choices=_ZONES, default="UTC", validate_choice=False)


class ConflictForm(FlaskForm):
    platform_id = SelectField(_l("Platform"), coerce=optional_int, validate_choice=False)
    party_external_id = StringField(_l("Party: the platform's id for them (optional)"))
    reason = StringField(_l("Reason"))


@bp.route("")
def index():
    return _index(MediatorForm())


@bp.route("", methods=["POST"])
def create():
    form = MediatorForm()
    if form.validate_on_submit():
        try:
            user_id = admin.register_mediator(admin_actor(), name=form.name.data, email=form.email.data,
                                              password=form.password.data, locale=form.locale.data,
                                              timezone=form.timezone.data)
        except FORM_ERRORS as error:
            return _index(form, show_error(form, error))
        flash(_("The mediator's account is ready: they sign in with their e-mail and this password."))
        return redirect(url_for(".show", mediator_id=user_id))
    return _index(form, 422)


def _index(form: MediatorForm, status: int = 200):
    return render_template("admin/mediators/index.html", rows=admin_views.mediators(admin_actor()),
                           form=form), status


@bp.route("/<id:mediator_id>")
def show(mediator_id: int):
    return _show(mediator_id)


@bp.route("/<id:mediator_id>/<any(deactivate, reactivate):change>", methods=["POST"])
def set_active(mediator_id: int, change: str):
    admin.set_mediator_active(admin_actor(), mediator_id, change == "reactivate")
    flash(_("The mediator is active again and can be assigned cases.") if change == "reactivate" else
          _("The mediator is deactivated: they cannot sign in and get no new cases. Reassign their open cases."))
    return redirect(url_for(".show", mediator_id=mediator_id))


@bp.route("/<id:mediator_id>/conflicts", methods=["POST"])
def add_conflict(mediator_id: int):
    form = _conflict_form()
    if form.validate_on_submit():
        try:
            admin.declare_conflict(admin_actor(), mediator_id, platform_id=form.platform_id.data,
                                   party_external_id=form.party_external_id.data, reason=form.reason.data)
        except FORM_ERRORS as error:
            return _show(mediator_id, form, show_error(form, error))
        flash(_("The conflict of interest is declared: such cases are not assigned to this mediator."))
        return redirect(url_for(".show", mediator_id=mediator_id))
    return _show(mediator_id, form, 422)


@bp.route("/<id:mediator_id>/conflicts/<id:conflict_id>/remove", methods=["POST"])
def remove_conflict(mediator_id: int, conflict_id: int):
    admin.remove_conflict(admin_actor(), mediator_id, conflict_id)
    flash(_("The conflict of interest is removed."))
    return redirect(url_for(".show", mediator_id=mediator_id))


def _show(mediator_id: int, form: ConflictForm | None = None, status: int = 200):
    detail = admin_views.mediator_detail(admin_actor(), mediator_id)
    return render_template("admin/mediators/show.html", detail=detail,
                           form=form or _conflict_form(formdata=None)), status


def _conflict_form(**kwargs) -> ConflictForm:
    form = ConflictForm(**kwargs)
    form.platform_id.choices = options([("", _("Any platform")), *admin_views.platform_names(admin_actor())])
    return form
