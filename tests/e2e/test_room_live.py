"""The case room in a real browser: a buyer and a seller, each in their own browser context, talk and
settle live over Socket.IO on the live server, without ever reloading the page.

The buyer reads English and the seller Simplified Chinese (the factory's party locales), so words are
checked against the labels each page was given, and plain English where the buyer's page is meant.
"""
from __future__ import annotations

import re

import pytest

from tests.e2e.helpers import assert_not_reloaded, expect_from_other, expect_state, mark_page, send, wait_until_live

pytestmark = pytest.mark.e2e

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = playwright_api.expect

SCREENSHOTS = "/tmp/e2e-{name}.png"
PHONE = {"width": 390, "height": 844}
BUYER_OUTCOME = re.compile(r"refund \$60\.00 to the buyer, release \$40\.00 to the seller")
FITS_WIDTH = "document.scrollingElement.scrollWidth <= window.innerWidth"


def propose(room, refund: str, release: str, terms: str = "") -> None:
    form = room.locator("#propose")
    form.locator("input[name=buyer_refund]").fill(refund)
    form.locator("input[name=seller_release]").fill(release)
    form.locator("textarea[name=terms]").fill(terms)
    form.locator("button[type=submit]").click()


def open_both(case, open_room):
    buyer = open_room(case, "buyer")
    seller = open_room(case, "seller")
    for room in (buyer, seller):
        expect(room.locator("h1")).to_contain_text(re.compile(r"MD-"))
        mark_page(room)
    wait_until_live(buyer, "seller")
    wait_until_live(seller, "buyer")
    return buyer, seller


def settle(buyer, seller) -> None:
    """The whole flow: talk, negotiation starts, the seller proposes, the buyer accepts."""
    for room in (buyer, seller):
        expect_state(room, "open")
    expect(buyer.locator("#state")).to_have_text(re.compile(r"^Open"))

    send(seller, "Hello, sorry about the lid. Can we settle?")
    expect_from_other(buyer, "Hello, sorry about the lid. Can we settle?")
    for room in (buyer, seller):  # the respondent answered: negotiation, live on both sides
        expect_state(room, "negotiation")
    expect(buyer.locator("#state")).to_have_text("Negotiation")

    send(buyer, "Yes, a partial refund would be fine.", enter=True)
    expect_from_other(seller, "Yes, a partial refund would be fine.")

    # Refund and release must add up to the held 100.00: the form says so and sends nothing.
    propose(seller, "70.00", "40.00", "Refund 60, the buyer keeps the item.")
    hint = seller.locator("#propose-hint").inner_text()
    expect(seller.locator("#propose-error")).to_have_text(hint)
    expect(seller.locator("#propose input[name=buyer_refund]")).to_have_attribute("aria-invalid", "true")
    expect(buyer.locator("#proposals li.proposal")).to_have_count(0)

    propose(seller, "60.00", "40.00", "Refund 60, the buyer keeps the item.")
    expect(seller.locator("#propose-error")).to_have_text("")
    expect(seller.locator("#proposals li.proposal")).to_have_count(1)
    expect(seller.locator("#propose input[name=buyer_refund]")).to_have_value("")

    proposal = buyer.locator("#proposals li.proposal")
    expect(proposal).to_have_count(1)
    expect(proposal).to_contain_text("Waiting for an answer")
    expect(proposal).to_contain_text("Refund to the buyer: $60.00")
    expect(proposal).to_contain_text("Release to the seller: $40.00")
    expect(proposal).to_contain_text("Refund 60, the buyer keeps the item.")

    dialogs: list[str] = []

    def confirm(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    buyer.page.once("dialog", confirm)
    proposal.get_by_role("button", name="Accept").click()

    for room in (buyer, seller):
        expect_state(room, "settled")
        outcome = room.locator("#outcome")
        expect(outcome).to_be_visible()
        expect(outcome).to_contain_text("60.00")
        expect(outcome).to_contain_text("40.00")
        expect(room.locator("#proposals li.proposal .pstate")).to_have_text(
            room.label("proposal_states", "accepted"))
        expect(room.locator("#proposals li.proposal button")).to_have_count(0)
        expect(room.locator("#propose")).to_be_hidden()
    expect(buyer.locator("#state")).to_have_text("Settled")
    expect(buyer.locator("#outcome")).to_contain_text(BUYER_OUTCOME)
    expect(buyer.locator("#withdraw-box")).to_be_hidden()
    assert dialogs == [buyer.label("strings", "confirm_accept")]


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
    buyer = open_room(case, "buyer")
    seller = open_room(case, "seller", viewport=PHONE)
    wait_until_live(seller, "buyer")

    composer = seller.locator("#composer")
    for part in (composer, seller.locator("#body"), composer.locator("button[type=submit]"),
                 seller.locator("#propose")):
        expect(part).to_be_visible()
    assert seller.page.evaluate(FITS_WIDTH)

    # Enter that confirms an input method's candidate (pinyin and the like) does not send.
    seller.locator("#body").fill("你好")
    seller.locator("#body").dispatch_event("keydown", {"key": "Enter", "isComposing": True})
    expect(seller.locator("#body")).to_have_value("你好")
    expect(seller.locator("#messages li.message")).to_have_count(0)

    send(seller, "A tracking reference without spaces: " + "TRACK" * 40)
    send(buyer, "Thanks, checking.")
    expect_from_other(seller, "Thanks, checking.")
    expect_state(seller, "negotiation")
    propose(seller, "60.00", "40.00", "Refund 60, the buyer keeps the item.")
    expect(seller.locator("#proposals li.proposal")).to_have_count(1)

    width = seller.page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert seller.page.evaluate(FITS_WIDTH), f"the page scrolls sideways: {width}"
    for selector in ("#body", "#composer button[type=submit]", "#messages", "#proposals"):
        box = seller.locator(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], selector
    seller.locator("#body").scroll_into_view_if_needed()
    expect(seller.locator("#body")).to_be_in_viewport()
    seller.page.screenshot(path=SCREENSHOTS.format(name="phone-seller"), full_page=True)
    assert seller.errors == [], "\n".join(seller.errors)
