"""The one commit boundary. Effects staged with `after_commit` run only once the commit succeeded.

    with uow.transaction():
        ...change rows, record events...
    # here the rows are committed and the staged emits, outbox wake-ups and e-mails have been released

`core_transaction()` is the same boundary on a plain Connection, for hot paths that need no ORM objects (it
costs half as much): same writer queue, same BEGIN IMMEDIATE, same after-commit rule. `checked_write()` is the
chat's: on PostgreSQL its one write statement commits by itself.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from mediation.errors import Conflict
from mediation.extensions import db
from mediation.models.sqlite import write_intent

log = logging.getLogger(__name__)
# SQLite has one writer at a time. Threads of this process queue here and wake the moment the writer
# before them commits, instead of sleeping in SQLite's busy handler (which made tail latency jump).
_sqlite_writer = threading.Lock()
_PENDING = "after_commit"
_DEPTH = "uow_depth"


_core_pending: contextvars.ContextVar[list | None] = contextvars.ContextVar("core_pending", default=None)


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` after the current transaction commits; never if it rolls back."""
    pending = _core_pending.get()
    if pending is not None:
        pending.append(callback)
    else:
        db.session.info.setdefault(_PENDING, []).append(callback)


@contextmanager
def core_transaction() -> Iterator[Connection]:
    """A write transaction on a Connection of its own. Lost races raise Conflict."""
    _end_session_read()
    writer = _sqlite_writer if db.engine.dialect.name == "sqlite" else contextlib.nullcontext()
    with _staged(), writer, db.engine.connect() as connection:
        # Only this connection's BEGIN is IMMEDIATE: a read through the session meanwhile must not
        # queue behind our own write lock.
        intent = write_intent.set(True)
        try:
            transaction = connection.begin()
        finally:
            write_intent.reset(intent)
        with transaction:
            yield connection


@contextmanager
def checked_write() -> Iterator[Connection]:
    """For a command that reads what it checks, then writes in one statement (a chat message). On SQLite it is
    a core_transaction: the check holds the write lock. On PostgreSQL the Connection runs in autocommit: the
    check is one round trip and the write, which commits by itself, one more. BEGIN and COMMIT were two round
    trips more that bought nothing: under READ COMMITTED a check inside the transaction takes no lock and sees
    no more than it does alone. Every write made on it must be a single statement; after-commit callbacks run
    once the block ends without an error. Lost races raise Conflict."""
    if db.engine.dialect.name != "postgresql":
        with core_transaction() as connection:
            yield connection
        return
    _end_session_read()
    with _staged(), read_connection() as connection:
        yield connection


@contextmanager
def _staged() -> Iterator[None]:
    """The after-commit rule for a Connection's writes: callbacks staged inside run once the block has ended
    without an error (its commit done), never after one. Lost races raise Conflict."""
    pending: list = []
    staged = _core_pending.set(pending)
    try:
        yield
    except (IntegrityError, OperationalError) as error:
        _raise_lost_race(error)
        raise
    finally:
        _core_pending.reset(staged)
    _run(pending)


def _raise_lost_race(error: Exception) -> None:
    """Raise the Conflict that `error` means when it is a lost race (someone else's write got there first; on
    SQLite, a lock held too long); return for any other error, which the caller raises as it is."""
    if isinstance(error, StaleDataError | IntegrityError):
        raise Conflict(_l("Someone else changed this case at the same moment. Reload and try again.")) from error
    if isinstance(error, OperationalError) and "locked" in str(error).lower():
        raise Conflict(_l("The case is busy. Try again.")) from error


def _end_session_read() -> None:
    """End a read the session has open, so what the caller reads next through it includes this write. A
    session the command never used is not made just to ask (a chat message would make one each time)."""
    if db.session.registry.has() and db.session().in_transaction():
        db.session().commit()


@contextmanager
def read_connection() -> Iterator[Connection]:
    """A connection for one read outside any transaction, such as the API key every platform call starts
    with. On PostgreSQL it runs in autocommit: one statement sees one snapshot anyway, and the read is one
    round trip instead of three (BEGIN, the read, COMMIT)."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


@contextmanager
def transaction() -> Iterator[None]:
    """A write transaction. Nested uses join the outer one. Lost races raise Conflict."""
    session = db.session()  # the current scoped session itself
    depth = session.info.get(_DEPTH, 0)
    if depth:
        yield
        return
    if session.in_transaction():
        # End any read the adapter started, so the write begins (on SQLite: BEGIN IMMEDIATE) fresh.
        session.commit()
    token = write_intent.set(True)
    session.info[_DEPTH] = 1
    writer = _sqlite_writer if session.get_bind().dialect.name == "sqlite" else contextlib.nullcontext()
    writer.__enter__()
    try:
        yield
        session.commit()
    except BaseException as error:
        _abandon(session)
        _raise_lost_race(error)
        raise
    finally:
        writer.__exit__(None, None, None)
        session.info[_DEPTH] = 0
        write_intent.reset(token)
    _release(session)


def _abandon(session) -> None:
    session.rollback()
    session.info.pop(_PENDING, None)


def _release(session) -> None:
    _run(session.info.pop(_PENDING, []))


def _run(callbacks: list) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a failed emit must not undo or hide a committed change
            log.exception("after-commit callback failed")
