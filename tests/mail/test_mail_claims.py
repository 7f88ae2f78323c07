"""Claims: a row is held by one worker at a time, and a worker that died loses its claim, not the mail."""
from __future__ import annotations

import threading

import pytest

from mediation.extensions import db
from mediation.services import mail
from tests.mail.conftest import rows


def test_a_claimed_row_is_not_claimed_again_while_its_lease_lasts(app, make_case, frozen_clock):
    make_case()
    assert len(mail.claim_due()) == 1
    frozen_clock.move(seconds=app.config["MAIL_LEASE_SECONDS"] - 1)
    assert mail.claim_due() == []


def test_a_worker_that_died_loses_its_claim_when_the_lease_lapses(app, make_case, frozen_clock):
    info = make_case()
    mail.claim_due()
    frozen_clock.move(seconds=app.config["MAIL_LEASE_SECONDS"])
    assert [c.id for c in mail.claim_due()] == [rows(info.id, "case.opened")[0].id]


def test_two_workers_never_claim_the_same_row(app, make_case):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("concurrent claimers need PostgreSQL (FOR UPDATE SKIP LOCKED); SQLite has one writer at a time")
    for _ in range(15):
        make_case()  # one e-mail each, to the respondent
    start, claims, errors = threading.Barrier(2), [[], []], []

    def worker(n: int) -> None:
        try:
            with app.app_context():
                start.wait(5)
                while batch := mail.claim_due(limit=2):
                    claims[n].extend(c.id for c in batch)
        except Exception as error:  # reported below: an exception in a thread would pass unseen
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert set(claims[0]).isdisjoint(claims[1]) and len(claims[0]) + len(claims[1]) == 15
