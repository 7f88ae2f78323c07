"""Every time in the viewer's own zone, the zone named: the same deadline for a reader in Asia/Shanghai and one
in America/New_York, the same instant for both (the countdown)."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import session
from flask_babel import refresh

from mediation.extensions import db
from mediation.models import Case, Party
from mediation.services import preferences
from mediation.web.labels import local_time

DEADLINE = datetime(2026, 3, 9, 13, 30, tzinfo=UTC)


@contextmanager
def viewer_in(app, zone: str):
    """A request from a visitor whose browser reported `zone`."""
    with app.test_request_context():
        session["timezone"] = zone
        refresh()  # the test's app context outlives one request: forget the zone of the one before
        yield


def hour_minute(zone: str) -> str:
    return DEADLINE.astimezone(ZoneInfo(zone)).strftime("%I:%M").lstrip("0")


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York"])
def test_local_time_shows_the_deadline_in_the_viewers_zone_and_names_it(app, zone):
    with viewer_in(app, zone):
        shown = local_time(DEADLINE)
    assert shown.endswith(f"({zone})")
    assert hour_minute(zone) in shown


def test_the_same_deadline_reads_differently_in_shanghai_and_new_york(app):
    with viewer_in(app, "Asia/Shanghai"):
        shanghai = local_time(DEADLINE)
    with viewer_in(app, "America/New_York"):
        new_york = local_time(DEADLINE)
    assert "9:30" in shanghai and "PM" in shanghai and "Mar 9" in shanghai
    assert "9:30" in new_york and "AM" in new_york and "Mar 9" in new_york


def room_deadline(client, case_id: int) -> tuple[str, str]:
    """The room's deadline: its machine-readable instant and the words shown."""
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    found = re.search(r'<dd id="deadline"><time datetime="([^"]+)">([^<]+)</time>', page)
    assert found, "the room shows no deadline"
    return found.group(1), found.group(2)


def test_each_party_sees_the_rooms_deadline_in_their_own_zone(client, new_browser, make_case, login_party):
    info = make_case()
    preferences.set_time_zone(info.actor("seller"), info.id, "Asia/Shanghai", chosen=True)
    preferences.set_time_zone(info.actor("buyer"), info.id, "America/New_York", chosen=True)
    deadline = db.session.get(Case, info.id).deadline_at
    login_party(info, "seller")
    seller_at, seller_words = room_deadline(client, info.id)
    buyer_browser = new_browser()
    buyer_browser.get(f"/join/{info.join_tokens['buyer']}")
    buyer_at, buyer_words = room_deadline(buyer_browser, info.id)
    assert seller_at == buyer_at == deadline.isoformat()  # one instant: the countdown is the same for both
    # The seller reads Chinese (a 24-hour clock), the buyer English (12-hour).
    for zone, clock, shown in (("Asia/Shanghai", "%H:%M", seller_words),
                               ("America/New_York", "%I:%M", buyer_words)):
        local = deadline.astimezone(ZoneInfo(zone))
        assert shown.endswith(f"({zone})") and local.strftime(clock).lstrip("0") in shown, shown


def test_the_room_hands_the_viewers_zone_to_its_script(client, make_case, login_party):
    info = make_case()
    preferences.set_time_zone(info.actor("buyer"), info.id, "America/New_York", chosen=True)
    login_party(info, "buyer")
    page = client.get(f"/cases/{info.id}").get_data(as_text=True)
    assert '"timezone": "America/New_York"' in page


def test_the_browsers_zone_fills_in_until_the_party_picks_one(client, make_case, login_party):
    info = make_case()
    csrf = login_party(info, "buyer")
    answer = client.post("/preferences/timezone", json={"timezone": "America/New_York", "case_id": info.id},
                         headers={"X-CSRFToken": csrf}).get_json()
    assert answer == {"timezone": "America/New_York", "timezone_chosen": False}
    assert db.session.get(Party, info.party_ids["buyer"]).timezone == "America/New_York"


def test_the_browsers_zone_does_not_override_an_explicit_choice(client, make_case, login_party):
    info = make_case()
    csrf = login_party(info, "buyer")
    client.post("/preferences/timezone", json={"timezone": "Asia/Shanghai", "case_id": info.id, "chosen": True},
                headers={"X-CSRFToken": csrf})
    answer = client.post("/preferences/timezone", json={"timezone": "Europe/Berlin", "case_id": info.id},
                         headers={"X-CSRFToken": csrf}).get_json()
    assert answer == {"timezone": "Asia/Shanghai", "timezone_chosen": True}
    party = db.session.get(Party, info.party_ids["buyer"])
    assert (party.timezone, party.timezone_chosen) == ("Asia/Shanghai", True)


def test_a_later_explicit_choice_replaces_an_earlier_one(make_case):
    info = make_case()
    preferences.set_time_zone(info.actor("buyer"), info.id, "Asia/Shanghai", chosen=True)
    changed = preferences.set_time_zone(info.actor("buyer"), info.id, "Europe/Berlin", chosen=True)
    assert (changed.timezone, changed.timezone_chosen) == ("Europe/Berlin", True)


def test_a_staff_members_pages_show_times_in_their_own_zone(client, make_mediation_case, staff_login):
    info, mediator = make_mediation_case()
    preferences.set_time_zone(mediator, None, "Asia/Shanghai", chosen=True)
    staff_login(mediator)
    page = client.get("/cases").get_data(as_text=True)
    assert "(Asia/Shanghai)" in page
