"""Helpers for driving the case room page in the browser tests: mark a page to prove it was never reloaded,
wait until its socket is live, read its state badge and channel tabs, send and expect chat messages, and sort
the console errors a test provoked on purpose from the rest.

Plain functions only; the fixtures (browser, new_room, open_room, sign_in_to_room) are in conftest.py. Words
are checked against the labels each viewer's page was given, since the parties may read different languages.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import WAIT_MS, Room

if TYPE_CHECKING:
    from playwright.sync_api import Locator

# Without Playwright, a test module that imports these helpers is skipped whole, as by its own importorskip.
expect = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed").expect

# Chromium's own console line for a response that answered 422, which some tests provoke on purpose.
CHROMIUM_422 = "status of 422 (UNPROCESSABLE ENTITY)"


def mark_page(room: Room) -> None:
    """A flag on the window: it survives only while the page is never reloaded or left."""
    room.page.evaluate("window.__e2eSamePage = true")


def assert_not_reloaded(room: Room) -> None:
    assert room.page.evaluate("window.__e2eSamePage === true"), f"the {room.role}'s page was reloaded"


def wait_until_live(room: Room, *others: str) -> None:
    """The socket joined the room: the page says it is live, and sees the others online."""
    expect(room.locator("#connection")).to_have_text(room.label("strings", "connected"))
    for role in others:
        expect(room.locator("#presence")).to_contain_text(room.label("roles", role))


def expect_state(room: Room, state: str) -> None:
    """The state badge, both its class and its word in the viewer's language."""
    badge = room.locator("#state")
    expect(badge).to_have_class(re.compile(rf"\bstate-{state}\b"))
    expect(badge).to_have_text(room.label("states", state))


def tab(room: Room, key: str) -> Locator:
    """A channel tab by its label as this viewer's page words it."""
    return room.page.get_by_role("tab", name=re.compile("^" + re.escape(room.label("strings", key))))


def send(room: Room, text: str, list_id: str = "messages", *, enter: bool = False) -> None:
    """Write `text` in the composer and send it with the button (or the Enter key, with `enter`), then wait
    until the server acknowledged it in the list `list_id` of the channel it went to (the joint one by
    default, `messages-caucus-<role>` for a private one)."""
    room.locator("#body").fill(text)
    if enter:
        room.locator("#body").press("Enter")
    else:
        room.locator("#composer button[type=submit]").click()
    # Acknowledged after the server's commit: shown in the channel's list, no longer pending.
    expect(room.locator(f"#{list_id} li.mine:not(.pending)").filter(has_text=text)).to_have_count(1)
    expect(room.locator("#body")).to_have_value("")


def expect_from_other(room: Room, text: str, list_id: str = "messages") -> None:
    """Someone else's message `text` arrived, once, in the list `list_id` (as in `send`)."""
    expect(room.locator(f"#{list_id} li.theirs .text").filter(has_text=text)).to_have_count(1)


def unexpected_errors(room: Room, expected_422: str | None = None) -> list[str]:
    """The room's console and page errors, but for Chromium's log of a 422 the test provoked on purpose: of
    any request, or with `expected_422` (a path such as "api/v1/cases/7/rulings") of that request only."""

    def provoked(error: str) -> bool:
        if not expected_422:
            return CHROMIUM_422 in error
        return f"{CHROMIUM_422} (http://127.0.0.1:" in error and error.endswith(f"/{expected_422})")

    return [error for error in room.errors if not provoked(error)]


def wait_for(condition: Callable[[], bool], seconds: float = WAIT_MS / 1000) -> bool:
    """Poll `condition` until it holds or `seconds` pass, for what no page shows (such as the database the
    server's threads write); returns whether it held."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False
