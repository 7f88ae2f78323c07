"""THE case state machine: the transition table, deadlines on entering a state, allowed actions."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from mediation import clock
from mediation.errors import InvalidTransition
from mediation.models import Case, CaseState
from mediation.services import policy
from mediation.services.actors import Actor

S = CaseState

TRANSITIONS: dict[tuple[CaseState, str], CaseState] = {
    (S.OPEN, "respond"): S.NEGOTIATION,
    (S.OPEN, "response_lapsed"): S.MEDIATION,
    (S.NEGOTIATION, "escalate"): S.MEDIATION,
    (S.NEGOTIATION, "negotiation_lapsed"): S.MEDIATION,
    (S.MEDIATION, "rule"): S.RULED,
    (S.RULED, "appeal"): S.APPEALED,
    (S.RULED, "appeal_lapsed"): S.FINAL,
    (S.APPEALED, "decide_appeal"): S.FINAL,
    **{(state, "settle"): S.SETTLED for state in (S.OPEN, S.NEGOTIATION, S.MEDIATION)},
    **{(state, "withdraw"): S.WITHDRAWN for state in (S.OPEN, S.NEGOTIATION, S.MEDIATION)},
    **{(state, "execute"): S.CLOSED for state in (S.SETTLED, S.FINAL, S.WITHDRAWN)},
}

# States in which the parties are still working the dispute out.
ACTIVE = frozenset({S.OPEN, S.NEGOTIATION, S.MEDIATION})
TERMINAL = frozenset({S.CLOSED})

# Which platform setting gives the deadline of each waiting state.
_DEADLINE_DAYS = {
    S.OPEN: "response_days",
    S.NEGOTIATION: "negotiation_days",
    S.MEDIATION: "mediation_days",
    S.RULED: "appeal_days",
    S.APPEALED: "mediation_days",  # the appeal mediator's time to decide
}

_STATE_NAMES = {
    "respond": _l("answered"), "escalate": _l("escalated"), "settle": _l("settled"), "withdraw": _l("withdrawn"),
    "execute": _l("closed"), "rule": _l("ruled on"), "appeal": _l("appealed"), "decide_appeal": _l("decided on appeal"),
}

# The state codes as words inside error sentences: English shows the code itself, other locales translate it.
_STATE_WORDS = {
    "open": _l("open"), "negotiation": _l("negotiation"), "mediation": _l("mediation"),
    "settled": _l("settled"), "ruled": _l("ruled"), "appealed": _l("appealed"), "final": _l("final"),
    "withdrawn": _l("withdrawn"), "closed": _l("closed"),
    # proposal states
    "accepted": _l("accepted"), "rejected": _l("rejected"), "countered": _l("countered"),
    "expired": _l("expired"), "superseded": _l("superseded"),
}


def state_word(state) -> object:
    """A case or proposal state for an error sentence (lazy; renders as the code in English)."""
    value = getattr(state, "value", state)
    return _STATE_WORDS.get(value, value)


def can_apply(case: Case, command: str) -> bool:
    return (CaseState(case.state), command) in TRANSITIONS


def apply(case: Case, command: str) -> CaseState:
    """Move `case` by `command`; set the new state's deadline. Raises InvalidTransition."""
    current = CaseState(case.state)
    target = TRANSITIONS.get((current, command))
    if target is None:
        raise InvalidTransition(_l("A case that is %(state)s cannot be %(action)s.", state=state_word(current),
                                   action=_STATE_NAMES.get(command, command)),
                                state=current.value)
    case.state = target
    case.deadline_at = deadline_for(case, target, clock.now())
    return target


def deadline_for(case: Case, state: CaseState, start: datetime) -> datetime | None:
    return deadline_under(case.platform, state, start)


def deadline_under(platform, state: CaseState, start: datetime) -> datetime | None:
    """The deadline of `state` entered at `start` under `platform`'s settings (a Platform, or a row with its
    *_days columns)."""
    setting = _DEADLINE_DAYS.get(state)
    return None if setting is None else start + timedelta(days=getattr(platform, setting))


def require_active(case: Case) -> None:
    if case.state not in ACTIVE:
        raise InvalidTransition(_l("The case is %(state)s: nothing more can be proposed or decided.",
                                   state=state_word(case.state)),
                                state=case.state)


def channel_open(case: Case, channel: str) -> bool:
    """Chat runs until the case closes; caucus channels only while a mediator is on the case."""
    if case.state == S.CLOSED:
        return False
    return channel == "joint" or case.state == S.MEDIATION


def allowed_actions(case: Case, actor: Actor) -> list[str]:
    """What the actor could do now, for pages and clients to show the right buttons."""
    checks = {
        "send_message": policy.can(actor, policy.Action.SEND_MESSAGE, case, channel="joint")
        and channel_open(case, "joint"),
        "propose": policy.can(actor, policy.Action.PROPOSE, case) and case.state in ACTIVE,
        "withdraw_case": policy.can(actor, policy.Action.WITHDRAW_CASE, case) and can_apply(case, "withdraw"),
        "confirm_execution": policy.can(actor, policy.Action.CONFIRM_EXECUTION, case)
        and can_apply(case, "execute"),
        "issue_join_link": policy.can(actor, policy.Action.ISSUE_JOIN_LINK, case) and case.state != S.CLOSED,
        "escalate": policy.can(actor, policy.Action.ESCALATE, case) and can_apply(case, "escalate"),
        "extend_deadline": policy.can(actor, policy.Action.EXTEND_DEADLINE, case) and case.state == S.MEDIATION,
        "recommend": policy.can(actor, policy.Action.RECOMMEND, case) and case.state == S.MEDIATION,
        "issue_ruling": policy.can(actor, policy.Action.ISSUE_RULING, case) and can_apply(case, "rule"),
        "appeal": policy.can(actor, policy.Action.APPEAL, case) and can_apply(case, "appeal")
        and case.deadline_at is not None and clock.now() < case.deadline_at,
        "decide_appeal": policy.can(actor, policy.Action.DECIDE_APPEAL, case) and can_apply(case, "decide_appeal"),
    }
    return [name for name, allowed in checks.items() if allowed]
