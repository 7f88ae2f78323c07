"""The case log is append-only and hash-chained; tampering is caught and named."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from mediation.extensions import db
from mediation.models import CaseEvent
from mediation.models.event_log import APPEND_ONLY_DDL, AppendOnlyError
from mediation.services import cases, chain


def settle(info):
    cases.withdraw_case(info.actor("buyer"), info.id, "settled elsewhere")


def test_the_orm_refuses_to_change_a_logged_event(make_case):
    info = make_case()
    event = db.session.query(CaseEvent).filter_by(case_id=info.id).first()
    event.type = "case.forged"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_the_database_refuses_updates_and_deletes_of_logged_events(make_case):
    info = make_case()
    db.session.commit()
    for statement in ("UPDATE case_events SET type = 'x'", "DELETE FROM case_events"):
        with pytest.raises(DatabaseError):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.query(CaseEvent).filter_by(case_id=info.id).count() == 1


@pytest.fixture
def drop_guards(app):
    """What an attacker with database access would do first. The PostgreSQL schema outlives the test,
    so its trigger is put back afterwards."""
    postgres = db.engine.dialect.name == "postgresql"

    def drop():
        if postgres:
            db.session.execute(text("DROP TRIGGER IF EXISTS case_events_no_change ON case_events"))
        else:
            db.session.execute(text("DROP TRIGGER case_events_no_update"))
            db.session.execute(text("DROP TRIGGER case_events_no_delete"))
        db.session.commit()

    yield drop
    if postgres:
        db.session.rollback()
        db.session.execute(text("DROP TRIGGER IF EXISTS case_events_no_change ON case_events"))
        for statement in APPEND_ONLY_DDL["postgresql"]:
            db.session.execute(text(statement))
        db.session.commit()


def test_a_tampered_payload_is_caught_at_its_event(make_case, drop_guards):
    info = make_case()
    settle(info)
    drop_guards()
    db.session.execute(text("UPDATE case_events SET payload = :p WHERE case_id = :c AND seq = 2"),
                       {"p": '{"reason": "forged"}', "c": info.id})
    db.session.commit()
    report = chain.verify_case(info.id)
    assert not report.ok and report.broken_seq == 2 and "hash" in report.problem


def test_a_deleted_event_is_caught(make_case, drop_guards):
    info = make_case()
    settle(info)
    drop_guards()
    db.session.execute(text("DELETE FROM case_events WHERE case_id = :c AND seq = 2"), {"c": info.id})
    db.session.commit()
    report = chain.verify_case(info.id)
    assert not report.ok and report.broken_seq == 3


def test_the_verify_command_names_the_first_broken_link(make_case, runner, drop_guards):
    good, bad = make_case(), make_case()
    settle(bad)
    drop_guards()
    db.session.execute(text("UPDATE case_events SET actor = 'admin:1' WHERE case_id = :c AND seq = 3"),
                       {"c": bad.id})
    db.session.commit()
    result = runner.invoke(args=["mediation", "verify"])
    assert result.exit_code == 1
    assert f"case {bad.id}: BROKEN at event 3" in result.output
    assert "1 of 2 case chains verify" in result.output
    assert runner.invoke(args=["mediation", "verify", str(good.id)]).exit_code == 0
