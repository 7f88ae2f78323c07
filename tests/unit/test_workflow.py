"""The case state machine as a table: every (state, command) pair, where it lands and its deadline.

The expected table is written from PRODUCT.md ("The case state machine"), not copied from the code.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mediation import clock
from mediation.errors import InvalidTransition
from mediation.extensions import db
from mediation.models import Case, CaseState, Platform
from mediation.services import workflow
from mediation.services.actors import PartyActor, PlatformActor, StaffActor

S = CaseState

# Where each allowed command leads.
ALLOWED: dict[tuple[CaseState, str], CaseState] = {
    (S.OPEN, "respond"): S.NEGOTIATION,  # the respondent's first message or proposal
    (S.OPEN, "response_lapsed"): S.MEDIATION,  # "respondent did not answer": never an automatic loss
    (S.OPEN, "settle"): S.SETTLED,  # the respondent accepts the claimant's opening proposal
    (S.OPEN, "withdraw"): S.WITHDRAWN,
    (S.NEGOTIATION, "settle"): S.SETTLED,
    (S.NEGOTIATION, "escalate"): S.MEDIATION,
    (S.NEGOTIATION, "negotiation_lapsed"): S.MEDIATION,
    (S.NEGOTIATION, "withdraw"): S.WITHDRAWN,
    (S.MEDIATION, "settle"): S.SETTLED,
    (S.MEDIATION, "rule"): S.RULED,
    (S.MEDIATION, "withdraw"): S.WITHDRAWN,
    (S.SETTLED, "execute"): S.CLOSED,
    (S.RULED, "appeal"): S.APPEALED,
    (S.RULED, "appeal_lapsed"): S.FINAL,
    (S.APPEALED, "decide_appeal"): S.FINAL,
    (S.FINAL, "execute"): S.CLOSED,
    (S.WITHDRAWN, "execute"): S.CLOSED,
}

COMMANDS = ("respond", "response_lapsed", "escalate", "negotiation_lapsed", "settle", "withdraw", "rule",
            "appeal", "appeal_lapsed", "decide_appeal", "execute")

# The deadline a case gets on entering each state (platform defaults); None: nobody is waited for.
# Every waiting state has one (issue 3); the appeal mediator has the mediation period to decide.
DEADLINE_DAYS: dict[CaseState, int | None] = {
    S.OPEN: 3, S.NEGOTIATION: 7, S.MEDIATION: 14, S.RULED: 5, S.APPEALED: 14,
    S.SETTLED: None, S.WITHDRAWN: None, S.FINAL: None, S.CLOSED: None,
}

PAIRS = [(state, command) for state in S for command in COMMANDS]
ALLOWED_PAIRS = [pair for pair in PAIRS if pair in ALLOWED]
REFUSED_PAIRS = [pair for pair in PAIRS if pair not in ALLOWED]
EARLIER = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


def pair_id(pair) -> str:
    state, command = pair
    return f"{state.value}-{command}"


PRODUCT_DEFAULTS = {"response_days": 3, "negotiation_days": 7, "mediation_days": 14, "appeal_days": 5,
                    "proposal_days": 3}


@pytest.fixture
def case_in(frozen_clock):
    """A case of a platform with the product's default deadlines, in `state`, with an earlier deadline."""

    def put(state: CaseState) -> Case:
        return Case(state=state, deadline_at=EARLIER, platform=Platform(**PRODUCT_DEFAULTS))

    return put


def test_a_new_platform_has_the_product_default_deadlines(make_platform):
    platform = db.session.get(Platform, make_platform().id)
    assert {name: getattr(platform, name) for name in PRODUCT_DEFAULTS} == PRODUCT_DEFAULTS


def test_the_table_covers_every_state_and_command():
    assert len(PAIRS) == len(S) * len(COMMANDS)
    assert set(ALLOWED) <= set(PAIRS)


def test_the_workflow_allows_exactly_the_transitions_of_the_product_table():
    assert workflow.TRANSITIONS == ALLOWED


@pytest.mark.parametrize("pair", ALLOWED_PAIRS, ids=pair_id)
def test_an_allowed_command_lands_in_its_target_state(case_in, pair):
    state, command = pair
    case = case_in(state)
    assert workflow.can_apply(case, command)
    assert workflow.apply(case, command) == ALLOWED[pair]
    assert case.state == ALLOWED[pair]


@pytest.mark.parametrize("pair", ALLOWED_PAIRS, ids=pair_id)
def test_an_allowed_command_sets_the_deadline_of_the_state_it_enters(case_in, frozen_clock, pair):
    state, command = pair
    case = case_in(state)
    workflow.apply(case, command)
    days = DEADLINE_DAYS[ALLOWED[pair]]
    assert case.deadline_at == (None if days is None else frozen_clock.at + timedelta(days=days))


@pytest.mark.parametrize("pair", REFUSED_PAIRS, ids=pair_id)
def test_any_other_command_raises_invalid_transition_and_leaves_the_case_unchanged(case_in, pair):
    state, command = pair
    case = case_in(state)
    assert not workflow.can_apply(case, command)
    with pytest.raises(InvalidTransition) as error:
        workflow.apply(case, command)
    assert error.value.context == {"state": state.value}
    assert (case.state, case.deadline_at) == (state, EARLIER)


def test_an_unknown_command_raises_invalid_transition(case_in):
    case = case_in(S.OPEN)
    with pytest.raises(InvalidTransition):
        workflow.apply(case, "teleport")
    assert (case.state, case.deadline_at) == (S.OPEN, EARLIER)


@pytest.mark.parametrize(("setting", "state"), [
    ("response_days", S.OPEN), ("negotiation_days", S.NEGOTIATION), ("mediation_days", S.MEDIATION),
    ("appeal_days", S.RULED),
])
def test_deadlines_follow_the_platforms_own_settings(case_in, frozen_clock, setting, state):
    case = case_in(S.OPEN)
    setattr(case.platform, setting, 2)
    assert workflow.deadline_for(case, state, frozen_clock.at) == frozen_clock.at + timedelta(days=2)


@pytest.mark.parametrize(("state", "expected"), [
    (S.OPEN, True), (S.NEGOTIATION, True), (S.MEDIATION, True), (S.SETTLED, False), (S.RULED, False),
    (S.APPEALED, False), (S.FINAL, False), (S.WITHDRAWN, False), (S.CLOSED, False),
])
def test_only_the_open_negotiation_and_mediation_states_are_active(case_in, state, expected):
    case = case_in(state)
    if expected:
        workflow.require_active(case)
    else:
        with pytest.raises(InvalidTransition):
            workflow.require_active(case)


@pytest.mark.parametrize(("state", "joint", "caucus"), [
    (S.OPEN, True, False), (S.NEGOTIATION, True, False), (S.MEDIATION, True, True),
    (S.SETTLED, True, False), (S.RULED, True, False), (S.APPEALED, True, False), (S.FINAL, True, False),
    (S.WITHDRAWN, True, False), (S.CLOSED, False, False),
])
def test_chat_runs_until_the_case_closes_and_caucus_only_during_mediation(case_in, state, joint, caucus):
    case = case_in(state)
    assert workflow.channel_open(case, "joint") is joint
    assert workflow.channel_open(case, "caucus:buyer") is caucus
    assert workflow.channel_open(case, "caucus:seller") is caucus


def actor(name: str):
    return {"buyer": PartyActor(party_id=101, case_id=10, role="buyer"),
            "seller": PartyActor(party_id=102, case_id=10, role="seller"),
            "platform": PlatformActor(1),
            "mediator": StaffActor(user_id=3, role="mediator"),
            "appeal_mediator": StaffActor(user_id=4, role="mediator")}[name]


@pytest.mark.parametrize(("state", "who", "expected"), [
    (S.OPEN, "buyer", ["send_message", "propose", "withdraw_case"]),
    (S.OPEN, "seller", ["send_message", "propose"]),
    (S.OPEN, "platform", ["issue_join_link"]),
    (S.NEGOTIATION, "buyer", ["send_message", "propose", "withdraw_case", "escalate"]),
    (S.NEGOTIATION, "seller", ["send_message", "propose", "escalate"]),
    (S.MEDIATION, "mediator", ["send_message", "extend_deadline", "recommend", "issue_ruling"]),
    (S.MEDIATION, "seller", ["send_message", "propose"]),
    (S.SETTLED, "buyer", ["send_message"]),
    (S.SETTLED, "platform", ["confirm_execution", "issue_join_link"]),
    (S.RULED, "buyer", ["send_message", "appeal"]),
    (S.RULED, "mediator", ["send_message"]),
    (S.APPEALED, "appeal_mediator", ["send_message", "decide_appeal"]),
    (S.APPEALED, "mediator", ["send_message"]),
    (S.RULED, "platform", ["issue_join_link"]),
    (S.FINAL, "platform", ["confirm_execution", "issue_join_link"]),
    (S.WITHDRAWN, "platform", ["confirm_execution", "issue_join_link"]),
    (S.CLOSED, "buyer", []),
    (S.CLOSED, "platform", []),
])
def test_allowed_actions_offer_what_both_the_policy_and_the_state_permit(state, who, expected):
    case = Case(id=10, platform_id=1, claimant_role="buyer", state=state, mediator_id=3,
                appeal_mediator_id=4 if state == S.APPEALED else None, deadline_at=clock.now() + timedelta(days=1))
    assert workflow.allowed_actions(case, actor(who)) == expected


def test_an_appeal_is_not_offered_once_the_window_has_closed(frozen_clock):
    case = Case(id=10, platform_id=1, claimant_role="buyer", state=S.RULED, mediator_id=3,
                deadline_at=frozen_clock.at)
    assert "appeal" not in workflow.allowed_actions(case, actor("seller"))
