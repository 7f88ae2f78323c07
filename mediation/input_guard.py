"""A NUL character in a request's query, form or JSON body is refused before any view reads it.

No field means one, PostgreSQL cannot store one in text and SQLite would keep it where nothing else expects it:
so it is a 422 naming the fields (the error page for pages), on either database, never the driver's 500.
Uploads check their form fields in their view (`nul_fields`), where the multipart body is read anyway.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask_babel import lazy_gettext as _l

from mediation.errors import Invalid

NUL = "\x00"
_REMOVE = _l("Remove control characters.")


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul)


def refuse_nul() -> None:
    fields = nul_fields(request.args)
    if request.mimetype == "application/x-www-form-urlencoded":
        fields.update(nul_fields(request.form))
    elif request.is_json and b"\\u0000" in request.get_data(cache=True):  # JSON writes a NUL only escaped
        fields.update(nul_fields(request.get_json(silent=True)))
    if fields:
        raise Invalid(_l("Some fields are not valid."), fields)


def nul_fields(data: Any) -> dict:
    """Where `data` (a mapping or MultiDict, lists and dicts within) holds a NUL: {field: [message]}, nested as
    marshmallow nests its errors."""
    if hasattr(data, "items"):
        pairs = data.items(multi=True) if hasattr(data, "getlist") else data.items()
    elif isinstance(data, list):
        pairs = enumerate(data)
    else:
        return {}
    found: dict = {}
    for key, value in pairs:
        if isinstance(value, str):
            if NUL in value or NUL in str(key):
                found[key] = [_REMOVE]
        elif inner := nul_fields(value):
            found[key] = inner
    return found
