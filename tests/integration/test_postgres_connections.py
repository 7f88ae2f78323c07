"""PostgreSQL's pooled connections: one that sat idle is pinged before use, so a connection the server closed
meanwhile (a restart, a failover) is replaced without the caller seeing it; one in use a moment ago is not
pinged (that round trip was one in six of a chat message's). Statements carry PostgreSQL's own placeholders,
so psycopg sends them without parsing them again (config.NATIVE_PLACEHOLDERS)."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import OperationalError

from mediation.extensions import db
from mediation.models import Platform
from tests.conftest import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="MEDIATION_TEST_DATABASE_URL not set: PostgreSQL's pool")


@pytest.fixture
def app_config() -> dict:
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0}}


@pytest.fixture
def pings(monkeypatch) -> list[int]:
    """Counts the pings the pool sends."""
    sent: list[int] = []
    ping = db.engine.dialect.do_ping

    def counted(dbapi_connection):
        sent.append(1)
        return ping(dbapi_connection)

    monkeypatch.setattr(db.engine.dialect, "do_ping", counted)
    return sent


def _backend_pid() -> int:
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar()


def _terminate(pid: int) -> None:
    """As a server restart would: from outside, the pooled connection's backend goes away."""
    other = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with other.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()


def test_an_idle_connection_the_server_closed_is_replaced_before_anyone_uses_it(app, pings):
    dead = _backend_pid()
    app.config["DATABASE_PING_AFTER_SECONDS"] = 0  # every pause counts as idle
    _terminate(dead)

    assert _backend_pid() != dead
    assert pings == [1]


def test_a_connection_in_use_a_moment_ago_is_not_pinged(app, pings):
    app.config["DATABASE_PING_AFTER_SECONDS"] = 60
    first = _backend_pid()

    assert _backend_pid() == first
    assert pings == []


def test_a_connection_that_died_while_in_use_fails_one_call_and_the_pool_recovers(app, pings):
    app.config["DATABASE_PING_AFTER_SECONDS"] = 60
    dead = _backend_pid()
    _terminate(dead)

    with pytest.raises(OperationalError):
        _backend_pid()
    assert _backend_pid() != dead


@pytest.fixture
def sent() -> list[str]:
    """The statements as the engine hands them to psycopg."""
    statements: list[str] = []

    def note(_connection, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    yield statements
    event.remove(db.engine, "before_cursor_execute", note)


def test_a_statement_reaches_postgresql_with_its_own_numbered_placeholders(app, sent):
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT :a + :b"), {"a": 2, "b": 3}).scalar() == 5

    assert sent[-1] == "SELECT $1 + $2"


def test_a_percent_sign_in_a_statement_is_sent_as_written(app):
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT '100%' || :unit"), {"unit": " sure"}).scalar() == "100% sure"


def test_a_streamed_read_binds_its_parameters_on_a_server_side_cursor(app, make_platform):
    platform = make_platform("Streamed marketplace")
    with db.engine.connect() as connection:
        rows = connection.execution_options(stream_results=True, yield_per=10).execute(
            select(Platform.id, Platform.name).where(Platform.id == platform.id)).all()

    assert rows == [(platform.id, "Streamed marketplace")]
