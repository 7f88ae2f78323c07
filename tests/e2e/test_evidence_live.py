"""Evidence in the case room in real browsers, each person in their own browser context: the buyer uploads a
real photo (a few MB, made here with Pillow) through the file picker with a progress bar, and it appears in
the seller's room without a reload, its thumbnail loaded; a file the page refuses keeps everything typed; a
file the seller puts into their private channel with the mediator never reaches the buyer; the seller answers
the buyer's request for the tracking number and both pages follow live (the request, the seller's checklist).

The buyer reads English in UTC; the seller reads Simplified Chinese (the factory's party locale) in
Asia/Shanghai, so the seller's words are checked against the labels their page was given.
"""
from __future__ import annotations

import os
import re

import pytest
from PIL import Image

from tests.e2e.conftest import WAIT_MS
from tests.e2e.helpers import assert_not_reloaded, mark_page, tab, unexpected_errors, wait_until_live

pytestmark = pytest.mark.e2e

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = playwright_api.expect

SCREENSHOT = "/tmp/evidence-{name}.png"
PHONE = {"width": 390, "height": 844}
FITS_WIDTH = "document.scrollingElement.scrollWidth <= window.innerWidth"
PASSWORD = "a long mediator password"
CAPTION = "The lid as it came out of the box"
TRACKING = "LX123456789CN"
# The page's <progress> elements, recorded as they change: the test sees the bar move, not only its end.
WATCH_PROGRESS = """() => {
  window.__progress = [];
  new MutationObserver((changes) => changes.forEach((change) => {
    const bar = change.target;
    if (bar.tagName === "PROGRESS") window.__progress.push([bar.value, bar.max, bar.hidden]);
  })).observe(document.getElementById("upload-queue"), { subtree: true, attributes: true,
                                                          attributeFilter: ["value", "max", "hidden"] });
}"""


LIMIT = 5 * 1024 * 1024


@pytest.fixture
def app_config(app_config, tmp_path) -> dict:
    """The evidence store under this test's tmp_path, never in instance/evidence; a 5 MB limit."""
    return {**app_config, "EVIDENCE_DIR": str(tmp_path / "evidence"), "EVIDENCE_MAX_BYTES": LIMIT}


def noise_png(path, size=(1100, 1000)) -> int:
    """A real PNG of random pixels (it does not compress: a few MB), written to `path`; returns its size."""
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path, "PNG")
    return path.stat().st_size


def throttle_uploads(room, bytes_per_second: int) -> None:
    """Slow the page's uploads down (Chromium's network emulation), so the progress bar visibly moves."""
    cdp = room.page.context.new_cdp_session(room.page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                 "uploadThroughput": bytes_per_second})


def files_of(room, channel: str = "joint"):
    return room.locator(f"#evidence-{channel.replace(':', '-')} li.evidence-item")


def thumbnail_loaded(room, evidence) -> None:
    image = evidence.locator("img")
    image.scroll_into_view_if_needed()
    expect(image).to_be_visible()
    room.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(),
                                timeout=WAIT_MS)  # fails here if the thumbnail never loads


# ---- the tests ----------------------------------------------------------------------------------


def test_a_photo_uploaded_by_the_buyer_appears_live_in_the_sellers_room(make_case, open_room, tmp_path):
    case = make_case()
    buyer = open_room(case, "buyer")
    seller = open_room(case, "seller", timezone="Asia/Shanghai")
    for room in (buyer, seller):
        mark_page(room)
    wait_until_live(buyer, "seller")
    wait_until_live(seller, "buyer")
    for room in (buyer, seller):
        expect(room.locator("#evidence-joint li.empty")).to_have_text(room.label("strings", "ev_none"))

    # A file that is not what its name says: refused next to the file, in the buyer's language; the
    # caption stays, and the file stays in the list to remove.
    fake = tmp_path / "receipt.png"
    fake.write_bytes(b"This is a text file, not a picture.\n")
    form = buyer.locator("#upload")
    form.get_by_label("Caption").fill(CAPTION)
    buyer.locator("#upload-files").set_input_files(str(fake))
    form.get_by_role("button", name="Upload", exact=True).click()
    refused = buyer.locator("#upload-queue li.upload-item").filter(has_text="receipt.png")
    expect(refused).to_have_attribute("data-state", "failed")
    expect(refused.locator(".error")).to_contain_text("not a .png file")
    expect(form.get_by_label("Caption")).to_have_value(CAPTION)
    refused.get_by_role("button", name="Remove receipt.png").click()
    expect(refused).to_have_count(0)
    # A file over the limit is refused before a byte is sent, in the buyer's words.
    big = tmp_path / "scan.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * LIMIT)
    buyer.locator("#upload-files").set_input_files(str(big))
    too_big = buyer.locator("#upload-queue li.upload-item").filter(has_text="scan.pdf")
    expect(too_big).to_have_attribute("data-state", "failed")
    expect(too_big.locator(".error")).to_have_text("This file is larger than 5 MB and cannot be added.")
    too_big.get_by_role("button", name="Remove scan.pdf").click()

    # The photo, through the picker, the upload slowed down so that its bar is seen moving.
    photo = tmp_path / "lid.png"
    size = noise_png(photo)
    assert size > 2_000_000
    buyer.page.evaluate(WATCH_PROGRESS)
    throttle_uploads(buyer, 2_000_000)
    buyer.locator("#upload-files").set_input_files(str(photo))
    item = buyer.locator("#upload-queue li.upload-item").filter(has_text="lid.png")
    expect(item).to_have_attribute("data-state", "ready")
    form.get_by_role("button", name="Upload", exact=True).click()
    bar = buyer.page.get_by_role("progressbar", name="Uploading lid.png")
    expect(bar).to_be_visible()
    expect(item).to_have_attribute("data-state", "done", timeout=3 * WAIT_MS)
    assert bar.evaluate("bar => bar.value === bar.max && bar.max >= " + str(size))
    moved = buyer.page.evaluate("window.__progress")
    assert any(0 < value < maximum for value, maximum, _hidden in moved), moved
    expect(form.get_by_label("Caption")).to_have_value("")  # all added: the form is empty again

    # The seller's page shows it without a reload: the thumbnail, a link to the preview, the download.
    for room in (seller, buyer):
        evidence = files_of(room).filter(has_text=CAPTION)
        expect(evidence).to_have_count(1)
        thumbnail_loaded(room, evidence)
        link = evidence.locator("a.thumb")
        expect(link).to_have_attribute("href", re.compile(rf"/api/v1/cases/{case.id}/evidence/\d+/preview$"))
        expect(evidence.locator("a[download]")).to_have_attribute(
            "href", re.compile(rf"/api/v1/cases/{case.id}/evidence/\d+$"))
        expect(evidence.locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    expect(files_of(seller).first.locator("time")).to_contain_text("GMT+8")  # the seller's zone
    expect(files_of(buyer).first.locator("time")).to_contain_text("UTC")
    expect(files_of(seller).first).to_contain_text("Olivia Buyer")
    expect(files_of(buyer).first.locator(".evidence-meta")).to_contain_text("You")

    # The buyer withdraws it (a reason is required); the seller sees "withdrawn: reason", no preview.
    evidence = files_of(buyer).first
    evidence.get_by_role("button", name="Withdraw lid.png").click()
    evidence.get_by_role("button", name="Withdraw the file").click()
    expect(evidence.get_by_label(re.compile("^Why withdraw this file"))).to_be_focused()
    evidence.get_by_label(re.compile("^Why withdraw this file")).fill("Wrong photo, the right one follows.")
    evidence.get_by_role("button", name="Withdraw the file").click()
    for room in (buyer, seller):
        gone = files_of(room).first
        expect(gone).to_have_class(re.compile(r"\bwithdrawn\b"))
        expect(gone.locator(".withdrawn-note")).to_contain_text("Wrong photo, the right one follows.")
        expect(gone.locator("img")).to_have_count(0)

    for room in (buyer, seller):
        assert_not_reloaded(room)
        assert room.page.evaluate(FITS_WIDTH), f"the {room.role}'s page scrolls sideways"
        room.page.screenshot(path=SCREENSHOT.format(name=room.role), full_page=True)
    seller.page.set_viewport_size(PHONE)
    assert seller.page.evaluate(FITS_WIDTH), "the seller's page scrolls sideways at phone width"
    seller.page.screenshot(path=SCREENSHOT.format(name="seller-phone"), full_page=True)
    assert unexpected_errors(buyer) == [], "\n".join(buyer.errors)
    assert seller.errors == [], "\n".join(seller.errors)


def upload_file(room, path, caption: str) -> None:
    """Pick one file, caption it and upload it; wait until the page says it was added."""
    room.locator("#upload textarea[name=caption]").fill(caption)
    room.locator("#upload-files").set_input_files(str(path))
    room.locator("#upload button[type=submit]").click()
    item = room.locator("#upload-queue li.upload-item").filter(has_text=path.name)
    expect(item).to_have_attribute("data-state", "done")


def drop_file(room, name: str, text: str) -> None:
    """Drag a text file onto the drop zone, as a person dragging it from their desktop would."""
    transfer = room.page.evaluate_handle("""([name, text]) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([text], name, { type: "text/plain" }));
      return transfer;
    }""", [name, text])
    for event in ("dragenter", "dragover"):
        room.page.dispatch_event("#dropzone", event, {"dataTransfer": transfer})
    expect(room.locator("#dropzone")).to_have_class(re.compile(r"\bdragging\b"))
    room.page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})
    expect(room.locator("#dropzone")).not_to_have_class(re.compile(r"\bdragging\b"))
    expect(room.locator("#upload-queue li.upload-item").filter(has_text=name)).to_have_attribute("data-state", "ready")


def test_a_file_in_the_sellers_private_channel_never_reaches_the_buyer(make_mediation_case, make_user, open_room,
                                                                       sign_in_to_room, tmp_path):
    mediator = make_user("mediator", name="Mei Mediator", email="mei@example.com", password=PASSWORD)
    case, _mediator = make_mediation_case(mediator)
    buyer = open_room(case, "buyer")
    seller = open_room(case, "seller")
    staff = sign_in_to_room(case, "mei@example.com", PASSWORD)
    wait_until_live(staff, "buyer", "seller")
    wait_until_live(buyer, "seller", "mediator")
    wait_until_live(seller, "buyer", "mediator")
    mark_page(buyer)

    # In the private tab, the upload goes to the private channel: the form says so and follows the tab.
    tab(seller, "tab_caucus").click()
    expect(seller.locator("#upload select[name=channel]")).to_have_value("caucus:seller")
    expect(seller.locator("#evidence-channel")).to_contain_text(seller.label("strings", "tab_caucus"))
    private = tmp_path / "packing.jpg"
    Image.new("RGB", (640, 480), (40, 120, 200)).save(private, "JPEG")
    upload_file(seller, private, "How I packed it, for the mediator only")
    expect(files_of(seller, "caucus:seller").filter(has_text="for the mediator only")).to_have_count(1)
    expect(files_of(seller)).to_have_count(0)  # not in the joint list

    # The mediator has it in the seller's private tab, live.
    tab(staff, "tab_caucus_seller").click()
    shared = files_of(staff, "caucus:seller").filter(has_text="for the mediator only")
    expect(shared).to_have_count(1)
    thumbnail_loaded(staff, shared)
    expect(shared.get_by_role("button", name="Withdraw packing.jpg")).to_be_visible()  # the case's mediator may

    # Then a joint file: once the buyer has it, the buyer's page has provably heard everything before it.
    tab(seller, "tab_joint").click()
    expect(seller.locator("#upload select[name=channel]")).to_have_value("joint")
    drop_file(seller, "label.txt", "Shipping label: LX123456789CN\n")  # dragged onto the drop zone this time
    seller.locator("#upload textarea[name=caption]").fill("The shipping label, for everyone")
    seller.locator("#upload button[type=submit]").click()
    expect(seller.locator("#upload-queue li.upload-item").filter(has_text="label.txt")).to_have_attribute(
        "data-state", "done")
    joint = files_of(buyer).filter(has_text="for everyone")
    expect(joint).to_have_count(1)
    expect(joint.locator(".file-kind")).to_have_text("TXT")
    expect(joint.get_by_role("button", name=re.compile("^Withdraw"))).to_have_count(0)  # not the buyer's file
    expect(buyer.locator('[id^="evidence-caucus-seller"]')).to_have_count(0)
    assert "for the mediator only" not in buyer.page.content()
    assert "packing.jpg" not in buyer.page.content()
    expect(files_of(staff)).to_have_count(1)  # the joint one, in the mediator's joint list
    expect(staff.locator("#checklist ul.checklist")).to_have_count(2)  # the mediator reads both checklists
    expect(buyer.locator("#checklist ul.checklist")).to_have_count(1)

    assert_not_reloaded(buyer)
    tab(staff, "tab_caucus_seller").click()
    staff.page.screenshot(path=SCREENSHOT.format(name="mediator-caucus"), full_page=True)
    for room in (buyer, seller, staff):
        assert room.errors == [], "\n".join(room.errors)


def test_the_seller_answers_the_buyers_requests_and_both_pages_follow(make_case, open_room, tmp_path):
    case = make_case(reason="not_received")
    buyer = open_room(case, "buyer")
    seller = open_room(case, "seller")
    wait_until_live(buyer, "seller")
    wait_until_live(seller, "buyer")
    for room in (buyer, seller):
        mark_page(room)
    # Checklist items by key: their labels are in each viewer's language (the seller's in Chinese).
    tracking = seller.locator('#checklist li.check-item[data-key="tracking_number"]')
    expect(tracking).not_to_have_class(re.compile(r"\bdone\b"))

    # The buyer asks for the tracking number, due in 2 days.
    ask = buyer.locator("#ask")
    ask.get_by_label("What do you need?").select_option("tracking_number")
    ask.get_by_label("Due in how many days?").fill("2")
    ask.get_by_role("button", name="Ask", exact=True).click()
    mine = buyer.locator("#requests li.request")
    expect(mine).to_have_count(1)
    expect(mine.locator(".who")).to_have_text("You asked the seller")
    expect(mine.locator(".request-state")).to_have_text("Waiting for the answer")
    expect(mine.locator("time.due")).to_contain_text("UTC")
    expect(mine.get_by_role("button", name="Cancel the request")).to_be_visible()

    # The seller has it live, "asked of you", with the form to answer.
    theirs = seller.locator("#requests li.request")
    expect(theirs).to_have_count(1)
    expect(theirs.locator(".who")).to_have_text(seller.label("strings", "req_buyer_you"))
    expect(theirs.locator(".request-state")).to_have_text(seller.label("strings", "req_waiting_you"))
    theirs.locator("textarea[name=text]").fill(TRACKING)
    theirs.locator("button[type=submit]").click()

    # Answered, on both pages; the seller's checklist ticks the tracking number.
    for room in (buyer, seller):
        answered = room.locator("#requests li.request")
        expect(answered).to_have_class(re.compile(r"\brequest-answered\b"))
        expect(answered.locator(".request-answer")).to_contain_text(TRACKING)
    expect(mine.get_by_role("button")).to_have_count(0)
    expect(tracking).to_have_class(re.compile(r"\bdone\b"))

    # Then proof of delivery: the seller answers with a file, from the request ("answer with a file").
    ask.get_by_label("What do you need?").select_option("delivery_proof")
    ask.get_by_role("button", name="Ask", exact=True).click()
    asked = seller.locator("#requests li.request.request-open")
    expect(asked).to_have_count(1)
    asked.get_by_role("button", name=seller.label("strings", "req_answer_file")).click()
    expect(seller.locator("#upload-request")).to_be_visible()
    expect(seller.locator("#upload-files")).to_be_focused()
    proof = tmp_path / "proof.png"
    Image.new("RGB", (800, 600), (250, 250, 250)).save(proof, "PNG")
    upload_file(seller, proof, "Signed for at the door")
    expect(seller.locator("#upload-request")).to_be_hidden()  # the form is ready for the next files
    answered = buyer.locator("#requests li.request-answered").filter(has_text="proof.png")
    expect(answered).to_have_count(1)
    expect(seller.locator("#checklist li.check-item.done")).to_have_count(2)  # tracking number, proof of delivery
    expect(files_of(buyer).filter(has_text="Signed for at the door")).to_have_count(1)

    # "Something else" needs the buyer's own words: without them the API's message stands next to the field.
    ask.get_by_label("What do you need?").select_option("free_text")
    expect(ask.locator("#ask-text-need")).to_have_text("(required: say what you need)")
    ask.locator("textarea[name=text]").evaluate("box => { box.required = false; }")  # let the server judge
    ask.get_by_role("button", name="Ask", exact=True).click()
    expect(buyer.locator("#ask-error-text")).not_to_be_empty()
    expect(ask.locator("textarea[name=text]")).to_have_attribute("aria-invalid", "true")
    ask.locator("textarea[name=text]").fill("The photo of the parcel at the depot, please.")
    ask.get_by_role("button", name="Ask", exact=True).click()
    expect(buyer.locator("#ask-error-text")).to_be_empty()
    asked = seller.locator("#requests li.request.request-open")
    expect(asked.locator(".request-title")).to_have_text("The photo of the parcel at the depot, please.")
    # The buyer takes it back; the seller's page follows.
    buyer.locator("#requests li.request.request-open").get_by_role("button", name="Cancel the request").click()
    expect(seller.locator("#requests li.request-cancelled")).to_have_count(1)
    expect(seller.locator("#requests li.request-cancelled .muted")).to_have_text(
        seller.label("strings", "req_cancelled"))
    expect(asked).to_have_count(0)

    # The buyer answers an item of their own checklist in words; it is ticked at once.
    address = buyer.locator('#checklist li.check-item[data-key="delivery_address"]')
    expect(address).to_contain_text("Your delivery address")
    address.get_by_label("Your answer").fill("12 High Street, Leeds")
    address.get_by_role("button", name="Save").click()
    expect(address).to_have_class(re.compile(r"\bdone\b"))
    expect(address.locator(".check-answer")).to_contain_text("12 High Street, Leeds")
    expect(address.locator("form")).to_have_count(0)

    for room in (buyer, seller):
        assert_not_reloaded(room)
        room.page.screenshot(path=SCREENSHOT.format(name=f"requests-{room.role}"), full_page=True)
    assert unexpected_errors(buyer) == [], "\n".join(buyer.errors)  # but the 422 provoked above
    assert seller.errors == [], "\n".join(seller.errors)


def test_a_request_answered_with_a_file_names_the_file_even_when_the_file_list_arrives_last(
        make_case, open_room, tmp_path):
    case = make_case(reason="not_received")
    buyer = open_room(case, "buyer")
    seller = open_room(case, "seller")
    wait_until_live(buyer, "seller")
    wait_until_live(seller, "buyer")
    ask = buyer.locator("#ask")
    ask.get_by_label("What do you need?").select_option("delivery_proof")
    ask.get_by_role("button", name="Ask", exact=True).click()
    asked = seller.locator("#requests li.request.request-open")
    expect(asked).to_have_count(1)

    # The buyer's page gets its file lists only after it has shown the request answered.
    held, released = [], []

    def hold(route) -> None:
        if released:
            route.continue_()
        else:
            held.append(route)

    buyer.page.route(re.compile(r"/api/v1/cases/\d+/evidence\?"), hold)
    asked.get_by_role("button", name=seller.label("strings", "req_answer_file")).click()
    proof = tmp_path / "proof.png"
    Image.new("RGB", (400, 300), (250, 250, 250)).save(proof, "PNG")
    upload_file(seller, proof, "Signed for at the door")
    answered = buyer.locator("#requests li.request-answered")
    expect(answered.locator(".request-answer")).to_have_text(buyer.label("strings", "req_answered_file"))
    assert held, "the buyer's page asked for no file list after the evidence was added"
    released.append(True)
    for route in held:
        route.continue_()

    expect(answered.locator(".request-answer")).to_contain_text("proof.png")
    expect(files_of(buyer).filter(has_text="Signed for at the door")).to_have_count(1)
    assert buyer.errors == [], "\n".join(buyer.errors)
