"""Settlement and ruling documents: the printable page, its PDF and JSON for those who may see the case, and
the public /verify page (no sign-in) that checks a document against the chain."""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, g, render_template, request
from flask.blueprints import BlueprintSetupState
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import TextAreaField

from mediation.api.auth import bearer_actor
from mediation.api.errors import error_response
from mediation.errors import Invalid
from mediation.extensions import csrf
from mediation.models.event_log import canonical_json
from mediation.services import document_verify, documents
from mediation.services.actors import Anonymous
from mediation.web import document_pdf, document_text
from mediation.web.identity import session_actor

bp = Blueprint("documents", __name__)

VERDICTS = {"genuine": _l("Genuine: this document matches the case record."),
            "altered": _l("Altered: this document does not match the case record."),
            "unknown": _l("Unknown: this service issued no such document.")}


@bp.record_once
def _template_helpers(state: BlueprintSetupState) -> None:
    # The case room lists the case's documents with these.
    state.app.jinja_env.globals.update(case_documents=documents.list_documents,
                                       document_kind=lambda kind: str(document_text.KIND_TITLES[kind]))


class VerifyForm(FlaskForm):
    file = FileField(_l("The document's PDF or JSON file"))
    pasted = TextAreaField(_l("Or paste the document's JSON"))


@bp.route("/cases/<id:case_id>/documents/<id:seq>")
def page(case_id: int, seq: int):
    document = _document(case_id, seq)
    return render_template("documents/document.html", document=document, sides=document_text.columns(document),
                           data=json.dumps(document.as_json(), ensure_ascii=False, indent=2, sort_keys=True))


@bp.route("/cases/<id:case_id>/documents/<id:seq>.pdf")
def pdf(case_id: int, seq: int):
    document = _document(case_id, seq)
    body = document_pdf.render(document, _bilingual(_l("Mediation document: check it at %(url)s",
                                                       url=document_text.public_url("/verify"))))
    return _download(body, "application/pdf", f"{document.reference}-{document.seq}.pdf")


@bp.route("/cases/<id:case_id>/documents/<id:seq>.json")
def data(case_id: int, seq: int):
    document = _document(case_id, seq)
    body = canonical_json(document.as_json()).encode()
    return _download(body, "application/json", f"{document.reference}-{document.seq}.json")


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    """The form; with `Accept: application/json` a POST answers {status, fields} (or 422 {message, errors})."""
    form = VerifyForm()
    verdict = None
    if form.validate_on_submit():
        verdict, error = _check(_upload(form))
        if error is not None:
            form.form_errors.append(str(error.message))
    elif request.method == "POST" and not _wants_json():
        form.form_errors.extend(str(e) for e in form.errors.get("csrf_token", []))
    if request.method == "POST" and _wants_json():
        return _json_answer(verdict, form)
    status = 422 if form.form_errors else 200
    return render_template("documents/verify.html", form=form, verdict=verdict, verdicts=_verdict_texts(verdict),
                           max_mb=_upload_limit() // (1024 * 1024)), status


@bp.route("/verify.json", methods=["POST"])
@csrf.exempt  # changes nothing and needs no session: scripts and other services post documents here
def verify_json():
    """The document's JSON (or its PDF) as the request body; answers {status, fields}."""
    verdict, error = _check(request.get_data(cache=False))
    if error is not None:
        return error_response(422, error.message, error.errors)
    return verdict.as_json()


def _document(case_id: int, seq: int) -> documents.Document:
    """The document for whoever asks: the browser's session, or (for platforms and party clients fetching the
    PDF or JSON) `Authorization: Bearer <API key or party token>`."""
    actor = bearer_actor() or session_actor(case_id)
    if not isinstance(actor, Anonymous):
        g.actor = actor  # the page's chrome speaks the viewer's language (mediation.i18n)
    return documents.get_document(actor, case_id, seq)  # NotFound for strangers and for other events


def _check(upload: bytes) -> tuple[document_verify.Verdict | None, Invalid | None]:
    try:
        return document_verify.verify(upload), None
    except Invalid as error:
        return None, error


def _upload(form: VerifyForm) -> bytes:
    if form.file.data:
        return form.file.data.read(document_verify.MAX_BYTES + 1)
    return (form.pasted.data or "").encode()


def _json_answer(verdict, form: VerifyForm):
    if verdict is not None:
        return verdict.as_json()
    message = form.form_errors[0] if form.form_errors else str(_l("Upload the PDF or the JSON file of a document."))
    return error_response(422, message, form.errors)


def _upload_limit() -> int:
    """The smaller of the service's limit and the request size the app accepts at all (413 past it)."""
    return min(document_verify.MAX_BYTES, current_app.config.get("MAX_CONTENT_LENGTH") or document_verify.MAX_BYTES)


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _verdict_texts(verdict) -> list[str]:
    """The verdict in both languages, whatever the reader's: a party may show it to the other side."""
    return _bilingual(VERDICTS[verdict.status]).split("\n") if verdict else []


def _bilingual(text) -> str:
    lines = []
    for locale in document_text.LOCALES:
        with force_locale(locale):
            lines.append(str(text))
    return "\n".join(dict.fromkeys(lines))


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
