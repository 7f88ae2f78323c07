"""Who may do what to which case: `policy.can` as a table of actor × action (× channel, × proposal).

The expected answers are written from PRODUCT.md ("People", "Channels"), not copied from the code:
- the parties act in their own case; only the claimant withdraws it; a proposal is answered by the side it
  is addressed to (both parties for a mediator's recommendation) and withdrawn only by its author;
- `caucus:buyer` / `caucus:seller` are that party and the mediator only;
- the platform follows state, outcome and log of its own cases, issues join links and confirms execution,
  but neither reads nor joins the parties' conversation;
- an admin may look at a case but never changes one; a mediator sees nothing until assigned;
- the assigned mediator reads and writes the joint channel and both caucuses, extends deadlines,
  recommends a settlement (and may withdraw it) and rules;
- the appeal mediator sees the case and the joint channel (never a caucus) and decides the appeal;
- either party may ask for a mediator (escalate) and appeal a ruling; an admin reassigns mediators;
- a party asks the other party for evidence, the case's mediator asks either; only the party asked answers
  a request and only who asked cancels it; each party answers its own evidence checklist;
- the parties and the case's mediator put files on the record where they may post; a file is seen by whoever
  reads its channel (the platform reads none) and withdrawn from view by its uploader or the case's mediator.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mediation.errors import Forbidden, NotFound
from mediation.extensions import db
from mediation.models import Case, Evidence, EvidenceRequest, Proposal
from mediation.services import policy
from mediation.services.actors import ANONYMOUS, SYSTEM, PartyActor, PlatformActor, StaffActor
from mediation.services.policy import Action

ACTORS = ("buyer", "seller", "other_party", "platform", "other_platform", "admin", "mediator",
          "assigned_mediator", "appeal_mediator", "anonymous")

# A proposal made by this author, for the proposal-specific actions.
PROPOSALS = ("by_buyer", "by_seller", "by_mediator")
# A structured request: who asked whom, for the request-specific actions.
REQUESTS = ("buyer_asks_seller", "seller_asks_buyer", "mediator_asks_buyer")
# A file on the record, by who uploaded it, for the evidence-specific actions.
EVIDENCE = ("buyers_file", "sellers_file", "mediators_file")


def row(action, channel=None, proposal=None, *, request=None, evidence=None, allowed):
    """One action (with its channel, proposal, request or file) and the actors allowed to do it."""
    return action, channel, proposal, request, evidence, frozenset(allowed)


PARTIES = {"buyer", "seller"}
VIEWERS = {"buyer", "seller", "platform", "admin", "assigned_mediator", "appeal_mediator"}
NEUTRAL = {"assigned_mediator"}
APPEAL = {"appeal_mediator"}  # decides the appeal; sees the open record, never a caucus
TABLE = [
    row(Action.VIEW_CASE, allowed=VIEWERS),
    row(Action.VIEW_EVENTS, allowed=VIEWERS),
    row(Action.READ_CHANNEL, "joint", allowed=PARTIES | {"admin"} | NEUTRAL | APPEAL),
    row(Action.READ_CHANNEL, "caucus:buyer", allowed={"buyer"} | NEUTRAL),
    row(Action.READ_CHANNEL, "caucus:seller", allowed={"seller"} | NEUTRAL),
    row(Action.READ_CHANNEL, "caucus:mediator", allowed=()),
    row(Action.SEND_MESSAGE, "joint", allowed=PARTIES | NEUTRAL | APPEAL),
    row(Action.SEND_MESSAGE, "caucus:buyer", allowed={"buyer"} | NEUTRAL),
    row(Action.SEND_MESSAGE, "caucus:seller", allowed={"seller"} | NEUTRAL),
    row(Action.SEND_MESSAGE, None, allowed=()),
    row(Action.PROPOSE, allowed=PARTIES),
    row(Action.ANSWER_PROPOSAL, proposal="by_buyer", allowed={"seller"}),
    row(Action.ANSWER_PROPOSAL, proposal="by_seller", allowed={"buyer"}),
    row(Action.ANSWER_PROPOSAL, proposal="by_mediator", allowed=PARTIES),
    row(Action.ANSWER_PROPOSAL, proposal=None, allowed=()),
    row(Action.WITHDRAW_PROPOSAL, proposal="by_buyer", allowed={"buyer"}),
    row(Action.WITHDRAW_PROPOSAL, proposal="by_seller", allowed={"seller"}),
    row(Action.WITHDRAW_PROPOSAL, proposal="by_mediator", allowed=NEUTRAL),
    row(Action.WITHDRAW_PROPOSAL, proposal=None, allowed=()),
    row(Action.WITHDRAW_CASE, allowed={"buyer"}),  # the buyer opened this dispute
    row(Action.ISSUE_JOIN_LINK, allowed={"platform"}),
    row(Action.CONFIRM_EXECUTION, allowed={"platform"}),
    row(Action.ESCALATE, allowed=PARTIES),
    row(Action.EXTEND_DEADLINE, allowed=NEUTRAL),
    row(Action.RECOMMEND, allowed=NEUTRAL),
    row(Action.ISSUE_RULING, allowed=NEUTRAL),
    row(Action.APPEAL, allowed=PARTIES),
    row(Action.DECIDE_APPEAL, allowed=APPEAL),
    row(Action.REASSIGN, allowed={"admin"}),
    row(Action.UPLOAD_EVIDENCE, "joint", allowed=PARTIES | NEUTRAL),
    row(Action.UPLOAD_EVIDENCE, "caucus:buyer", allowed={"buyer"} | NEUTRAL),
    row(Action.UPLOAD_EVIDENCE, "caucus:seller", allowed={"seller"} | NEUTRAL),
    row(Action.UPLOAD_EVIDENCE, None, allowed=()),
    row(Action.VIEW_EVIDENCE, "joint", allowed=PARTIES | {"admin"} | NEUTRAL | APPEAL),
    row(Action.VIEW_EVIDENCE, "caucus:buyer", allowed={"buyer"} | NEUTRAL),
    row(Action.VIEW_EVIDENCE, "caucus:seller", allowed={"seller"} | NEUTRAL),
    row(Action.WITHDRAW_EVIDENCE, evidence="buyers_file", allowed={"buyer"} | NEUTRAL),
    row(Action.WITHDRAW_EVIDENCE, evidence="sellers_file", allowed={"seller"} | NEUTRAL),
    row(Action.WITHDRAW_EVIDENCE, evidence="mediators_file", allowed=NEUTRAL),
    row(Action.WITHDRAW_EVIDENCE, evidence=None, allowed=()),
    row(Action.REQUEST_EVIDENCE, allowed=PARTIES | NEUTRAL),
    row(Action.ANSWER_REQUEST, request="buyer_asks_seller", allowed={"seller"}),
    row(Action.ANSWER_REQUEST, request="seller_asks_buyer", allowed={"buyer"}),
    row(Action.ANSWER_REQUEST, request="mediator_asks_buyer", allowed={"buyer"}),
    row(Action.ANSWER_REQUEST, request=None, allowed=()),
    row(Action.CANCEL_REQUEST, request="buyer_asks_seller", allowed={"buyer"}),
    row(Action.CANCEL_REQUEST, request="seller_asks_buyer", allowed={"seller"}),
    row(Action.CANCEL_REQUEST, request="mediator_asks_buyer", allowed=NEUTRAL),
    row(Action.CANCEL_REQUEST, request=None, allowed=()),
    row(Action.ANSWER_CHECKLIST, allowed=PARTIES),
    # Not done to a case: one's own language and zone (policy.require_own; tests/i18n).
    row(Action.CHANGE_PREFERENCES, allowed=()),
    row(Action.VIEW_DOCUMENT, allowed=VIEWERS),  # settlement and ruling documents (services/documents.py)
]
CELLS = [(actor, action, channel, proposal, request, evidence, actor in allowed)
         for action, channel, proposal, request, evidence, allowed in TABLE for actor in ACTORS]


def cell_id(cell) -> str:
    actor, action, channel, proposal, request, evidence, allowed = cell
    what = "-".join(str(part) for part in (action.value, channel, proposal, request, evidence) if part)
    return f"{actor}-{what}-{'allowed' if allowed else 'refused'}"


CASE_ID, OTHER_CASE_ID, PLATFORM_ID, OTHER_PLATFORM_ID = 10, 11, 1, 2


@pytest.fixture
def world():
    """A case (the buyer is the claimant), a party of another case of the same platform, and another
    platform: plain objects, since the policy decides from ids and roles alone."""
    case = Case(id=CASE_ID, platform_id=PLATFORM_ID, claimant_role="buyer", mediator_id=3, appeal_mediator_id=4)
    actors = {
        "buyer": PartyActor(party_id=101, case_id=CASE_ID, role="buyer"),
        "seller": PartyActor(party_id=102, case_id=CASE_ID, role="seller"),
        "other_party": PartyActor(party_id=201, case_id=OTHER_CASE_ID, role="buyer"),
        "platform": PlatformActor(PLATFORM_ID),
        "other_platform": PlatformActor(OTHER_PLATFORM_ID),
        "admin": StaffActor(user_id=1, role="admin"),
        "mediator": StaffActor(user_id=2, role="mediator"),
        "assigned_mediator": StaffActor(user_id=3, role="mediator"),
        "appeal_mediator": StaffActor(user_id=4, role="mediator"),
        "anonymous": ANONYMOUS,
    }
    proposals = {f"by_{author}": Proposal(case_id=CASE_ID, author_role=author)
                 for author in ("buyer", "seller", "mediator")}
    proposals[None] = None
    return case, actors, proposals


@pytest.fixture
def requests_by():
    """Open structured requests of the case (the actors' keys as in `world`), by who asked whom."""
    def made(requester, requester_role, addressee_role):
        return EvidenceRequest(case_id=CASE_ID, kind="tracking_number", requester=requester,
                               requester_role=requester_role, addressee_role=addressee_role, state="open")

    return {"buyer_asks_seller": made("party:101", "buyer", "seller"),
            "seller_asks_buyer": made("party:102", "seller", "buyer"),
            "mediator_asks_buyer": made("user:3", "mediator", "buyer"), None: None}


@pytest.fixture
def evidence_by():
    """Files on the record of the case (the uploaders' keys as in `world`), by who uploaded them."""
    def made(uploader, role):
        return Evidence(case_id=CASE_ID, channel="joint", uploader=uploader, uploader_role=role)

    return {"buyers_file": made("party:101", "buyer"), "sellers_file": made("party:102", "seller"),
            "mediators_file": made("user:3", "mediator"), None: None}


def test_the_table_names_every_action():
    assert {action for action, *_ in TABLE} == set(Action)


@pytest.mark.parametrize("cell", CELLS, ids=cell_id)
def test_policy_can_answers_the_permission_table(world, requests_by, evidence_by, cell):
    actor, action, channel, proposal, request, evidence, allowed = cell
    case, actors, proposals = world
    assert policy.can(actors[actor], action, case, channel=channel, proposal=proposals[proposal],
                      request=requests_by[request], evidence=evidence_by[evidence]) is allowed


@pytest.mark.parametrize("actor", ACTORS)
def test_readable_channels_agree_with_the_read_channel_rows(world, actor):
    case, actors, _ = world
    expected = {channel for action, channel, *_, allowed in TABLE
                if action is Action.READ_CHANNEL and actor in allowed}
    assert set(policy.readable_channels(actors[actor], case)) == expected


@pytest.mark.parametrize("claimant", ["buyer", "seller"])
def test_only_the_claimant_may_withdraw_the_case(world, claimant):
    _, actors, _ = world
    case = Case(id=CASE_ID, platform_id=PLATFORM_ID, claimant_role=claimant, mediator_id=3)
    assert {role for role in ("buyer", "seller")
            if policy.can(actors[role], Action.WITHDRAW_CASE, case)} == {claimant}


def test_the_scheduler_acts_through_the_workflow_and_has_no_permissions(world):
    case, _, proposals = world
    assert not any(policy.can(SYSTEM, action, case, channel="joint", proposal=proposals["by_buyer"])
                   for action in Action)


def test_a_party_of_another_case_gets_nothing_even_with_the_same_party_id_and_role(world):
    case, actors, _ = world
    stranger = PartyActor(party_id=actors["buyer"].party_id, case_id=OTHER_CASE_ID, role="buyer")
    assert not any(policy.can(stranger, action, case, channel="joint") for action in Action)


@pytest.mark.parametrize(("actor", "error"), [
    ("other_party", NotFound), ("other_platform", NotFound), ("mediator", NotFound), ("anonymous", NotFound),
    ("seller", Forbidden), ("platform", Forbidden), ("admin", Forbidden),
])
def test_require_hides_the_case_from_those_who_may_not_see_it_and_forbids_the_rest(world, actor, error):
    case, actors, _ = world
    with pytest.raises(error):
        policy.require(actors[actor], Action.WITHDRAW_CASE, case)


def test_require_treats_a_missing_case_like_a_hidden_one(world):
    _, actors, _ = world
    with pytest.raises(NotFound):
        policy.require(actors["admin"], Action.VIEW_CASE, None)


def test_require_returns_the_case_when_allowed(world):
    case, actors, _ = world
    assert policy.require(actors["buyer"], Action.WITHDRAW_CASE, case) is case


@pytest.mark.parametrize(("actor", "sees"), [
    ("buyer", {"case"}), ("seller", {"case"}), ("other_party", {"other"}), ("platform", {"case", "other"}),
    ("other_platform", {"theirs"}), ("admin", {"case", "other", "theirs"}), ("mediator", set()),
    ("anonymous", set()),
])
def test_visible_cases_lists_what_each_actor_may_see(make_platform, make_case, actor, sees):
    platform, other_platform = make_platform(), make_platform()
    info, other = make_case(platform=platform), make_case(platform=platform)
    theirs = make_case(platform=other_platform)
    actors = {
        "buyer": info.actor("buyer"), "seller": info.actor("seller"), "other_party": other.actor("buyer"),
        "platform": platform.actor, "other_platform": other_platform.actor,
        "admin": StaffActor(user_id=1, role="admin"), "mediator": StaffActor(user_id=2, role="mediator"),
        "anonymous": ANONYMOUS,
    }
    names = {info.id: "case", other.id: "other", theirs.id: "theirs"}
    visible = db.session.scalars(select(Case.id).where(policy.visible_cases(actors[actor]))).all()
    assert {names[case_id] for case_id in visible} == sees
