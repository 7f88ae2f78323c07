"""The staff sign-in page: a generic answer to wrong guesses, 429 with Retry-After when throttled, and
redirects only to paths on this site."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import LoginFailure, User
from mediation.services import uow

PASSWORD = "a long password"
GENERIC = b"The e-mail or the password is wrong."
THROTTLED = b"Too many failed sign-ins. Try again in 15 minutes."


@pytest.fixture
def app_config() -> dict:
    return {"WTF_CSRF_ENABLED": False}


def sign_in(client, email: str, password: str = PASSWORD, address: str = "127.0.0.1", next: str | None = None):
    return client.post("/login", query_string={"next": next} if next else None,
                       data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def signed_in(client) -> bool:
    return client.get("/cases").status_code == 200


def failures(email: str) -> int:
    return db.session.scalar(select(func.count(LoginFailure.id)).where(LoginFailure.email == email))


def test_the_right_password_signs_in_and_opens_the_case_list(client, make_user):
    make_user("mediator", email="mei@example.com")
    response = sign_in(client, "mei@example.com")
    assert response.status_code == 302 and response.headers["Location"] == "/cases"
    assert signed_in(client)


def test_a_wrong_password_shows_the_generic_message_with_422_and_is_recorded(client, make_user):
    make_user("mediator", email="mei@example.com")
    response = sign_in(client, "mei@example.com", "not the password")
    assert response.status_code == 422 and GENERIC in response.data
    assert failures("mei@example.com") == 1
    assert not signed_in(client)


def test_an_unknown_email_shows_the_same_message(client, make_user):
    make_user("mediator", email="mei@example.com")
    response = sign_in(client, "nobody@example.com")
    assert response.status_code == 422 and GENERIC in response.data


def test_the_sixth_attempt_within_fifteen_minutes_is_refused_with_429_even_with_the_right_password(
        client, make_user, frozen_clock):
    make_user("mediator", email="mei@example.com")
    for _ in range(5):
        assert sign_in(client, "mei@example.com", "a wrong guess").status_code == 422
    frozen_clock.move(minutes=1)
    response = sign_in(client, "mei@example.com")
    assert response.status_code == 429 and b"Try again in 14 minutes." in response.data
    assert response.headers["Retry-After"] == str(14 * 60)
    assert not signed_in(client)


def test_the_right_password_signs_in_again_once_the_window_has_passed(client, make_user, frozen_clock):
    make_user("mediator", email="mei@example.com")
    for _ in range(5):
        sign_in(client, "mei@example.com", "a wrong guess")
    frozen_clock.move(minutes=15)
    assert sign_in(client, "mei@example.com").status_code == 302
    assert signed_in(client)


def test_failures_of_one_account_do_not_lock_another(client, make_user, frozen_clock):
    make_user("mediator", email="mei@example.com")
    make_user("mediator", email="ole@example.com")
    for _ in range(5):
        sign_in(client, "mei@example.com", "a wrong guess")
    assert sign_in(client, "ole@example.com").status_code == 302


def test_twenty_failures_from_one_address_lock_that_address_for_any_account(client, make_user, frozen_clock):
    make_user("admin", email="ada@example.com")
    for n in range(20):
        assert sign_in(client, f"guess{n}@example.com", address="10.0.0.9").status_code == 422
    response = sign_in(client, "ada@example.com", address="10.0.0.9")
    assert response.status_code == 429 and THROTTLED in response.data
    assert response.headers["Retry-After"] == str(15 * 60)


def test_a_locked_address_does_not_lock_another_address(client, make_user, frozen_clock):
    make_user("admin", email="ada@example.com")
    for n in range(20):
        sign_in(client, f"guess{n}@example.com", address="10.0.0.9")
    assert sign_in(client, "ada@example.com", address="10.0.0.10").status_code == 302


def test_signing_in_clears_the_accounts_failures(client, make_user, frozen_clock):
    make_user("mediator", email="mei@example.com")
    for _ in range(4):
        sign_in(client, "mei@example.com", "a wrong guess")
    assert sign_in(client, "mei@example.com").status_code == 302
    assert failures("mei@example.com") == 0


def test_an_inactive_account_cannot_sign_in(client, make_user):
    staff = make_user("mediator", email="gone@example.com")
    with uow.transaction():
        db.session.get(User, staff.user_id).active = False
    response = sign_in(client, "gone@example.com")
    assert response.status_code == 422 and GENERIC in response.data
    assert not signed_in(client)


def test_next_leads_to_a_path_on_this_site(client, make_user):
    make_user("mediator", email="mei@example.com")
    assert sign_in(client, "mei@example.com", next="/cases?page=2").headers["Location"] == "/cases?page=2"


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example/", "/\\evil.example", "/\t/evil.example"])
def test_next_pointing_to_another_site_leads_to_the_default_page(client, make_user, target):
    make_user("mediator", email="mei@example.com")
    assert sign_in(client, "mei@example.com", next=target).headers["Location"] == "/cases"
