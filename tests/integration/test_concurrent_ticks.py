"""Several scheduler workers on PostgreSQL: every due case is moved exactly once, whoever takes it."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import Case, CaseEvent, Proposal
from mediation.services import chain, deadlines, proposals
from tests.conftest import PG_URL, money

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not PG_URL, reason="MEDIATION_TEST_DATABASE_URL not set: concurrent ticks need PostgreSQL "
                                          "(FOR UPDATE SKIP LOCKED); SQLite has a single writer"),
]

CASES = 30


def ticks_at_once(app, workers: int = 2) -> list:
    """Run `workers` ticks at the same moment, each in its own thread and app context (its own session
    and connection); return each tick's report, or the exception it raised."""
    barrier = threading.Barrier(workers)
    outcomes: list = [None] * workers

    def run(index):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                outcomes[index] = deadlines.tick()
            except Exception as error:  # noqa: BLE001 - a failed worker is an outcome to assert on
                outcomes[index] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a tick did not finish within 60 s"
    return outcomes


def due_cases(make_case, make_user, frozen_clock, *, with_proposals: bool) -> list[int]:
    make_user("mediator")
    make_user("mediator")
    ids = []
    for _ in range(CASES):
        info = make_case()
        if with_proposals:  # the claimant's own offer: it lapses together with the response deadline
            proposals.create_proposal(info.actor("buyer"), info.id, buyer_refund=money("60.00"),
                                      seller_release=money("40.00"))
        ids.append(info.id)
    frozen_clock.move(days=3, seconds=1)
    db.session.commit()  # the test's own session holds nothing open while the workers run
    return ids


def escalations_per_case() -> dict[int, int]:
    db.session.rollback()
    rows = db.session.execute(select(CaseEvent.case_id, func.count()).where(CaseEvent.type == "case.escalated")
                              .group_by(CaseEvent.case_id)).all()
    return dict(rows)


def test_two_ticks_at_once_escalate_each_due_case_exactly_once(app, make_case, make_user, frozen_clock):
    ids = due_cases(make_case, make_user, frozen_clock, with_proposals=False)
    outcomes = ticks_at_once(app)
    assert all(isinstance(o, deadlines.TickReport) for o in outcomes), outcomes
    taken = [case_id for report in outcomes for case_id in report.escalated]
    assert sorted(taken) == sorted(ids), "the two reports together must name every due case once"
    assert escalations_per_case() == dict.fromkeys(ids, 1)


def test_two_ticks_at_once_leave_every_case_in_mediation_with_a_verified_chain(app, make_case, make_user,
                                                                               frozen_clock):
    ids = due_cases(make_case, make_user, frozen_clock, with_proposals=False)
    ticks_at_once(app)
    db.session.rollback()
    states = set(db.session.scalars(select(Case.state).where(Case.id.in_(ids))))
    assert states == {"mediation"}
    for case_id in ids:
        report = chain.verify_case(case_id)
        assert report.ok, report.problem


def test_two_ticks_at_once_expire_each_lapsed_proposal_exactly_once(app, make_case, make_user, frozen_clock):
    ids = due_cases(make_case, make_user, frozen_clock, with_proposals=True)
    outcomes = ticks_at_once(app)
    assert all(isinstance(o, deadlines.TickReport) for o in outcomes), outcomes
    taken = [case_id for report in outcomes for case_id in report.escalated]
    expired = [pid for report in outcomes for pid in report.expired_proposals]
    assert sorted(taken) == sorted(ids)
    assert len(expired) == len(set(expired)) == CASES
    assert escalations_per_case() == dict.fromkeys(ids, 1)
    db.session.rollback()
    assert set(db.session.scalars(select(Proposal.state))) == {"expired"}
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)
                             .where(CaseEvent.type == "proposal.expired")) == CASES


def test_ticks_racing_repeatedly_never_move_a_case_twice(app, make_case, make_user, frozen_clock):
    ids = due_cases(make_case, make_user, frozen_clock, with_proposals=True)
    for _ in range(3):
        outcomes = ticks_at_once(app, workers=3)
        assert all(isinstance(o, deadlines.TickReport) for o in outcomes), outcomes
    assert escalations_per_case() == dict.fromkeys(ids, 1)


def ruled_cases(make_case, make_user, rulebook, frozen_clock) -> list[int]:
    """Cases ruled on and left unappealed until their appeal window has just closed."""
    from mediation.services import messages, rulings
    from mediation.services.actors import StaffActor

    make_user("mediator")
    make_user("mediator")
    ids = []
    for number in range(CASES):
        info = make_case()
        messages.send_message(info.actor("seller"), info.id, "joint", "Shipped.", f"m-{number}")
        case = deadlines.escalate_case(info.actor("buyer"), info.id, "We cannot agree.")
        mediator = StaffActor(case.mediator_id, "mediator")
        rulings.issue_ruling(mediator, info.id, rulings.Outcome(money("40.00"), money("60.00")),
                             "The evidence shows damage in transit.", rulebook.clause_ids[:1])
        ids.append(info.id)
    frozen_clock.move(days=5, seconds=1)
    db.session.commit()
    return ids


def test_two_ticks_at_once_make_each_unappealed_ruling_final_exactly_once(app, make_case, make_user, rulebook,
                                                                          frozen_clock):
    ids = ruled_cases(make_case, make_user, rulebook, frozen_clock)
    outcomes = ticks_at_once(app)
    assert all(isinstance(o, deadlines.TickReport) for o in outcomes), outcomes
    assert sorted(case_id for report in outcomes for case_id in report.finalized) == sorted(ids)
    db.session.rollback()
    finals = dict(db.session.execute(select(CaseEvent.case_id, func.count()).where(CaseEvent.type == "ruling.final")
                                     .group_by(CaseEvent.case_id)).all())
    assert finals == dict.fromkeys(ids, 1)
    assert set(db.session.scalars(select(Case.state).where(Case.id.in_(ids)))) == {"final"}


def test_two_ticks_at_once_send_each_reminder_exactly_once(app, make_case, make_user, frozen_clock):
    ids = [make_case().id for _ in range(CASES)]
    frozen_clock.move(days=2, hours=1)
    db.session.commit()
    outcomes = ticks_at_once(app)
    assert all(isinstance(o, deadlines.TickReport) for o in outcomes), outcomes
    assert sorted(case_id for report in outcomes for case_id in report.reminded) == sorted(ids)
    db.session.rollback()
    reminders = dict(db.session.execute(select(CaseEvent.case_id, func.count())
                                        .where(CaseEvent.type == "deadline.reminder")
                                        .group_by(CaseEvent.case_id)).all())
    assert reminders == dict.fromkeys(ids, 1)
