"""Every party and platform endpoint × every role, through HTTP: the allowed calls succeed, every other
call fails (401 without an identity, 404 for a case the caller may not see, 403 for a case it may see
but not act on) and changes nothing.

Parties and platforms use `Authorization: Bearer` (party token, API key); staff sign in with a password
and send the session's CSRF token. An admin may look but never act; a mediator not assigned to the case
sees nothing. The case under test was opened by the buyer (the claimant) and has an open proposal by
the buyer.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import Case, CaseEvent, Message, Party, Proposal, WebhookMessage
from mediation.services import admin, cases, proposals
from tests.conftest import CaseInfo, PlatformInfo, money

ROLES = ("buyer", "seller", "other_party", "platform", "other_platform", "admin", "mediator", "anonymous")
STAFF = ("admin", "mediator")
# What a refused caller gets when the endpoint does not name its role.
REFUSED = {"buyer": 403, "seller": 403, "platform": 403, "admin": 403, "other_party": 404,
           "other_platform": 404, "mediator": 404, "anonymous": 401}


@dataclass
class World:
    case: CaseInfo
    other: CaseInfo
    other_platform: PlatformInfo
    proposal_id: int
    staff_csrf: str = ""

    def headers(self, role: str) -> dict:
        return {
            "buyer": lambda: self.case.headers("buyer"),
            "seller": lambda: self.case.headers("seller"),
            "other_party": lambda: self.other.headers("buyer"),
            "platform": lambda: self.case.platform.headers,
            "other_platform": lambda: self.other_platform.headers,
            "admin": lambda: {"X-CSRFToken": self.staff_csrf},
            "mediator": lambda: {"X-CSRFToken": self.staff_csrf},
            "anonymous": dict,
        }[role]()


def withdrawn(world: World) -> None:
    cases.withdraw_case(world.case.actor("buyer"), world.case.id, "Resolved outside")


@dataclass
class Endpoint:
    name: str
    method: str
    path: str
    allowed: dict[str, int]
    body: dict | None = None
    prepare: Callable[[World], None] | None = field(default=None, repr=False)

    def url(self, world: World) -> str:
        return "/api/v1/cases/" + str(world.case.id) + self.path.format(proposal=world.proposal_id)


PROPOSAL_BODY = {"buyer_refund": {"value": "70.00", "currency": "USD"},
                 "seller_release": {"value": "30.00", "currency": "USD"}, "terms": "Keep the item"}
PARTIES_OK = {"buyer": 200, "seller": 200}
ENDPOINTS = [
    Endpoint("read the case", "GET", "", {**PARTIES_OK, "platform": 200, "admin": 200}),
    Endpoint("read the guidance", "GET", "/guidance", {**PARTIES_OK, "platform": 200, "admin": 200}),
    Endpoint("read joint messages", "GET", "/messages?channel=joint", {**PARTIES_OK, "admin": 200}),
    Endpoint("read the buyer's caucus", "GET", "/messages?channel=caucus:buyer", {"buyer": 200}),
    Endpoint("read the seller's caucus", "GET", "/messages?channel=caucus:seller", {"seller": 200}),
    Endpoint("send a message", "POST", "/messages", {"buyer": 201, "seller": 201},
             {"channel": "joint", "body": "Any news?", "client_id": "matrix-1"}),
    Endpoint("list proposals", "GET", "/proposals", {**PARTIES_OK, "platform": 200, "admin": 200}),
    Endpoint("propose", "POST", "/proposals", {"buyer": 201, "seller": 201}, PROPOSAL_BODY),
    Endpoint("accept the buyer's proposal", "POST", "/proposals/{proposal}/accept", {"seller": 200}),
    Endpoint("reject the buyer's proposal", "POST", "/proposals/{proposal}/reject", {"seller": 200}),
    Endpoint("withdraw the buyer's proposal", "POST", "/proposals/{proposal}/withdraw", {"buyer": 200}),
    Endpoint("withdraw the case", "POST", "/withdraw", {"buyer": 200}, {"reason": "Parcel arrived"}),
    Endpoint("read the event log", "GET", "/events", {**PARTIES_OK, "platform": 200, "admin": 200}),
    Endpoint("issue a join link", "POST", "/join-links", {"platform": 201}, {"role": "seller"}),
    Endpoint("revoke the join links", "POST", "/join-links", {"platform": 201},
             {"role": "seller", "revoke_previous": True}),
    Endpoint("confirm execution", "POST", "/execution", {"platform": 200}, {"reference": "REFUND-1"},
             prepare=withdrawn),
]
CELLS = [(endpoint, role, endpoint.allowed.get(role, REFUSED[role]))
         for endpoint in ENDPOINTS for role in ROLES]
ALLOWED = [cell for cell in CELLS if cell[1] in cell[0].allowed]
DENIED = [cell for cell in CELLS if cell[1] not in cell[0].allowed]


def cell_id(cell) -> str:
    endpoint, role, status = cell
    return f"{endpoint.name.replace(' ', '_')}-{role}-{status}"


def snapshot() -> tuple:
    """Every case row's state and version, each party's link generation, each proposal's state, and
    how many messages, proposals, events and webhook messages exist."""
    db.session.rollback()  # read what the requests committed, not an older snapshot

    def rows(query):
        return tuple(map(tuple, db.session.execute(query).all()))

    def count(model):
        return db.session.scalar(select(func.count()).select_from(model))

    return (rows(select(Case.id, Case.state, Case.version).order_by(Case.id)),
            rows(select(Party.id, Party.link_generation).order_by(Party.id)),
            rows(select(Proposal.id, Proposal.state).order_by(Proposal.id)),
            tuple(count(model) for model in (Message, Proposal, CaseEvent, WebhookMessage)))


@pytest.fixture
def world(make_platform, make_case) -> World:
    platform = make_platform(webhook_url="http://127.0.0.1:9/hooks")
    case, other = make_case(platform=platform), make_case(platform=platform)
    proposal = proposals.create_proposal(case.actor("buyer"), case.id, buyer_refund=money("60.00"),
                                         seller_release=money("40.00"))
    return World(case, other, make_platform(), proposal.id)


def sign_in_staff(client, role: str) -> str:
    """Sign the test client in as a staff member with a password; returns the session's CSRF token."""
    email = f"{role}@mediation.example"
    admin.create_user(email=email, name=role.title(), role=role, password="correct horse battery")
    page = client.get("/login").data
    marker = b'name="csrf-token" content="'
    start = page.index(marker) + len(marker)
    token = page[start:page.index(b'"', start)].decode()
    response = client.post("/login", data={"email": email, "password": "correct horse battery",
                                           "csrf_token": token})
    assert response.status_code == 302
    return token


def call(client, world: World, endpoint: Endpoint, role: str):
    if endpoint.prepare:
        endpoint.prepare(world)
    if role in STAFF:
        world.staff_csrf = sign_in_staff(client, role)
    headers = world.headers(role)
    before = snapshot()
    response = client.open(endpoint.url(world), method=endpoint.method, json=endpoint.body, headers=headers)
    return response, before


def test_the_matrix_names_known_roles_only():
    assert all(set(endpoint.allowed) <= set(ROLES) for endpoint in ENDPOINTS)


@pytest.mark.parametrize("cell", ALLOWED, ids=cell_id)
def test_an_allowed_role_succeeds(client, world, cell):
    endpoint, role, status = cell
    response, _ = call(client, world, endpoint, role)
    assert response.status_code == status, response.get_json()


@pytest.mark.parametrize("cell", [cell for cell in ALLOWED if cell[0].method == "GET"], ids=cell_id)
def test_an_allowed_read_changes_nothing(client, world, cell):
    endpoint, role, _ = cell
    response, before = call(client, world, endpoint, role)
    assert response.status_code == 200
    assert snapshot() == before


@pytest.mark.parametrize("cell", DENIED, ids=cell_id)
def test_every_other_role_is_refused_and_changes_nothing(client, world, cell):
    endpoint, role, status = cell
    response, before = call(client, world, endpoint, role)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["code"] == status
    assert snapshot() == before


@pytest.mark.parametrize("cell", [cell for cell in DENIED if cell[2] == 404], ids=cell_id)
def test_a_hidden_case_looks_exactly_like_a_missing_one(client, world, cell):
    endpoint, role, _ = cell
    hidden, _ = call(client, world, endpoint, role)
    missing = client.open(endpoint.url(world).replace(f"/cases/{world.case.id}", "/cases/999999", 1),
                          method=endpoint.method, json=endpoint.body, headers=world.headers(role))
    assert (missing.status_code, missing.get_json()["message"]) == (404, hidden.get_json()["message"])


def test_a_proposal_of_another_case_is_not_found_through_this_case(client, world):
    theirs = proposals.create_proposal(world.other.actor("buyer"), world.other.id,
                                       buyer_refund=money("50.00"), seller_release=money("50.00"))
    before = snapshot()
    response = client.post(f"/api/v1/cases/{world.case.id}/proposals/{theirs.id}/accept",
                           headers=world.headers("seller"))
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("header", ["Bearer pt_forged", "Bearer mk_not-a-key", "Basic dXNlcjpwYXNz",
                                    "Bearer"])
def test_a_bad_authorization_header_is_unauthenticated_and_changes_nothing(client, world, header):
    before = snapshot()
    response = client.post(f"/api/v1/cases/{world.case.id}/withdraw", json={"reason": "x"},
                           headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert snapshot() == before


# ---- the browser session: cookies plus the CSRF token -------------------------------------------


MESSAGE = {"channel": "joint", "body": "Sent from the room page", "client_id": "cookie-1"}


def test_a_signed_in_party_posts_with_the_csrf_token(client, world, login_party):
    token = login_party(world.case, "seller")
    response = client.post(f"/api/v1/cases/{world.case.id}/messages", json=MESSAGE,
                           headers={"X-CSRFToken": token})
    assert response.status_code == 201
    assert response.get_json()["message"]["author_role"] == "seller"


def test_a_signed_in_party_reads_without_the_csrf_token(client, world, login_party):
    login_party(world.case, "buyer")
    assert client.get(f"/api/v1/cases/{world.case.id}/proposals").status_code == 200


@pytest.mark.parametrize("headers", [{}, {"X-CSRFToken": "not-the-token"}], ids=["missing", "wrong"])
def test_a_cookie_post_without_the_right_csrf_token_is_refused_and_changes_nothing(client, world, login_party,
                                                                                  headers):
    login_party(world.case, "seller")
    before = snapshot()
    response = client.post(f"/api/v1/cases/{world.case.id}/messages", json=MESSAGE, headers=headers)
    assert response.status_code == 400
    assert "CSRF" in response.get_json()["message"]
    assert snapshot() == before


def test_a_cookie_post_without_the_csrf_token_cannot_accept_a_proposal(client, world, login_party):
    login_party(world.case, "seller")
    before = snapshot()
    response = client.post(f"/api/v1/cases/{world.case.id}/proposals/{world.proposal_id}/accept")
    assert response.status_code == 400
    assert snapshot() == before


def test_a_party_signed_in_to_one_case_has_no_identity_in_another(client, world, login_party):
    token = login_party(world.case, "buyer")
    before = snapshot()
    response = client.post(f"/api/v1/cases/{world.other.id}/withdraw", json={"reason": "Not mine"},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 401
    assert snapshot() == before
