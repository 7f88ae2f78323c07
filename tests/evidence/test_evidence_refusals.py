"""Uploads that are refused with a clear message and a field error, and leave nothing behind."""
from __future__ import annotations

import io

import pytest
from PIL import PngImagePlugin

from mediation.services import cases
from tests.evidence.files import image, jpeg, mp4, pdf, png, png_header, text, upload


def refused(response, status: int = 422) -> dict:
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["code"] == status and body["message"]
    return body


def test_a_zero_byte_file_is_refused(client, make_case, nothing_stored):
    info = make_case()
    body = refused(upload(client, info, "buyer", b"", "empty.txt"))
    assert "empty" in body["message"] and "file" in body["errors"]
    nothing_stored()


@pytest.mark.parametrize(("data", "name"), [
    (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 40, "archive.zip"),
    (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "setup.exe"),
    ("café".encode("latin-1"), "notes.txt"),
    (b"line one\x00line two", "notes.txt"),
    (b"\x1b[31mred\x1b[0m", "notes.txt"),
], ids=["zip", "exe", "not-utf8", "nul", "escape"])
def test_an_unknown_type_is_refused(client, make_case, nothing_stored, data, name):
    info = make_case()
    body = refused(upload(client, info, "buyer", data, name))
    assert body["errors"]["file"]
    nothing_stored()


@pytest.mark.parametrize("document", [
    b"<!DOCTYPE html><html><body>hi</body></html>",
    b"  \n<html><script>alert(1)</script></html>",
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    b'<?xml version="1.0"?><note>hi</note>',
], ids=["doctype", "html", "svg", "xml"])
def test_text_that_is_a_web_page_or_xml_is_refused(client, make_case, nothing_stored, document):
    info = make_case()
    refused(upload(client, info, "buyer", document, "notes.txt"))
    nothing_stored()


def test_text_starting_with_a_less_than_sign_that_is_no_tag_is_accepted(client, make_case):
    info = make_case()
    assert upload(client, info, "buyer", b"<3 thanks for the refund", "note.txt").status_code == 201


@pytest.mark.parametrize(("data", "name"), [
    (pdf(), "photo.jpg"), (jpeg(), "invoice.pdf"), (text(), "page.html"), (mp4(), "clip.gif"),
], ids=["pdf-as-jpg", "jpg-as-pdf", "text-as-html", "mp4-as-gif"])
def test_bytes_that_contradict_the_name_are_refused(client, make_case, nothing_stored, data, name):
    info = make_case()
    body = refused(upload(client, info, "buyer", data, name))
    assert "match" in body["message"]
    nothing_stored()


def test_a_name_without_an_extension_is_accepted_and_downloads_with_one(client, make_case):
    info = make_case()
    evidence = upload(client, info, "buyer", pdf(), "invoice").get_json()["evidence"]
    response = client.get(evidence["url"], headers=info.headers("buyer"))
    assert evidence["filename"] == "invoice" and "filename=invoice.pdf" in response.headers["Content-Disposition"]


def test_the_declared_content_type_is_ignored(client, make_case):
    info = make_case()
    form = {"file": (io.BytesIO(pdf()), "invoice.pdf", "text/html")}
    response = client.post(f"/api/v1/cases/{info.id}/evidence", data=form, content_type="multipart/form-data",
                           headers=info.headers("buyer"))
    assert response.get_json()["evidence"]["media_type"] == "application/pdf"


def test_an_image_carrying_a_pdf_header_is_refused_as_a_polyglot(client, make_case, nothing_stored):
    info = make_case()
    data = jpeg(comment=b"%PDF-1.4 1 0 obj << >> endobj")
    body = refused(upload(client, info, "buyer", data, "photo.jpg"))
    assert "two formats" in body["message"]
    nothing_stored()


def test_an_image_carrying_script_markup_is_refused(client, make_case, nothing_stored):
    info = make_case()
    info_chunk = PngImagePlugin.PngInfo()
    info_chunk.add_text("Comment", "<script>alert(document.cookie)</script>")
    refused(upload(client, info, "buyer", png(pnginfo=info_chunk), "shot.png"))
    nothing_stored()


def test_a_pdf_carrying_html_is_refused(client, make_case, nothing_stored):
    info = make_case()
    data = pdf().replace(b"%PDF-1.4\n", b"%PDF-1.4\n<html><script>alert(1)</script></html>\n")
    refused(upload(client, info, "buyer", data, "invoice.pdf"))
    nothing_stored()


def test_a_text_file_carrying_a_pdf_header_is_refused(client, make_case, nothing_stored):
    info = make_case()
    refused(upload(client, info, "buyer", b"hello\n%PDF-1.4\n", "notes.txt"))
    nothing_stored()


def test_a_pdf_without_its_end_marker_is_refused(client, make_case, nothing_stored):
    info = make_case()
    refused(upload(client, info, "buyer", pdf().replace(b"%%EOF", b"%%END"), "invoice.pdf"))
    nothing_stored()


def test_an_image_that_does_not_fully_decode_is_refused(client, make_case, nothing_stored):
    info = make_case()
    data = jpeg(size=(400, 300))
    body = refused(upload(client, info, "buyer", data[: len(data) // 2], "photo.jpg"))
    assert "damaged" in body["message"]
    nothing_stored()


def test_an_mp4_whose_boxes_do_not_add_up_is_refused(client, make_case, nothing_stored):
    info = make_case()
    refused(upload(client, info, "buyer", mp4()[:-5], "clip.mp4"))
    nothing_stored()


def test_an_mp4_header_of_another_brand_is_refused(client, make_case, nothing_stored):
    info = make_case()
    refused(upload(client, info, "buyer", mp4().replace(b"ftypisom", b"ftypqt  "), "clip.mp4"))
    nothing_stored()


def test_a_pixel_bomb_is_refused_from_its_header_before_decoding(client, make_case, nothing_stored):
    info = make_case()
    # The header claims 100 megapixels over 40 allowed; decoding its few bytes would report damage instead.
    body = refused(upload(client, info, "buyer", png_header(10_000, 10_000), "bomb.png"))
    assert "megapixels" in body["message"]
    nothing_stored()


def test_pillows_own_bomb_guard_counts_as_a_refusal(app, client, make_case, nothing_stored):
    app.config["EVIDENCE_MAX_PIXELS"] = 10**12  # only Pillow's guard stands in the way now
    info = make_case()
    body = refused(upload(client, info, "buyer", png_header(20_000, 10_000), "bomb.png"))
    assert "megapixels" in body["message"]
    nothing_stored()


def test_the_pixel_limit_is_configurable(app, client, make_case, nothing_stored):
    app.config["EVIDENCE_MAX_PIXELS"] = 1_000
    info = make_case()
    refused(upload(client, info, "buyer", image("PNG", size=(100, 100)), "shot.png"))
    nothing_stored()


@pytest.mark.parametrize("name", [
    "../../etc/passwd.txt", "uploads/photo.jpg", "C:\\Users\\me\\photo.jpg",
], ids=["dot-dot", "slash", "backslash"])
def test_a_name_with_a_path_separator_is_refused(client, make_case, nothing_stored, name):
    info = make_case()
    body = refused(upload(client, info, "buyer", text(), name))
    assert "file" in body["errors"]
    nothing_stored()


@pytest.mark.parametrize("name", ["note\x07.txt", "note\x1b.txt", "photo\u202egpj.txt"],
                         ids=["bell", "escape", "right-to-left-override"])
def test_a_name_with_a_control_character_is_refused(client, make_case, nothing_stored, name):
    info = make_case()
    body = refused(upload(client, info, "buyer", text(), name))
    assert "control" in body["message"]
    nothing_stored()


def test_a_name_of_a_thousand_characters_is_refused(client, make_case, nothing_stored):
    info = make_case()
    body = refused(upload(client, info, "buyer", text(), "n" * 996 + ".txt"))
    assert "too long" in body["message"]
    nothing_stored()


def test_a_caption_with_control_characters_is_refused(client, make_case, nothing_stored):
    info = make_case()
    body = refused(upload(client, info, "buyer", text(), "note.txt", caption="see\x00this"))
    assert "caption" in body["errors"]
    nothing_stored()


def test_an_upload_without_a_file_is_refused(client, make_case, nothing_stored):
    info = make_case()
    response = client.post(f"/api/v1/cases/{info.id}/evidence", data={"caption": "x"},
                           content_type="multipart/form-data", headers=info.headers("buyer"))
    assert "file" in refused(response)["errors"]
    nothing_stored()


def test_an_upload_to_a_closed_case_is_refused(client, make_case, nothing_stored):
    info = make_case()
    cases.withdraw_case(info.actor("buyer"), info.id, "Found the parcel")
    cases.confirm_execution(info.platform.actor, info.id, "ref-1")
    body = refused(upload(client, info, "buyer", pdf(), "invoice.pdf"), 409)
    assert body["case"]["state"] == "closed"
    nothing_stored()


def test_an_upload_to_the_other_partys_caucus_is_refused(client, make_mediation_case, nothing_stored):
    info, _mediator = make_mediation_case()
    refused(upload(client, info, "seller", pdf(), "invoice.pdf", channel="caucus:buyer"), 403)
    nothing_stored()


def test_an_upload_to_a_caucus_before_mediation_is_refused(client, make_case, nothing_stored):
    info = make_case()
    refused(upload(client, info, "buyer", pdf(), "invoice.pdf", channel="caucus:buyer"), 409)
    nothing_stored()


def test_the_platform_cannot_upload(client, make_case, nothing_stored):
    info = make_case()
    refused(upload(client, info, None, pdf(), "invoice.pdf", headers=info.platform.headers), 403)
    nothing_stored()


def test_an_anonymous_upload_is_refused(client, make_case, nothing_stored):
    info = make_case()
    refused(upload(client, info, None, pdf(), "invoice.pdf", headers={}), 401)
    nothing_stored()


def test_a_refused_upload_releases_nothing(client, make_case, released):
    info = make_case()
    released.emits.clear()
    upload(client, info, "buyer", b"MZ\x90\x00", "setup.exe")
    assert released.emits == []
