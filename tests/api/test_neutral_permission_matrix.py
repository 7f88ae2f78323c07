"""The neutral's endpoints × every role, through HTTP, with the case in the state each endpoint acts in.

Roles: the parties, the assigned mediator, another mediator, the appeal mediator (assigned only once the
case is appealed), an admin, another case's party, the platform, another platform, anonymous. The allowed
calls succeed; every other call fails (401 without an identity, 404 for a case the caller may not see,
403 for a case it may see but not act on) and changes nothing.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from werkzeug.security import generate_password_hash

from mediation.extensions import db
from mediation.models import Case, User
from mediation.services import deadlines, messages, rulings
from mediation.services.actors import StaffActor
from tests.api.test_permission_matrix import snapshot
from tests.conftest import CaseInfo, PlatformInfo, RulebookInfo, money

ROLES = ("buyer", "seller", "mediator", "other_mediator", "appeal_mediator", "admin", "other_party", "platform",
         "other_platform", "anonymous")
STAFF = {"mediator", "other_mediator", "appeal_mediator", "admin"}
PASSWORD = "correct horse battery"


def refused(role: str, stage: str) -> int:
    """What a caller the endpoint does not name gets: 403 if it can see the case, else 404 (401 anonymous)."""
    sees = {"buyer", "seller", "mediator", "admin", "platform"}
    if stage == "appealed":
        sees.add("appeal_mediator")
    return 401 if role == "anonymous" else 403 if role in sees else 404


@dataclass
class World:
    case: CaseInfo
    other: CaseInfo
    other_platform: PlatformInfo
    rulebook: RulebookInfo
    staff: dict[str, StaffActor]
    appeal_id: int | None = None

    def headers(self, role: str, csrf: str = "") -> dict:
        return {
            "buyer": lambda: self.case.headers("buyer"),
            "seller": lambda: self.case.headers("seller"),
            "other_party": lambda: self.other.headers("buyer"),
            "platform": lambda: self.case.platform.headers,
            "other_platform": lambda: self.other_platform.headers,
            "anonymous": dict,
        }.get(role, lambda: {"X-CSRFToken": csrf})()

    def stage(self, stage: str) -> None:
        """Bring the case from mediation to `stage` (mediation, ruled, appealed)."""
        if stage == "mediation":
            return
        outcome = rulings.Outcome(money("40.00"), money("60.00"))
        rulings.issue_ruling(self.staff["mediator"], self.case.id, outcome, RATIONALE, self.rulebook.clause_ids[:1])
        if stage == "appealed":
            appeal = rulings.appeal_ruling(self.case.actor("seller"), self.case.id, GROUNDS)
            self.appeal_id = appeal.id
            assert db.session.get(Case, self.case.id).appeal_mediator_id == self.staff["appeal_mediator"].user_id


RATIONALE = "The evidence shows the parcel was damaged in transit."
GROUNDS = "The ruling ignored the courier's damage report."


def _amounts(refund: str, release: str) -> dict:
    return {"buyer_refund": {"value": refund, "currency": "USD"},
            "seller_release": {"value": release, "currency": "USD"}}


@dataclass
class Endpoint:
    name: str
    method: str
    path: str
    stage: str
    allowed: dict[str, int]
    body: Callable[[World], dict] | None = field(default=None, repr=False)

    def url(self, world: World) -> str:
        return f"/api/v1/cases/{world.case.id}{self.path.format(appeal=world.appeal_id)}"


READERS = {"buyer": 200, "seller": 200, "mediator": 200, "admin": 200, "platform": 200}
ENDPOINTS = [
    Endpoint("read the case in mediation", "GET", "", "mediation", READERS),
    Endpoint("read the case on appeal", "GET", "", "appealed", {**READERS, "appeal_mediator": 200}),
    Endpoint("read the joint channel on appeal", "GET", "/messages?channel=joint", "appealed",
             {"buyer": 200, "seller": 200, "mediator": 200, "appeal_mediator": 200, "admin": 200}),
    Endpoint("read the buyer's caucus", "GET", "/messages?channel=caucus:buyer", "mediation",
             {"buyer": 200, "mediator": 200}),
    Endpoint("read the seller's caucus on appeal", "GET", "/messages?channel=caucus:seller", "appealed",
             {"seller": 200, "mediator": 200}),
    Endpoint("post in the seller's caucus", "POST", "/messages", "mediation", {"seller": 201, "mediator": 201},
             lambda w: {"channel": "caucus:seller", "body": "Only for the mediator", "client_id": "matrix-c"}),
    Endpoint("post in the joint channel on appeal", "POST", "/messages", "appealed",
             {"buyer": 201, "seller": 201, "mediator": 201, "appeal_mediator": 201},
             lambda w: {"channel": "joint", "body": "A question", "client_id": "matrix-j"}),
    Endpoint("extend the deadline", "POST", "/deadlines/extend", "mediation", {"mediator": 200},
             lambda w: {"days": 3, "reason": "Waiting for the courier's report"}),
    Endpoint("recommend a settlement", "POST", "/recommendations", "mediation", {"mediator": 201},
             lambda w: _amounts("50.00", "50.00")),
    Endpoint("read the rulebook", "GET", "/rulebook", "mediation", READERS),
    Endpoint("issue a ruling", "POST", "/rulings", "mediation", {"mediator": 201},
             lambda w: {**_amounts("40.00", "60.00"), "rationale": RATIONALE, "clauses": w.rulebook.clause_ids[:1]}),
    Endpoint("read the rulings", "GET", "/rulings", "ruled", READERS),
    Endpoint("appeal the ruling", "POST", "/appeals", "ruled", {"buyer": 201, "seller": 201},
             lambda w: {"grounds": GROUNDS}),
    Endpoint("decide the appeal", "POST", "/appeals/{appeal}/decision", "appealed", {"appeal_mediator": 200},
             lambda w: {"decision": "uphold", "rationale": RATIONALE, "clauses": w.rulebook.clause_ids[:1]}),
]
CELLS = [(endpoint, role, endpoint.allowed.get(role, refused(role, endpoint.stage)))
         for endpoint in ENDPOINTS for role in ROLES]
ALLOWED = [cell for cell in CELLS if cell[1] in cell[0].allowed]
DENIED = [cell for cell in CELLS if cell[1] not in cell[0].allowed]


def cell_id(cell) -> str:
    endpoint, role, status = cell
    return f"{endpoint.name.replace(' ', '_')}-{role}-{status}"


@functools.cache
def password_hash() -> str:
    return generate_password_hash(PASSWORD, method="scrypt")


def staff_member(role: str) -> StaffActor:
    """A staff account like admin.create_user makes, with the password hashed once for the whole module
    (a fresh scrypt hash per account would triple this module's run time)."""
    kind = "admin" if role == "admin" else "mediator"
    user = User(email=f"{role}@mediation.example", name=role.replace("_", " ").title(), role=kind,
                password_hash=password_hash())
    db.session.add(user)
    db.session.commit()
    return StaffActor(user.id, kind, role)


@pytest.fixture
def world(make_platform, make_case, make_rulebook) -> World:
    rulebook = make_rulebook()
    platform = make_platform(webhook_url="http://127.0.0.1:9/hooks")
    staff = {"mediator": staff_member("mediator")}
    case, other = make_case(platform=platform), make_case(platform=platform)
    messages.send_message(case.actor("seller"), case.id, "joint", "It left the warehouse intact.", "answer")
    deadlines.escalate_case(case.actor("buyer"), case.id, "We cannot agree.")
    # Created after the escalation: the appeal mediator is the least loaded when the appeal comes;
    # the other mediator is busy with another case.
    staff["appeal_mediator"] = staff_member("appeal_mediator")
    staff["other_mediator"] = staff_member("other_mediator")
    staff["admin"] = staff_member("admin")
    busy = make_case(platform=platform)
    messages.send_message(busy.actor("seller"), busy.id, "joint", "Hello", "busy")
    deadlines.escalate_case(busy.actor("buyer"), busy.id, "Stuck")  # goes to the appeal mediator (least loaded)
    db.session.get(Case, busy.id).mediator_id = staff["other_mediator"].user_id
    db.session.commit()
    return World(case, other, make_platform(), rulebook, staff)


def sign_in(client, role: str) -> str:
    page = client.get("/login").data
    marker = b'name="csrf-token" content="'
    start = page.index(marker) + len(marker)
    token = page[start:page.index(b'"', start)].decode()
    response = client.post("/login", data={"email": f"{role}@mediation.example", "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302
    return token


def call(client, world: World, endpoint: Endpoint, role: str):
    world.stage(endpoint.stage)
    csrf = sign_in(client, role) if role in STAFF else ""
    before = snapshot()
    body = endpoint.body(world) if endpoint.body else None
    response = client.open(endpoint.url(world), method=endpoint.method, json=body, headers=world.headers(role, csrf))
    return response, before


def test_the_matrix_names_known_roles_only():
    assert all(set(endpoint.allowed) <= set(ROLES) for endpoint in ENDPOINTS)


@pytest.mark.parametrize("cell", ALLOWED, ids=cell_id)
def test_an_allowed_role_succeeds(client, world, cell):
    endpoint, role, status = cell
    response, _ = call(client, world, endpoint, role)
    assert response.status_code == status, response.get_json()


@pytest.mark.parametrize("cell", DENIED, ids=cell_id)
def test_every_other_role_is_refused_and_changes_nothing(client, world, cell):
    endpoint, role, status = cell
    response, before = call(client, world, endpoint, role)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["code"] == status
    assert snapshot() == before
