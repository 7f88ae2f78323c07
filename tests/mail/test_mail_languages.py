"""Every kind of e-mail, in English and in Simplified Chinese, as a real SMTP server receives it: in the
recipient's language and time zone, as plain text and HTML.

A whole case goes through every step that mails someone: opened, a proposal, an escalation and assignment, a
recommendation, a deadline reminder, a ruling, an appeal with its assignment and decision, the outcome, and a
digest of unread messages. Everyone on it speaks one language (the test's parameter).
"""
from __future__ import annotations

import re

import pytest

from mediation.extensions import db
from mediation.models import Case, Notification
from mediation.services import deadlines, messages, notifications, proposals, rulings
from tests.conftest import money
from tests.mail.conftest import deliver, html_of, notification_id, set_person, text_of

CJK = re.compile(r"[\u4e00-\u9fff]")
ZONES = {"buyer": "America/New_York", "seller": "Asia/Shanghai"}


@pytest.fixture(params=["en", "zh_Hans_CN"])
def language(request) -> str:
    return request.param


@pytest.fixture
def whole_case(language, frozen_clock, make_case, make_user, rulebook, smtp):
    """(case id, {notification kind: [received e-mails]}) for a case that went through every mailed step."""
    mediator = make_user("mediator", locale=language, timezone="Europe/Berlin")
    info = make_case(buyer={"external_id": "b-1", "name": "Olivia Buyer", "email": "olivia@example.com"},
                     seller={"external_id": "s-1", "name": "Shen Seller", "email": "shen@example.cn"})
    for role, zone in ZONES.items():
        set_person(info.party_ids[role], language, zone)
    made = proposals.create_proposal(info.actor("seller"), info.id, buyer_refund=money("40.00"),
                                     seller_release=money("60.00"), terms="Keep the lid.")
    proposals.reject_proposal(info.actor("buyer"), info.id, made.id)
    deadlines.escalate_case(info.actor("buyer"), info.id, "We cannot agree.")
    proposals.recommend_settlement(mediator, info.id, buyer_refund=money("50.00"), seller_release=money("50.00"))
    messages.send_message(mediator, info.id, "joint", "Please send photos of the lid.", "c-photos")
    frozen_clock.move(days=13, hours=1)
    deadlines.tick()
    outcome = rulings.Outcome(money("40.00"), money("60.00"), False, "")
    rulings.issue_ruling(mediator, info.id, outcome, "The photos show a crack present on arrival.",
                         rulebook.clause_ids[:1])
    appeal_mediator = make_user("mediator", locale=language, timezone="UTC")
    appeal = rulings.appeal_ruling(info.actor("seller"), info.id, "The crack came from the buyer's handling.")
    rulings.decide_appeal(appeal_mediator, info.id, appeal.id, "uphold", "The courier's photos show the crack.",
                          rulebook.clause_ids[:1])
    deliver()
    by_kind: dict[str, list] = {}
    for message in smtp.received:
        by_kind.setdefault(db.session.get(Notification, notification_id(message)).kind, []).append(message)
    return info.id, by_kind


def test_every_kind_of_email_arrives(whole_case):
    _case_id, by_kind = whole_case
    assert sorted(by_kind) == sorted(notifications.KINDS)


def test_every_email_has_a_text_and_an_html_part(whole_case):
    _case_id, by_kind = whole_case
    for message in (m for mails in by_kind.values() for m in mails):
        assert message.get_content_type() == "multipart/alternative"
        assert text_of(message).strip() and "</html>" in html_of(message)


def test_every_email_is_in_the_recipients_language(whole_case, language):
    _case_id, by_kind = whole_case
    for message in (m for mails in by_kind.values() for m in mails):
        assert message["Content-Language"] == ("en" if language == "en" else "zh-Hans")
        # Dates (Babel) and the labels shared with the pages are Chinese already, whatever else is not yet.
        assert bool(CJK.search(text_of(message))) == (language != "en"), text_of(message)


@pytest.mark.parametrize("language", ["zh_Hans_CN"])
def test_every_chinese_email_has_a_chinese_subject(whole_case, language):
    _case_id, by_kind = whole_case
    english = [m["Subject"] for mails in by_kind.values() for m in mails if not CJK.search(m["Subject"])]
    assert english == []


def test_every_subject_carries_the_case_reference(whole_case):
    case_id, by_kind = whole_case
    reference = db.session.get(Case, case_id).reference
    assert all(reference in m["Subject"] for mails in by_kind.values() for m in mails)


def test_the_reminder_names_the_deadline_in_each_recipients_zone(whole_case, language):
    _case_id, by_kind = whole_case
    texts = {m["To"]: text_of(m) for m in by_kind["deadline.reminder"]}
    buyer = next(t for to, t in texts.items() if "olivia" in to)
    seller = next(t for to, t in texts.items() if "shen" in to)
    # The mediation deadline: 16 March 2026, 09:00 UTC (14 days after the case opened at 09:00 UTC).
    expected = {"en": ("Mar 16, 2026, 5:00:00\u202fAM (America/New_York)",
                       "Mar 16, 2026, 5:00:00\u202fPM (Asia/Shanghai)"),
                "zh_Hans_CN": ("2026年3月16日 05:00:00 (America/New_York)",
                               "2026年3月16日 17:00:00 (Asia/Shanghai)")}
    assert (expected[language][0] in buyer, expected[language][1] in seller) == (True, True)


def test_the_outcome_reads_as_refund_and_release_in_the_recipients_language(whole_case, language):
    _case_id, by_kind = whole_case
    text = text_of(by_kind["case.resolved"][0])
    if language == "en":
        assert "Refund the buyer $40.00, release $60.00 to the seller." in text
    else:
        assert "US$40.00" in text and "US$60.00" in text
