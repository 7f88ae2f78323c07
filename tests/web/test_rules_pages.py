"""Public rulebook pages: no sign-in, every clause with a stable anchor, both languages, drafts never shown."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from mediation.extensions import db
from mediation.models import Clause
from mediation.services import rulebooks
from mediation.web.rules import clause_url

STANDARD = Path(__file__).resolve().parents[2] / "mediation" / "rules" / "standard.json"


@pytest.fixture
def admin(make_user):
    return make_user("admin")


def publish_next(admin, rulebook_id: int, summary: str = "Clause 2 reworded.") -> int:
    """Publishes the next version (a copy of the newest, with clause 2 reworded); returns its number."""
    draft = rulebooks.start_draft(admin, rulebook_id)
    rulebooks.edit_clause(admin, draft.clauses[1].id, "2", title={"en": "Clause 2, reworded"},
                          body={"en": "New text of clause 2."})
    rulebooks.set_summary(admin, draft.id, {"en": summary})
    return rulebooks.publish_version(admin, draft.id).number


def test_the_rules_page_lists_rulebooks_and_their_published_versions(client, make_rulebook, admin):
    info = make_rulebook(slug="house-rules")
    publish_next(admin, info.rulebook_id)
    page = client.get("/rules")
    assert page.status_code == 200
    assert b'href="/rules/house-rules/v1"' in page.data and b'href="/rules/house-rules/v2"' in page.data


def test_the_rules_page_leaves_out_drafts(client, make_rulebook, admin):
    info = make_rulebook(slug="house-rules")
    rulebooks.start_draft(admin, info.rulebook_id)
    assert b"/rules/house-rules/v2" not in client.get("/rules").data


def test_a_rulebook_address_leads_to_its_newest_published_version(client, make_rulebook, admin):
    info = make_rulebook(slug="house-rules")
    publish_next(admin, info.rulebook_id)
    rulebooks.start_draft(admin, info.rulebook_id)  # version 3, a draft: not where the address leads
    response = client.get("/rules/house-rules")
    assert response.status_code == 302 and response.headers["Location"].endswith("/rules/house-rules/v2")


def test_every_clause_has_a_stable_anchor_and_a_visible_link_to_it(client, make_rulebook):
    make_rulebook(slug="house-rules", clauses=3)
    page = client.get("/rules/house-rules/v1")
    assert page.status_code == 200
    for n in (1, 2, 3):
        assert f'id="clause-{n}"'.encode() in page.data
        assert f'href="#clause-{n}"'.encode() in page.data
    assert b">#</a>" in page.data


def test_a_version_page_is_in_english_by_default(client, make_rulebook):
    make_rulebook(slug="house-rules")
    page = client.get("/rules/house-rules/v1").get_data(as_text=True)
    assert "The text of clause 2." in page and "第2条的内容。" not in page


def test_a_version_page_speaks_chinese_when_asked(client, make_rulebook):
    make_rulebook(slug="house-rules")
    page = client.get("/rules/house-rules/v1?lang=zh").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "第2条的内容。" in page and "The text of clause 2." not in page


def test_a_clause_without_a_chinese_text_is_shown_in_english(client, make_rulebook, admin):
    info = make_rulebook(slug="house-rules")
    publish_next(admin, info.rulebook_id)
    page = client.get("/rules/house-rules/v2?lang=zh").get_data(as_text=True)
    assert "New text of clause 2." in page and "第1条的内容。" in page


def test_a_version_page_shows_when_it_was_published(client, make_rulebook, frozen_clock):
    make_rulebook(slug="house-rules")
    page = client.get("/rules/house-rules/v1").get_data(as_text=True)
    assert '<time datetime="2026-03-02T09:00:00+00:00">Mar 2, 2026</time>' in page


def test_an_older_version_points_to_the_newer_one(client, make_rulebook, admin):
    info = make_rulebook(slug="house-rules")
    publish_next(admin, info.rulebook_id)
    older, newer = client.get("/rules/house-rules/v1").data, client.get("/rules/house-rules/v2").data
    assert b"A newer version of this rulebook exists" in older and b'href="/rules/house-rules/v2"' in older
    assert b"A newer version of this rulebook exists" not in newer


def test_a_version_page_says_what_changed(client, make_rulebook, admin):
    info = make_rulebook(slug="house-rules")
    publish_next(admin, info.rulebook_id, summary="Clause 2 now covers returns.")
    assert b"Clause 2 now covers returns." in client.get("/rules/house-rules/v2").data


def test_a_draft_version_is_not_found(client, make_rulebook, admin):
    info = make_rulebook(slug="house-rules")
    rulebooks.start_draft(admin, info.rulebook_id)
    assert client.get("/rules/house-rules/v2").status_code == 404


def test_a_rulebook_with_only_a_draft_has_no_public_page(client, admin):
    book = rulebooks.create_rulebook(admin, "unpublished", {"en": "Unpublished"})
    rulebooks.add_clause(admin, rulebooks.start_draft(admin, book.id).id, "1", title={"en": "T"}, body={"en": "B"})
    assert client.get("/rules/unpublished").status_code == 404
    assert client.get("/rules/unpublished/v1").status_code == 404


@pytest.mark.parametrize("path", ["/rules/no-such-rules", "/rules/no-such-rules/v1", "/rules/house-rules/v9"])
def test_an_unknown_rulebook_or_version_is_not_found(client, make_rulebook, path):
    make_rulebook(slug="house-rules")
    response = client.get(path)
    assert response.status_code == 404 and b"Not found" in response.data


def test_a_cited_clause_links_to_its_anchor(app, rulebook):
    clause = db.session.get(Clause, rulebook.clause_ids[1])
    slug = clause.version.rulebook.slug
    with app.test_request_context("/"):
        assert clause_url(clause) == f"/rules/{slug}/v1#clause-2"
    assert clause_url(clause) == f"/rules/{slug}/v1#clause-2"  # no request: a worker building a webhook


def test_the_standard_rulebook_reads_in_both_languages(client, admin):
    data = json.loads(STANDARD.read_text(encoding="utf-8"))
    book = rulebooks.create_rulebook(admin, data["slug"], data["title"])
    draft = rulebooks.start_draft(admin, book.id)
    for clause in data["clauses"]:
        rulebooks.add_clause(admin, draft.id, clause["number"], title=clause["title"], body=clause["body"])
    rulebooks.publish_version(admin, draft.id)
    english = client.get("/rules/standard/v1").get_data(as_text=True)
    chinese = client.get("/rules/standard/v1?lang=zh").get_data(as_text=True)
    assert all(f'id="clause-{clause["number"]}"' in english for clause in data["clauses"])
    assert "Item not received" in english and "未收到货物" in chinese
    assert "(a) Item not received: the seller shows" in english  # lettered items start their own line
