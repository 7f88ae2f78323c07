"""Staff sign-in: one answer for every wrong guess, and throttling per account and per address."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mediation.errors import Invalid, Throttled
from mediation.extensions import db
from mediation.models import LoginFailure, User
from mediation.services import accounts, uow

PASSWORD = "a long password"
HOME = "192.0.2.1"
GENERIC = "The e-mail or the password is wrong."


def fail(email: str, times: int = 1, address: str = HOME) -> None:
    for _ in range(times):
        with pytest.raises(Invalid):
            accounts.authenticate(email, "a wrong guess", address)


def failures(**where) -> int:
    db.session.expire_all()
    query = select(func.count(LoginFailure.id))
    for column, value in where.items():
        query = query.where(getattr(LoginFailure, column) == value)
    return db.session.scalar(query)


@pytest.fixture
def hash_checks(monkeypatch) -> list[str]:
    """The password hashes the service checked, in order."""
    checked: list[str] = []
    real = accounts.check_password_hash

    def check(pwhash: str, password: str) -> bool:
        checked.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(accounts, "check_password_hash", check)
    return checked


def test_the_right_password_returns_the_account(make_user):
    staff = make_user("mediator", email="mei@example.com")
    assert accounts.authenticate("mei@example.com", PASSWORD, HOME).id == staff.user_id


def test_the_email_is_matched_in_any_case(make_user):
    staff = make_user("admin", email="Ada@Example.com")
    assert accounts.authenticate("  ada@EXAMPLE.com ", PASSWORD, HOME).id == staff.user_id


def test_a_wrong_password_gets_the_generic_message_and_is_recorded(make_user, frozen_clock):
    make_user("mediator", email="mei@example.com")
    with pytest.raises(Invalid) as raised:
        accounts.authenticate("mei@example.com", "not it at all", HOME)
    assert str(raised.value.message) == GENERIC and raised.value.errors == {}
    failure = db.session.scalar(select(LoginFailure))
    assert (failure.email, failure.address, failure.at) == ("mei@example.com", HOME, frozen_clock.at)


def test_an_unknown_email_gets_the_same_message_after_the_same_hash_work(make_user, hash_checks):
    make_user("mediator", email="mei@example.com")
    with pytest.raises(Invalid) as raised:
        accounts.authenticate("nobody@example.com", PASSWORD, HOME)
    assert str(raised.value.message) == GENERIC
    assert len(hash_checks) == 1 and hash_checks[0].startswith("scrypt:")
    assert failures(email="nobody@example.com") == 1


def test_an_inactive_account_fails_like_a_wrong_password(make_user):
    staff = make_user("mediator", email="gone@example.com")
    with uow.transaction():
        db.session.get(User, staff.user_id).active = False
    with pytest.raises(Invalid) as raised:
        accounts.authenticate("gone@example.com", PASSWORD, HOME)
    assert str(raised.value.message) == GENERIC
    assert failures(email="gone@example.com") == 1


def test_the_sixth_attempt_within_the_window_is_refused_without_checking_the_password(make_user, frozen_clock,
                                                                                       hash_checks):
    make_user("mediator", email="mei@example.com")
    fail("mei@example.com", 5)
    hash_checks.clear()
    with pytest.raises(Throttled) as raised:
        accounts.authenticate("mei@example.com", PASSWORD, HOME)
    assert raised.value.retry_after == 15 * 60 and raised.value.status == 429
    assert hash_checks == []


def test_retry_after_lasts_until_the_oldest_counted_failure_leaves_the_window(make_user, frozen_clock):
    make_user("mediator", email="mei@example.com")
    fail("mei@example.com")
    frozen_clock.move(minutes=5)
    fail("mei@example.com", 4)
    frozen_clock.move(seconds=30)
    with pytest.raises(Throttled) as raised:
        accounts.authenticate("mei@example.com", PASSWORD, HOME)
    assert raised.value.retry_after == (15 - 5) * 60 - 30


def test_refused_attempts_are_not_recorded(make_user, frozen_clock):
    make_user("mediator", email="mei@example.com")
    fail("mei@example.com", 5)
    with pytest.raises(Throttled):
        accounts.authenticate("mei@example.com", "another guess", HOME)
    assert failures(email="mei@example.com") == 5


def test_the_right_password_works_again_once_the_window_has_passed(make_user, frozen_clock):
    staff = make_user("mediator", email="mei@example.com")
    fail("mei@example.com", 5)
    frozen_clock.move(minutes=14, seconds=59)
    with pytest.raises(Throttled):
        accounts.authenticate("mei@example.com", PASSWORD, HOME)
    frozen_clock.move(seconds=1)
    assert accounts.authenticate("mei@example.com", PASSWORD, HOME).id == staff.user_id


def test_failures_of_one_account_do_not_lock_another(make_user, frozen_clock):
    make_user("mediator", email="mei@example.com")
    other = make_user("mediator", email="ole@example.com")
    fail("mei@example.com", 5)
    assert accounts.authenticate("ole@example.com", PASSWORD, HOME).id == other.user_id


def test_twenty_failures_from_one_address_lock_it_for_every_account(make_user, frozen_clock):
    make_user("mediator", email="mei@example.com")
    for n in range(20):
        fail(f"guess{n}@example.com", address="10.0.0.9")
    with pytest.raises(Throttled) as raised:
        accounts.authenticate("mei@example.com", PASSWORD, "10.0.0.9")
    assert raised.value.retry_after == 15 * 60


def test_a_locked_address_does_not_lock_another_address(make_user, frozen_clock):
    staff = make_user("mediator", email="mei@example.com")
    for n in range(20):
        fail(f"guess{n}@example.com", address="10.0.0.9")
    assert accounts.authenticate("mei@example.com", PASSWORD, "10.0.0.10").id == staff.user_id


def test_signing_in_clears_the_accounts_failures_only(make_user, frozen_clock):
    make_user("mediator", email="mei@example.com")
    fail("mei@example.com", 4)
    fail("ole@example.com", 2)
    accounts.authenticate("MEI@example.com", PASSWORD, HOME)
    assert failures(email="mei@example.com") == 0
    assert failures(email="ole@example.com") == 2


def test_a_successful_sign_in_leaves_no_failure_behind(make_user):
    make_user("mediator", email="mei@example.com")
    accounts.authenticate("mei@example.com", PASSWORD, HOME)
    assert failures() == 0


def test_purging_deletes_failures_older_than_a_day_and_keeps_the_rest(make_user, frozen_clock):
    fail("old@example.com")
    frozen_clock.move(hours=23)
    fail("recent@example.com")
    frozen_clock.move(hours=1, seconds=1)
    assert accounts.purge_login_failures() == 1
    assert failures(email="old@example.com") == 0 and failures(email="recent@example.com") == 1


def test_purging_refuses_to_delete_failures_still_inside_the_window(app):
    with pytest.raises(ValueError):
        accounts.purge_login_failures(timedelta(minutes=5))


def test_production_hashes_passwords_with_full_strength_scrypt():
    from mediation.config import Defaults

    user = User()
    user.set_password(PASSWORD, Defaults.PASSWORD_HASH_METHOD)
    assert user.password_hash.startswith("scrypt:32768:8:1$")
    assert user.check_password(PASSWORD)
