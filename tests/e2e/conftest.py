"""Browser fixtures: Debian's Chromium driven by Playwright (sync API), one browser context per person.

`open_room(case, role)` follows the party's join link on the live server in a fresh context (its own
cookies, as on a separate device) and records every console error and uncaught page error, so a test
can assert that the room ran cleanly.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import pytest

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WAIT_MS = 10_000  # the bound of every wait in these tests
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module (module scope keeps Playwright's event loop out of other tests)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (`make browser`) "
                    "to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    sync_api.expect.set_options(timeout=WAIT_MS)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Room:
    """One person's browser tab on a case room."""

    page: object  # playwright.sync_api.Page
    role: str
    errors: list[str] = field(default_factory=list)
    _labels: dict | None = None

    def locator(self, selector: str):
        return self.page.locator(selector)

    def label(self, table: str, key: str) -> str:
        """A word as this viewer's page shows it (the parties may read different languages)."""
        if self._labels is None:
            self._labels = self.page.evaluate("JSON.parse(document.getElementById('labels').textContent)")
        return self._labels[table][key]


def record_console(room: Room, message) -> None:
    url = message.location.get("url", "")
    # Chromium asks for /favicon.ico on its own when a page names no icon (base.html names none);
    # that request is the browser's, not the page's, so its 404 is not held against the room.
    if message.type == "error" and not url.endswith("/favicon.ico"):
        room.errors.append(f"console: {message.text} ({url})")


@pytest.fixture
def new_room(browser, live_server):
    """new_room(role, viewport=None, timezone="UTC", locale="en-US") -> a Room on a blank page in a fresh
    browser context (its own cookies, as on a separate device), recording console and page errors.

    It depends on the live server so that its contexts close (and their sockets leave the rooms) before
    the server stops."""
    contexts = []

    def new(role: str, viewport: dict | None = None, timezone: str = "UTC", locale: str = "en-US") -> Room:
        context = browser.new_context(viewport=viewport or DESKTOP, locale=locale, timezone_id=timezone)
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        room = Room(page, role)
        page.on("console", lambda message: record_console(room, message))
        page.on("pageerror", lambda error: room.errors.append(f"page error: {error}"))
        return room

    yield new
    for context in contexts:
        context.close()


@pytest.fixture
def open_room(new_room, live_server):
    """open_room(case, role, viewport=None, timezone="UTC", locale="en-US"): the party follows its join link."""

    def open_(case, role: str, viewport: dict | None = None, timezone: str = "UTC", locale: str = "en-US") -> Room:
        room = new_room(role, viewport, timezone, locale)
        page = room.page
        response = page.goto(f"{live_server.url}/join/{case.join_tokens[role]}")
        status = response.status if response is not None else None
        assert response is not None and response.ok, f"the {role}'s join link answered {status}"
        assert page.url.endswith(f"/cases/{case.id}"), page.url
        return room

    return open_


@pytest.fixture
def sign_in_to_room(new_room, live_server):
    """sign_in_to_room(case, email, password, viewport=None, timezone="UTC"): a staff member signs in
    through /login in a fresh browser context and lands in the case room."""
    expect = pytest.importorskip("playwright.sync_api").expect

    def open_(case, email: str, password: str, viewport: dict | None = None, timezone: str = "UTC") -> Room:
        room = new_room("mediator", viewport, timezone)
        page = room.page
        page.goto(f"{live_server.url}/login?next=/cases/{case.id}")
        page.locator("input[name=email]").fill(email)
        page.locator("input[name=password]").fill(password)
        page.locator("form button[type=submit]").click()
        expect(page).to_have_url(re.compile(rf"/cases/{case.id}$"))
        return room

    return open_
