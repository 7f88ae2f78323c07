"""Staff sign-in with a password, throttled per account and per address against password guessing.

An attempt is written down as a failure *before* its password is checked, in a short transaction that
first counts the recent failures; a successful check then deletes the account's failures again. So
parallel guesses cannot all slip past the count while their password checks run: on SQLite the count
and the insert hold the one writer lock; on PostgreSQL only attempts whose few-millisecond count and
insert overlap can pass together (the slow password check is outside the transaction).
"""
from __future__ import annotations

import functools
import math
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from mediation import clock
from mediation.errors import Invalid, Throttled
from mediation.extensions import db
from mediation.models import LoginFailure, User
from mediation.services import uow

WINDOW = timedelta(minutes=15)
ACCOUNT_LIMIT = 5  # failures of one e-mail within WINDOW
ADDRESS_LIMIT = 20  # failures from one client address within WINDOW
KEEP_FAILURES = timedelta(days=1)


def authenticate(email: str, password: str, address: str) -> User:
    """The active staff account with this e-mail (any case) and password.

    Raises Throttled, without checking the password, when the account had ACCOUNT_LIMIT or the address
    ADDRESS_LIMIT failed attempts within WINDOW; `retry_after` is the seconds until it would no longer be.
    Raises Invalid with one message for an unknown e-mail, a wrong password and an inactive account, after
    the same password-hash work in each case; the failure stays recorded. On success the account's
    failures are deleted. Emits nothing.
    """
    email = email.strip().lower()
    address = (address or "")[:64]
    _record_attempt(email, address)
    # Made once per process (and method), whoever asks first, so not even the first time tells.
    dummy = _dummy_hash(current_app.config["PASSWORD_HASH_METHOD"])
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    # One hash check whether or not the account exists, so the time taken does not tell.
    matches = check_password_hash(user.password_hash if user is not None else dummy, password)
    if user is None or not matches or not user.active:
        raise Invalid(_l("The e-mail or the password is wrong."))
    with uow.transaction():
        db.session.execute(delete(LoginFailure).where(LoginFailure.email == email),
                           execution_options={"synchronize_session": False})
    return user


def purge_login_failures(older_than: timedelta = KEEP_FAILURES) -> int:
    """Delete the failures recorded more than `older_than` (at least WINDOW) ago; returns how many.

    For the scheduler tick. Raises ValueError for an `older_than` shorter than WINDOW (that would lift locks).
    """
    if older_than < WINDOW:
        raise ValueError("failures younger than the throttling window are still needed")
    with uow.transaction():
        result = db.session.execute(delete(LoginFailure).where(LoginFailure.at < clock.now() - older_than),
                                    execution_options={"synchronize_session": False})
    return result.rowcount


def _record_attempt(email: str, address: str) -> None:
    """Raise Throttled when the account or the address is over its limit; else record this attempt as a
    failure, committed (the caller deletes it on success)."""
    with uow.transaction():
        now = clock.now()
        wait = max(_seconds_until_below(LoginFailure.email == email, ACCOUNT_LIMIT, now),
                   _seconds_until_below(LoginFailure.address == address, ADDRESS_LIMIT, now))
        if wait:
            raise Throttled(_l("Too many failed sign-ins. Try again in %(minutes)s minutes.",
                               minutes=math.ceil(wait / 60)), retry_after=wait)
        db.session.add(LoginFailure(email=email, address=address, at=now))


def _seconds_until_below(condition: ColumnElement[bool], limit: int, now: datetime) -> int:
    """Seconds until fewer than `limit` failures matching `condition` are within WINDOW; 0 if already so.

    That is when the limit-th most recent one leaves the window (with exactly `limit`, the oldest)."""
    at = db.session.scalar(select(LoginFailure.at).where(condition, LoginFailure.at > now - WINDOW)
                           .order_by(LoginFailure.at.desc()).offset(limit - 1).limit(1))
    return 0 if at is None else max(1, math.ceil((at + WINDOW - now).total_seconds()))


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash of a random password, made like the real ones, to check unknown e-mails against."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)
