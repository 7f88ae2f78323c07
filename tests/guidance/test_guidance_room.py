"""The room's "What usually happens in cases like this" card, in the viewer's language, until the case ends."""
from __future__ import annotations

import re

from flask_babel import force_locale, gettext

from mediation.services import cases, deadlines, messages


def chinese(text: str) -> str:
    """`text` as the Chinese page shows it (no assertion waits on a translation being finished)."""
    with force_locale("zh_Hans_CN"):
        return gettext(text)


def card_of(page: bytes) -> str:
    text = page.decode()
    start = text.index('id="guidance-box"')
    return text[start:text.index("</section>", start)]


def test_a_party_sees_the_figures_of_cases_like_theirs_in_the_room(client, login_party, past_cases, alpha):
    info = past_cases.open(alpha, "damaged", "03-20 09:00")
    login_party(info, "buyer")
    card = card_of(client.get(f"/cases/{info.id}").data)
    assert "What usually happens in cases like this" in card
    assert "From 5 resolved cases about “Item arrived damaged” on this marketplace." in card
    assert "<dt>Share settled by agreement</dt><dd>60%</dd>" in card
    assert "<dt>Median days to resolution</dt><dd>3</dd>" in card
    assert "<dt>Released to the seller</dt><dd>20%</dd>" in card


def test_the_card_points_to_the_evidence_checklist_and_the_transparency_page(client, login_party, past_cases,
                                                                              alpha):
    info = past_cases.open(alpha, "damaged", "03-20 09:00")
    login_party(info, "seller")
    card = card_of(client.get(f"/cases/{info.id}").data)
    assert 'href="#checklist-box"' in card and 'href="/transparency"' in card


def test_the_card_speaks_chinese_to_a_chinese_reader(client, login_party, past_cases, alpha):
    info = past_cases.open(alpha, "damaged", "03-20 09:00")
    login_party(info, "buyer")
    card = card_of(client.get(f"/cases/{info.id}?lang=zh").data)
    assert chinese("What usually happens in cases like this") in card
    assert f"<dt>{chinese('Share settled by agreement')}</dt><dd>60%</dd>" in card
    assert f"<dt>{chinese('Median days to resolution')}</dt><dd>3</dd>" in card
    assert "协商和解占比" in card  # translated long before the card: the page really is in Chinese


def test_too_few_cases_is_said_plainly_without_a_count(client, login_party, past_cases, alpha):
    info = past_cases.open(alpha, "counterfeit", "03-20 09:00")
    login_party(info, "buyer")
    card = card_of(client.get(f"/cases/{info.id}").data)
    assert "Too few cases like this have been resolved yet" in card
    words = re.sub(r"<[^>]*>", "", card)
    assert not re.search(r"\d", words)  # two counterfeit cases on each marketplace: not even that is told


def test_the_mediator_sees_the_card_too(client, staff_login, past_cases, alpha):
    info = past_cases.open(alpha, "damaged", "03-20 09:00")
    messages.send_message(info.actor("seller"), info.id, "joint", "I shipped it.", "guidance-1")
    case = deadlines.escalate_case(info.actor("buyer"), info.id, "We cannot agree.")
    staff_login(past_cases.mediators[case.mediator_id])
    assert "From 5 resolved cases" in card_of(client.get(f"/cases/{info.id}").data)


def test_the_card_is_gone_once_the_case_has_an_outcome(client, login_party, past_cases, alpha):
    info = past_cases.open(alpha, "damaged", "03-20 09:00")
    cases.withdraw_case(info.actor("buyer"), info.id, "We sorted it out ourselves.")
    login_party(info, "buyer")
    assert b'id="guidance-box"' not in client.get(f"/cases/{info.id}").data
