"""Opening, listing, withdrawing and closing cases through the services."""
from __future__ import annotations

import pytest

from mediation.errors import Conflict, Forbidden, Invalid, InvalidTransition, NotFound
from mediation.extensions import db
from mediation.models import Case, CaseEvent, Notification, WebhookMessage
from mediation.services import cases, chain
from tests.conftest import case_data, money, race


def test_opening_a_case_starts_it_open_with_a_response_deadline(make_case, frozen_clock):
    info = make_case()
    case = db.session.get(Case, info.id)
    assert case.state == "open"
    assert (case.deadline_at - frozen_clock.at).days == 3
    assert [p.role for p in case.parties] == ["buyer", "seller"]


def test_opening_a_case_records_case_opened_in_the_log_and_the_outbox(make_platform, make_case):
    info = make_case(platform=make_platform(webhook_url="http://127.0.0.1:9/hook"))
    log = db.session.query(CaseEvent).filter_by(case_id=info.id).all()
    assert [e.type for e in log] == ["case.opened"]
    assert [m.type for m in db.session.query(WebhookMessage).filter_by(case_id=info.id)] == ["case.opened"]


def test_the_same_idempotency_key_and_body_return_the_first_case(make_platform):
    platform = make_platform()
    data = case_data()
    first = cases.open_case(platform.actor, data, "key-1")
    again = cases.open_case(platform.actor, data, "key-1")
    assert again.case.id == first.case.id and again.replayed
    assert again.join_tokens == first.join_tokens
    assert db.session.query(Case).count() == 1


def test_two_openings_under_one_idempotency_key_at_once_open_one_case(app, make_platform):
    platform = make_platform(webhook_url="http://127.0.0.1:9/hook")
    db.session.commit()
    data = case_data()
    outcomes = race(app, *[lambda: cases.open_case(platform.actor, data, "key-race")] * 2)
    opened = [o for o in outcomes if isinstance(o, cases.OpenedCase)]
    # The one that lost either saw the winner's key (a replay) or collided with it (409); it wrote nothing.
    assert opened and all(isinstance(o, cases.OpenedCase | Conflict) for o in outcomes)
    assert len({o.case.id for o in opened}) == 1
    db.session.rollback()
    case_id = opened[0].case.id
    assert db.session.query(Case).count() == 1
    assert db.session.query(CaseEvent).filter_by(case_id=case_id).count() == 1
    assert db.session.query(WebhookMessage).count() == 1
    assert db.session.query(Notification).count() == 1
    assert chain.verify_case(case_id).ok


def test_the_same_idempotency_key_with_another_body_is_refused(make_platform):
    platform = make_platform()
    cases.open_case(platform.actor, case_data(external_order_id="A"), "key-1")
    with pytest.raises(Invalid) as error:
        cases.open_case(platform.actor, case_data(external_order_id="B"), "key-1")
    assert "Idempotency-Key" in error.value.errors


def test_a_held_amount_in_another_currency_is_refused(make_platform):
    with pytest.raises(Invalid) as error:
        cases.open_case(make_platform().actor, case_data(held_amount=money("100.00", "EUR")))
    assert "held_amount" in error.value.errors
    assert db.session.query(Case).count() == 0


def test_a_platform_lists_only_its_own_cases_newest_first_with_a_cursor(make_platform, make_case):
    mine, theirs = make_platform(), make_platform()
    ids = [make_case(platform=mine).id for _ in range(3)]
    make_case(platform=theirs)
    page, cursor = cases.list_cases(mine.actor, limit=2)
    assert [c.id for c in page] == ids[::-1][:2]
    rest, end = cases.list_cases(mine.actor, limit=2, cursor=cursor)
    assert [c.id for c in rest] == [ids[0]] and end is None


def test_another_platforms_case_is_not_found(make_platform, make_case):
    info = make_case()
    with pytest.raises(NotFound):
        cases.get_case(make_platform().actor, info.id)


def test_the_claimant_withdraws_and_the_held_amount_returns_to_the_seller(make_case):
    info = make_case()
    case = cases.withdraw_case(info.actor("buyer"), info.id, "Found the parcel")
    assert case.state == "withdrawn"
    assert (case.refund_minor, case.release_minor) == (0, 10000)


def test_the_respondent_cannot_withdraw_the_case(make_case):
    info = make_case()
    with pytest.raises(Forbidden):
        cases.withdraw_case(info.actor("seller"), info.id, "no")
    assert db.session.get(Case, info.id).state == "open"


def test_confirming_execution_closes_a_resolved_case_and_repeating_it_is_harmless(make_case):
    info = make_case()
    cases.withdraw_case(info.actor("buyer"), info.id, "resolved elsewhere")
    closed = cases.confirm_execution(info.platform.actor, info.id, "refund-77")
    assert closed.state == "closed"
    assert cases.confirm_execution(info.platform.actor, info.id, "refund-77").state == "closed"


def test_execution_cannot_be_confirmed_before_an_outcome(make_case):
    info = make_case()
    with pytest.raises(InvalidTransition):
        cases.confirm_execution(info.platform.actor, info.id, "x")


def test_every_case_chain_verifies_after_a_withdrawal(make_case):
    info = make_case()
    cases.withdraw_case(info.actor("buyer"), info.id, "done")
    report = chain.verify_case(info.id)
    assert report.ok and report.events == 3
