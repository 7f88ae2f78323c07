"""Staff sign-in with a password (mediators and admins)."""
from __future__ import annotations

import math
import re

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from mediation.errors import Invalid, Throttled
from mediation.extensions import db, login_manager
from mediation.models import User
from mediation.services import accounts

bp = Blueprint("auth", __name__)
_UNSAFE_IN_PATH = re.compile(r"[\\\x00-\x1f\x7f]")


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("login.html", form=form), (422 if request.method == "POST" else 200)
    try:
        user = accounts.authenticate(form.email.data, form.password.data, request.remote_addr or "")
    except Throttled as error:
        form.password.errors.append(_("Too many failed sign-ins. Try again in %(minutes)s minutes.",
                                      minutes=math.ceil(error.retry_after / 60)))
        return render_template("login.html", form=form), 429, {"Retry-After": str(error.retry_after)}
    except Invalid as error:
        form.password.errors.append(str(error.message))
        return render_template("login.html", form=form), 422
    login_user(user)
    target = request.args.get("next", "")
    return redirect(target if _is_local_path(target) else url_for("web.cases_list"))


def _is_local_path(target: str) -> bool:
    """Whether `target` is a path on this site. Browsers read a backslash as a slash and drop tabs and
    newlines, so `/\\evil.example` and `/<tab>/evil.example` would lead elsewhere like `//evil.example`."""
    return target.startswith("/") and not target.startswith("//") and not _UNSAFE_IN_PATH.search(target)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("You are signed out."))
    return redirect(url_for("web.index"))
