"""Settlement proposals: propose, counter, accept, reject, withdraw; the mediator's recommendation.

A party's proposal needs the other party's acceptance; a mediator's recommendation needs both parties'.
A newer proposal from the same author supersedes their open one; a counter-offer marks the proposal it
answers as countered. The last acceptance needed settles the case.
"""
from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mediation import clock
from mediation.errors import Invalid, InvalidTransition, NotFound
from mediation.extensions import db
from mediation.models import Case, CaseState, Proposal, ProposalState
from mediation.money import Money
from mediation.services import events, uow, workflow
from mediation.services.actors import Actor, PartyActor
from mediation.services.cases import load, outcome_payload
from mediation.services.messages import note_response
from mediation.services.policy import Action


def create_proposal(actor: Actor, case_id: int, *, buyer_refund: Money, seller_release: Money,
                    return_required: bool = False, terms: str = "", counter_to: int | None = None) -> Proposal:
    """Raises NotFound, Forbidden, InvalidTransition, Invalid (money not conserved, wrong currency,
    bad counter_to). Emits proposal.created (and case.negotiation_started for a first answer)."""
    with uow.transaction():
        case = load(actor, case_id, Action.PROPOSE)
        workflow.require_active(case)
        check_money(case, buyer_refund, seller_release)
        answered = _answerable(case, counter_to, actor) if counter_to else None
        now = clock.now()
        for own in _open_proposals(case, author_role=actor.role):
            own.decide(ProposalState.SUPERSEDED, actor.role)
        if answered is not None:
            answered.decide(ProposalState.COUNTERED, actor.role)
        proposal = Proposal(case_id=case.id, author_role=actor.role, refund_minor=buyer_refund.minor,
                            release_minor=seller_release.minor, currency=case.currency,
                            return_required=return_required, terms=terms.strip(), counter_to_id=counter_to,
                            expires_at=now + timedelta(days=case.platform.proposal_days), created_at=now)
        db.session.add(proposal)
        db.session.flush()
        note_response(case, actor)
        events.record(case, "proposal.created", actor, {"proposal": proposal_payload(proposal)})
    return proposal


def recommend_settlement(actor: Actor, case_id: int, *, buyer_refund: Money, seller_release: Money,
                         return_required: bool = False, terms: str = "") -> Proposal:
    """The mediator recommends a settlement; it settles the case only when both parties accept it.

    Raises NotFound, Forbidden, InvalidTransition (not in mediation), Invalid (money). Emits proposal.created.
    """
    with uow.transaction():
        case = load(actor, case_id, Action.RECOMMEND)
        if case.state != CaseState.MEDIATION:
            raise InvalidTransition(_l("A mediator can only recommend a settlement while the case is in mediation."),
                                    state=case.state)
        check_money(case, buyer_refund, seller_release)
        now = clock.now()
        for own in _open_proposals(case, author_role="mediator"):
            own.decide(ProposalState.SUPERSEDED, "mediator")
        proposal = Proposal(case_id=case.id, author_role="mediator", refund_minor=buyer_refund.minor,
                            release_minor=seller_release.minor, currency=case.currency,
                            return_required=return_required, terms=terms.strip(),
                            expires_at=now + timedelta(days=case.platform.proposal_days), created_at=now)
        db.session.add(proposal)
        db.session.flush()
        events.record(case, "proposal.created", actor, {"proposal": proposal_payload(proposal)})
    return proposal


def accept_proposal(actor: Actor, case_id: int, proposal_id: int) -> Proposal:
    """The other party accepts (for a recommendation: each party in turn): the case is settled on the
    proposal's terms once every acceptance it needs is in.

    Raises NotFound, Forbidden, InvalidTransition (not open, expired, already accepted, case no longer
    active). Emits proposal.accepted, case.settled, case.resolved; recommendation.accepted for a first
    acceptance of a recommendation.
    """
    with uow.transaction():
        case, proposal = _load(actor, case_id, proposal_id, Action.ANSWER_PROPOSAL)
        _require_open(proposal)
        if _awaits_other_party(case, proposal, actor):
            return proposal
        proposal.decide(ProposalState.ACCEPTED, actor.role)
        for other in _open_proposals(case):
            other.decide(ProposalState.SUPERSEDED, None)
        workflow.apply(case, "settle")
        case.set_outcome("settled", proposal.buyer_refund, proposal.seller_release, proposal.return_required,
                         proposal.terms)
        events.record(case, "proposal.accepted", actor, {"proposal": proposal_payload(proposal)})
        events.record(case, "case.settled", actor, {"proposal_id": proposal.id})
        events.record(case, "case.resolved", actor, {"outcome": outcome_payload(case)})
    return proposal


def _awaits_other_party(case: Case, proposal: Proposal, actor: PartyActor) -> bool:
    """Note one party's acceptance of a recommendation; True while the other's is still missing."""
    role = actor.role
    accepted = {r for r in proposal.accepted_by.split(",") if r}
    if role in accepted:
        raise InvalidTransition(_l("You have accepted this recommendation; it waits for the other party."),
                                proposal_state=proposal.state)
    accepted.add(role)
    proposal.accepted_by = ",".join(sorted(accepted))
    if set(proposal.needs_answer_from()) <= accepted:
        return False
    events.record(case, "recommendation.accepted", actor,
                  {"proposal": proposal_payload(proposal), "role": role})
    return True


def reject_proposal(actor: Actor, case_id: int, proposal_id: int) -> Proposal:
    """Raises NotFound, Forbidden, InvalidTransition. Emits proposal.rejected."""
    return _close(actor, case_id, proposal_id, Action.ANSWER_PROPOSAL, ProposalState.REJECTED, "proposal.rejected")


def withdraw_proposal(actor: Actor, case_id: int, proposal_id: int) -> Proposal:
    """Raises NotFound, Forbidden, InvalidTransition. Emits proposal.withdrawn."""
    return _close(actor, case_id, proposal_id, Action.WITHDRAW_PROPOSAL, ProposalState.WITHDRAWN,
                  "proposal.withdrawn")


def list_proposals(actor: Actor, case_id: int) -> list[Proposal]:
    case = load(actor, case_id)
    return list(db.session.scalars(select(Proposal).where(Proposal.case_id == case.id)
                                   .order_by(Proposal.id.desc()).limit(200)))


def proposal_payload(proposal: Proposal) -> dict:
    return {
        "id": proposal.id,
        "author_role": proposal.author_role,
        "buyer_refund": proposal.buyer_refund,
        "seller_release": proposal.seller_release,
        "return_required": proposal.return_required,
        "terms": proposal.terms,
        "counter_to": proposal.counter_to_id,
        "state": proposal.state,
        "accepted_by": [r for r in proposal.accepted_by.split(",") if r],
        "expires_at": proposal.expires_at.isoformat(),
    }


def _close(actor: Actor, case_id: int, proposal_id: int, action: Action, state: ProposalState,
           event: str) -> Proposal:
    with uow.transaction():
        case, proposal = _load(actor, case_id, proposal_id, action)
        _require_open(proposal)
        proposal.decide(state, actor.role)
        events.record(case, event, actor, {"proposal": proposal_payload(proposal)})
    return proposal


def _load(actor: Actor, case_id: int, proposal_id: int, action: Action) -> tuple[Case, Proposal]:
    case = load(actor, case_id)
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.case_id != case.id:
        raise NotFound(_l("No such proposal in this case."))
    load(actor, case_id, action, proposal=proposal)
    workflow.require_active(case)
    return case, proposal


def _require_open(proposal: Proposal) -> None:
    if proposal.state != ProposalState.OPEN:
        raise InvalidTransition(_l("This proposal is %(state)s.", state=workflow.state_word(proposal.state)),
                                proposal_state=proposal.state)
    if proposal.expires_at <= clock.now():
        raise InvalidTransition(_l("This proposal has expired."), proposal_state="expired")


def _open_proposals(case: Case, author_role: str | None = None) -> list[Proposal]:
    query = select(Proposal).where(Proposal.case_id == case.id, Proposal.state == ProposalState.OPEN)
    if author_role:
        query = query.where(Proposal.author_role == author_role)
    return list(db.session.scalars(query))


def _answerable(case: Case, counter_to: int, actor: PartyActor) -> Proposal:
    answered = db.session.get(Proposal, counter_to)
    if answered is None or answered.case_id != case.id:
        raise Invalid(_l("There is no such proposal to counter."),
                      {"counter_to": [_l("No such proposal in this case.")]})
    if actor.role not in answered.needs_answer_from():
        raise Invalid(_l("You can only counter a proposal made to you."),
                      {"counter_to": [_l("This proposal is not addressed to you.")]})
    if answered.state == ProposalState.OPEN and answered.expires_at <= clock.now():
        raise Invalid(_l("That proposal has expired."),
                      {"counter_to": [_l("That proposal has expired; make a new one.")]})
    if answered.state != ProposalState.OPEN:
        message = _l("That proposal is %(state)s.", state=workflow.state_word(answered.state))
        raise Invalid(message, {"counter_to": [message]})
    return answered


def check_money(case: Case, refund: Money, release: Money) -> None:
    errors: dict[str, list[str]] = {}
    for field, money in (("buyer_refund", refund), ("seller_release", release)):
        if money.currency != case.currency:
            errors[field] = [_l("Use the case's currency, %(currency)s.", currency=case.currency)]
    if errors:
        raise Invalid(_l("The amounts must be in the case's currency."), errors)
    total = refund + release
    held = case.held_amount
    if held is not None and total != held:
        message = _l("buyer_refund + seller_release must equal the held amount, %(held)s; they add up to %(total)s.",
                      held=held, total=total)
        raise Invalid(message, {"buyer_refund": [message], "seller_release": [message]})
    if held is None and total.minor > case.amount_minor:
        message = _l("buyer_refund + seller_release cannot exceed the disputed amount, %(amount)s.",
                      amount=case.amount)
        raise Invalid(message, {"buyer_refund": [message], "seller_release": [message]})
