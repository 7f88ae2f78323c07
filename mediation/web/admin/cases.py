"""Admin: every case, read only: facts, the chained log, the joint channel. The one change an admin makes
is to reassign the mediator (or the appeal mediator), with a reason that goes on the record."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, IntegerField, SelectField, TextAreaField
from wtforms.validators import Optional

from mediation.models import CaseState
from mediation.services import admin_views, assignment
from mediation.web import labels
from mediation.web.admin import admin_actor
from mediation.web.admin.forms import FORM_ERRORS, optional_int, options, show_error

bp = Blueprint("admin_cases", __name__, url_prefix="/admin/cases")

# The state whose mediator a reassignment replaces (assignment.reassign_case decides; this names it).
_SLOT_LABELS = {CaseState.MEDIATION: _l("Mediator"), CaseState.APPEALED: _l("Appeal mediator")}


class CaseFilter(Form):
    """The list's query string: a GET form, so no CSRF token."""

    state = SelectField(_l("State"), choices=options([("", _l("Any")), *labels.STATES.items()]), default="")
    platform = SelectField(_l("Platform"), coerce=optional_int)
    before = IntegerField(validators=[Optional()])


class ReassignForm(FlaskForm):
    mediator_id = SelectField(_l("New mediator"), coerce=optional_int, validate_choice=False)
    reason = TextAreaField(_l("Reason (it goes on the case's record)"))


@bp.route("")
def index():
    form = CaseFilter(request.args)
    form.platform.choices = options([("", _("Any platform")), *admin_views.platform_names(admin_actor())])
    if not form.validate():
        return render_template("admin/cases/index.html", form=form, page=None), 422
    page = admin_views.case_list(admin_actor(), state=form.state.data or None, platform_id=form.platform.data,
                                 before=form.before.data)
    return render_template("admin/cases/index.html", form=form, page=page)


@bp.route("/<id:case_id>")
def show(case_id: int):
    return _show(case_id)


@bp.route("/<id:case_id>/reassign", methods=["POST"])
def reassign(case_id: int):
    form = ReassignForm()
    if form.validate_on_submit():
        try:
            assignment.reassign_case(admin_actor(), case_id, form.mediator_id.data, form.reason.data)
        except FORM_ERRORS as error:
            return _show(case_id, form, show_error(form, error))
        flash(_("The case is reassigned; the reason is on its record."))
        return redirect(url_for(".show", case_id=case_id))
    return _show(case_id, form, 422)


def _show(case_id: int, form: ReassignForm | None = None, status: int = 200):
    record = admin_views.case_record(admin_actor(), case_id)
    slot = _SLOT_LABELS.get(record.case.state)
    form = form or ReassignForm(formdata=None)
    current = record.case.appeal_mediator_id if record.case.state == CaseState.APPEALED else record.case.mediator_id
    # Everyone active but the one on the case now; the service checks conflicts of interest.
    form.mediator_id.choices = options([("", _("Choose a mediator"))] + [
        (row.user.id, _("%(name)s (%(count)s open cases)", name=row.user.name, count=row.open_cases))
        for row in admin_views.mediators(admin_actor(), active_only=True) if row.user.id != current])
    return render_template("admin/cases/show.html", record=record, form=form, slot=slot), status
