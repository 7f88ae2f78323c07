"""Two people, two languages, two time zones, one case: the seller's browser speaks Chinese in Asia/Shanghai
(the platform named the seller's language zh-CN), the buyer's English in America/New_York. They chat live; each
page shows its own language and the same deadline in its reader's own zone.

Debian's Chromium, driven by Playwright; the browser reports its zone on the first visit and the room shows
every time in it without reloading.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from mediation.extensions import db
from mediation.models import Case, Party
from tests.e2e.helpers import expect_from_other, send, wait_until_live
from tests.i18n.conftest import ZH, person, words

pytestmark = pytest.mark.e2e

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = playwright_api.expect

SHANGHAI, NEW_YORK = "Asia/Shanghai", "America/New_York"


def expected_deadline(deadline, zone: str, english: bool) -> list[str]:
    """What the room's deadline must contain in `zone`: the local day, hour and minute, and the zone's name as
    Chromium writes it (an abbreviation such as EST for English, GMT+8 for Chinese)."""
    local = deadline.astimezone(ZoneInfo(zone))
    if english:
        return [local.strftime("%b ") + str(local.day), local.strftime("%I:%M %p"), local.tzname()]
    hours = int(local.utcoffset().total_seconds() // 3600)
    return [f"{local.month}月{local.day}日", local.strftime("%H:%M"), f"GMT{hours:+d}"]


def chat(sender, receiver, text: str) -> None:
    send(sender, text)
    expect_from_other(receiver, text)


def test_each_party_reads_their_own_language_and_local_deadline_while_chatting(app, make_case, open_room):
    case = make_case(seller=person("zh-CN", "s-1"), buyer=person("en", "b-1"))
    seller = open_room(case, "seller", timezone=SHANGHAI, locale="zh-CN")
    buyer = open_room(case, "buyer", timezone=NEW_YORK, locale="en-US")
    for room in (seller, buyer):
        wait_until_live(room)

    chat(buyer, seller, "Hello, the lid arrived cracked.")
    chat(seller, buyer, "您好，请发一张照片。")

    # The page chrome, each in its reader's language.
    for text in ("Next deadline", "Conversation", "Amount in dispute"):
        expect(seller.locator("main")).to_contain_text(words(text, ZH))
        expect(buyer.locator("main")).to_contain_text(words(text, "en"))
    expect(seller.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(seller.locator("#state")).to_have_text(words("Negotiation", ZH))  # the seller answered

    # The same deadline (the negotiation's, since the seller answered), each in their own zone, the zone named;
    # one instant for both.
    db.session.expire_all()
    deadline = db.session.get(Case, case.id).deadline_at
    expect(seller.locator("#zone-picker input[name=timezone]")).to_have_value(SHANGHAI)
    expect(buyer.locator("#zone-picker input[name=timezone]")).to_have_value(NEW_YORK)
    for room, zone, english in ((seller, SHANGHAI, False), (buyer, NEW_YORK, True)):
        for part in expected_deadline(deadline, zone, english):
            expect(room.locator("#deadline time")).to_contain_text(part)
        expect(room.locator("#deadline time")).to_have_attribute("datetime", deadline.isoformat())

    db.session.expire_all()
    zones = {p.role: p.timezone for p in db.session.query(Party).filter_by(case_id=case.id)}
    assert zones == {"buyer": NEW_YORK, "seller": SHANGHAI}
    assert seller.errors == [] and buyer.errors == []
