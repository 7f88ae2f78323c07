"""What the admin sections share: domain errors shown on a form, and the page that shows a secret once."""
from __future__ import annotations

from collections.abc import Iterable

from flask import render_template
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from mediation.errors import Conflict, DomainError, Invalid, InvalidTransition

# The errors a form answers on itself; NotFound and Forbidden go to the error page like anywhere else.
FORM_ERRORS = (Invalid, InvalidTransition, Conflict)


def show_error(form: FlaskForm, error: DomainError) -> int:
    """Put the error's field messages on the form's fields (others above the form); returns the status."""
    form.form_errors.append(str(error.message))
    for name, texts in error.errors.items():
        field = form._fields.get(name)
        if field is None:
            form.form_errors.extend(str(text) for text in texts)
        else:
            field.errors = [*field.errors, *(str(text) for text in texts)]
    return error.status


def secret_page(title: str, secrets: list[tuple[str, str]], back: str, note: str | None = None):
    """A secret shown once: it is not kept anywhere we could show it from again, nor cached by the browser."""
    body = render_template("admin/secret.html", title=title, secrets=secrets, back=back, note=note)
    return body, 200, {"Cache-Control": "no-store"}


def optional_int(value: object) -> int | None:
    """For selects whose empty choice means "none": "" → None, "12" → 12 (else ValueError)."""
    return None if value in ("", None) else int(value)


def options(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """(value, label) pairs as a select's choices; the label may be a lazy (translated) string."""
    return [SelectChoice(str(value), label) for value, label in pairs]
