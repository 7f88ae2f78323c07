"""Evidence checklists per dispute reason: what is on them, who sees them, what ticks an item, answers in words."""
from __future__ import annotations

import re

import pytest

from mediation.errors import Forbidden, Invalid, InvalidTransition, NotFound
from mediation.extensions import db
from mediation.models import REASONS, Case, ChecklistAnswer
from mediation.services import checklists, requests
from tests.requests.support import event_types, snapshot


def items(actor, case_id, role=None) -> dict[str, checklists.ItemView]:
    return {view.key: view for view in checklists.checklist(actor, case_id) if role in (None, view.role)}


# ---- the definitions ----------------------------------------------------------------------------


@pytest.mark.parametrize("reason", REASONS)
def test_every_reason_gives_each_party_something_to_make_its_case(reason):
    listed = checklists.CHECKLISTS[reason]
    assert {role for item in listed for role in item.roles} == {"buyer", "seller"}


@pytest.mark.parametrize("reason", REASONS)
def test_item_keys_are_lowercase_words_and_unique_per_reason(reason):
    keys = [item.key for item in checklists.CHECKLISTS[reason]]
    assert all(re.fullmatch(r"[a-z_]+", key) and len(key) <= 40 for key in keys)
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("reason", REASONS)
def test_every_item_is_answered_by_a_file_or_by_words_and_has_a_label_and_hint(reason):
    for item in checklists.CHECKLISTS[reason]:
        assert item.answer_by in ("file", "words") and str(item.label) and str(item.hint)


def test_the_seller_gives_the_tracking_number_in_words_when_an_item_did_not_arrive():
    tracking = next(i for i in checklists.CHECKLISTS["not_received"] if i.key == "tracking_number")
    assert (tracking.roles, tracking.answer_by) == (("seller",), "words")


def test_is_item_knows_the_items_of_the_cases_reason(make_case):
    info = make_case(reason="damaged")
    case = db.session.get(Case, info.id)
    assert checklists.is_item(case, "packaging_photos") and not checklists.is_item(case, "tracking_number")


def test_is_item_can_check_the_item_is_for_the_uploaders_role(make_case):
    case = db.session.get(Case, make_case(reason="damaged").id)
    assert checklists.is_item(case, "packing_proof", "seller") and not checklists.is_item(case, "packing_proof",
                                                                                         "buyer")


# ---- who sees which checklist --------------------------------------------------------------------


def test_a_party_sees_only_its_own_checklist(make_case):
    info = make_case(reason="damaged")
    assert {view.role for view in checklists.checklist(info.actor("buyer"), info.id)} == {"buyer"}


def test_the_mediator_sees_both_parties_checklists(make_mediation_case):
    info, mediator = make_mediation_case(reason="not_received")
    assert {view.role for view in checklists.checklist(mediator, info.id)} == {"buyer", "seller"}


def test_an_admin_sees_both_parties_checklists(make_case, make_user):
    info = make_case()
    assert {view.role for view in checklists.checklist(make_user("admin"), info.id)} == {"buyer", "seller"}


def test_the_platform_may_not_see_the_checklist(make_case):
    info = make_case()
    with pytest.raises(Forbidden):
        checklists.checklist(info.platform.actor, info.id)


def test_a_party_of_another_case_finds_no_checklist(make_case):
    info, other = make_case(), make_case()
    with pytest.raises(NotFound):
        checklists.checklist(other.actor("buyer"), info.id)


# ---- what ticks an item --------------------------------------------------------------------------


def test_nothing_is_ticked_on_a_new_case(make_case):
    info = make_case(reason="not_received")
    assert not any(view.done for view in checklists.checklist(info.actor("seller"), info.id))


def test_an_answer_in_words_ticks_the_item(make_case):
    info = make_case(reason="not_received")
    checklists.answer_checklist_item(info.actor("seller"), info.id, "tracking_number", "LX 123-456 CN")
    ticked = items(info.actor("seller"), info.id)["tracking_number"]
    assert (ticked.done, ticked.answer, ticked.can_answer) == (True, "LX 123-456 CN", False)


def test_an_answered_request_ticks_the_matching_item(make_case):
    info = make_case(reason="not_received")
    made = requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    requests.answer_request(info.actor("seller"), info.id, made.id, "LX123456CN")
    ticked = items(info.actor("seller"), info.id)["tracking_number"]
    assert ticked.done and ticked.request_ids == [made.id]


def test_an_open_request_does_not_tick_the_item(make_case):
    info = make_case(reason="not_received")
    requests.create_request(info.actor("buyer"), info.id, kind="tracking_number", addressee="seller")
    assert not items(info.actor("seller"), info.id)["tracking_number"].done


def test_a_file_naming_the_item_ticks_it(make_case, add_file):
    info = make_case(reason="damaged")
    evidence_id = add_file(info, "buyer", checklist_item="packaging_photos")
    ticked = items(info.actor("buyer"), info.id)["packaging_photos"]
    assert ticked.done and ticked.evidence_ids == [evidence_id]


def test_a_withdrawn_file_no_longer_ticks_the_item(make_case, add_file, withdraw_file):
    info = make_case(reason="damaged")
    withdraw_file(add_file(info, "buyer", checklist_item="packaging_photos"))
    assert not items(info.actor("buyer"), info.id)["packaging_photos"].done


def test_a_file_ticks_a_shared_item_only_for_the_party_who_added_it(make_case, add_file, make_user):
    info = make_case(reason="other")
    add_file(info, "seller", checklist_item="supporting_document")
    views = checklists.checklist(make_user("admin"), info.id)
    assert {view.role: view.done for view in views} == {"buyer": False, "seller": True}


def test_a_private_file_ticks_the_item_only_for_those_who_read_its_channel(make_mediation_case, add_file,
                                                                          make_user):
    info, mediator = make_mediation_case(reason="damaged")
    add_file(info, "buyer", channel="caucus:buyer", checklist_item="item_photos")
    assert items(mediator, info.id, "buyer")["item_photos"].done
    assert not items(make_user("admin"), info.id, "buyer")["item_photos"].done


# ---- answering in words --------------------------------------------------------------------------


def test_answering_records_checklist_answered_with_the_value(make_case):
    info = make_case(reason="unauthorized")
    checklists.answer_checklist_item(info.actor("buyer"), info.id, "not_ordered_statement",
                                     "I never placed this order; my card was used abroad.")
    assert event_types(info.id)[-1] == "checklist.answered"


def test_a_second_answer_is_refused_and_the_first_stands(make_case):
    info = make_case(reason="not_received")
    checklists.answer_checklist_item(info.actor("seller"), info.id, "tracking_number", "LX111")
    before = snapshot(info.id)
    with pytest.raises(InvalidTransition, match="already answered"):
        checklists.answer_checklist_item(info.actor("seller"), info.id, "tracking_number", "LX222")
    assert snapshot(info.id) == before
    assert db.session.query(ChecklistAnswer).one().value == {"text": "LX111"}


def test_an_unknown_item_is_not_found(make_case):
    info = make_case(reason="damaged")
    with pytest.raises(NotFound):
        checklists.answer_checklist_item(info.actor("seller"), info.id, "tracking_number", "LX111")


def test_the_other_partys_item_is_forbidden(make_case):
    info = make_case(reason="not_received")
    with pytest.raises(Forbidden):
        checklists.answer_checklist_item(info.actor("buyer"), info.id, "tracking_number", "LX111")


def test_a_file_item_cannot_be_answered_in_words(make_case):
    info = make_case(reason="not_received")
    with pytest.raises(Invalid) as refused:
        checklists.answer_checklist_item(info.actor("seller"), info.id, "delivery_proof", "It was delivered")
    assert "value" in refused.value.errors


@pytest.mark.parametrize("value", ["", "   ", "x" * 501])
def test_an_empty_or_overlong_answer_is_refused(make_case, value):
    info = make_case(reason="unauthorized")
    with pytest.raises(Invalid):
        checklists.answer_checklist_item(info.actor("buyer"), info.id, "not_ordered_statement", value)


@pytest.mark.parametrize("value", ["LX1", "LX123<script>", "x" * 41, "LX/123/CN"])
def test_a_malformed_tracking_number_is_refused(make_case, value):
    info = make_case(reason="not_received")
    with pytest.raises(Invalid):
        checklists.answer_checklist_item(info.actor("seller"), info.id, "tracking_number", value)


@pytest.mark.parametrize("value", ["LX12", "1Z 999 AA1 01 2345 6784", "EE-123-456-789-CN"])
def test_a_tracking_number_of_letters_digits_spaces_and_dashes_is_accepted(make_case, value):
    info = make_case(reason="not_received")
    answer = checklists.answer_checklist_item(info.actor("seller"), info.id, "tracking_number", value)
    assert answer.value == {"text": value}


def test_the_mediator_cannot_answer_a_partys_checklist(make_mediation_case):
    info, mediator = make_mediation_case(reason="not_received")
    with pytest.raises(Forbidden):
        checklists.answer_checklist_item(mediator, info.id, "tracking_number", "LX111")


def test_a_decided_case_refuses_checklist_answers(make_case, settle):
    info = make_case(reason="not_received")
    settle(info)
    with pytest.raises(InvalidTransition):
        checklists.answer_checklist_item(info.actor("seller"), info.id, "tracking_number", "LX111")


def test_the_respondents_first_answer_starts_the_negotiation(make_case):
    info = make_case(reason="not_received")
    checklists.answer_checklist_item(info.actor("seller"), info.id, "tracking_number", "LX111")
    assert db.session.get(Case, info.id).state == "negotiation"
