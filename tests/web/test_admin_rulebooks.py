"""Admin rulebook pages: the whole flow through the forms (with CSRF), refusals, and bad input re-shown."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import Clause, Rulebook, RulebookVersion
from mediation.services import rulebooks

PASSWORD = "a long password"


def csrf_token(page) -> str:
    """The token the page's forms carry (base.html puts it in a meta tag too)."""
    return re.search(rb'name="csrf-token" content="([^"]+)"', page.data).group(1).decode()


def sign_in(client, email: str) -> None:
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").data).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token.decode()})
    assert response.status_code == 302


class Browser:
    """A signed-in admin: reads a page, then submits a form with that page's CSRF token."""

    def __init__(self, client):
        self.client = client

    def get(self, path: str):
        return self.client.get(path)

    def submit(self, page_path: str, action: str, data: dict | None = None):
        token = csrf_token(self.client.get(page_path))
        return self.client.post(action, data={**(data or {}), "csrf_token": token})


@pytest.fixture
def admin(make_user):
    return make_user("admin", email="ada@example.com")


@pytest.fixture
def browser(client, admin) -> Browser:
    sign_in(client, "ada@example.com")
    return Browser(client)


@pytest.fixture
def draft(admin):
    """Draft version 1 of "house-rules" with clauses 1 and 2 (clause 2 without Chinese)."""
    book = rulebooks.create_rulebook(admin, "house-rules", {"en": "House rules", "zh_Hans_CN": "平台规则"})
    version = rulebooks.start_draft(admin, book.id)
    rulebooks.add_clause(admin, version.id, "1", title={"en": "Scope", "zh_Hans_CN": "范围"},
                         body={"en": "Scope text.", "zh_Hans_CN": "范围内容。"})
    rulebooks.add_clause(admin, version.id, "2", title={"en": "Evidence"}, body={"en": "Evidence text."})
    return version


def clause_form(number: str = "3", title: str = "Refunds", body: str = "Refund text.", **chinese) -> dict:
    return {"number": number, "title_en": title, "body_en": body, "title_zh": chinese.get("title_zh", ""),
            "body_zh": chinese.get("body_zh", "")}


def numbers(version_id: int) -> list[str]:
    db.session.expire_all()
    return [c.number for c in db.session.get(RulebookVersion, version_id).clauses]


# ---- who gets in ---------------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/admin/rulebooks")
    assert response.status_code == 302 and "/login?next=/admin/rulebooks" in response.headers["Location"]


def test_a_mediator_is_refused(client, make_user, draft):
    make_user("mediator", email="mei@example.com")
    sign_in(client, "mei@example.com")
    assert client.get("/admin/rulebooks").status_code == 403
    assert client.get(f"/admin/rulebooks/versions/{draft.id}").status_code == 403


def test_a_mediator_cannot_publish_a_draft(client, make_user, draft):
    make_user("mediator", email="mei@example.com")
    sign_in(client, "mei@example.com")
    token = csrf_token(client.get("/rules"))
    assert client.post(f"/admin/rulebooks/versions/{draft.id}/publish", data={"csrf_token": token}).status_code == 403
    assert db.session.get(RulebookVersion, draft.id).published_at is None


def test_a_form_sent_without_the_csrf_token_is_refused(browser):
    response = browser.client.post("/admin/rulebooks", data={"slug": "rules", "title_en": "Rules"})
    assert response.status_code == 400 and db.session.scalar(select(func.count(Rulebook.id))) == 0


# ---- rulebooks -----------------------------------------------------------------------------------


def test_the_index_lists_rulebooks_and_offers_a_new_one(browser, draft):
    page = browser.get("/admin/rulebooks")
    assert page.status_code == 200 and b"House rules" in page.data and b'name="slug"' in page.data


def test_an_admin_creates_a_rulebook_through_the_form(browser):
    response = browser.submit("/admin/rulebooks", "/admin/rulebooks",
                              {"slug": "marketplace-rules", "title_en": "Marketplace rules", "title_zh": "市场规则"})
    book = db.session.scalar(select(Rulebook).where(Rulebook.slug == "marketplace-rules"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/rulebooks/{book.id}")
    assert book.title == {"en": "Marketplace rules", "zh_Hans_CN": "市场规则"}
    assert b"was created" in browser.get(response.headers["Location"]).data


def test_a_bad_rulebook_form_is_shown_again_with_messages_and_nothing_is_created(browser):
    response = browser.submit("/admin/rulebooks", "/admin/rulebooks",
                              {"slug": "Not A Slug", "title_en": "", "title_zh": "规则"})
    assert response.status_code == 422
    assert b"Lower-case letters, digits and single hyphens" in response.data and b"Required in English" in response.data
    assert b'value="Not A Slug"' in response.data  # what was typed is kept
    assert db.session.scalar(select(func.count(Rulebook.id))) == 0


def test_a_taken_address_is_shown_on_the_form(browser, draft):
    response = browser.submit("/admin/rulebooks", "/admin/rulebooks", {"slug": "house-rules", "title_en": "Again"})
    assert response.status_code == 422 and b"Already taken" in response.data


# ---- drafts --------------------------------------------------------------------------------------


def test_an_admin_writes_and_publishes_a_first_version(browser, admin):
    book = rulebooks.create_rulebook(admin, "fresh", {"en": "Fresh rules"})
    started = browser.submit(f"/admin/rulebooks/{book.id}", f"/admin/rulebooks/{book.id}/drafts")
    draft_path = started.headers["Location"]
    added = browser.submit(draft_path, f"{draft_path}/clauses",
                           clause_form("1", "Scope", "These rules apply.", title_zh="范围", body_zh="本规则适用。"))
    assert added.status_code == 302
    confirm = browser.get(f"{draft_path}/publish")
    assert b"can never be changed" in confirm.data
    published = browser.submit(f"{draft_path}/publish", f"{draft_path}/publish")
    assert published.status_code == 302
    public = browser.client.get("/rules/fresh/v1")
    assert public.status_code == 200 and b'id="clause-1"' in public.data and b"These rules apply." in public.data


def test_starting_a_draft_copies_the_newest_version(browser, admin, draft):
    rulebooks.publish_version(admin, draft.id)
    response = browser.submit(f"/admin/rulebooks/{draft.rulebook_id}", f"/admin/rulebooks/{draft.rulebook_id}/drafts")
    new_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert numbers(new_id) == ["1", "2"] and b"Draft version 2" in browser.get(response.headers["Location"]).data


def test_a_second_draft_is_refused_on_the_rulebook_page(browser, draft):
    page = f"/admin/rulebooks/{draft.rulebook_id}"
    response = browser.submit(page, f"{page}/drafts")
    assert response.status_code == 409 and b"already has a draft" in response.data
    assert len(db.session.get(Rulebook, draft.rulebook_id).versions) == 1


def test_the_draft_page_marks_clauses_without_a_chinese_translation(browser, draft):
    page = browser.get(f"/admin/rulebooks/versions/{draft.id}").get_data(as_text=True)
    assert "1 clause has no Chinese translation yet." in page
    row = page[page.index('id="clause-2"'):page.index("</tr>", page.index('id="clause-2"'))]
    assert "Missing" in row


def test_an_admin_adds_a_clause(browser, draft):
    path = f"/admin/rulebooks/versions/{draft.id}"
    response = browser.submit(path, f"{path}/clauses", clause_form("3"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{path}#clause-3")
    assert numbers(draft.id) == ["1", "2", "3"]


def test_a_bad_clause_form_is_shown_again_with_messages_and_nothing_changes(browser, draft):
    path = f"/admin/rulebooks/versions/{draft.id}"
    response = browser.submit(path, f"{path}/clauses", clause_form("2", title="", body="Kept text."))
    assert response.status_code == 422
    assert b"Required in English" in response.data and b"Kept text." in response.data
    assert numbers(draft.id) == ["1", "2"]


def test_a_clause_number_in_use_is_shown_on_the_form(browser, draft):
    path = f"/admin/rulebooks/versions/{draft.id}"
    response = browser.submit(path, f"{path}/clauses", clause_form("2"))
    assert response.status_code == 422 and b"Already used in this version" in response.data
    assert numbers(draft.id) == ["1", "2"]


def test_an_admin_edits_a_clause(browser, draft):
    clause_id = draft.clauses[1].id
    path = f"/admin/rulebooks/clauses/{clause_id}"
    assert b"Evidence text." in browser.get(path).data
    response = browser.submit(path, path, clause_form("2", "Evidence", "Who shows what.", title_zh="证据",
                                                      body_zh="举证责任。"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Clause, clause_id).body == {"en": "Who shows what.", "zh_Hans_CN": "举证责任。"}


def test_a_bad_edit_is_shown_again_and_the_clause_keeps_its_text(browser, draft):
    clause_id = draft.clauses[1].id
    path = f"/admin/rulebooks/clauses/{clause_id}"
    response = browser.submit(path, path, clause_form("two", "Evidence", ""))
    assert response.status_code == 422 and b"A number such as 4 or 4.2" in response.data
    db.session.expire_all()
    assert db.session.get(Clause, clause_id).body == {"en": "Evidence text."}


def test_an_admin_moves_a_clause_down(browser, draft):
    path = f"/admin/rulebooks/versions/{draft.id}"
    response = browser.submit(path, f"/admin/rulebooks/clauses/{draft.clauses[0].id}/move", {"direction": "down"})
    assert response.status_code == 302 and numbers(draft.id) == ["2", "1"]


def test_an_admin_removes_a_clause(browser, draft):
    path = f"/admin/rulebooks/versions/{draft.id}"
    response = browser.submit(path, f"/admin/rulebooks/clauses/{draft.clauses[0].id}/remove")
    assert response.status_code == 302 and numbers(draft.id) == ["2"]


def test_an_admin_saves_what_changed(browser, draft):
    path = f"/admin/rulebooks/versions/{draft.id}"
    browser.submit(path, f"{path}/summary", {"summary_en": "First version.", "summary_zh": "第一版。"})
    db.session.expire_all()
    assert db.session.get(RulebookVersion, draft.id).summary == {"en": "First version.", "zh_Hans_CN": "第一版。"}


# ---- publishing ----------------------------------------------------------------------------------


def test_publishing_an_empty_draft_shows_why_and_keeps_it_a_draft(browser, admin):
    book = rulebooks.create_rulebook(admin, "empty", {"en": "Empty"})
    version = rulebooks.start_draft(admin, book.id)
    path = f"/admin/rulebooks/versions/{version.id}/publish"
    response = browser.submit(path, path)
    assert response.status_code == 409 and b"at least one clause" in response.data
    assert db.session.get(RulebookVersion, version.id).published_at is None


def test_a_published_version_is_shown_read_only(browser, admin, draft):
    rulebooks.publish_version(admin, draft.id)
    page = browser.get(f"/admin/rulebooks/versions/{draft.id}")
    assert page.status_code == 200 and b'id="clause-1"' in page.data
    assert b"<form" not in page.data.split(b'class="admin-body"')[1].split(b"</section>")[0]


def test_a_published_clause_cannot_be_edited_through_the_pages(browser, admin, draft):
    rulebooks.publish_version(admin, draft.id)
    path = f"/admin/rulebooks/clauses/{draft.clauses[0].id}"
    response = browser.submit(f"/admin/rulebooks/versions/{draft.id}", path, clause_form("1", "Changed", "Changed"))
    assert response.status_code == 409 and browser.get(path).status_code == 409
    db.session.expire_all()
    assert db.session.get(Clause, draft.clauses[0].id).title == {"en": "Scope", "zh_Hans_CN": "范围"}
