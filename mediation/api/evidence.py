"""Evidence as JSON and files: upload (multipart), list, download, previews, withdrawal."""
from __future__ import annotations

from flask import current_app, request, send_file
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from marshmallow import ValidationError

from mediation.api.auth import current_actor
from mediation.api.cases import case_view
from mediation.api.errors import documented_errors
from mediation.errors import Invalid
from mediation.input_guard import nul_fields
from mediation.schemas.case import ReasonIn
from mediation.schemas.evidence import EvidenceAnswerOut, EvidenceListArgs, EvidencePageOut, EvidenceUploadIn
from mediation.services import cases, filetypes
from mediation.services import evidence as service

blp = Blueprint("evidence", __name__, url_prefix="/api/v1", description="Evidence files on the case record")
ROOM = [{"partyToken": []}, {"session": []}]
# Room for the multipart framing and the small text fields around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
# Served files are data, never a page: no script, no plugin, no sniffing, not shared between users' caches.
FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-cache",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Referrer-Policy": "no-referrer",
}


@blp.route("/cases/<id:case_id>/evidence", methods=["POST"])
@blp.doc(security=ROOM, requestBody={"required": True, "content": {"multipart/form-data": {
    "schema": EvidenceUploadIn}}})
@blp.response(201, EvidenceAnswerOut)
@documented_errors(400, 401, 403, 404, 409, 413, 422)
def upload_evidence(case_id: int):
    """Put a file on the record: joint, or your own caucus while in mediation. Answered with the file's
    record and the case; everyone who may see the channel gets a `case_event` of type `evidence.added`."""
    # This route's own limit, set before anything reads the body: werkzeug stops reading past it (413),
    # with or without a Content-Length. The store counts the file's bytes again as it copies them.
    request.max_content_length = current_app.config["EVIDENCE_MAX_BYTES"] + MULTIPART_OVERHEAD
    actor = current_actor(case_id)
    form = _upload_form()
    upload = form["file"]
    added = service.upload_evidence(actor, case_id, stream=upload.stream, filename=upload.filename,
                                    caption=form["caption"], channel=form["channel"],
                                    checklist_item=form["checklist_item"], request_id=form["request_id"])
    return {"evidence": added, "case": case_view(cases.get_case(actor, case_id), actor)}


def _upload_form() -> dict:
    # A page's form sends empty strings for the fields left blank: they mean "not given".
    data = {key: value for key, value in request.form.items() if value != ""}
    if refused := nul_fields(data):
        raise Invalid(_l("Some fields are not valid."), refused)
    if "file" in request.files:
        data["file"] = request.files["file"]
    try:
        return EvidenceUploadIn().load(data)
    except ValidationError as error:
        raise Invalid(_l("Some fields are not valid."), error.messages) from None


@blp.route("/cases/<id:case_id>/evidence", methods=["GET"])
@blp.arguments(EvidenceListArgs(), location="query")
@blp.response(200, EvidencePageOut)
@blp.doc(security=ROOM)
@documented_errors(401, 403, 404, 422)
def list_evidence(args, case_id: int):
    """The files in the channels you may see, newest first (withdrawn ones marked, without previews);
    pass `before` (an evidence id) for older ones."""
    page = service.list_evidence(current_actor(case_id), case_id, before=args.get("before"), limit=args["limit"],
                                 channel=args.get("channel"))
    return {"items": page.items, "has_older": page.has_older}


def _serve(file: service.EvidenceFile):
    response = send_file(file.stream, mimetype=file.media_type, as_attachment=file.attachment,
                         download_name=file.filename, etag=file.etag, last_modified=file.created_at,
                         conditional=False)
    response.content_length = file.size
    response.headers.update(FILE_HEADERS)
    # Ranges (video seeking) and If-None-Match; the ETag is the content's hash, so it never goes stale.
    return response.make_conditional(request, accept_ranges=True, complete_length=file.size)


def _file_doc(variant: str) -> dict:
    """The file's own type (the original: any accepted type; a preview: PNG or JPEG), and the conditional and
    range requests that `_serve` answers."""
    types = filetypes.EXTENSIONS if variant == "original" else ("image/png", "image/jpeg")
    content = {media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in types}
    return {
        "parameters": [
            {"in": "header", "name": "Range", "required": False, "schema": {"type": "string"},
             "description": "One range of bytes, e.g. bytes=0-1023 (video seeking)"},
            {"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"},
             "description": "The ETag of a copy the client has"},
        ],
        "responses": {
            "200": {"description": "The file's bytes", "content": content},
            "206": {"description": "The range asked for", "content": content,
                    "headers": {"Content-Range": {"required": True, "schema": {"type": "string"}}}},
            "304": {"description": "Not modified: If-None-Match named this file's ETag"},
        },
    }


def _file_route(variant: str, summary: str):
    def view(case_id: int, evidence_id: int):
        return _serve(service.evidence_file(current_actor(case_id), case_id, evidence_id, variant))

    view.__name__ = "download_evidence" if variant == "original" else f"evidence_{variant}"
    view.__doc__ = summary
    view = documented_errors(401, 403, 404, 416)(view)
    view = blp.doc(security=ROOM, **_file_doc(variant))(view)
    view = blp.response(200, description="The file's bytes")(view)
    path = "" if variant == "original" else f"/{variant}"
    blp.route(f"/cases/<id:case_id>/evidence/<id:evidence_id>{path}", methods=["GET"])(view)


_file_route("original", "The original file, byte for byte, as an attachment (also once withdrawn).")
_file_route("preview", "An image's preview (at most 1600 px, no EXIF or other metadata), inline.")
_file_route("thumbnail", "An image's thumbnail (at most 320 px, no metadata), inline.")


@blp.route("/cases/<id:case_id>/evidence/<id:evidence_id>/withdraw", methods=["POST"])
@blp.arguments(ReasonIn())
@blp.response(200, EvidenceAnswerOut)
@blp.doc(security=ROOM)
@documented_errors(400, 401, 403, 404, 409, 413, 422)
def withdraw_evidence(data, case_id: int, evidence_id: int):
    """Take a file out of view, with a reason (its uploader, or the case's mediator). It stays on the record."""
    actor = current_actor(case_id)
    withdrawn = service.withdraw_evidence(actor, case_id, evidence_id, data["reason"])
    return {"evidence": withdrawn, "case": case_view(cases.get_case(actor, case_id), actor)}
