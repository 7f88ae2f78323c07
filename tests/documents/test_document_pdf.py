"""The PDF: both languages in its text, the machine-readable part attached and verifiable."""
from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader

from mediation.services.document_verify import verify


@pytest.fixture
def party_pdf(client, login_party):
    def fetch(documented) -> bytes:
        login_party(documented.case, "buyer")
        response = client.get(documented.url + ".pdf")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        return response.data

    return fetch


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_text_holds_the_case_reference_in_english_and_in_chinese(ruled, party_pdf):
    text = pdf_text(party_pdf(ruled))
    reference = ruled.document().reference
    assert f"Case {reference}" in text and f"案件 {reference}" in text
    assert "Refund to the buyer" in text and "退款给买家" in text


def test_the_pdf_text_holds_the_cited_clause_in_both_languages(ruled, party_pdf):
    text = pdf_text(party_pdf(ruled))
    assert "1. Clause 1" in text and "第 1 条 第1条" in text


def test_the_json_embedded_in_the_pdf_is_the_documents_machine_readable_part(settled, party_pdf):
    attached = PdfReader(io.BytesIO(party_pdf(settled))).attachments["document.json"][0]
    assert json.loads(attached) == settled.data()


def test_the_pdf_itself_verifies_as_genuine(appeal_decided, party_pdf):
    assert verify(party_pdf(appeal_decided)).status == "genuine"


def test_a_pdf_without_the_attachment_is_not_a_document(app):
    from fpdf import FPDF

    from mediation.errors import Invalid

    pdf = FPDF()
    pdf.add_page()
    with pytest.raises(Invalid):
        verify(bytes(pdf.output()))
