"""Escalation, deadlines and the scheduler tick.

Every waiting state has a deadline, the same for buyer and seller. When the respondent does not answer
in time, or the negotiation runs out, the case goes to a mediator: never an automatic loss.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from mediation import clock
from mediation.errors import Invalid, InvalidTransition
from mediation.extensions import db
from mediation.models import Case, CaseState, Proposal, ProposalState
from mediation.services import accounts, assignment, events, rulings, uow, workflow
from mediation.services.actors import SYSTEM, Actor
from mediation.services.cases import load
from mediation.services.policy import Action
from mediation.services.proposals import proposal_payload

MAX_EXTENSION_DAYS = 30
REMINDER_BEFORE = timedelta(hours=24)
_LAPSES = {CaseState.OPEN: "response_lapsed", CaseState.NEGOTIATION: "negotiation_lapsed"}
# Waiting states whose deadline earns a reminder (services/notifications.py decides who gets it).
_REMINDED = (CaseState.OPEN, CaseState.NEGOTIATION, CaseState.MEDIATION, CaseState.RULED, CaseState.APPEALED)


def escalate_case(actor: Actor, case_id: int, reason: str) -> Case:
    """A party asks for a mediator. Raises NotFound, Forbidden, InvalidTransition (not negotiating),
    Invalid (no reason). Emits case.escalated and, when one is free, mediator.assigned."""
    with uow.transaction():
        case = load(actor, case_id, Action.ESCALATE)
        reason = (reason or "").strip()
        if not reason:
            raise Invalid(_l("Say briefly why you want a mediator."), {"reason": [_l("Required.")]})
        workflow.apply(case, "escalate")
        events.record(case, "case.escalated", actor, {"cause": "escalation", "reason": reason[:2000]})
        assignment.assign_mediator(case, actor)
    return case


def extend_deadline(actor: Actor, case_id: int, days: int, reason: str) -> Case:
    """The mediator moves the case's deadline, for both parties alike. Raises NotFound, Forbidden,
    InvalidTransition (not in mediation), Invalid (days, reason). Emits deadline.extended."""
    with uow.transaction():
        case = load(actor, case_id, Action.EXTEND_DEADLINE)
        errors = {}
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
            errors["days"] = [_l("Between 1 and %(days)s days.", days=MAX_EXTENSION_DAYS)]
        if not (reason or "").strip():
            errors["reason"] = [_l("Give the parties a reason.")]
        if errors:
            raise Invalid(_l("The extension needs a number of days and a reason."), errors)
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
    finalized: list[int] = field(default_factory=list)
    expired_proposals: list[int] = field(default_factory=list)
    reminded: list[int] = field(default_factory=list)
    assigned: list[int] = field(default_factory=list)


def tick(batch: int = 200) -> TickReport:
    """Move every case whose deadline passed, expire lapsed proposals, send the 24 h reminders and try
    again to find a mediator for cases still waiting for one. Idempotent; with several workers on
    PostgreSQL each due row is taken by exactly one (FOR UPDATE SKIP LOCKED)."""
    report = TickReport()
    with uow.transaction():
        now = clock.now()
        for case in _due(Case.state.in_([*_LAPSES, CaseState.RULED]), Case.deadline_at <= now, batch=batch):
            if case.state == CaseState.RULED:
                rulings.finalize_unappealed(case)
                report.finalized.append(case.id)
            else:
                _lapse(case)
                report.escalated.append(case.id)
        report.expired_proposals = _expire_proposals(now, batch)
        for case in _due(Case.state.in_(_REMINDED), Case.deadline_at > now,
                         Case.deadline_at <= now + REMINDER_BEFORE,
                         or_(Case.reminded_for.is_(None), Case.reminded_for != Case.deadline_at), batch=batch):
            _remind(case)
            report.reminded.append(case.id)
        for case in _due(assignment.unassigned_filter(), batch=batch):
            if assignment.retry_assignment(case, SYSTEM):
                report.assigned.append(case.id)
        accounts.purge_login_failures()
    return report


def _due(*conditions, batch: int) -> list[Case]:
    return list(db.session.scalars(_locked(select(Case).where(*conditions)
                                           .order_by(Case.deadline_at, Case.id).limit(batch))))


def _expire_proposals(now, batch: int) -> list[int]:
    expired = []
    # Lock the proposal's case too: expiring records an event on it, which must not race a worker
    # that holds the case (the loser's whole tick would roll back on the case's version).
    for proposal in db.session.scalars(_locked(select(Proposal).join(Case, Case.id == Proposal.case_id).where(
            Proposal.state == ProposalState.OPEN, Proposal.expires_at <= now).limit(batch), of=(Proposal, Case))):
        proposal.decide(ProposalState.EXPIRED, None)
        events.record(db.session.get(Case, proposal.case_id), "proposal.expired", SYSTEM,
                      {"proposal": proposal_payload(proposal)})
        expired.append(proposal.id)
    return expired


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
    assignment.assign_mediator(case, SYSTEM)


def _remind(case: Case) -> None:
    """One reminder per deadline; the event bus mails it to both parties alike (and whoever decides by it)."""
    case.reminded_for = case.deadline_at
    events.record(case, "deadline.reminder", SYSTEM, {"state": case.state, "deadline_at": case.deadline_at.isoformat()})
