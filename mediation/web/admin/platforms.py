"""Admin: platforms, their deadlines and rulebook, API keys and webhook endpoints.

Buttons that only change one thing (revoke, enable, rotate) carry no form class: the app-wide CSRFProtect
refuses any POST without the page's token before a view runs."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField, URLField

from mediation import clock
from mediation.models import localized
from mediation.services import admin, admin_views
from mediation.web.admin import admin_actor
from mediation.web.admin.forms import FORM_ERRORS, optional_int, options, secret_page, show_error

bp = Blueprint("admin_platforms", __name__, url_prefix="/admin/platforms")

_DAYS = {"min": admin.DAYS_MIN, "max": admin.DAYS_MAX}


class PlatformForm(FlaskForm):
    name = StringField(_l("Name"))
    webhook_url = URLField(_l("Webhook URL (optional)"))


class DeadlinesForm(FlaskForm):
    # Parsing only: the range is the service's rule (admin.set_deadline_defaults), shown on the inputs.
    response_days = IntegerField(_l("Respondent's first answer"), render_kw=_DAYS)
    negotiation_days = IntegerField(_l("Negotiation"), render_kw=_DAYS)
    mediation_days = IntegerField(_l("Mediation (and deciding an appeal)"), render_kw=_DAYS)
    appeal_days = IntegerField(_l("Appeal window"), render_kw=_DAYS)
    proposal_days = IntegerField(_l("Proposal validity"), render_kw=_DAYS)


class RulebookForm(FlaskForm):
    rulebook_id = SelectField(_l("Rulebook"), coerce=optional_int, validate_choice=False)


class EndpointForm(FlaskForm):
    url = URLField(_l("Endpoint URL"))


class EmbedForm(FlaskForm):
    # One origin a line; checking them is the service's rule (admin.set_embed_origins).
    embed_origins = TextAreaField(_l("Origins that may frame the case room"), render_kw={"rows": 3})


@bp.route("")
def index():
    return _index(PlatformForm())


@bp.route("", methods=["POST"])
def create():
    form = PlatformForm()
    if form.validate_on_submit():
        try:
            created = admin.register_platform(admin_actor(), form.name.data, form.webhook_url.data)
        except FORM_ERRORS as error:
            return _index(form, show_error(form, error))
        secrets = [(_("API key"), created.api_key)]
        if created.webhook_secret:
            secrets.append((_("Webhook signing secret"), created.webhook_secret))
        return secret_page(_("Platform %(name)s registered", name=form.name.data.strip()), secrets,
                           url_for(".show", platform_id=created.platform_id))
    return _index(form, 422)


def _index(form: PlatformForm, status: int = 200):
    return render_template("admin/platforms/index.html", rows=admin_views.platforms(admin_actor()),
                           form=form), status


@bp.route("/<id:platform_id>")
def show(platform_id: int):
    return _show(platform_id)


@bp.route("/<id:platform_id>/deadlines", methods=["POST"])
def deadlines(platform_id: int):
    form = DeadlinesForm()
    if form.validate_on_submit():
        try:
            admin.set_deadline_defaults(admin_actor(), platform_id, form.data)
        except FORM_ERRORS as error:
            return _show(platform_id, deadlines=form, status=show_error(form, error))
        flash(_("The deadlines are saved. They apply to deadlines set from now on."))
        return redirect(url_for(".show", platform_id=platform_id))
    return _show(platform_id, deadlines=form, status=422)


@bp.route("/<id:platform_id>/rulebook", methods=["POST"])
def rulebook(platform_id: int):
    form = _rulebook_form()
    if form.validate_on_submit():
        try:
            admin.choose_rulebook(admin_actor(), platform_id, form.rulebook_id.data)
        except FORM_ERRORS as error:
            return _show(platform_id, rulebook=form, status=show_error(form, error))
        flash(_("The rulebook is saved. Cases opened from now on are decided by it."))
        return redirect(url_for(".show", platform_id=platform_id))
    return _show(platform_id, rulebook=form, status=422)


@bp.route("/<id:platform_id>/embedding", methods=["POST"])
def embedding(platform_id: int):
    form = EmbedForm()
    if form.validate_on_submit():
        try:
            admin.set_embed_origins(admin_actor(), platform_id, (form.embed_origins.data or "").split())
        except FORM_ERRORS as error:
            return _show(platform_id, embed=form, status=show_error(form, error))
        flash(_("The embedding origins are saved."))
        return redirect(url_for(".show", platform_id=platform_id))
    return _show(platform_id, embed=form, status=422)


@bp.route("/<id:platform_id>/keys", methods=["POST"])
def create_key(platform_id: int):
    issued = admin.create_api_key(admin_actor(), platform_id)
    return secret_page(_("New API key"), [(_("API key"), issued.secret)], url_for(".show", platform_id=platform_id))


@bp.route("/<id:platform_id>/keys/<id:key_id>/revoke", methods=["POST"])
def revoke_key(platform_id: int, key_id: int):
    key = admin.revoke_api_key(admin_actor(), platform_id, key_id)
    flash(_("The key %(hint)s… is revoked: it no longer works.", hint=key.hint))
    return redirect(url_for(".show", platform_id=platform_id))


@bp.route("/<id:platform_id>/endpoints", methods=["POST"])
def add_endpoint(platform_id: int):
    form = EndpointForm()
    if form.validate_on_submit():
        try:
            issued = admin.add_endpoint(admin_actor(), platform_id, form.url.data)
        except FORM_ERRORS as error:
            return _show(platform_id, endpoint=form, status=show_error(form, error))
        return secret_page(_("Webhook endpoint added"), [(_("Webhook signing secret"), issued.secret)],
                           url_for(".show", platform_id=platform_id))
    return _show(platform_id, endpoint=form, status=422)


@bp.route("/<id:platform_id>/endpoints/<id:endpoint_id>/<any(enable, disable):change>", methods=["POST"])
def toggle_endpoint(platform_id: int, endpoint_id: int, change: str):
    admin.set_endpoint_active(admin_actor(), platform_id, endpoint_id, change == "enable")
    flash(_("The endpoint is enabled.") if change == "enable" else _("The endpoint is disabled."))
    return redirect(url_for(".show", platform_id=platform_id))


@bp.route("/<id:platform_id>/endpoints/<id:endpoint_id>/rotate", methods=["POST"])
def rotate_secret(platform_id: int, endpoint_id: int):
    grace = request.form.get("grace_hours", "24")
    issued = admin.rotate_endpoint_secret(admin_actor(), platform_id, endpoint_id,
                                          int(grace) if grace.isdigit() else -1)
    if grace == "0":
        note = _("The old secret stopped working at once: every delivery from now on, retries included, is "
                 "signed with this one. Give it to the platform now.")
    else:
        note = _("For the next %(hours)s hours every delivery carries two signatures, with this secret and with "
                 "the old one; after that only this one. Give it to the platform now.", hours=grace)
    return secret_page(_("New webhook signing secret"), [(_("Webhook signing secret"), issued.secret)],
                       url_for(".show", platform_id=platform_id), note=note)


def _show(platform_id: int, *, deadlines: DeadlinesForm | None = None, rulebook: RulebookForm | None = None,
          endpoint: EndpointForm | None = None, embed: EmbedForm | None = None, status: int = 200):
    """The platform page; the form that was just sent (with its errors) replaces its blank one."""
    detail = admin_views.platform_detail(admin_actor(), platform_id)
    platform = detail.platform
    forms = {
        "deadlines": deadlines or DeadlinesForm(formdata=None, obj=platform),
        "rulebook": rulebook or _rulebook_form(formdata=None, rulebook_id=platform.rulebook_id),
        "endpoint": endpoint or EndpointForm(formdata=None),
        "embed": embed or EmbedForm(formdata=None, embed_origins="\n".join(platform.embed_origins or ())),
    }
    return render_template("admin/platforms/show.html", detail=detail, now=clock.now(), **forms), status


def _rulebook_form(**kwargs) -> RulebookForm:
    form = RulebookForm(**kwargs)
    locale = str(get_locale())
    form.rulebook_id.choices = options([("", _("Standard rulebook"))] + [
        (book.id, f"{localized(book.title, locale) or book.slug} ({book.slug})")
        for book in admin_views.published_rulebooks(admin_actor())])
    return form
