"""marshmallow's own field messages ("Missing data for required field.") in the reader's language.

marshmallow formats its messages with `str.format` before any adapter sees them, so they cannot be lazy
strings. Instead the adapters pass field errors through `localized`, which looks each English message up
here and answers in the current locale; our own messages are lazy strings already and pass unchanged.
"""
from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l

_EXACT = {
    "Missing data for required field.": _l("Missing data for required field."),
    "Field may not be null.": _l("Field may not be null."),
    "Invalid value.": _l("Invalid value."),
    "Invalid input.": _l("Invalid input."),
    "Invalid input type.": _l("Invalid input type."),
    "Invalid type.": _l("Invalid input type."),
    "Unknown field.": _l("Unknown field."),
    "Not a valid string.": _l("Not a valid string."),
    "Not a valid utf-8 string.": _l("Not a valid string."),
    "Not a valid integer.": _l("Not a valid integer."),
    "Not a valid number.": _l("Not a valid number."),
    "Number too large.": _l("Number too large."),
    "Special numeric values (nan or infinity) are not permitted.": _l("Use a finite number."),
    "Not a valid boolean.": _l("Not a valid boolean: use true or false."),
    "Not a valid datetime.": _l("Not a valid date and time."),
    "Not a valid date.": _l("Not a valid date."),
    "Not a valid time.": _l("Not a valid time."),
    "Not a valid email address.": _l("Not a valid e-mail address."),
    "Not a valid URL.": _l("Not a valid URL."),
    "Not a valid list.": _l("Not a valid list."),
    "Not a valid mapping type.": _l("Not a valid object."),
    "Not a valid UUID.": _l("Not a valid UUID."),
    "String does not match expected pattern.": _l("Not in the expected format."),
}

_PATTERNS = [
    (re.compile(r"Must be one of: (?P<choices>.*)\."), _l("Must be one of: %(choices)s.")),
    (re.compile(r"Shorter than minimum length (?P<min>\d+)\."), _l("At least %(min)s characters.")),
    (re.compile(r"Longer than maximum length (?P<max>\d+)\."), _l("At most %(max)s characters.")),
    (re.compile(r"Length must be between (?P<min>\d+) and (?P<max>\d+)\."),
     _l("Between %(min)s and %(max)s characters.")),
    (re.compile(r"Length must be (?P<equal>\d+)\."), _l("Exactly %(equal)s characters.")),
    (re.compile(r"Must be greater than or equal to (?P<min>\S+) and less than or equal to (?P<max>\S+)\."),
     _l("Must be from %(min)s to %(max)s.")),
    (re.compile(r"Must be greater than or equal to (?P<min>\S+)\."), _l("Must be at least %(min)s.")),
    (re.compile(r"Must be less than or equal to (?P<max>\S+)\."), _l("Must be at most %(max)s.")),
    (re.compile(r"Must be greater than (?P<min>\S+)\."), _l("Must be more than %(min)s.")),
    (re.compile(r"Must be less than (?P<max>\S+)\."), _l("Must be less than %(max)s.")),
    (re.compile(r"\"(?P<input>.*)\" cannot be formatted as a (?:datetime|date|time)\."),
     _l("\"%(input)s\" cannot be read as a date or time.")),
]


def translated(message: str) -> Any:
    """`message` in the current locale if it is one of marshmallow's, else `message` itself."""
    known = _EXACT.get(message)
    if known is not None:
        return known
    for pattern, text in _PATTERNS:
        match = pattern.fullmatch(message)
        if match:
            return text % match.groupdict()
    return message


def localized(errors: Any) -> Any:
    """Field errors (nested dicts and lists of messages) with marshmallow's messages translated."""
    if isinstance(errors, dict):
        return {key: localized(value) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [localized(value) for value in errors]
    return translated(errors) if isinstance(errors, str) else errors
