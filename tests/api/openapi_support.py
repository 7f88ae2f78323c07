"""What the OpenAPI fuzz test needs: the schema as the app serves it, schemathesis' settings for CI, and a
small world of cases in several states so that generated requests reach real cases, proposals, files,
requests and appeals (a case id drawn at random would make nearly every answer a 404).
"""
from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import schemathesis
from PIL import Image
from sqlalchemy import insert, select, text

from mediation import create_app
from mediation.extensions import db
from mediation.models import Case, User
from mediation.money import Money
from mediation.services import checklists, deadlines, evidence, messages, proposals, requests, rulings
from mediation.services.actors import StaffActor

OPENAPI_PATH = "/api/v1/openapi.json"
# Small and fixed, so that CI runs the same requests every time and the whole file stays well under 2 minutes.
MAX_EXAMPLES = 20
SEED = 20260302
RATIONALE = "The photos show the lid was cracked before it was shipped."
GROUNDS = "The ruling ignored the courier's report of damage in transit."

CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    # Fuzzing only: the coverage phase sends hundreds of requests per operation, and the examples phase does
    # not combine with `schema.given` (the test draws the world's ids itself).
    "phases": {"examples": {"enabled": False}, "coverage": {"enabled": False},
               "stateful": {"enabled": False}, "fuzzing": {"enabled": True}},
    "generation": {
        "mode": "all",  # valid and invalid requests
        "max-examples": MAX_EXAMPLES,
        "deterministic": True,
        "database": "none",
        # The test sends the real credentials itself; random ones would only be 401s.
        "with-security-parameters": False,
    },
})


def load_schema():
    """The OpenAPI document exactly as the app serves it at /api/v1/openapi.json (read over WSGI)."""
    # Serving the document touches no table: the database file is never created.
    unused = Path(tempfile.gettempdir()) / "mediation-openapi-never-created.db"
    app = create_app({"TESTING": True, "SECRET_KEY": "openapi", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{unused}",
                      "BACKGROUND_WORKERS": False})
    return schemathesis.openapi.from_wsgi(OPENAPI_PATH, app, config=CONFIG)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


TEXT_FILE = b"Tracking number: LX123456789CN\n"


@dataclass
class World:
    """Cases of one platform in several states, the things inside them, and the credentials to call with."""

    platform_headers: dict
    # open (in negotiation, with proposals, requests and files both ways), settled, ruled, appealed, and
    # foreign (another platform's) -> case id
    cases: dict[str, int]
    # case id -> the buyer's bearer headers (a party token)
    buyers: dict[int, dict]
    # a path or body parameter naming something in a case (proposal_id, ...) -> case id -> its ids there
    children: dict[str, dict[int, list[int]]] = field(default_factory=dict)
    checklist_items: list[str] = field(default_factory=list)
    join_tokens: list[str] = field(default_factory=list)


def money(value: str) -> Money:
    return Money.parse(value, "USD")


def _ruled(make_case, platform, rulebook):
    """A case the buyer escalated after the seller answered, and its mediator's ruling."""
    info = make_case(platform)
    messages.send_message(info.actor("seller"), info.id, "joint", "I shipped it on time.", f"w-{info.id}")
    case = deadlines.escalate_case(info.actor("buyer"), info.id, "We cannot agree on a refund.")
    mediator = db.session.get(User, case.mediator_id)
    outcome = rulings.Outcome(money("40.00"), money("60.00"), False, "Refund part of the price.")
    rulings.issue_ruling(StaffActor(user_id=mediator.id, role=mediator.role, name=mediator.name), info.id, outcome,
                         RATIONALE, rulebook.clause_ids[:1])
    return info


def build_world(*, make_platform, make_case, make_user, rulebook) -> World:
    """A platform with an open case in negotiation (proposals both ways, requests both ways, an image and a
    text file), a settled case, a ruled case, an appealed case, and a case of another platform."""
    platform = make_platform()
    for _ in range(2):  # one rules, another hears the appeal
        make_user("mediator")

    current = make_case(platform)
    buyer, seller = current.actor("buyer"), current.actor("seller")
    messages.send_message(seller, current.id, "joint", "It left our warehouse intact.", "w-seller-1")
    mine = proposals.create_proposal(buyer, current.id, buyer_refund=money("100.00"), seller_release=money("0.00"),
                                     return_required=True, terms="Full refund.", counter_to=None)
    theirs = proposals.create_proposal(seller, current.id, buyer_refund=money("30.00"),
                                       seller_release=money("70.00"), return_required=False, terms="", counter_to=None)
    asked = requests.create_request(seller, current.id, kind="damage_photos", addressee="buyer", text="",
                                    due_in_days=3, channel="joint")
    asking = requests.create_request(buyer, current.id, kind="tracking_number", addressee="seller", text="",
                                     due_in_days=3, channel="joint")
    image = evidence.upload_evidence(buyer, current.id, stream=io.BytesIO(png_bytes()), filename="lid.png",
                                     caption="The cracked lid", channel="joint", checklist_item=None, request_id=None)
    text = evidence.upload_evidence(seller, current.id, stream=io.BytesIO(TEXT_FILE), filename="tracking.txt",
                                    caption="", channel="joint", checklist_item=None, request_id=None)

    settled = make_case(platform)
    offer = proposals.create_proposal(settled.actor("seller"), settled.id, buyer_refund=money("50.00"),
                                      seller_release=money("50.00"), return_required=False, terms="Half each.",
                                      counter_to=None)
    proposals.accept_proposal(settled.actor("buyer"), settled.id, offer.id)

    ruled = _ruled(make_case, platform, rulebook)
    appealed = _ruled(make_case, platform, rulebook)
    appeal = rulings.appeal_ruling(appealed.actor("buyer"), appealed.id, GROUNDS)

    foreign = make_case(make_platform())
    infos = {"open": current, "settled": settled, "ruled": ruled, "appealed": appealed, "foreign": foreign}
    db.session.commit()
    items = sorted({item.key for item in checklists.items_for(db.session.get(Case, current.id))})
    return World(
        platform_headers=platform.headers,
        cases={key: info.id for key, info in infos.items()},
        buyers={info.id: info.headers("buyer") for info in infos.values()},
        children={"proposal_id": {current.id: [mine.id, theirs.id], settled.id: [offer.id]},
                  "counter_to": {current.id: [mine.id, theirs.id]},
                  "evidence_id": {current.id: [image.id, text.id]},
                  "request_id": {current.id: [asked.id, asking.id]},
                  "appeal_id": {appealed.id: [appeal.id]}},
        checklist_items=items,
        join_tokens=[current.join_tokens["buyer"], current.join_tokens["seller"], foreign.join_tokens["buyer"]],
    )


@dataclass
class Snapshot:
    """Every row of a built world, to put back into the next test's empty database: building it through the
    services takes seconds, and the fuzz test needs a fresh one for each operation."""

    world: World
    rows: dict[str, list[dict]]

    @classmethod
    def take(cls, world: World) -> Snapshot:
        rows = {table.name: [dict(row) for row in db.session.execute(select(table)).mappings()]
                for table in db.metadata.sorted_tables}
        return cls(world, rows)

    def restore(self) -> World:
        for table in db.metadata.sorted_tables:
            if self.rows[table.name]:
                db.session.execute(insert(table), self.rows[table.name])
        if db.engine.dialect.name == "postgresql":  # the rows came with their ids: move the sequences past them
            for table in db.metadata.sorted_tables:
                if self.rows[table.name] and "id" in table.c:
                    db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                            f"(SELECT max(id) FROM {table.name}))"))
        db.session.commit()
        return self.world
