"""SQLite, the embedded default: WAL, foreign keys, and writers that queue instead of failing.

A deferred SQLite transaction that reads and then writes fails at once ("database is locked") when
another writer got there first. Write transactions therefore start with BEGIN IMMEDIATE, which waits
its turn; `services.uow` says when a transaction will write.
"""
from __future__ import annotations

import contextvars

from flask import Flask
from sqlalchemy import event

write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


def install(app: Flask) -> None:
    from mediation.extensions import db

    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")
