"""The public /verify page and its JSON variant: no sign-in, uploads of the PDF or the JSON, clear refusals."""
from __future__ import annotations

import io
import json

import pytest

from mediation.models.event_log import canonical_json


def csrf_token(client) -> str:
    page = client.get("/verify").data
    marker = b'name="csrf-token" content="'
    start = page.index(marker) + len(marker)
    return page[start:page.index(b'"', start)].decode()


def upload(client, data: bytes, name: str, **headers):
    return client.post("/verify", data={"csrf_token": csrf_token(client), "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", headers=headers)


def test_the_verify_page_opens_without_signing_in(client):
    assert client.get("/verify").status_code == 200


def test_an_uploaded_json_file_is_genuine(settled, client):
    response = upload(client, canonical_json(settled.data()).encode(), "document.json")
    assert response.status_code == 200
    assert 'data-verdict="genuine"' in response.get_data(as_text=True)


def test_an_uploaded_pdf_is_genuine(ruled, client, login_party):
    login_party(ruled.case, "buyer")
    pdf = client.get(ruled.url + ".pdf").data
    client.get("/logout")
    response = upload(client, pdf, "document.pdf", Accept="application/json")
    assert response.json == {"status": "genuine", "fields": []}


def test_pasted_json_with_a_changed_amount_shows_altered_with_the_field(settled, client):
    data = settled.data()
    data["outcome"]["seller_release"] = "70.01 USD"
    response = client.post("/verify", data={"csrf_token": csrf_token(client), "pasted": json.dumps(data)})
    html = response.get_data(as_text=True)
    assert 'data-verdict="altered"' in html and "<code>outcome.seller_release</code>" in html
    assert "70.00 USD" not in html


def test_the_verdict_is_spelled_out_for_the_reader(settled, client):
    response = upload(client, canonical_json(settled.data()).encode(), "document.json")
    html = response.get_data(as_text=True)
    assert "Genuine: this document matches the case record." in html


def test_an_unknown_document_answers_unknown_in_json(settled, client):
    data = settled.data() | {"case": "MD-ZZZZ-ZZZZ"}
    response = client.post("/verify.json", data=json.dumps(data), content_type="application/json")
    assert response.json == {"status": "unknown", "fields": []}


@pytest.mark.parametrize("body", [b"hello", b"%PDF-1.4 nothing", b'{"a": 1}', b"\x00\x01\x02"])
def test_input_that_is_not_a_document_gets_a_clear_422_and_never_a_server_error(client, body):
    page = upload(client, body, "upload.bin")
    assert page.status_code == 422 and 'class="error"' in page.get_data(as_text=True)
    api = client.post("/verify.json", data=body)
    assert api.status_code == 422 and api.json["message"]


def test_a_form_post_without_the_csrf_token_is_refused_and_checks_nothing(settled, client):
    response = client.post("/verify", data={"pasted": json.dumps(settled.data())})
    assert response.status_code in (400, 422)
    assert "data-verdict" not in response.get_data(as_text=True)


def test_an_oversized_upload_is_refused_without_a_server_error(client):
    response = client.post("/verify.json", data=b"x" * (6 * 1024 * 1024))
    assert 400 <= response.status_code < 500
