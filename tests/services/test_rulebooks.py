"""Rulebooks: admins write drafts and publish them; a published version never changes; cases keep theirs."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mediation.errors import Forbidden, Invalid, InvalidTransition, NotFound
from mediation.extensions import db
from mediation.models import Case, Clause, RulebookVersion
from mediation.models.rulebook import PublishedRulebookError
from mediation.services import rulebooks
from mediation.services.actors import ANONYMOUS

EN_ZH = {"en": "Standard rules", "zh_Hans_CN": "标准规则"}


def clause_texts(n: int | str, zh: bool = True) -> dict:
    title = {"en": f"Clause {n}", **({"zh_Hans_CN": f"第{n}条"} if zh else {})}
    body = {"en": f"The text of clause {n}.", **({"zh_Hans_CN": f"第{n}条的内容。"} if zh else {})}
    return {"title": title, "body": body}


def add(admin, version_id: int, number: str, zh: bool = True) -> Clause:
    return rulebooks.add_clause(admin, version_id, number, **clause_texts(number, zh))


@pytest.fixture
def admin(make_user):
    return make_user("admin")


@pytest.fixture
def draft(admin):
    """Draft version 1 of a new rulebook, with clauses 1, 2 and 3."""
    book = rulebooks.create_rulebook(admin, "house-rules", EN_ZH)
    version = rulebooks.start_draft(admin, book.id)
    for number in ("1", "2", "3"):
        add(admin, version.id, number)
    return version


@pytest.fixture
def published(admin, draft):
    return rulebooks.publish_version(admin, draft.id)


def numbers(version_id: int) -> list[str]:
    return list(db.session.scalars(select(Clause.number).where(Clause.version_id == version_id)
                                   .order_by(Clause.position)))


# ---- creating a rulebook -------------------------------------------------------------------------


def test_an_admin_creates_a_rulebook_with_titles_in_both_languages(admin):
    book = rulebooks.create_rulebook(admin, "cross-border-2026", {"en": " Rules ", "zh_Hans_CN": "规则"})
    assert (book.slug, book.title) == ("cross-border-2026", {"en": "Rules", "zh_Hans_CN": "规则"})


@pytest.mark.parametrize("slug", ["", "Upper", "with space", "under_score", "-leading", "double--hyphen", "x" * 65])
def test_a_rulebook_address_is_lower_case_letters_digits_and_single_hyphens(admin, slug):
    with pytest.raises(Invalid) as refused:
        rulebooks.create_rulebook(admin, slug, EN_ZH)
    assert "slug" in refused.value.errors


def test_a_rulebook_address_is_taken_only_once(admin):
    rulebooks.create_rulebook(admin, "standard", EN_ZH)
    with pytest.raises(Invalid) as refused:
        rulebooks.create_rulebook(admin, "standard", EN_ZH)
    assert "slug" in refused.value.errors


def test_a_rulebook_needs_an_english_title(admin):
    with pytest.raises(Invalid) as refused:
        rulebooks.create_rulebook(admin, "rules", {"en": "  ", "zh_Hans_CN": "规则"})
    assert "title_en" in refused.value.errors


# ---- who may write -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["mediator", "anonymous", "party"])
@pytest.mark.parametrize("command", ["create", "start_draft", "add", "edit", "remove", "move", "summary", "publish"])
def test_only_an_admin_writes_rulebooks(make_user, make_case, draft, who, command):
    actor = {"mediator": lambda: make_user("mediator"), "anonymous": lambda: ANONYMOUS,
             "party": lambda: make_case().actor("buyer")}[who]()
    clause_id = draft.clauses[0].id
    calls = {
        "create": lambda: rulebooks.create_rulebook(actor, "other", EN_ZH),
        "start_draft": lambda: rulebooks.start_draft(actor, draft.rulebook_id),
        "add": lambda: rulebooks.add_clause(actor, draft.id, "9", **clause_texts(9)),
        "edit": lambda: rulebooks.edit_clause(actor, clause_id, "1", **clause_texts(1)),
        "remove": lambda: rulebooks.remove_clause(actor, clause_id),
        "move": lambda: rulebooks.move_clause(actor, clause_id, 1),
        "summary": lambda: rulebooks.set_summary(actor, draft.id, {"en": "Changed"}),
        "publish": lambda: rulebooks.publish_version(actor, draft.id),
    }
    with pytest.raises(Forbidden):
        calls[command]()
    assert numbers(draft.id) == ["1", "2", "3"] and db.session.get(RulebookVersion, draft.id).published_at is None


def test_a_mediator_cannot_read_a_draft(make_user, draft):
    with pytest.raises(Forbidden):
        rulebooks.get_version(make_user("mediator"), draft.id)


# ---- drafts --------------------------------------------------------------------------------------


def test_the_first_draft_is_version_1_without_clauses(admin):
    book = rulebooks.create_rulebook(admin, "rules", EN_ZH)
    version = rulebooks.start_draft(admin, book.id)
    assert (version.number, version.published_at, version.clauses, version.created_by) == (1, None, [], admin.user_id)


def test_a_new_draft_is_the_next_number_with_a_copy_of_the_newest_clauses(admin, published):
    version = rulebooks.start_draft(admin, published.rulebook_id)
    assert version.number == 2
    assert [(c.number, c.title, c.body) for c in version.clauses] == [
        (c.number, c.title, c.body) for c in published.clauses]
    assert {c.id for c in version.clauses}.isdisjoint({c.id for c in published.clauses})


def test_a_second_draft_is_refused_while_one_is_open(admin, draft):
    with pytest.raises(InvalidTransition):
        rulebooks.start_draft(admin, draft.rulebook_id)


def test_a_draft_of_an_unknown_rulebook_is_not_found(admin):
    with pytest.raises(NotFound):
        rulebooks.start_draft(admin, 999_999)


def test_clauses_are_added_at_the_end_of_the_draft(admin, draft):
    add(admin, draft.id, "2.1")
    assert numbers(draft.id) == ["1", "2", "3", "2.1"]


def test_a_clause_number_is_used_once_in_a_version(admin, draft):
    with pytest.raises(Invalid) as refused:
        add(admin, draft.id, "2")
    assert "number" in refused.value.errors and numbers(draft.id) == ["1", "2", "3"]


@pytest.mark.parametrize("number", ["", "four", "4.", ".2", "4-2", "1.2.3.4", "12345"])
def test_a_clause_number_reads_like_4_or_4_2(admin, draft, number):
    with pytest.raises(Invalid) as refused:
        rulebooks.add_clause(admin, draft.id, number, **clause_texts(9))
    assert "number" in refused.value.errors


def test_a_clause_needs_an_english_title_and_text(admin, draft):
    with pytest.raises(Invalid) as refused:
        rulebooks.add_clause(admin, draft.id, "9", title={"zh_Hans_CN": "标题"}, body={"en": " "})
    assert set(refused.value.errors) == {"title_en", "body_en"}


def test_a_clause_text_has_a_length_limit(admin, draft):
    with pytest.raises(Invalid) as refused:
        rulebooks.add_clause(admin, draft.id, "9", title={"en": "T"},
                             body={"en": "ok", "zh_Hans_CN": "长" * (rulebooks.MAX_BODY + 1)})
    assert "body_zh" in refused.value.errors


def test_chinese_is_optional_and_shown_as_missing(admin, draft):
    clause = add(admin, draft.id, "4", zh=False)
    version = rulebooks.get_version(admin, draft.id)
    assert clause.title == {"en": "Clause 4"} and rulebooks.missing_translations(version) == [clause]


def test_editing_a_clause_changes_its_number_and_texts(admin, draft):
    clause = draft.clauses[1]
    rulebooks.edit_clause(admin, clause.id, "2.5", title={"en": "New", "zh_Hans_CN": "新"}, body={"en": "Body"})
    db.session.expire_all()
    edited = db.session.get(Clause, clause.id)
    assert (edited.number, edited.title, edited.body) == ("2.5", {"en": "New", "zh_Hans_CN": "新"}, {"en": "Body"})


def test_editing_a_clause_to_a_number_in_use_is_refused(admin, draft):
    with pytest.raises(Invalid) as refused:
        rulebooks.edit_clause(admin, draft.clauses[0].id, "3", **clause_texts(3))
    assert "number" in refused.value.errors


def test_removing_a_clause_closes_the_gap(admin, draft):
    rulebooks.remove_clause(admin, draft.clauses[0].id)
    db.session.expire_all()
    assert [(c.number, c.position) for c in db.session.get(RulebookVersion, draft.id).clauses] == [("2", 1), ("3", 2)]


def test_moving_a_clause_down_swaps_it_with_the_next(admin, draft):
    rulebooks.move_clause(admin, draft.clauses[0].id, 1)
    assert numbers(draft.id) == ["2", "1", "3"]


def test_moving_a_clause_up_swaps_it_with_the_one_before(admin, draft):
    rulebooks.move_clause(admin, draft.clauses[2].id, -1)
    assert numbers(draft.id) == ["1", "3", "2"]


def test_moving_the_first_clause_up_leaves_the_order_alone(admin, draft):
    rulebooks.move_clause(admin, draft.clauses[0].id, -1)
    assert numbers(draft.id) == ["1", "2", "3"]


def test_a_summary_says_what_changed_per_language(admin, draft):
    version = rulebooks.set_summary(admin, draft.id, {"en": "New clause 4.", "zh_Hans_CN": ""})
    assert version.summary == {"en": "New clause 4."}


# ---- publishing ----------------------------------------------------------------------------------


def test_publishing_takes_the_time_from_the_clock(admin, draft, frozen_clock):
    assert rulebooks.publish_version(admin, draft.id).published_at == frozen_clock.at


def test_publishing_an_empty_draft_is_refused(admin):
    book = rulebooks.create_rulebook(admin, "rules", EN_ZH)
    version = rulebooks.start_draft(admin, book.id)
    with pytest.raises(InvalidTransition):
        rulebooks.publish_version(admin, version.id)
    assert db.session.get(RulebookVersion, version.id).published_at is None


def test_a_published_version_cannot_be_published_again(admin, published, frozen_clock):
    before = published.published_at
    frozen_clock.move(days=1)
    with pytest.raises(InvalidTransition):
        rulebooks.publish_version(admin, published.id)
    db.session.expire_all()
    assert db.session.get(RulebookVersion, published.id).published_at == before


@pytest.mark.parametrize("command", ["add", "edit", "remove", "move", "summary"])
def test_the_service_refuses_to_change_a_published_version(admin, published, command):
    clause_id = published.clauses[0].id
    calls = {
        "add": lambda: rulebooks.add_clause(admin, published.id, "9", **clause_texts(9)),
        "edit": lambda: rulebooks.edit_clause(admin, clause_id, "1", title={"en": "Changed"}, body={"en": "x"}),
        "remove": lambda: rulebooks.remove_clause(admin, clause_id),
        "move": lambda: rulebooks.move_clause(admin, clause_id, 1),
        "summary": lambda: rulebooks.set_summary(admin, published.id, {"en": "Changed"}),
    }
    with pytest.raises(InvalidTransition):
        calls[command]()
    db.session.expire_all()
    assert numbers(published.id) == ["1", "2", "3"]
    assert db.session.get(Clause, clause_id).title == clause_texts(1)["title"]


# ---- the ORM guard -------------------------------------------------------------------------------


def test_the_orm_refuses_to_edit_a_published_clause(published):
    clause = db.session.get(Clause, published.clauses[0].id)
    clause.body = {"en": "Quietly rewritten."}
    with pytest.raises(PublishedRulebookError):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(Clause, clause.id).body == clause_texts(1)["body"]


def test_the_orm_refuses_to_delete_a_published_clause(published):
    db.session.delete(db.session.get(Clause, published.clauses[0].id))
    with pytest.raises(PublishedRulebookError):
        db.session.commit()
    db.session.rollback()
    assert numbers(published.id) == ["1", "2", "3"]


def test_the_orm_refuses_to_move_a_published_clause_to_a_draft(admin, published):
    draft = rulebooks.start_draft(admin, published.rulebook_id)
    db.session.get(Clause, published.clauses[0].id).version_id = draft.id
    with pytest.raises(PublishedRulebookError):
        db.session.commit()
    db.session.rollback()


def test_the_orm_refuses_to_unpublish_a_version(published):
    db.session.get(RulebookVersion, published.id).published_at = None
    with pytest.raises(PublishedRulebookError):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(RulebookVersion, published.id).published


def test_the_orm_refuses_to_delete_a_published_version(published):
    db.session.delete(db.session.get(RulebookVersion, published.id))
    with pytest.raises(PublishedRulebookError):
        db.session.commit()
    db.session.rollback()


def test_the_orm_lets_a_draft_clause_change(draft):
    db.session.get(Clause, draft.clauses[0].id).body = {"en": "Still a draft."}
    db.session.commit()


# ---- reading -------------------------------------------------------------------------------------


def test_a_published_version_is_found_by_address_and_number(published):
    assert rulebooks.published_version("house-rules", 1).id == published.id


def test_a_draft_is_never_found_by_the_public_reads(draft):
    with pytest.raises(NotFound):
        rulebooks.published_version("house-rules", 1)
    with pytest.raises(NotFound):
        rulebooks.newest_published("house-rules")


def test_the_newest_published_version_skips_the_open_draft(admin, published):
    rulebooks.start_draft(admin, published.rulebook_id)
    assert rulebooks.newest_published("house-rules").id == published.id


def test_the_public_listing_leaves_out_drafts_and_rulebooks_with_nothing_published(admin, published):
    rulebooks.start_draft(admin, published.rulebook_id)
    rulebooks.create_rulebook(admin, "empty", EN_ZH)
    listing = rulebooks.published_rulebooks()
    assert [(item.rulebook.slug, [v.number for v in item.versions]) for item in listing] == [("house-rules", [1])]


def test_the_admin_listing_shows_drafts_too(admin, published):
    rulebooks.start_draft(admin, published.rulebook_id)
    assert [v.number for v in rulebooks.list_rulebooks(admin)[0].versions] == [1, 2]


def test_a_newer_version_is_named_for_an_older_one(admin, published):
    draft = rulebooks.start_draft(admin, published.rulebook_id)
    assert rulebooks.newer_version(published) is None
    rulebooks.publish_version(admin, draft.id)
    assert rulebooks.newer_version(published).number == 2


def test_a_cited_clause_links_to_its_anchor_on_the_public_page(published):
    clause = db.session.get(Clause, published.clauses[1].id)
    assert rulebooks.clause_path(clause) == "/rules/house-rules/v1#clause-2"


# ---- cases keep the version they opened under ----------------------------------------------------


def test_a_case_opened_before_a_new_version_keeps_the_version_it_opened_under(admin, published, make_case):
    before = make_case()
    rulebooks.publish_version(admin, rulebooks.start_draft(admin, published.rulebook_id).id)
    db.session.expire_all()
    assert db.session.get(Case, before.id).rulebook_version_id == published.id


def test_a_case_opened_after_a_new_version_is_decided_by_it(admin, published, make_case):
    newer = rulebooks.publish_version(admin, rulebooks.start_draft(admin, published.rulebook_id).id)
    after = make_case()
    assert db.session.get(Case, after.id).rulebook_version_id == newer.id


def test_a_draft_is_not_in_force_for_new_cases(admin, published, make_case):
    rulebooks.start_draft(admin, published.rulebook_id)
    assert db.session.get(Case, make_case().id).rulebook_version_id == published.id
