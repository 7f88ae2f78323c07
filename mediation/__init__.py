"""Mediation: a neutral place where buyers and sellers settle marketplace disputes."""
from __future__ import annotations

from typing import Any

from flask import Flask

from mediation.config import ROOT, Defaults, engine_options, from_environment


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(Defaults)
    app.config.from_pyfile("settings.py", silent=True)
    app.config.update(from_environment())
    if test_config:
        app.config.update(test_config)
    if not app.config["SECRET_KEY"]:
        raise RuntimeError("Set MEDIATION_SECRET_KEY or SECRET_KEY in instance/settings.py (make run does).")
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**engine_options(uri, app.config),
                                               **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}

    _init_extensions(app)
    _init_adapters(app)
    return app


def _init_extensions(app: Flask) -> None:
    from mediation import i18n, serving
    from mediation.extensions import babel, csrf, db, login_manager, migrate, socketio
    from mediation.models import postgresql, sqlite

    db.init_app(app)
    sqlite.install(app)
    postgresql.install(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    socketio.init_app(app, message_queue=app.config["REDIS_URL"], channel=app.config["SOCKETIO_CHANNEL"],
                      async_mode=serving.async_mode(), max_http_buffer_size=64 * 1024, async_handlers=False)


def _init_adapters(app: Flask) -> None:
    from mediation import api, cli, input_guard, limits, realtime, routing, security, web

    routing.init_app(app)
    api.init_app(app)
    web.init_app(app)
    realtime.init_app(app)
    cli.init_app(app)
    limits.init_app(app)
    security.init_app(app)
    input_guard.init_app(app)
