"""Browser pages: landing, join links, the case room, staff sign-in, the demo webhook receiver."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from mediation.web import admin, auth, demo, documents, health, labels, pages, preferences, rules, transparency

    app.register_blueprint(health.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(preferences.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(rules.bp)
    app.register_blueprint(transparency.bp)
    app.register_blueprint(documents.bp)
    if app.config["DEMO"]:
        app.register_blueprint(demo.bp)
    admin.init_app(app)
    auth.init_login(app)
    labels.init_app(app)
