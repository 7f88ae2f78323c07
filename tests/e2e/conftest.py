"""Browser fixtures: Debian's Chromium driven by Playwright (sync API), one browser context per person.

`open_room(case, role)` follows the party's join link on the live server in a fresh context (its own
cookies, as on a separate device) and records every console error and uncaught page error, so a test
can assert that the room ran cleanly.
"""
from __future__ import annotations

import os
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
def open_room(browser, live_server):
    contexts = []

    def open_(case, role: str, viewport: dict | None = None) -> Room:
        context = browser.new_context(viewport=viewport or DESKTOP, locale="en-US", timezone_id="UTC")
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        page = context.new_page()
        room = Room(page, role)
        page.on("console", lambda message: record_console(room, message))
        page.on("pageerror", lambda error: room.errors.append(f"page error: {error}"))
        response = page.goto(f"{live_server.url}/join/{case.join_tokens[role]}")
        status = response.status if response is not None else None
        assert response is not None and response.ok, f"the {role}'s join link answered {status}"
        assert page.url.endswith(f"/cases/{case.id}"), page.url
        return room

    yield open_
    for context in contexts:
        context.close()
