"""PostgreSQL connections: checked before use only when they sat idle.

Pinging every connection on checkout (SQLAlchemy's pool_pre_ping) costs one round trip per transaction: on
the chat's path, one in six. A connection that was in use seconds ago is alive; one that sat idle may have
been closed by a database restart, a failover or a firewall while nobody looked, and is pinged before use
(a dead one is replaced, and the caller never sees it). A connection that dies while busy fails that one
call as before, and SQLAlchemy then replaces every connection of the pool.
"""
from __future__ import annotations

import time

import psycopg
from flask import Flask
from sqlalchemy import event, exc

IDLE_SINCE = "idle_since"


def install(app: Flask) -> None:
    from mediation.extensions import db

    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        return
    config = app.config

    if engine.dialect.paramstyle == "numeric_dollar":  # config.NATIVE_PLACEHOLDERS
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            # Statements come with PostgreSQL's own $1 placeholders: raw cursors send them as they are.
            dbapi_connection.cursor_factory = psycopg.RawCursor
            dbapi_connection.server_cursor_factory = psycopg.RawServerCursor

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        record.info[IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, record, _proxy):
        idle_since = record.info.pop(IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < config["DATABASE_PING_AFTER_SECONDS"]:
            return  # new, or in use a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError(str(error)) from error
        if not alive:
            raise exc.DisconnectionError("the connection did not answer its ping")
