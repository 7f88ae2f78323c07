"""Row ids as the API takes them, in a path, a query or a body: 1 to MAX_ID, the largest value of the
database's integer column (PostgreSQL's `integer`). A larger number names nothing; unchecked, it reached the
database and failed there (an overflow, answered with a 500)."""
from __future__ import annotations

from marshmallow import validate

MAX_ID = 2**31 - 1


def id_range() -> validate.Range:
    return validate.Range(min=1, max=MAX_ID)
