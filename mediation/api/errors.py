"""One error shape for the API: {"code", "status", "message", "errors": {field: [messages]}}."""
from __future__ import annotations

from http import HTTPStatus

from flask import g, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from flask_wtf.csrf import CSRFError
from marshmallow import Schema
from marshmallow import fields as ma_fields
from werkzeug.exceptions import HTTPException

from mediation.errors import Conflict, DomainError, InvalidTransition, plain
from mediation.schemas.case import CASE_OUT, ROOM_CASE_OUT
from mediation.schemas.messages import localized
from mediation.services import cases
from mediation.services.actors import PlatformActor

# `alt_response` only annotates the view for the OpenAPI document, so one blueprint's serves every API module.
_annotator = Blueprint("api_error_docs", __name__)


class ErrorOut(Schema):
    """Every error of the API, whatever its status."""

    code = ma_fields.Integer(required=True, metadata={"description": "The HTTP status"})
    status = ma_fields.String(required=True, metadata={"description": "Its name, e.g. Unprocessable Entity"})
    message = ma_fields.String(required=True, metadata={"description": "In the caller's language"})
    errors = ma_fields.Dict(keys=ma_fields.String(), metadata={
        "description": "The fields that are not valid, each with its messages"})
    case = ma_fields.Raw(allow_none=True, metadata={
        "type": "object", "description": "409 only: the case as it is now, as the caller may see it"})


_MEANING = {
    400: "The body is not JSON, or a signed-in browser's CSRF token is missing",
    401: "No valid credentials: an API key or party token (or a signed-in session)",
    403: "The caller may not do this",
    404: "No such case (or none the caller may see), or no such thing in it",
    409: "Not possible in the case's current state, or another change came first; `case` is the case now",
    413: "The body is larger than allowed",
    416: "The requested range is not within the file",
    422: "Some fields are not valid: `errors` names them",
    429: "Too many requests: wait Retry-After seconds",
}
_HEADERS = {
    401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
    429: {"Retry-After": {"required": True, "description": "Seconds until the limit resets",
                          "schema": {"type": "integer", "minimum": 1}}},
}


def documented_errors(*codes: int):
    """Document that the view may answer with these error statuses, in the one error shape. Every API call
    counts against a rate limit (mediation.limits), so 429 is always documented."""
    def decorate(view):
        for code in sorted({*codes, 429}):
            view = _annotator.alt_response(code, schema=ErrorOut, description=_MEANING[code],
                                           headers=_HEADERS.get(code))(view)
        return view
    return decorate


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def error_response(code: int, message: str, errors: dict | None = None, **extra):
    body = {"code": code, "status": HTTPStatus(code).phrase, "message": str(message)}
    if errors:
        body["errors"] = plain(localized(errors))
    body.update(extra)
    return jsonify(body), code


def domain_error(error: DomainError):
    extra = {}
    if isinstance(error, Conflict | InvalidTransition):
        extra["case"] = _current_case()
    response, code = error_response(error.status, error.message, error.errors, **extra)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="mediation"'
    return response, code


def http_error(error: HTTPException):
    if isinstance(error, CSRFError):
        return error_response(400, _l("The CSRF token is missing or invalid: send it as X-CSRFToken."))
    data = getattr(error, "data", None) or {}
    errors = _flatten(data.get("messages") or data.get("errors") or {})
    message = data.get("message") or error.description or HTTPStatus(error.code).phrase
    if error.code == 422 and errors:
        message = _l("Some fields are not valid.")
    response, code = error_response(error.code, message, errors)
    for name, value in [*protocol_headers(error), *(data.get("headers") or {}).items()]:
        response.headers[name] = value
    return response, code


def protocol_headers(error: HTTPException) -> list[tuple[str, str]]:
    """The headers the status itself calls for (Allow on 405, Content-Range on 416, WWW-Authenticate on 401),
    which a body of our own must not lose."""
    return [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]


def _flatten(messages: dict) -> dict:
    """webargs nests errors by location ({"json": {...}}); the API names fields directly."""
    flat: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict) and location in {"json", "query", "headers", "form", "files", "view_args"}:
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def _current_case() -> dict | None:
    case_id = (request.view_args or {}).get("case_id")
    case = cases.current(case_id) if case_id else None
    if case is None:
        return None
    schema = CASE_OUT if isinstance(g.get("actor"), PlatformActor) else ROOM_CASE_OUT
    return schema.dump(case)
