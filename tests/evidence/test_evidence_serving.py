"""How files are served: attachments with safe headers, never a page; previews without metadata."""
from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from mediation.services import evidence
from tests.evidence.files import GPS_IFD, evidence_url, image, jpeg, jpeg_with_gps, mp4, pdf, text, upload


def uploaded(client, info, data: bytes, name: str, role: str = "buyer") -> int:
    response = upload(client, info, role, data, name)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["evidence"]["id"]


def fetch(client, info, evidence_id: int, variant: str = "", role: str = "buyer", **kwargs):
    return client.get(evidence_url(info, evidence_id, variant), headers=info.headers(role), **kwargs)


def opened(response) -> Image.Image:
    return Image.open(io.BytesIO(response.data))


def test_the_original_comes_back_byte_for_byte(client, make_case):
    info = make_case()
    data = jpeg_with_gps()
    response = fetch(client, info, uploaded(client, info, data, "photo.jpg"))
    assert hashlib.sha256(response.data).hexdigest() == hashlib.sha256(data).hexdigest()


def test_the_original_keeps_its_gps_location_for_those_allowed(client, make_case):
    info = make_case()
    response = fetch(client, info, uploaded(client, info, jpeg_with_gps(), "photo.jpg"), role="seller")
    assert opened(response).getexif().get_ifd(GPS_IFD)


@pytest.mark.parametrize("variant", ["preview", "thumbnail"])
def test_a_preview_of_a_photo_with_gps_carries_no_exif(client, make_case, variant):
    info = make_case()
    response = fetch(client, info, uploaded(client, info, jpeg_with_gps(), "photo.jpg"), variant)
    assert response.status_code == 200
    exif = opened(response).getexif()
    assert not exif and not exif.get_ifd(GPS_IFD)


def test_a_preview_applies_the_exif_orientation(client, make_case):
    info = make_case()
    # Orientation 6: the camera was turned; the stored 64×48 pixels show a 48×64 picture.
    data = jpeg_with_gps(size=(64, 48), orientation=6)
    assert opened(fetch(client, info, uploaded(client, info, data, "photo.jpg"), "preview")).size == (48, 64)


@pytest.mark.parametrize(("variant", "largest"), [("preview", 1600), ("thumbnail", 320)])
def test_previews_are_scaled_down_to_their_size(client, make_case, variant, largest):
    info = make_case()
    data = jpeg(size=(2400, 1200))
    assert opened(fetch(client, info, uploaded(client, info, data, "big.jpg"), variant)).size == (largest,
                                                                                                   largest // 2)


def test_a_transparent_image_keeps_its_transparency_in_a_png_preview(client, make_case):
    info = make_case()
    data = image("PNG", mode="RGBA", color=(0, 0, 0, 0))
    response = fetch(client, info, uploaded(client, info, data, "cutout.png"), "preview")
    assert response.headers["Content-Type"] == "image/png" and opened(response).mode == "RGBA"


@pytest.mark.parametrize(("make", "name"), [(pdf, "a.pdf"), (text, "a.txt"), (mp4, "a.mp4")])
@pytest.mark.parametrize("variant", ["preview", "thumbnail"])
def test_only_images_have_previews(client, make_case, make, name, variant):
    info = make_case()
    assert fetch(client, info, uploaded(client, info, make(), name), variant).status_code == 404


def test_the_original_is_an_attachment_with_safe_headers(client, make_case):
    info = make_case()
    response = fetch(client, info, uploaded(client, info, pdf(), "invoice.pdf"))
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=invoice.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "private" in response.headers["Cache-Control"]


def test_text_is_served_as_a_plain_text_attachment(client, make_case):
    info = make_case()
    response = fetch(client, info, uploaded(client, info, text(), "tracking.txt"))
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment;")


def test_a_preview_is_inline_with_the_same_safe_headers(client, make_case):
    info = make_case()
    response = fetch(client, info, uploaded(client, info, jpeg(), "photo.jpg"), "thumbnail")
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_a_non_ascii_name_gets_an_rfc_6266_filename(client, make_case):
    info = make_case()
    response = fetch(client, info, uploaded(client, info, pdf(), "收据 März.pdf"))
    assert "filename*=UTF-8''%E6%94%B6%E6%8D%AE%20M%C3%A4rz.pdf" in response.headers["Content-Disposition"]


def test_a_quote_in_a_name_cannot_break_the_header(client, make_case):
    info = make_case()
    # Through the service: the test client would not escape the quote in the multipart header itself.
    added = evidence.upload_evidence(info.actor("buyer"), info.id, stream=io.BytesIO(pdf()),
                                     filename='a"; filename="evil.html.pdf')
    response = fetch(client, info, added.id)
    assert response.headers["Content-Disposition"] == 'attachment; filename="a\\"; filename=\\"evil.html.pdf"'


def test_a_video_can_be_fetched_in_ranges(client, make_case):
    info = make_case()
    data = mp4()
    file_id = uploaded(client, info, data, "clip.mp4")
    ranged = client.get(evidence_url(info, file_id), headers={**info.headers("buyer"), "Range": "bytes=0-7"})
    assert ranged.status_code == 206 and ranged.data == data[:8]


def test_a_range_beyond_the_file_is_a_416_that_gives_the_files_length(client, make_case):
    info = make_case()
    data = mp4()
    file_id = uploaded(client, info, data, "clip.mp4")
    beyond = client.get(evidence_url(info, file_id),
                        headers={**info.headers("buyer"), "Range": f"bytes={len(data) + 10}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    assert beyond.get_json()["code"] == 416


def test_an_unchanged_file_is_answered_not_modified(client, make_case):
    info = make_case()
    file_id = uploaded(client, info, pdf(), "invoice.pdf")
    etag = fetch(client, info, file_id).headers["ETag"]
    again = client.get(evidence_url(info, file_id), headers={**info.headers("buyer"), "If-None-Match": etag})
    assert again.status_code == 304
