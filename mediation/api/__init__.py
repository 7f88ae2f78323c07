"""The REST API under /api/v1 (flask-smorest): platforms and party clients."""
from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import HTTPException

from mediation.api import cases, documents, errors, evidence, guidance, preferences, room, rulings
from mediation.api import requests as structured_requests
from mediation.errors import DomainError
from mediation.extensions import csrf, rest


def init_app(app: Flask) -> None:
    rest.init_app(app)
    rest.register_blueprint(cases.blp)
    rest.register_blueprint(room.blp)
    rest.register_blueprint(rulings.blp)
    rest.register_blueprint(evidence.blp)
    rest.register_blueprint(structured_requests.blp)
    rest.register_blueprint(preferences.blp)
    rest.register_blueprint(guidance.blp)
    rest.register_blueprint(documents.blp)
    # Bearer-token calls carry no cookie to forge; cookie calls are checked in api.auth.
    csrf.exempt(cases.blp)
    csrf.exempt(room.blp)
    csrf.exempt(rulings.blp)
    csrf.exempt(evidence.blp)
    csrf.exempt(structured_requests.blp)
    csrf.exempt(preferences.blp)
    csrf.exempt(guidance.blp)
    csrf.exempt(documents.blp)
    app.register_error_handler(DomainError, _on_domain_error)
    app.register_error_handler(HTTPException, _on_http_error)


def _on_domain_error(error: DomainError):
    if errors.is_api_request():
        return errors.domain_error(error)
    from mediation.web.pages import render_domain_error

    return render_domain_error(error)


def _on_http_error(error: HTTPException):
    if errors.is_api_request():
        return errors.http_error(error)
    from mediation.web.pages import render_http_error

    return render_http_error(error)
