"""`flask mediation verify-document FILE`: the verdict printed, the exit code 0 genuine, 1 altered, 2 unknown."""
from __future__ import annotations

import json

from mediation.models.event_log import canonical_json
from mediation.web import document_pdf


def run(runner, tmp_path, content: bytes, name: str = "document.json"):
    path = tmp_path / name
    path.write_bytes(content)
    return runner.invoke(args=["mediation", "verify-document", str(path)])


def test_a_genuine_json_file_exits_0(settled, runner, tmp_path):
    result = run(runner, tmp_path, canonical_json(settled.data()).encode())
    assert (result.exit_code, result.output.strip()) == (0, "genuine")


def test_a_genuine_pdf_exits_0(ruled, runner, tmp_path, app):
    with app.test_request_context():
        pdf = document_pdf.render(ruled.document(), "Mediation document")
    assert run(runner, tmp_path, pdf, "document.pdf").exit_code == 0


def test_an_altered_file_exits_1_and_names_the_field(settled, runner, tmp_path):
    data = settled.data()
    data["outcome"]["buyer_refund"] = "29.99 USD"
    result = run(runner, tmp_path, json.dumps(data).encode())
    assert result.exit_code == 1
    assert result.output.splitlines() == ["altered", "  differs: outcome.buyer_refund"]


def test_an_unknown_document_exits_2(settled, runner, tmp_path):
    result = run(runner, tmp_path, json.dumps(settled.data() | {"issuer": "0" * 16}).encode())
    assert (result.exit_code, result.output.strip()) == (2, "unknown")


def test_a_file_that_is_not_a_document_exits_3_with_a_message(runner, tmp_path, app):
    result = run(runner, tmp_path, b"not a document")
    assert result.exit_code == 3 and "error:" in result.output
