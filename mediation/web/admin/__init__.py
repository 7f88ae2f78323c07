"""Admin pages: platforms and their keys and endpoints, mediators and conflicts, rulebooks, the webhook
delivery log, and read-only cases. Each section is its own module and blueprint under /admin."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, Flask, abort, redirect, request, url_for
from flask_login import current_user

from mediation.services.actors import StaffActor


def admin_actor() -> StaffActor:
    return StaffActor(user_id=current_user.id, role=current_user.role, name=current_user.name)


def admin_required(view):
    """Signed-in admins only: others are sent to sign in, or refused (403) when signed in as a mediator."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if current_user.role != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def protect(bp: Blueprint) -> Blueprint:
    """Put every view of the blueprint behind admin_required (once: blueprints outlive each app)."""
    if not getattr(bp, "admin_only", False):
        bp.before_request(admin_required(lambda: None))
        bp.admin_only = True
    return bp


def init_app(app: Flask) -> None:
    from mediation.web.admin import sections

    for blueprint in sections.BLUEPRINTS:
        app.register_blueprint(protect(blueprint))

    @app.context_processor
    def navigation():
        def admin_sections():
            return [(endpoint, label) for endpoint, label in sections.NAVIGATION if endpoint in app.view_functions]
        return {"admin_sections": admin_sections}
