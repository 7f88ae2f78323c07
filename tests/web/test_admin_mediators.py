"""Admin pages for mediators: accounts, open case load, deactivation, conflicts of interest."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import MediatorConflict, User
from mediation.services import admin
from tests.admin_support import OUTSIDERS, PASSWORD, become, csrf_token, post, refused, sign_in_admin

NEW_MEDIATOR = {"name": "Mei Mediator", "email": "mei@example.com", "password": PASSWORD,
                "locale": "zh_Hans_CN", "timezone": "Asia/Shanghai"}


def user_by_email(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def conflicts_of(mediator_id: int) -> list[MediatorConflict]:
    db.session.expire_all()
    return list(db.session.scalars(select(MediatorConflict).where(MediatorConflict.mediator_id == mediator_id)))


def test_the_mediator_list_shows_each_mediator_with_their_open_cases(client, make_user, make_mediation_case):
    mediator = make_user("mediator", name="Mo Busy")
    make_mediation_case(mediator)
    make_user("mediator", name="Ida Idle")
    sign_in_admin(client, make_user)
    page = client.get("/admin/mediators").data.decode()
    busy = page[page.index("Mo Busy"):]
    idle = page[page.index("Ida Idle"):]
    assert "<td>1</td>" in busy[:busy.index("</tr>")] and "<td>0</td>" in idle[:idle.index("</tr>")]


def test_creating_a_mediator_makes_an_account_that_can_sign_in(client, app, make_user):
    token = sign_in_admin(client, make_user)
    response = post(client, "/admin/mediators", token, **NEW_MEDIATOR)
    assert response.status_code == 302
    user = user_by_email("mei@example.com")
    assert (user.role, user.locale, user.timezone, user.active) == ("mediator", "zh_Hans_CN", "Asia/Shanghai", True)
    other = app.test_client()
    login = csrf_token(other.get("/login"))
    assert other.post("/login", data={"email": "mei@example.com", "password": PASSWORD,
                                      "csrf_token": login}).status_code == 302


@pytest.mark.parametrize("field, value, message", [
    ("name", " ", b"Required, at most 200 characters."),
    ("email", "not-an-address", b"Not an e-mail address."),
    ("password", "too short", b"At least 10 characters."),
    ("locale", "fr", b"Not a supported language."),
    ("timezone", "Mars/Olympus", b"Use an IANA zone"),
])
def test_a_mediator_with_bad_input_is_not_created_and_the_form_says_why(client, make_user, field, value, message):
    token = sign_in_admin(client, make_user)
    page = post(client, "/admin/mediators", token, **{**NEW_MEDIATOR, field: value})
    assert page.status_code == 422 and message in page.data
    assert user_by_email("mei@example.com") is None


def test_a_taken_e_mail_is_refused_whatever_its_case(client, make_user):
    make_user("mediator", email="mei@example.com")
    token = sign_in_admin(client, make_user)
    page = post(client, "/admin/mediators", token, **{**NEW_MEDIATOR, "email": "MEI@example.com"})
    assert page.status_code == 422 and b"Already registered." in page.data
    assert db.session.scalar(select(func.count(User.id)).where(User.role == "mediator")) == 1


def test_the_form_keeps_what_was_typed_but_not_the_password(client, make_user):
    token = sign_in_admin(client, make_user)
    page = post(client, "/admin/mediators", token, **{**NEW_MEDIATOR, "email": "nope"}).data.decode()
    assert 'value="Mei Mediator"' in page and PASSWORD not in page


def test_a_deactivated_mediator_cannot_sign_in_and_is_not_assigned(client, app, make_user, make_case):
    from mediation.services import deadlines, messages

    mediator = make_user("mediator", email="gone@example.com")
    token = sign_in_admin(client, make_user)
    assert post(client, f"/admin/mediators/{mediator.user_id}/deactivate", token).status_code == 302
    assert user_by_email("gone@example.com").active is False
    info = make_case()
    messages.send_message(info.actor("seller"), info.id, "joint", "Shipped.", "c1")
    assert deadlines.escalate_case(info.actor("buyer"), info.id, "Stuck").mediator_id is None
    other = app.test_client()
    login = csrf_token(other.get("/login"))
    assert other.post("/login", data={"email": "gone@example.com", "password": PASSWORD,
                                      "csrf_token": login}).status_code == 422


def test_a_reactivated_mediator_is_active_again(client, make_user):
    mediator = make_user("mediator", email="back@example.com")
    token = sign_in_admin(client, make_user)
    post(client, f"/admin/mediators/{mediator.user_id}/deactivate", token)
    post(client, f"/admin/mediators/{mediator.user_id}/reactivate", token)
    assert user_by_email("back@example.com").active is True


def test_an_admin_account_is_not_a_mediator_to_manage_here(client, make_user):
    other_admin = make_user("admin")
    token = sign_in_admin(client, make_user)
    assert client.get(f"/admin/mediators/{other_admin.user_id}").status_code == 404
    assert post(client, f"/admin/mediators/{other_admin.user_id}/deactivate", token).status_code == 404


def test_a_conflict_with_a_platform_is_declared_and_listed(client, make_user, make_platform):
    platform = make_platform("Bazaar")
    mediator = make_user("mediator")
    token = sign_in_admin(client, make_user)
    response = post(client, f"/admin/mediators/{mediator.user_id}/conflicts", token, platform_id=str(platform.id),
                    party_external_id="", reason="Former employee")
    assert response.status_code == 302
    [conflict] = conflicts_of(mediator.user_id)
    assert (conflict.platform_id, conflict.party_external_id, conflict.reason) == (platform.id, None,
                                                                                    "Former employee")
    page = client.get(f"/admin/mediators/{mediator.user_id}").data
    assert b"Bazaar" in page and b"Former employee" in page


def test_a_conflict_with_a_party_on_any_platform_keeps_the_mediator_off_their_cases(client, make_user, make_case):
    from mediation.services import deadlines, messages

    mediator = make_user("mediator")
    token = sign_in_admin(client, make_user)
    post(client, f"/admin/mediators/{mediator.user_id}/conflicts", token, platform_id="",
         party_external_id="s-1", reason="Cousin")
    info = make_case()  # the seller's external id is s-1
    messages.send_message(info.actor("seller"), info.id, "joint", "Shipped.", "c1")
    assert deadlines.escalate_case(info.actor("buyer"), info.id, "Stuck").mediator_id is None


@pytest.mark.parametrize("data, message", [
    ({"platform_id": "", "party_external_id": "", "reason": "No idea"}, b"Name a platform, a party, or both."),
    ({"platform_id": "", "party_external_id": "s-1", "reason": ""}, b"Required, at most 500 characters."),
])
def test_an_incomplete_conflict_is_refused_on_the_form(client, make_user, data, message):
    mediator = make_user("mediator")
    token = sign_in_admin(client, make_user)
    page = post(client, f"/admin/mediators/{mediator.user_id}/conflicts", token, **data)
    assert page.status_code == 422 and message in page.data
    assert conflicts_of(mediator.user_id) == []


def test_the_same_conflict_twice_is_refused(client, make_user):
    mediator = make_user("mediator")
    token = sign_in_admin(client, make_user)
    data = {"platform_id": "", "party_external_id": "s-1", "reason": "Cousin"}
    post(client, f"/admin/mediators/{mediator.user_id}/conflicts", token, **data)
    page = post(client, f"/admin/mediators/{mediator.user_id}/conflicts", token, **data)
    assert page.status_code == 422 and b"Declared already." in page.data
    assert len(conflicts_of(mediator.user_id)) == 1


def test_a_removed_conflict_no_longer_applies(client, make_user):
    mediator = make_user("mediator")
    conflict_id = admin.declare_conflict(make_user("admin"), mediator.user_id, party_external_id="s-1",
                                         reason="Cousin")
    token = sign_in_admin(client, make_user)
    response = post(client, f"/admin/mediators/{mediator.user_id}/conflicts/{conflict_id}/remove", token)
    assert response.status_code == 302 and conflicts_of(mediator.user_id) == []


def test_another_mediators_conflict_cannot_be_removed_through_this_one(client, make_user):
    mediator, other = make_user("mediator"), make_user("mediator")
    conflict_id = admin.declare_conflict(make_user("admin"), other.user_id, party_external_id="s-1", reason="Cousin")
    token = sign_in_admin(client, make_user)
    assert post(client, f"/admin/mediators/{mediator.user_id}/conflicts/{conflict_id}/remove", token).status_code == 404
    assert len(conflicts_of(other.user_id)) == 1


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_are_refused_every_mediator_page_and_action(client, make_user, make_case, login_party, who):
    mediator = make_user("mediator")
    conflict_id = admin.declare_conflict(make_user("admin"), mediator.user_id, party_external_id="s-1", reason="X")
    token = become(who, client, make_user, make_case, login_party)
    users = db.session.scalar(select(func.count(User.id)))
    base = f"/admin/mediators/{mediator.user_id}"
    for url in ("/admin/mediators", base):
        assert refused(who, client.get(url)), url
    for url, data in [("/admin/mediators", NEW_MEDIATOR), (f"{base}/deactivate", {}), (f"{base}/reactivate", {}),
                      (f"{base}/conflicts", {"platform_id": "", "party_external_id": "b-1", "reason": "X"}),
                      (f"{base}/conflicts/{conflict_id}/remove", {})]:
        assert refused(who, post(client, url, token, **data)), url
    assert db.session.scalar(select(func.count(User.id))) == users
    assert [c.id for c in conflicts_of(mediator.user_id)] == [conflict_id]
    assert db.session.get(User, mediator.user_id).active is True
