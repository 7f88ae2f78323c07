"""Staff pages in the staff member's own language, remembered on their account."""
from __future__ import annotations

from mediation.extensions import db
from mediation.models import User
from tests.i18n.conftest import ZH, words


def test_the_mediators_queue_is_in_their_accounts_language(client, make_user, staff_login):
    mediator = make_user("mediator", locale=ZH)
    staff_login(mediator)
    page = client.get("/cases", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert words("Your cases", ZH) in page


def test_a_staff_members_language_choice_is_kept_on_their_account(client, make_user, staff_login):
    admin = make_user("admin")
    staff_login(admin)
    client.get("/cases?lang=zh")
    assert db.session.get(User, admin.user_id).locale == ZH

