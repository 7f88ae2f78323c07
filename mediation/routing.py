"""URL converters shared by the API and the pages: `<id:name>` for a row id."""
from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from mediation.schemas.ids import MAX_ID


class IdConverter(IntegerConverter):
    """A row id in a path: 1 to MAX_ID. Any other number names nothing (404) and never reaches the database,
    which could not take it (PostgreSQL's integer overflows, and SQLite's beyond 2**63)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's name
        super().__init__(map, min=1, max=MAX_ID)  # the bounds are for the OpenAPI document

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            # Not werkzeug's ValidationError: where the path also has a rule for another method, that would
            # make the answer a 405.
            raise NotFound()
        return number


def init_app(app: Flask) -> None:
    """Before any route that uses the converters is added."""
    app.url_map.converters["id"] = IdConverter
