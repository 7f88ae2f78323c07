"""Every chat message asks, per party, when the last digest e-mail went out. The answer is one entry of an index
read backwards, whatever number of digests that party has been sent about the case, so a message costs the same
in a case's first hour and in its hundredth."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, text

from mediation import clock
from mediation.extensions import db
from mediation.models import Notification
from mediation.services import notifications


def _sent_digests(case_id: int, recipient: str, count: int) -> None:
    now = clock.now()
    with db.engine.begin() as connection:
        connection.execute(insert(Notification), [
            {"case_id": case_id, "recipient": recipient, "kind": notifications.DIGEST, "payload": {},
             "created_at": now, "state": "sent", "attempts": 1, "next_attempt_at": now,
             "sent_at": now - timedelta(minutes=15 * n)} for n in range(count)])
        connection.execute(text("ANALYZE"))


def _plan(statement) -> str:
    sql = str(statement.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            return "\n".join(connection.exec_driver_sql("EXPLAIN " + sql).scalars())
        return "\n".join(row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


def test_the_last_digest_sent_to_a_party_is_read_from_the_index_alone(make_case):
    info = make_case()
    _sent_digests(info.id, "party:1", 400)

    plan = _plan(notifications._LAST_DIGEST_SENT.params(case_id=info.id, recipient="party:1"))

    if db.engine.dialect.name == "postgresql":
        assert "Index Only Scan Backward using ix_notifications_recipient" in plan, plan
    else:
        assert "COVERING INDEX ix_notifications_recipient" in plan, plan
