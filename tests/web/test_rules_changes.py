"""Comparing a published rulebook version with the one before: clauses matched by number, words that changed
marked, both languages, public, drafts never compared."""
from __future__ import annotations

import pytest

from mediation.services import rulebooks
from mediation.services.rulebook_changes import Piece, word_diff


@pytest.fixture
def admin(make_user):
    return make_user("admin")


@pytest.fixture
def second_version(make_rulebook, admin):
    """Version 2 of a 3-clause rulebook: clause 2 reworded in both languages, clause 3 removed, clause 4 added."""
    book = make_rulebook(slug="market-rules")
    draft = rulebooks.start_draft(admin, book.rulebook_id)
    second, third = draft.clauses[1], draft.clauses[2]
    rulebooks.edit_clause(admin, second.id, "2", title={"en": "Clause 2", "zh_Hans_CN": "第2条"},
                          body={"en": "The revised text of clause 2.", "zh_Hans_CN": "第2条的新内容。"})
    rulebooks.remove_clause(admin, third.id)
    rulebooks.add_clause(admin, draft.id, "4", title={"en": "Returns", "zh_Hans_CN": "退货"},
                         body={"en": "Return shipping is paid by the seller.", "zh_Hans_CN": "退货运费由卖家承担。"})
    rulebooks.publish_version(admin, draft.id)
    return book


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_changed_words_are_marked_added_and_removed():
    assert word_diff("The text of clause 2.", "The revised text of clause 2.") == [
        Piece("same", "The "), Piece("added", "revised "), Piece("same", "text of clause 2.")]


def test_chinese_is_compared_character_by_character():
    assert word_diff("第2条的内容。", "第2条的新内容。") == [
        Piece("same", "第2条的"), Piece("added", "新"), Piece("same", "内容。")]


def test_the_changes_page_marks_the_changed_words_without_sign_in(client, second_version):
    text = page(client, "/rules/market-rules/v2/changes")
    assert "<ins>revised </ins>" in text


def test_an_added_and_a_removed_clause_are_named_as_such(client, second_version):
    text = page(client, "/rules/market-rules/v2/changes")
    assert "Returns" in text and "added" in text
    assert "<del>The text of clause 3.</del>" in text and "removed" in text


def test_an_unchanged_clause_is_listed_as_unchanged(client, second_version):
    assert "unchanged" in page(client, "/rules/market-rules/v2/changes")


def test_the_changes_are_shown_in_chinese_when_asked(client, second_version):
    text = page(client, "/rules/market-rules/v2/changes?lang=zh")
    assert "<ins>新</ins>" in text


def test_the_version_page_links_to_what_changed(client, second_version):
    assert "/rules/market-rules/v2/changes" in page(client, "/rules/market-rules/v2")


def test_the_first_version_has_no_link_and_no_changes_page(client, second_version):
    assert "/changes" not in page(client, "/rules/market-rules/v1")
    assert client.get("/rules/market-rules/v1/changes").status_code == 404


def test_a_draft_is_never_compared(client, second_version, admin):
    rulebooks.start_draft(admin, second_version.rulebook_id)
    assert client.get("/rules/market-rules/v3/changes").status_code == 404


@pytest.mark.parametrize("query", ["?from=2", "?from=5", "?from=9"])
def test_comparing_with_a_version_that_is_not_earlier_and_published_is_not_found(client, second_version, query):
    assert client.get(f"/rules/market-rules/v2/changes{query}").status_code == 404


def test_comparing_with_a_chosen_earlier_version_works(client, second_version):
    assert "<ins>revised </ins>" in page(client, "/rules/market-rules/v2/changes?from=1")
