"""CSRF on every state-changing route: each one the app has (forms and cookie-authenticated JSON calls), sent
from a signed-in browser without the session's token, is refused as such, for a party's session and for a
staff member's. Only the routes that need no session are exempt, and they are named here."""
from __future__ import annotations

import re

import pytest

from mediation.extensions import db
from mediation.models import CaseEvent

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Endpoints that take no session and so no token: the demo marketplace's webhook receiver (it checks the
# webhook signature) and the JSON document check (changes nothing; scripts post documents there).
EXEMPT = {"demo.receive", "documents.verify_json"}


def state_changing_routes(app) -> list[tuple[str, str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & UNSAFE):
            # Any id will do: the token is checked before anything is looked up.
            path = re.sub(r"<(?:([^:<>]+):)?([^<>]+)>", _placeholder, rule.rule)
            found.append((rule.endpoint, method, path))
    return found


def _placeholder(match: re.Match) -> str:
    converter, name = match.group(1) or "", match.group(2)
    if converter.startswith("any("):
        return converter[4:].split(",")[0].strip(" '\")")
    return "1" if "id" in name or converter == "int" else "x"


def refused_for_csrf(response) -> bool:
    return response.status_code == 400 and b"CSRF" in response.data


@pytest.mark.parametrize("who", ["party", "admin"])
def test_every_state_changing_route_refuses_a_signed_in_browser_without_the_token(who, app, client, make_case,
                                                                                    login_party, make_user,
                                                                                    staff_login):
    case = make_case()
    if who == "party":
        login_party(case, "buyer")
    else:
        staff_login(make_user(role="admin"))
    events_before = db.session.query(CaseEvent).count()
    routes = [r for r in state_changing_routes(app) if r[0] not in EXEMPT]
    assert len(routes) > 40  # the sweep really covers the app
    not_refused = []
    for endpoint, method, path in routes:
        response = client.open(path, method=method, json={}, headers={"Origin": "http://localhost"})
        if not refused_for_csrf(response):
            not_refused.append((endpoint, method, path, response.status_code))
    assert not_refused == []
    assert db.session.query(CaseEvent).count() == events_before


def test_the_exempt_routes_exist(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert EXEMPT - endpoints - {"demo.receive"} == set()  # the demo receiver exists in demo mode only
