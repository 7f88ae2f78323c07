"""Escalation, deadlines and the scheduler tick.

Every waiting state has a deadline, the same for buyer and seller. When the respondent does not answer
in time, or the negotiation runs out, the case goes to a mediator: never an automatic loss.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mediation import clock
from mediation.errors import Invalid, InvalidTransition
from mediation.extensions import db
from mediation.models import Case, CaseState, Proposal, ProposalState
from mediation.services import events, uow, workflow
from mediation.services.actors import SYSTEM, Actor
from mediation.services.cases import load
from mediation.services.mediators import pick_mediator
from mediation.services.policy import Action
from mediation.services.proposals import proposal_payload

MAX_EXTENSION_DAYS = 30
_LAPSES = {CaseState.OPEN: "response_lapsed", CaseState.NEGOTIATION: "negotiation_lapsed"}


def escalate_case(actor: Actor, case_id: int, reason: str) -> Case:
    """A party asks for a mediator. Raises NotFound, Forbidden, InvalidTransition (not negotiating),
    Invalid (no reason). Emits case.escalated and, when one is free, mediator.assigned."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_l("Say briefly why you want a mediator."), {"reason": [_l("Required.")]})
    with uow.transaction():
        case = load(actor, case_id, Action.ESCALATE)
        workflow.apply(case, "escalate")
        events.record(case, "case.escalated", actor, {"cause": "escalation", "reason": reason[:2000]})
        _assign(case, actor)
    return case


def extend_deadline(actor: Actor, case_id: int, days: int, reason: str) -> Case:
    """The mediator moves the case's deadline, for both parties alike. Raises NotFound, Forbidden,
    InvalidTransition (not in mediation), Invalid (days, reason). Emits deadline.extended."""
    errors = {}
    if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        errors["days"] = [_l("Between 1 and %(days)s days.", days=MAX_EXTENSION_DAYS)]
    if not (reason or "").strip():
        errors["reason"] = [_l("Give the parties a reason.")]
    if errors:
        raise Invalid(_l("The extension needs a number of days and a reason."), errors)
    with uow.transaction():
        case = load(actor, case_id, Action.EXTEND_DEADLINE)
        if case.state != CaseState.MEDIATION:
            raise InvalidTransition(_l("Only a case in mediation has a deadline a mediator can extend."),
                                    state=case.state)
        previous = case.deadline_at
        case.deadline_at = previous + timedelta(days=days)
        events.record(case, "deadline.extended", actor, {"days": days, "reason": reason.strip()[:2000],
                                                         "from": previous.isoformat(),
                                                         "to": case.deadline_at.isoformat()})
    return case


@dataclass
class TickReport:
    escalated: list[int] = field(default_factory=list)
    expired_proposals: list[int] = field(default_factory=list)


def tick(batch: int = 200) -> TickReport:
    """Move every case whose deadline passed and expire lapsed proposals. Idempotent; with several
    workers on PostgreSQL each due row is taken by exactly one (FOR UPDATE SKIP LOCKED)."""
    report = TickReport()
    with uow.transaction():
        now = clock.now()
        for case in db.session.scalars(_locked(select(Case).where(
                Case.state.in_(list(_LAPSES)), Case.deadline_at <= now).order_by(Case.deadline_at).limit(batch))):
            _lapse(case)
            report.escalated.append(case.id)
        # Lock the proposal's case too: expiring records an event on it, which must not race a worker
        # that holds the case (the loser's whole tick would roll back on the case's version).
        for proposal in db.session.scalars(_locked(select(Proposal).join(Case, Case.id == Proposal.case_id).where(
                Proposal.state == ProposalState.OPEN, Proposal.expires_at <= now).limit(batch),
                of=(Proposal, Case))):
            proposal.decide(ProposalState.EXPIRED, None)
            events.record(db.session.get(Case, proposal.case_id), "proposal.expired", SYSTEM,
                          {"proposal": proposal_payload(proposal)})
            report.expired_proposals.append(proposal.id)
    return report


def _locked(query, of=None):
    if db.engine.dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True, of=of)
    return query  # SQLite: one writer at a time already (BEGIN IMMEDIATE)


def _lapse(case: Case) -> None:
    state = CaseState(case.state)
    workflow.apply(case, _LAPSES[state])
    cause = "respondent_did_not_answer" if state == CaseState.OPEN else "negotiation_deadline_passed"
    # Not answering is noted on the record; it is never an automatic loss.
    events.record(case, "case.escalated", SYSTEM, {"cause": cause})
    _assign(case, SYSTEM)


def _assign(case: Case, actor: Actor) -> None:
    mediator = pick_mediator(case)
    if mediator is None:
        events.record(case, "mediator.unavailable", actor, {})
        return
    case.mediator_id = mediator.id
    events.record(case, "mediator.assigned", actor, {"mediator": {"id": mediator.id, "name": mediator.name}})
