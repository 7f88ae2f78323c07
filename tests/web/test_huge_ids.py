"""A number in a path beyond what the database's integer column holds names nothing: every page answers 404
(or its sign-in refusal), never a 500 from the database."""
from __future__ import annotations

import re

import pytest

HUGE = "99999999999999999999"


def page_routes(app) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        numbered = "<id:" in rule.rule or "<int:" in rule.rule
        if "GET" in (rule.methods or set()) and numbered and not rule.rule.startswith("/api/"):
            paths.append(re.sub(r"<(?:id|int):[^>]+>", HUGE, re.sub(r"<(?!id:|int:)[^>]+>", "x", rule.rule)))
    return paths


@pytest.mark.parametrize("who", ["admin", "mediator"])
def test_every_page_with_an_id_answers_404_for_a_number_too_large(who, app, client, make_user, staff_login):
    staff_login(make_user(role=who))
    paths = page_routes(app)
    assert len(paths) > 10
    answers = {path: client.get(path).status_code for path in paths}
    assert {path: code for path, code in answers.items() if code >= 500 or code == 200} == {}
