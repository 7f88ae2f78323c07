"""Admin: the webhook delivery log (newest first, by platform and state), each delivery's attempts, and
manual redelivery."""
from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Form, IntegerField, SelectField
from wtforms.validators import Optional

from mediation.services import admin_views, webhooks
from mediation.web.admin import admin_actor
from mediation.web.admin.forms import FORM_ERRORS, optional_int, options

bp = Blueprint("admin_deliveries", __name__, url_prefix="/admin/deliveries")

STATE_LABELS = {"pending": _l("Pending"), "delivered": _l("Delivered"), "failed": _l("Failed")}


class DeliveryFilter(Form):
    """The list's query string: a GET form, so no CSRF token."""

    platform = SelectField(_l("Platform"), coerce=optional_int)
    state = SelectField(_l("State"), choices=options([("", _l("Any")), *STATE_LABELS.items()]), default="")
    before = IntegerField(validators=[Optional()])


@bp.route("")
def index():
    form = DeliveryFilter(request.args)
    form.platform.choices = options([("", _("Any platform")), *admin_views.platform_names(admin_actor())])
    if not form.validate():
        return render_template("admin/deliveries/index.html", form=form, page=None, states=STATE_LABELS), 422
    page = admin_views.deliveries(admin_actor(), platform_id=form.platform.data, state=form.state.data or None,
                                  before=form.before.data)
    return render_template("admin/deliveries/index.html", form=form, page=page, states=STATE_LABELS)


@bp.route("/<id:delivery_id>")
def show(delivery_id: int):
    return _show(delivery_id)


@bp.route("/<id:delivery_id>/redeliver", methods=["POST"])
def redeliver(delivery_id: int):
    try:
        webhooks.redeliver(admin_actor(), delivery_id)
    except FORM_ERRORS as error:
        return _show(delivery_id, str(error.message), error.status)
    flash(_("The delivery is queued again, with the same webhook-id: the receiver can tell it is a repeat."))
    return redirect(url_for(".show", delivery_id=delivery_id))


def _show(delivery_id: int, error: str | None = None, status: int = 200):
    detail = admin_views.delivery_detail(admin_actor(), delivery_id)
    return render_template("admin/deliveries/show.html", detail=detail, body=_pretty(detail.message.body),
                           states=STATE_LABELS, error=error), status


def _pretty(body: str) -> str:
    """The body indented for reading; what was signed and sent is the compact original."""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        return body
