"""Helpers for the language and time-zone tests: words as each locale's catalogue gives them, parties whose
platform named their language, and the Socket.IO fixtures of tests/realtime for the socket's acks."""
from __future__ import annotations

import pytest
from flask_babel import force_locale, gettext

from tests.realtime.conftest import browser_cookie, connect, live_server  # noqa: F401  (fixtures)

ZH = "zh_Hans_CN"


def words(text: str, locale: str) -> str:
    """`text` as the page shows it in `locale` (no assertion depends on a translation being finished)."""
    with force_locale(locale):
        return gettext(text)


def person(language: str, external_id: str = "p-1") -> dict:
    return {"external_id": external_id, "name": "Pat Party", "email": "pat@example.com", "locale": language}


@pytest.fixture
def new_browser(app):
    """new_browser() -> another test client: a browser with cookies of its own (a new session)."""
    from tests.conftest import IsolatedClient

    def make():
        app.test_client_class = IsolatedClient
        return app.test_client()

    return make
