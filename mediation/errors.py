"""Domain errors. Services raise these; each adapter maps them once (JSON, form message, socket ack)."""
from __future__ import annotations


def plain(value):
    """`value` with every lazy (translatable) string rendered in the current locale, for JSON.

    Dicts, lists and tuples are copied; str and other JSON values pass through unchanged.
    """
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class DomainError(Exception):
    """Base of every error a service command may raise on purpose."""

    status = 400

    def __init__(self, message, errors: dict[str, list] | None = None, **context):
        # `message` and the `errors` texts may be lazy strings; adapters render them with str() / plain().
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.context = context


class Unauthenticated(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class InvalidTransition(DomainError):
    """The action is not possible in the case's (or proposal's) current state."""

    status = 409


class Conflict(DomainError):
    """Another change won the race; the caller should re-read the case and decide again."""

    status = 409


class Invalid(DomainError):
    """The input is well-formed but breaks a rule; `errors` names the fields."""

    status = 422


class Throttled(DomainError):
    """Too many failed attempts lately; `retry_after` is how many seconds to wait before trying again."""

    status = 429

    def __init__(self, message, retry_after: int, **context):
        super().__init__(message, **context)
        self.retry_after = retry_after
