"""The case room page as the server renders it for evidence: the files panel with its upload form (drop zone,
several files), the checklist and the requests panels, in English and Simplified Chinese, and the page data
evidence.js starts from (where the viewer may add files, whether they may ask, the size limit)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mediation.web import labels

PANELS = ("evidence-box", "evidence-lists", "upload", "dropzone", "upload-files", "upload-queue", "checklist-box",
          "checklist", "requests-box", "requests", "ask")


@pytest.fixture
def app_config(app_config, tmp_path) -> dict:
    return {**app_config, "EVIDENCE_DIR": str(tmp_path / "evidence")}


def script_json(page: str, element_id: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


def tag(page: str, element_id: str) -> str:
    """The opening tag of the element with `element_id`."""
    return re.search(rf'<[a-z]+ [^>]*id="{element_id}"[^>]*>', page, re.S).group(0)


def shown(page: str, element_id: str) -> bool:
    return not re.search(r"\shidden(\s|>|=)", tag(page, element_id))


@pytest.mark.parametrize("lang, html_lang, heading", [("en", "en", "Conversation"), ("zh", "zh-CN", "对话")])
def test_a_party_gets_the_evidence_checklist_and_requests_panels(client, make_case, login_party, lang, html_lang,
                                                                 heading):
    case = make_case(reason="not_received")
    login_party(case, "buyer")
    page = client.get(f"/cases/{case.id}?lang={lang}").data.decode()

    assert f'<html lang="{html_lang}">' in page
    assert f'<h2 id="chat-title">{heading}</h2>' in page  # the page is in the language asked for
    for element_id in PANELS:
        assert tag(page, element_id)
    for element_id in ("upload", "ask", "checklist-box", "requests-box"):
        assert shown(page, element_id), element_id
    picker = tag(page, "upload-files")
    assert 'type="file"' in picker and " multiple" in picker and "image/jpeg" in picker
    assert re.search(r'<label for="upload-files">[^<]+</label>', page)  # the picker has a visible label
    assert '<input type="hidden" name="addressee" value="seller">' in page  # a party asks the other party
    assert 'name="private"' not in page  # only the mediator asks in private
    assert re.search(r'<input type="number" name="due_in_days"[^>]* min="1" max="14" value="3"', page)
    assert "25 MB" in re.search(r'<p class="muted" id="upload-types">(.*?)</p>', page).group(1)  # the limit
    assert page.index('src="/static/js/room.js"') < page.index('src="/static/js/evidence.js"')

    data = script_json(page, "bootstrap")["evidence"]
    assert data == {"upload_channels": ["joint", "caucus:buyer"], "may_request": True, "max_bytes": 25 * 1024 * 1024,
                    "request_days": {"min": 1, "max": 14, "default": 3}}
    words = script_json(page, "labels")
    assert words["locale"] == ("zh-CN" if lang == "zh" else "en")
    for key in ("ev_progress", "ev_withdrawn", "ev_too_large", "cl_add_file", "req_buyer_you", "req_answer_file"):
        assert words["strings"][key]
    for event in ("evidence.added", "evidence.withdrawn", "request.created", "request.answered",
                  "request.cancelled", "checklist.answered"):
        assert words["events"][event]


def test_every_string_the_evidence_script_uses_is_in_the_translatable_labels(app):
    """evidence.js and its modules show no word of their own: each one they name is a (lazy gettext) label of
    the page."""
    scripts = Path(__file__).resolve().parents[2] / "static" / "js"
    modules = [scripts / "evidence.js", *sorted((scripts / "evidence").glob("*.js"))]
    assert len(modules) > 1, "the evidence modules moved: point this test at them"
    used = {key for module in modules for key in re.findall(r"\bt\.(\w+)", module.read_text(encoding="utf-8"))}
    assert len(used) > 40  # the modules' words were found, not an empty entry point's
    used |= {f"cl_of_{role}" for role in ("buyer", "seller")}
    used |= {f"ev_kind_{kind}" for kind in ("pdf", "video", "text", "file")}
    used |= {f"req_{who}" for who in ("you_buyer", "you_seller", "buyer_you", "seller_you", "mediator_you",
                                      "buyer_seller", "seller_buyer", "mediator_buyer", "mediator_seller")}
    missing = sorted(key for key in used if key not in labels.SCRIPT_STRINGS and key not in ("error", "you"))
    assert missing == []
    with app.test_request_context():
        assert "%(size)s" in str(labels.SCRIPT_STRINGS["ev_too_large"])  # the script fills in the limit


def test_the_mediator_may_add_files_to_every_channel_and_ask_either_party(client, make_mediation_case, staff_login):
    case, mediator = make_mediation_case()
    staff_login(mediator)
    page = client.get(f"/cases/{case.id}").data.decode()
    data = script_json(page, "bootstrap")["evidence"]
    assert data["upload_channels"] == ["joint", "caucus:buyer", "caucus:seller"] and data["may_request"] is True
    assert shown(page, "upload") and shown(page, "ask")
    assert re.search(r'<select name="addressee"[^>]*>\s*<option value="buyer">Buyer</option>'
                     r'<option value="seller">Seller</option>', page)
    assert 'name="private"' in page


def test_an_admin_sees_the_panels_but_may_not_add_files_or_ask(client, make_case, make_user, staff_login):
    case = make_case()
    staff_login(make_user("admin"))
    page = client.get(f"/cases/{case.id}").data.decode()
    data = script_json(page, "bootstrap")["evidence"]
    assert data["upload_channels"] == [] and data["may_request"] is False
    assert not shown(page, "upload") and not shown(page, "ask")
    assert shown(page, "checklist-box") and shown(page, "requests-box")
