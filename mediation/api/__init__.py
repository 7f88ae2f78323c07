"""The REST API under /api/v1 (flask-smorest): platforms and party clients."""
from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from mediation.api import auth, cases, documents, errors, evidence, guidance, preferences, room, rulings
from mediation.api import requests as structured_requests
from mediation.errors import DomainError
from mediation.extensions import csrf, rest
from mediation.schemas.case import RoomCaseOut
from mediation.schemas.money import MONEY_SCHEMA, MoneyField


def init_app(app: Flask) -> None:
    # Every operation documents each error it can answer with (api.errors.documented_errors), in our shape;
    # a catch-all "default" in flask-smorest's own error schema would only blur that.
    rest.DEFAULT_ERROR_RESPONSE_NAME = None
    rest.init_app(app)
    _document_shared_shapes()
    blueprints = (cases.blp, room.blp, rulings.blp, evidence.blp, structured_requests.blp, preferences.blp,
                  guidance.blp, documents.blp)
    for blp in blueprints:
        rest.register_blueprint(blp)
        csrf.exempt(blp)  # bearer-token calls carry no cookie to forge; cookie calls are checked here:
    names = {blp.name for blp in blueprints}

    @app.before_request
    def protect_cookie_calls():  # before the body is read, so a refusal for CSRF comes first
        if request.blueprint in names:
            auth.protect_cookie_calls()
    app.register_error_handler(DomainError, _on_domain_error)
    app.register_error_handler(HTTPException, _on_http_error)


def money2properties(self, field, **kwargs) -> dict:
    """apispec: a MoneyField is the money object, not a value of unknown shape."""
    return dict(MONEY_SCHEMA) if isinstance(field, MoneyField) else {}


def _document_shared_shapes() -> None:
    rest.ma_plugin.converter.add_attribute_function(money2properties)
    # Party and mediator actions also answer to the case room's signed-in browser session (with X-CSRFToken).
    rest.spec.components.security_scheme("session", {
        "type": "apiKey", "in": "cookie", "name": "session",
        "description": "The signed-in browser session of a party or staff member; writes need X-CSRFToken"})
    # What a party or staff member sees of a case (GET /cases/{case_id} answers it to all but platforms).
    rest.spec.components.schema("RoomCaseOut", schema=RoomCaseOut)


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
