"""The case log: append-only, each row chained to the one before by SHA-256.

`hash = sha256(prev_hash + canonical JSON of the row)`. Rows are never updated or deleted: the ORM
refuses it and the database refuses it (triggers created with the table and by the migration).
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import DDL, JSON, ForeignKey, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from mediation.extensions import db
from mediation.models.types import UTCDateTime

GENESIS = "0" * 64


def canonical_json(data: dict) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class CaseEvent(db.Model):
    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int]
    type: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def body(self) -> dict:
        """What the hash covers."""
        return {
            "case_id": self.case_id,
            "seq": self.seq,
            "type": self.type,
            "actor": self.actor,
            "payload": self.payload,
            "created_at": self.created_at.isoformat(timespec="microseconds"),
        }

    def compute_hash(self) -> str:
        return hashlib.sha256((self.prev_hash + canonical_json(self.body())).encode()).hexdigest()


class AppendOnlyError(RuntimeError):
    pass


@event.listens_for(CaseEvent, "before_update")
@event.listens_for(CaseEvent, "before_delete")
def _refuse_change(_mapper, _connection, target: CaseEvent) -> None:
    raise AppendOnlyError(f"case event {target.id} is on the record and cannot change")


def append_only_ddl(table: str) -> dict[str, list[str]]:
    """Triggers that make the database itself refuse to update or delete rows of `table`."""
    return {
        "sqlite": [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        ],
        "postgresql": [
            f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
        ],
    }


def make_append_only(model) -> None:
    """Refuse updates and deletes of `model`'s rows in the ORM and, once the table exists, in the database."""

    def refuse(_mapper, _connection, target) -> None:
        raise AppendOnlyError(f"{model.__tablename__} {target.id} is on the record and cannot change")

    event.listen(model, "before_update", refuse)
    event.listen(model, "before_delete", refuse)
    for dialect, statements in append_only_ddl(model.__tablename__).items():
        for statement in statements:
            event.listen(model.__table__, "after_create", DDL(statement).execute_if(dialect=dialect))


APPEND_ONLY_DDL = append_only_ddl("case_events")

for _dialect, _statements in APPEND_ONLY_DDL.items():
    for _statement in _statements:
        event.listen(CaseEvent.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect))
