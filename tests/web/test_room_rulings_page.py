"""The case room page as the server renders it for the neutral's part: forms by allowed action, the case's
rulebook clauses linked to their public anchors, the mediators named, and the rulings in the page's data."""
from __future__ import annotations

import json
import re

from mediation.services import rulings
from tests.conftest import money


def bootstrap(page: bytes) -> dict:
    match = re.search(rb'<script type="application/json" id="bootstrap">(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


def tag(page: str, element_id: str) -> str:
    """The opening tag of the element with `element_id`."""
    return re.search(rf'<[a-z]+ [^>]*id="{element_id}"[^>]*>', page).group(0)


def test_the_case_mediator_gets_the_ruling_form_with_the_rulebooks_clauses(client, make_mediation_case, rulebook,
                                                                           staff_login):
    case, mediator = make_mediation_case()
    staff_login(mediator)
    page = client.get(f"/cases/{case.id}").data.decode()
    for form in ("recommend-box", "rule-box"):
        assert " hidden" not in tag(page, form)
    for form in ("appeal", "decide"):
        assert " hidden" in tag(page, form)
    assert "Refund and release must add up to $100.00." in page
    boxes = re.findall(r'<input type="checkbox" name="clauses" value="(\d+)">', page)
    assert [int(b) for b in boxes] == rulebook.clause_ids * 2  # the ruling form and the decision form
    url = bootstrap(page.encode())["rulebook"]["url"]
    assert f'<a href="{url}#clause-1" target="_blank" rel="noopener">' in page
    assert re.search(r'<dd id="mediator">\s*' + re.escape(mediator.name), page)


def test_a_party_gets_the_ruling_in_the_page_and_the_appeal_form(client, make_mediation_case, rulebook,
                                                                 login_party):
    case, mediator = make_mediation_case()
    rulings.issue_ruling(mediator, case.id, rulings.Outcome(money("70.00"), money("30.00")),
                         "The photos show the lid cracked before shipping.", rulebook.clause_ids[:1])
    login_party(case, "buyer")
    page = client.get(f"/cases/{case.id}").data
    data = bootstrap(page)
    assert [r["kind"] for r in data["rulings"]] == ["ruling"]
    assert data["case"]["mediator"] == {"id": mediator.user_id, "name": mediator.name}
    assert data["allowed_actions"] == ["send_message", "appeal"]
    assert " hidden" not in tag(page.decode(), "appeal")
    assert " hidden" in tag(page.decode(), "rule-box")
    assert " hidden" not in tag(page.decode(), "decision")
