"""Private channels (caucus) in real browsers: the buyer asks for a mediator, the assigned mediator signs in
as staff in a third browser context and talks to the buyer in private and to both parties in the joint
channel, all live over Socket.IO. The seller, whose page is provably live, never sees the private words.

The buyer reads English and the seller Simplified Chinese (the factory's party locales); the seller's
words are checked against the labels their page was given.
"""
from __future__ import annotations

import pytest

from mediation.extensions import db
from mediation.services import mediators
from tests.e2e.helpers import expect_from_other, expect_state, send, tab, wait_for, wait_until_live

pytestmark = pytest.mark.e2e

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = playwright_api.expect

SCREENSHOT = "/tmp/caucus-{name}.png"
PHONE = {"width": 390, "height": 844}
FITS_WIDTH = "document.scrollingElement.scrollWidth <= window.innerWidth"
PASSWORD = "a long mediator password"
PRIVATE_TO_BUYER = "Private to the buyer: please send a photo of the cracked lid."
PRIVATE_TO_MEDIATOR = "Private to the mediator: photo attached to my e-mail."
TO_EVERYONE = "Hello both, I am the mediator on this case."


def test_mediator_talks_privately_to_the_buyer_and_openly_to_both(make_case, make_user, open_room,
                                                                   sign_in_to_room):
    mediator = make_user("mediator", name="Mei Mediator", email="mei@example.com", password=PASSWORD)
    case = make_case()
    buyer = open_room(case, "buyer")
    seller = open_room(case, "seller")
    wait_until_live(buyer, "seller")
    wait_until_live(seller, "buyer")

    # Before mediation a party has only the joint conversation: no tabs, and no mediator to ask yet.
    for room in (buyer, seller):
        expect(room.locator("#tabs")).to_be_hidden()
        expect(room.locator("#escalate-box")).to_be_hidden()
        expect(room.locator("#mediator-fact")).to_be_hidden()

    # The seller answers: negotiation; the buyer may now ask for a mediator (live, no reload).
    send(seller, "I shipped it well packed.", "messages")
    expect_from_other(buyer, "I shipped it well packed.", "messages")
    expect_state(buyer, "negotiation")
    expect(buyer.locator("#escalate-box")).to_be_visible()

    buyer.page.get_by_role("button", name="Ask for a mediator").click()
    buyer.page.get_by_label("Why do you want a mediator?").fill("We cannot agree on the refund.")
    buyer.page.get_by_role("button", name="Send the request").click()

    for room in (buyer, seller):
        expect_state(room, "mediation")
        expect(room.locator("#mediator")).to_have_text(mediator.name)  # from the mediator.assigned event
        expect(room.locator("#tabs")).to_be_visible()
        expect(tab(room, "tab_joint")).to_have_attribute("aria-selected", "true")
        expect(tab(room, "tab_caucus")).to_be_visible()  # the party's own, with the mediator
        expect(room.locator("#escalate-box")).to_be_hidden()
    expect(tab(buyer, "tab_caucus")).to_have_text("Private with the mediator")
    # A party never has a view of the other party's private channel.
    expect(buyer.locator('[data-channel="caucus:seller"]')).to_have_count(0)
    expect(seller.locator('[data-channel="caucus:buyer"]')).to_have_count(0)
    expect(buyer.page.get_by_role("tab")).to_have_count(2)
    expect(seller.page.get_by_role("tab")).to_have_count(2)

    staff = sign_in_to_room(case, "mei@example.com", PASSWORD)
    wait_until_live(staff, "buyer", "seller")
    expect(staff.page.get_by_role("tab")).to_have_count(3)
    expect(staff.page.get_by_role("tab")).to_have_text(
        ["Everyone", "Private with the buyer", "Private with the seller"])
    expect(staff.locator("#messages li.message")).to_have_count(1)  # the joint history so far

    # The mediator writes to the buyer in private: it reaches the buyer's private tab, live.
    tab(staff, "tab_caucus_buyer").click()
    expect(staff.locator("#body")).to_have_attribute("placeholder", "Write privately to the buyer…")
    send(staff, PRIVATE_TO_BUYER, "messages-caucus-buyer")
    buyer_private = tab(buyer, "tab_caucus")
    expect(buyer_private.locator(".badge")).to_contain_text("1")  # unread, the buyer looks at Everyone
    buyer_private.click()
    expect(buyer_private.locator(".badge")).to_be_hidden()
    expect_from_other(buyer, PRIVATE_TO_BUYER, "messages-caucus-buyer")
    expect(buyer.locator("#body")).to_have_attribute("placeholder", "Write privately to the mediator…")

    # The mediator writes to everyone: both parties get it in the joint channel.
    tab(staff, "tab_joint").click()
    send(staff, TO_EVERYONE, "messages")
    expect_from_other(seller, TO_EVERYONE, "messages")  # the seller's page is live…
    expect(tab(buyer, "tab_joint").locator(".badge")).to_contain_text("1")
    tab(buyer, "tab_joint").click()
    expect_from_other(buyer, TO_EVERYONE, "messages")

    # The buyer answers in private; the mediator, on Everyone, sees it counted on the buyer's tab.
    tab(buyer, "tab_caucus").click()
    send(buyer, PRIVATE_TO_MEDIATOR, "messages-caucus-buyer")
    expect(tab(staff, "tab_caucus_buyer").locator(".badge")).to_contain_text("1")
    tab(staff, "tab_caucus_buyer").click()
    expect_from_other(staff, PRIVATE_TO_MEDIATOR, "messages-caucus-buyer")
    # Having seen it, the mediator's queue no longer counts the buyer's private messages as unread.
    assert wait_for(lambda: _unread_in_queue(mediator, case.id) == 0), "the room never reported what was read"

    # …and yet it never showed the private words, in any tab, hidden or not.
    tab(seller, "tab_caucus").click()
    expect(seller.locator("#messages-caucus-seller li.message")).to_have_count(0)
    seller_text = seller.page.content()
    for private in (PRIVATE_TO_BUYER, PRIVATE_TO_MEDIATOR):
        assert private not in seller_text
    tab(seller, "tab_joint").click()

    for room in (buyer, seller, staff):
        assert room.page.evaluate(FITS_WIDTH), f"the {room.role}'s page scrolls sideways"
        room.page.screenshot(path=SCREENSHOT.format(name=room.role), full_page=True)
    staff.page.set_viewport_size(PHONE)
    expect(staff.page.get_by_role("tab")).to_have_count(3)
    width = staff.page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert staff.page.evaluate(FITS_WIDTH), f"the mediator's page scrolls sideways at phone width: {width}"
    staff.page.screenshot(path=SCREENSHOT.format(name="mediator-phone"), full_page=True)

    for room in (buyer, seller, staff):
        assert room.errors == [], "\n".join(room.errors)


def _unread_in_queue(mediator, case_id: int) -> int:
    db.session.rollback()  # a fresh read: the server's threads wrote the marker
    return next(item.unread for item in mediators.queue(mediator) if item.case.id == case_id)
