"""Where a case's settlement and ruling documents are: for platforms' back offices and party clients. The
documents themselves (page, PDF, JSON) are served at those addresses to the same bearer credentials."""
from __future__ import annotations

from flask import url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from mediation.api.auth import current_actor
from mediation.api.errors import documented_errors
from mediation.services import documents

blp = Blueprint("documents_api", __name__, url_prefix="/api/v1", description="Settlement and ruling documents")


class DocumentRefOut(Schema):
    seq = fields.Integer(metadata={"description": "The case-log event that recorded it"})
    kind = fields.String(metadata={"description": "settlement, ruling or appeal_decision"})
    page_url = fields.String()
    pdf_url = fields.String()
    json_url = fields.String(metadata={"description": "The machine-readable part, as /verify checks it"})


class DocumentListOut(Schema):
    items = fields.List(fields.Nested(DocumentRefOut))


@blp.route("/cases/<id:case_id>/documents", methods=["GET"])
@blp.response(200, DocumentListOut)
@blp.doc(security=[{"apiKey": []}, {"partyToken": []}, {"session": []}])
@documented_errors(401, 404)
def case_documents(case_id: int):
    """The case's documents so far, oldest first, with the addresses of each one's page, PDF and JSON
    (fetch them with the same Authorization header)."""
    found = documents.list_documents(current_actor(case_id), case_id)
    return {"items": [_ref(case_id, seq, kind) for seq, kind in found]}


def _ref(case_id: int, seq: int, kind: str) -> dict:
    def link(endpoint: str) -> str:
        return url_for(endpoint, case_id=case_id, seq=seq, _external=True)

    return {"seq": seq, "kind": kind, "page_url": link("documents.page"), "pdf_url": link("documents.pdf"),
            "json_url": link("documents.data")}
