"""The case room in a real browser: a buyer and a seller, each in their own browser context, talk and
settle live over Socket.IO on the live server, without ever reloading the page.
"""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = playwright_api.expect

SCREENSHOTS = "/tmp/e2e-{name}.png"
PHONE = {"width": 390, "height": 844}
OUTCOME = re.compile(r"refund \S*60\.00 to the buyer, release \S*40\.00 to the seller")


def mark_page(room) -> None:
    """A flag on the window: it only survives while the page is never reloaded or navigated away."""
    room.page.evaluate("window.__e2eSamePage = true")


def assert_not_reloaded(room) -> None:
    assert room.page.evaluate("window.__e2eSamePage === true"), f"the {room.role}'s page was reloaded"


def wait_until_live(room, *others: str) -> None:
    """The socket joined the room: 'Live' shows, and the others are seen online."""
    expect(room.locator("#connection")).to_have_text("Live")
    for role in others:
        expect(room.locator("#presence")).to_contain_text(role)


def send(room, text: str) -> None:
    room.locator("#body").fill(text)
    room.page.get_by_role("button", name="Send", exact=True).click()
    # The server acknowledged it after its commit: no longer shown as pending.
    expect(room.locator("#messages li.mine:not(.pending)").filter(has_text=text)).to_have_count(1)


def expect_message_from_other(room, text: str) -> None:
    expect(room.locator("#messages li.theirs .text").filter(has_text=text)).to_have_count(1)


def open_both(case, open_room):
    buyer = open_room(case, "buyer")
    seller = open_room(case, "seller")
    for room in (buyer, seller):
        expect(room.locator("h1")).to_contain_text("Case ")
        mark_page(room)
    wait_until_live(buyer, "Seller")
    wait_until_live(seller, "Buyer")
    return buyer, seller


def settle(buyer, seller) -> None:
    """The whole flow: talk, negotiation starts, the seller proposes, the buyer accepts."""
    for room in (buyer, seller):
        expect(room.locator("#state")).to_have_class(re.compile(r"\bstate-open\b"))

    send(seller, "Hello, sorry about the lid. Can we settle?")
    expect_message_from_other(buyer, "Hello, sorry about the lid. Can we settle?")
    for room in (buyer, seller):  # the respondent answered: negotiation, live on both sides
        expect(room.locator("#state")).to_have_text("Negotiation")
        expect(room.locator("#state")).to_have_class(re.compile(r"\bstate-negotiation\b"))

    send(buyer, "Yes, a partial refund would be fine.")
    expect_message_from_other(seller, "Yes, a partial refund would be fine.")

    form = seller.locator("#propose")
    form.get_by_label("Refund to the buyer").fill("70.00")
    form.get_by_label("Release to the seller").fill("40.00")
    form.get_by_label("Terms").fill("Refund 60, the buyer keeps the item.")
    form.get_by_role("button", name="Send proposal").click()
    expect(seller.locator("#propose-error")).to_contain_text("must add up to $100.00")
    expect(form.get_by_label("Refund to the buyer")).to_have_attribute("aria-invalid", "true")
    expect(buyer.locator("#proposals li.proposal")).to_have_count(0)

    form.get_by_label("Refund to the buyer").fill("60.00")
    form.get_by_label("Release to the seller").fill("40.00")
    form.get_by_role("button", name="Send proposal").click()
    expect(seller.locator("#propose-error")).to_have_text("")
    expect(seller.locator("#proposals li.proposal")).to_have_count(1)

    proposal = buyer.locator("#proposals li.proposal")
    expect(proposal).to_have_count(1)
    expect(proposal).to_contain_text("Waiting for an answer")
    expect(proposal).to_contain_text("$60.00")
    expect(proposal).to_contain_text("$40.00")
    expect(proposal).to_contain_text("Refund 60, the buyer keeps the item.")

    dialogs: list[str] = []

    def confirm(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    buyer.page.once("dialog", confirm)
    proposal.get_by_role("button", name="Accept").click()

    for room in (buyer, seller):
        expect(room.locator("#state")).to_have_text("Settled")
        expect(room.locator("#state")).to_have_class(re.compile(r"\bstate-settled\b"))
        outcome = room.locator("#outcome")
        expect(outcome).to_be_visible()
        expect(outcome).to_contain_text(OUTCOME)
        expect(room.locator("#proposals li.proposal")).to_contain_text("Accepted")
        expect(room.locator("#propose")).to_be_hidden()
    assert dialogs and "Accept this proposal?" in dialogs[0]


def test_buyer_and_seller_settle_live(make_case, open_room):
    case = make_case()
    buyer, seller = open_both(case, open_room)

    settle(buyer, seller)

    for room in (buyer, seller):
        assert_not_reloaded(room)
        expect(room.locator("#messages li.message")).to_have_count(2)
        room.page.screenshot(path=SCREENSHOTS.format(name=f"room-{room.role}"), full_page=True)


def test_room_has_no_console_errors_during_the_flow(make_case, open_room):
    case = make_case()
    buyer, seller = open_both(case, open_room)

    settle(buyer, seller)

    assert buyer.errors == [], "\n".join(buyer.errors)
    assert seller.errors == [], "\n".join(seller.errors)


def test_room_is_usable_at_phone_width(make_case, open_room):
    case = make_case()
    seller = open_room(case, "seller", viewport=PHONE)
    wait_until_live(seller)

    composer = seller.locator("#composer")
    expect(composer).to_be_visible()
    expect(seller.locator("#body")).to_be_visible()
    expect(composer.get_by_role("button", name="Send", exact=True)).to_be_visible()
    expect(seller.locator("#propose")).to_be_visible()

    send(seller, "A long reference without spaces: " + "TRACK" * 40)
    expect(seller.locator("#state")).to_have_text("Negotiation")

    fits = "document.scrollingElement.scrollWidth <= window.innerWidth"
    assert seller.page.evaluate(fits), seller.page.evaluate(
        "[document.scrollingElement.scrollWidth, window.innerWidth]")
    box = seller.locator("#body").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    seller.page.screenshot(path=SCREENSHOTS.format(name="phone-seller"), full_page=True)
    assert seller.errors == [], "\n".join(seller.errors)
