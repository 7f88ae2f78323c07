"""The size limit holds while the body streams in: with or without a Content-Length, nothing is stored."""
from __future__ import annotations

import io

import pytest

from mediation.config import from_environment
from tests.evidence.files import upload

LIMIT = 64 * 1024


@pytest.fixture
def app_config(app_config) -> dict:
    return {**app_config, "EVIDENCE_MAX_BYTES": LIMIT}


def text_of(size: int) -> bytes:
    return (b"x" * 79 + b"\n") * (size // 80) + b"x" * (size % 80)


def multipart(data: bytes, name: str = "notes.txt") -> tuple[bytes, str]:
    boundary = "evidence-test-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_a_file_at_the_limit_is_accepted(client, make_case):
    info = make_case()
    assert upload(client, info, "buyer", text_of(LIMIT), "notes.txt").status_code == 201


def test_a_file_one_byte_over_the_limit_is_refused_with_413(client, make_case, nothing_stored):
    info = make_case()
    response = upload(client, info, "buyer", text_of(LIMIT + 1), "notes.txt")
    assert response.status_code == 413
    body = response.get_json()
    assert body["code"] == 413 and "MB" in body["message"] and "file" in body["errors"]
    nothing_stored()


def test_a_body_far_over_the_limit_is_refused_from_its_content_length(client, make_case, nothing_stored):
    info = make_case()
    response = upload(client, info, "buyer", text_of(LIMIT * 16), "notes.txt")
    assert response.status_code == 413 and response.get_json()["code"] == 413
    nothing_stored()


def test_a_chunked_body_without_content_length_is_cut_off_at_the_limit(client, make_case, nothing_stored):
    info = make_case()
    body, content_type = multipart(text_of(LIMIT * 16))
    response = client.post(f"/api/v1/cases/{info.id}/evidence", input_stream=io.BytesIO(body),
                           content_type=content_type, headers=info.headers("buyer"),
                           environ_overrides={"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})
    assert response.status_code == 413
    nothing_stored()


def test_a_chunked_body_within_the_limit_is_accepted(client, make_case):
    info = make_case()
    body, content_type = multipart(b"Tracking number LX123\n")
    response = client.post(f"/api/v1/cases/{info.id}/evidence", input_stream=io.BytesIO(body),
                           content_type=content_type, headers=info.headers("buyer"),
                           environ_overrides={"HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input_terminated": True})
    assert response.status_code == 201


def test_json_bodies_keep_the_global_one_megabyte_limit(client, make_case):
    info = make_case()
    response = client.post(f"/api/v1/cases/{info.id}/messages", json={"body": "x" * (2 * 1024 * 1024),
                                                                       "client_id": "c-1"},
                           headers=info.headers("buyer"))
    assert response.status_code == 413


def test_the_limit_and_the_store_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDIATION_EVIDENCE_MAX_BYTES", "1048576")
    monkeypatch.setenv("MEDIATION_EVIDENCE_DIR", str(tmp_path))
    values = from_environment()
    assert (values["EVIDENCE_MAX_BYTES"], values["EVIDENCE_DIR"]) == (1048576, str(tmp_path))
