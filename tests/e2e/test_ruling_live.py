"""The neutral's part of the case room in real browsers, each person in their own browser context: the
buyer escalates, the mediator talks to each party in private, rules from the form citing a clause, the
seller appeals from the page, a second mediator upholds the ruling from the decision form, and everyone in
the room sees each step live, without reloading. Meanwhile the marketplace's webhook receiver, a real HTTP
server on loopback fed by the real deliverer thread, verifies every delivery's Standard Webhooks signature.

The buyer reads English in UTC; the seller reads Simplified Chinese (the factory's party locale) in
Asia/Shanghai, so the seller's words are checked against the labels their page was given.
"""
from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from mediation.services import webhooks
from tests.e2e.conftest import WAIT_MS
from tests.e2e.helpers import (
    assert_not_reloaded,
    expect_from_other,
    expect_state,
    mark_page,
    send,
    tab,
    unexpected_errors,
    wait_until_live,
)

pytestmark = pytest.mark.e2e

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = playwright_api.expect

SCREENSHOT = "/tmp/ruling-{name}.png"
PHONE = {"width": 390, "height": 844}
FITS_WIDTH = "document.scrollingElement.scrollWidth <= window.innerWidth"
PASSWORD = "a long mediator password"
TO_BUYER = "Private to the buyer: did the lid crack in the box?"
FROM_BUYER = "Private to the mediator: yes, the box itself was intact."
TO_SELLER = "Private to the seller: do you have packing photos?"
FROM_SELLER = "Private to the mediator: I have two photos of the packed lid."
RATIONALE = "The photos show the lid cracked inside an intact box, so most of the price goes back to the buyer."
GROUNDS = "The courier's damage report shows the crack happened in transit, not before shipping."
UPHOLD = "The courier's report does not outweigh the seller's own photos; the ruling stands as issued."
WEBHOOKS = ["ruling.issued", "case.appealed", "ruling.final", "case.resolved"]


# ---- the marketplace's webhook receiver -----------------------------------------------------------


class Receiver:
    """What the marketplace got: every request verified with the `standardwebhooks` package."""

    def __init__(self, url: str):
        self.url, self.secret = url, ""
        self.verified: list[dict] = []
        self.forged: list[str] = []
        self._changed = threading.Condition()

    def answer(self, headers: dict, body: bytes) -> int:
        with self._changed:
            try:
                self.verified.append(Webhook(self.secret).verify(body, headers))
                status = 204
            except WebhookVerificationError as error:
                self.forged.append(str(error))
                status = 401
            self._changed.notify_all()
            return status

    def types(self, case_id: int) -> list[str]:
        return [p["type"] for p in self.verified if p["data"]["case"]["id"] == case_id]

    def wait_for(self, case_id: int, wanted: list[str]) -> list[str]:
        with self._changed:
            self._changed.wait_for(lambda: set(wanted) <= set(self.types(case_id)), timeout=WAIT_MS / 1000)
            return self.types(case_id)


class Handler(BaseHTTPRequestHandler):
    timeout = WAIT_MS / 1000

    def do_POST(self):  # the name http.server calls
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(self.server.receiver.answer(dict(self.headers), body))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.receiver = Receiver(f"http://127.0.0.1:{server.server_port}/hooks")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.receiver
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def deliverer(app):
    """The webhook deliverer thread `serve` runs (the test app starts none), woken by each commit."""
    stop = threading.Event()
    worker = threading.Thread(target=webhooks.run_forever, args=(app, stop), kwargs={"idle_seconds": 0.5},
                              daemon=True)
    worker.start()
    yield
    stop.set()
    webhooks.wake.set()
    worker.join(10)
    assert not worker.is_alive()


# ---- helpers ------------------------------------------------------------------------------------


def caucus(staff, party, to_party: str, from_party: str) -> None:
    """The mediator and one party talk in their private channel, both ways."""
    tab(staff, f"tab_caucus_{party.role}").click()
    send(staff, to_party, f"messages-caucus-{party.role}")
    tab(party, "tab_caucus").click()
    expect_from_other(party, to_party, f"messages-caucus-{party.role}")
    send(party, from_party, f"messages-caucus-{party.role}")
    expect_from_other(staff, from_party, f"messages-caucus-{party.role}")
    tab(party, "tab_joint").click()


def escalate(buyer) -> None:
    buyer.page.get_by_role("button", name="Ask for a mediator").click()
    buyer.page.get_by_label("Why do you want a mediator?").fill("We cannot agree on the refund.")
    buyer.page.get_by_role("button", name="Send the request").click()


# ---- the test -----------------------------------------------------------------------------------


def test_a_ruling_is_issued_appealed_and_upheld_live(make_platform, make_rulebook, make_case, make_user, receiver,
                                                    deliverer, open_room, sign_in_to_room, live_server):
    platform = make_platform(webhook_url=receiver.url)
    receiver.secret = platform.webhook_secret
    rules = make_rulebook(slug="standard", clauses=4)
    make_user("mediator", name="Mei Mediator", email="mei@example.com", password=PASSWORD)
    case = make_case(platform=platform)

    buyer = open_room(case, "buyer")
    seller = open_room(case, "seller", timezone="Asia/Shanghai")
    for room in (buyer, seller):
        mark_page(room)
    wait_until_live(buyer, "seller")
    wait_until_live(seller, "buyer")

    # The seller answers, the buyer asks for a mediator from the page: Mei is assigned, named in the header.
    send(seller, "包装很好，我已经寄出了。", "messages")
    expect_state(buyer, "negotiation")
    escalate(buyer)
    for room in (buyer, seller):
        expect_state(room, "mediation")
        expect(room.locator("#mediator")).to_have_text("Mei Mediator")
        expect(room.locator("#decision")).to_be_hidden()
    # A second mediator joins the roster before the appeal (never the one who ruled hears it).
    make_user("mediator", name="Ada Appeals", email="ada@example.com", password=PASSWORD)

    staff = sign_in_to_room(case, "mei@example.com", PASSWORD)
    wait_until_live(staff, "buyer", "seller")
    expect(staff.locator("#mediator")).to_have_text("Mei Mediator")  # from the page, no extra request
    caucus(staff, buyer, TO_BUYER, FROM_BUYER)
    caucus(staff, seller, TO_SELLER, FROM_SELLER)
    # A party never sees the other party's private channel, not even hidden in the page.
    for party, others in ((buyer, (TO_SELLER, FROM_SELLER)), (seller, (TO_BUYER, FROM_BUYER))):
        other = "seller" if party.role == "buyer" else "buyer"
        expect(party.locator(f'[data-channel="caucus:{other}"]')).to_have_count(0)
        content = party.page.content()
        assert not [text for text in others if text in content], f"the {party.role} saw the other caucus"

    # The mediator rules from the form: outcome, reasons, a clause of the case's rulebook.
    for box in ("#recommend-box", "#rule-box"):
        expect(staff.locator(box)).to_be_visible()
    form = staff.locator("#rule")
    expect(form).to_contain_text("Refund and release must add up to $100.00.")
    link = form.get_by_role("link", name=re.compile(r"clause 2\b"))
    expect(link).to_have_attribute("href", "/rules/standard/v1#clause-2")
    expect(link).to_have_attribute("target", "_blank")
    form.get_by_label("Refund to the buyer").fill("70.00")
    form.get_by_label("Release to the seller").fill("30.00")
    form.get_by_label("Reasons").fill(RATIONALE)
    form.get_by_role("button", name="Issue the ruling").click()
    # Without a clause the API answers 422: its message shows next to the clauses, and nothing typed is lost.
    expect(staff.locator("#rule-error-clauses")).to_have_text("Cite at least one clause of the case's rulebook.")
    expect(form.locator("[role=alert]")).not_to_be_empty()
    expect(form.get_by_label("Reasons")).to_have_value(RATIONALE)
    expect(form.get_by_label("Refund to the buyer")).to_have_value("70.00")
    form.get_by_label("2. Clause 2", exact=True).check()
    staff.page.screenshot(path=SCREENSHOT.format(name="mediator-forms"), full_page=True)
    form.get_by_role("button", name="Issue the ruling").click()

    expect_state(staff, "ruled")
    for box in ("#recommend-box", "#rule-box", "#appeal"):
        expect(staff.locator(box)).to_be_hidden()  # the mediator's actions end with the ruling
    for room in (buyer, seller, staff):
        expect_state(room, "ruled")
        card = room.locator("#rulings .ruling-card")
        expect(card).to_have_count(1)
        expect(card).to_contain_text("Mei Mediator")
        expect(card.locator(".rationale")).to_have_text(RATIONALE)
        cited = card.locator(".cited a")
        expect(cited).to_have_count(1)
        expect(cited).to_have_attribute("href", "/rules/standard/v1#clause-2")
        expect(cited).to_have_attribute("target", "_blank")
    rules_page = requests.get(f"{live_server.url}/rules/standard/v1", timeout=5)  # where the links lead
    assert rules_page.status_code == 200 and 'id="clause-2"' in rules_page.text
    expect(buyer.locator("#rulings .cited a")).to_contain_text("2. Clause 2")
    expect(seller.locator("#rulings .cited a")).to_contain_text("第2条")  # the seller's language
    expect(buyer.locator("#rulings .ruling-card dd").first).to_have_text("$70.00")
    # The appeal deadline, in each viewer's own time zone, the zone named.
    expect(buyer.locator("#rulings .appeal-window time")).to_contain_text("UTC")
    expect(seller.locator("#rulings .appeal-window time")).to_contain_text("GMT+8")
    deadline = buyer.locator("#rulings .appeal-window time").get_attribute("datetime")
    expect(seller.locator("#rulings .appeal-window time")).to_have_attribute("datetime", deadline)
    for party in (buyer, seller):
        expect(party.locator("#appeal")).to_be_visible()
    buyer.page.screenshot(path=SCREENSHOT.format(name="buyer-ruled"), full_page=True)

    # The seller appeals from the page; the appeal goes to Ada, never to Mei.
    seller.locator("#appeal textarea[name=grounds]").fill(GROUNDS)
    seller.locator("#appeal button[type=submit]").click()
    for room in (buyer, seller, staff):
        expect_state(room, "appealed")
        expect(room.locator("#rulings .appeal-status")).to_have_text(
            re.compile(re.escape(room.label("strings", "appealed_by_seller"))))
        expect(room.locator("#rulings .grounds")).to_have_text(GROUNDS)
        expect(room.locator("#appeal-mediator")).to_have_text("Ada Appeals")
        expect(room.locator("#appeal")).to_be_hidden()
    expect(buyer.locator("#rulings .appeal-status")).to_contain_text(
        "Appealed by the seller — awaiting the appeal mediator")

    # Ada signs in: the open record only (no private channels), the ruling, the grounds, the decision form.
    ada = sign_in_to_room(case, "ada@example.com", PASSWORD)
    wait_until_live(ada, "buyer", "seller")
    expect(ada.locator("dl.facts")).to_contain_text("Appeal mediator")
    expect(ada.page.get_by_role("tab")).to_have_count(0)
    expect(ada.locator('[data-channel^="caucus"]')).to_have_count(0)
    ada_content = ada.page.content()
    assert not [text for text in (TO_BUYER, FROM_BUYER, TO_SELLER, FROM_SELLER) if text in ada_content]
    expect(ada.locator("#rulings .rationale")).to_have_text(RATIONALE)
    expect(ada.locator("#rulings .grounds")).to_have_text(GROUNDS)
    expect(ada.locator("#rule-box")).to_be_hidden()
    decide = ada.locator("#decide")
    expect(decide).to_be_visible()
    expect(decide.locator("#decide-outcome")).to_be_hidden()
    decide.get_by_label("Replace it with a new outcome").check()
    expect(decide.locator("#decide-outcome")).to_be_visible()
    decide.get_by_label("Uphold the ruling").check()
    expect(decide.locator("#decide-outcome")).to_be_hidden()  # upholding needs no outcome
    decide.get_by_label("Reasons").fill(UPHOLD)
    decide.get_by_label("2. Clause 2", exact=True).check()
    ada.page.screenshot(path=SCREENSHOT.format(name="appeal-mediator-form"), full_page=True)
    decide.get_by_role("button", name="Decide the appeal").click()

    # Final, live for everyone: the decision card and the final outcome.
    for room in (buyer, seller, staff, ada):
        expect_state(room, "final")
        decision = room.locator("#rulings .ruling-appeal")
        expect(decision).to_contain_text("Ada Appeals")
        expect(decision.locator(".rationale")).to_have_text(UPHOLD)
        expect(decision.locator(".cited a")).to_have_attribute("href", "/rules/standard/v1#clause-2")
        expect(room.locator("#rulings .final-outcome")).to_be_visible()
        expect(room.locator("#outcome")).to_be_visible()
        for form_id in ("#appeal", "#decide", "#rule-box", "#recommend-box"):
            expect(room.locator(form_id)).to_be_hidden()
    expect(buyer.locator("#rulings .ruling-appeal h3")).to_have_text(
        "Appeal decision by Ada Appeals: the ruling is upheld")
    expect(buyer.locator("#rulings .final-outcome")).to_have_text(
        "Final outcome: refund $70.00 to the buyer, release $30.00 to the seller.")
    expect(buyer.locator("#rulings .appeal-status")).to_have_text(re.compile("^Appealed by the seller"))

    # The marketplace heard it all, each delivery signed.
    delivered = receiver.wait_for(case.id, WEBHOOKS)
    assert [kind for kind in delivered if kind in WEBHOOKS] == WEBHOOKS, delivered
    assert receiver.forged == []
    [resolved] = [p for p in receiver.verified if p["type"] == "case.resolved"]
    assert resolved["data"]["outcome"]["resolution"] == "ruled"
    assert resolved["data"]["outcome"]["buyer_refund"] == {"value": "70.00", "currency": "USD"}
    assert rules.clause_ids  # the rulebook the case opened under is the one cited above

    for room in (buyer, seller):
        assert_not_reloaded(room)
    for name, room in (("buyer", buyer), ("seller", seller), ("mediator", staff), ("appeal-mediator", ada)):
        assert room.page.evaluate(FITS_WIDTH), f"the {name}'s page scrolls sideways"
        room.page.screenshot(path=SCREENSHOT.format(name=name), full_page=True)
    seller.page.set_viewport_size(PHONE)
    assert seller.page.evaluate(FITS_WIDTH), "the seller's page scrolls sideways at phone width"
    seller.page.screenshot(path=SCREENSHOT.format(name="seller-phone"), full_page=True)
    for room in (buyer, seller, ada):
        assert room.errors == [], "\n".join(room.errors)
    assert unexpected_errors(staff, f"api/v1/cases/{case.id}/rulings") == []


def test_both_parties_accept_the_mediators_recommendation_live(make_mediation_case, make_user, open_room,
                                                               sign_in_to_room):
    mediator = make_user("mediator", name="Mei Mediator", email="mei@example.com", password=PASSWORD)
    case, _mediator = make_mediation_case(mediator)
    buyer = open_room(case, "buyer")
    seller = open_room(case, "seller")
    staff = sign_in_to_room(case, "mei@example.com", PASSWORD)
    wait_until_live(staff, "buyer", "seller")

    form = staff.locator("#recommend")
    form.get_by_label("Refund to the buyer").fill("60.00")
    form.get_by_label("Release to the seller").fill("60.00")
    form.get_by_label("Terms").fill("The buyer keeps the item.")
    form.get_by_role("button", name="Send the recommendation").click()
    # 120 ≠ the 100 held: the service's message stands next to each amount; what was typed stays.
    expect(staff.locator("#recommend-error-seller_release")).to_contain_text("must equal the held amount")
    expect(form.get_by_label("Release to the seller")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_label("Terms")).to_have_value("The buyer keeps the item.")
    form.get_by_label("Release to the seller").fill("40.00")
    form.get_by_role("button", name="Send the recommendation").click()
    expect(staff.locator("#recommend-error-seller_release")).to_be_empty()
    expect(form.get_by_label("Terms")).to_have_value("")

    for room in (buyer, seller, staff):
        item = room.locator("#proposals .proposal-recommendation")
        expect(item).to_have_count(1)
        expect(item.locator(".progress")).to_have_text(room.label("strings", "rec_waiting_both"))
    expect(staff.locator("#proposals .proposal-recommendation .who")).to_contain_text("Your recommendation")
    expect(buyer.locator("#proposals .proposal-recommendation .who")).to_contain_text("Recommended by the mediator")
    buyer_item = buyer.locator("#proposals .proposal-recommendation")
    expect(buyer_item.get_by_role("button")).to_have_text(["Accept", "Reject"])  # no counter-offer to it

    buyer.page.once("dialog", lambda dialog: dialog.accept())
    buyer_item.get_by_role("button", name="Accept").click()
    expect(buyer_item.locator(".progress")).to_have_text("You accepted it. Waiting for the other party.")
    expect(buyer_item.get_by_role("button")).to_have_count(0)
    seller_item = seller.locator("#proposals .proposal-recommendation")
    expect(seller_item.locator(".progress")).to_have_text(seller.label("strings", "rec_other_accepted"))
    expect(staff.locator("#proposals .proposal-recommendation .progress")).to_have_text(
        "The buyer accepted it. Waiting for the seller.")
    expect_state(buyer, "mediation")

    seller.page.once("dialog", lambda dialog: dialog.accept())
    seller_item.get_by_role("button", name=seller.label("strings", "accept")).click()
    for room in (buyer, seller, staff):
        expect_state(room, "settled")
        expect(room.locator("#outcome")).to_be_visible()
        expect(room.locator("#recommend-box")).to_be_hidden()
    expect(buyer.locator("#outcome")).to_contain_text("refund $60.00 to the buyer, release $40.00 to the seller")
    for room in (buyer, seller):
        assert room.errors == [], "\n".join(room.errors)
    assert unexpected_errors(staff, f"api/v1/cases/{case.id}/recommendations") == []
