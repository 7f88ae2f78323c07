"""Rulings and appeals: the mediator decides with reasons and published rules; a different mediator
hears an appeal; the ruling becomes final on the appeal decision or when the window passes.

Money moves only by a ruling that carries a written rationale and cites at least one clause of the
rulebook version the case opened under.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString, format_datetime
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mediation import clock
from mediation.errors import Forbidden, Invalid, InvalidTransition, NotFound
from mediation.extensions import db
from mediation.models import Appeal, Case, Proposal, ProposalState, Ruling
from mediation.money import Money
from mediation.services import assignment, events, rulebooks, uow, workflow
from mediation.services.actors import SYSTEM, Actor
from mediation.services.cases import load, outcome_payload
from mediation.services.policy import Action
from mediation.services.proposals import check_money

MIN_RATIONALE = 20
DECISIONS = ("uphold", "replace")


@dataclass
class Outcome:
    buyer_refund: Money
    seller_release: Money
    return_required: bool = False
    terms: str = ""


def issue_ruling(actor: Actor, case_id: int, outcome: Outcome, rationale: str, clauses: list[int]) -> Ruling:
    """The case's mediator decides the case. Opens the appeal window.

    Raises NotFound, Forbidden, InvalidTransition (not in mediation), Invalid (rationale, clauses, money).
    Emits ruling.issued.
    """
    with uow.transaction():
        case = load(actor, case_id, Action.ISSUE_RULING)
        rationale = _check_reasons(rationale, clauses)
        if not workflow.can_apply(case, "rule"):
            raise InvalidTransition(_l("A ruling can only be issued while the case is in mediation."), state=case.state)
        ruling = _new_ruling(case, actor, outcome, rationale, clauses, kind="ruling")
        for proposal in db.session.scalars(select(Proposal).where(
                Proposal.case_id == case.id, Proposal.state == ProposalState.OPEN)):
            proposal.decide(ProposalState.SUPERSEDED, None)
        workflow.apply(case, "rule")
        events.record(case, "ruling.issued", actor, {"ruling": ruling_payload(ruling),
                                                     "appeal_deadline": case.deadline_at.isoformat()})
    return ruling


def appeal_ruling(actor: Actor, case_id: int, grounds: str) -> Appeal:
    """A party appeals the ruling before the window closes; a different mediator is assigned.

    Raises NotFound, Forbidden, InvalidTransition (no ruling to appeal, window closed), Invalid (grounds).
    Emits case.appealed, then mediator.assigned or mediator.unavailable.
    """
    with uow.transaction():
        case = load(actor, case_id, Action.APPEAL)
        grounds = (grounds or "").strip()
        if len(grounds) < MIN_RATIONALE:
            raise Invalid(_l("Say why the ruling is wrong."),
                          {"grounds": [_l("At least %(n)s characters.", n=MIN_RATIONALE)]})
        if not workflow.can_apply(case, "appeal"):
            raise InvalidTransition(_l("Only a ruling that is not yet final can be appealed."), state=case.state)
        if clock.now() >= case.deadline_at:
            closed_on = LazyString(format_datetime, case.deadline_at)  # formatted for the reader, when shown
            raise InvalidTransition(_l("The appeal window closed on %(when)s.", when=closed_on), state=case.state)
        ruling = current_ruling(case)
        appeal = Appeal(case_id=case.id, ruling_id=ruling.id, appellant_role=actor.role, grounds=grounds[:10000],
                        created_at=clock.now())
        db.session.add(appeal)
        db.session.flush()
        workflow.apply(case, "appeal")
        events.record(case, "case.appealed", actor, {"appeal": appeal_payload(appeal)})
        assignment.assign_mediator(case, actor)
    return appeal


def decide_appeal(actor: Actor, case_id: int, appeal_id: int, decision: str, rationale: str,
                  clauses: list[int], outcome: Outcome | None = None) -> Ruling:
    """The appeal mediator upholds the ruling or replaces it; either way the result is final.

    Raises NotFound, Forbidden (not the appeal mediator; the one who ruled), InvalidTransition (not
    appealed), Invalid (decision, rationale, clauses, money). Emits appeal.decided, ruling.final,
    case.resolved.
    """
    with uow.transaction():
        case = load(actor, case_id, Action.DECIDE_APPEAL)
        if decision not in DECISIONS:
            raise Invalid(_l("Uphold or replace the ruling."), {"decision": [_l("Must be uphold or replace.")]})
        if decision == "replace" and outcome is None:
            raise Invalid(_l("A replacing ruling needs its outcome."),
                          {"buyer_refund": [_l("Required.")], "seller_release": [_l("Required.")]})
        rationale = _check_reasons(rationale, clauses)
        appeal = db.session.get(Appeal, appeal_id) if isinstance(appeal_id, int) else None
        if appeal is None or appeal.case_id != case.id:
            raise NotFound(_l("No such appeal in this case."))
        if not workflow.can_apply(case, "decide_appeal") or appeal.decided_at is not None:
            raise InvalidTransition(_l("This appeal has been decided."), state=case.state)
        if appeal.ruling.mediator_id == actor.user_id:  # never judge one's own ruling, whatever the slot says
            raise Forbidden(_l("Only the appeal mediator can decide this appeal."))
        upheld = appeal.ruling
        if decision == "uphold":
            outcome = Outcome(upheld.buyer_refund, upheld.seller_release, upheld.return_required, upheld.terms)
        ruling = _new_ruling(case, actor, outcome, rationale, clauses, kind="appeal", decision=decision)
        appeal.decision_id, appeal.decided_at = ruling.id, ruling.created_at
        workflow.apply(case, "decide_appeal")
        events.record(case, "appeal.decided", actor, {"appeal": appeal_payload(appeal),
                                                      "ruling": ruling_payload(ruling)})
        _make_final(case, ruling, actor)
    return ruling


def finalize_unappealed(case: Case) -> None:
    """The appeal window passed without appeal (called by the tick on a locked, due case)."""
    workflow.apply(case, "appeal_lapsed")
    _make_final(case, current_ruling(case), SYSTEM)


def current_ruling(case: Case) -> Ruling | None:
    return db.session.scalar(select(Ruling).where(Ruling.case_id == case.id).order_by(Ruling.id.desc()).limit(1))


def list_rulings(actor: Actor, case_id: int) -> tuple[list[Ruling], list[Appeal]]:
    case = load(actor, case_id)
    rulings = list(db.session.scalars(select(Ruling).where(Ruling.case_id == case.id).order_by(Ruling.id)))
    appeals = list(db.session.scalars(select(Appeal).where(Appeal.case_id == case.id).order_by(Appeal.id)))
    return rulings, appeals


def ruling_payload(ruling: Ruling) -> dict:
    return {
        "id": ruling.id,
        "kind": ruling.kind,
        "decision": ruling.decision,
        "mediator": {"id": ruling.mediator_id, "name": ruling.mediator.name if ruling.mediator else None},
        "buyer_refund": ruling.buyer_refund,
        "seller_release": ruling.seller_release,
        "return_required": ruling.return_required,
        "terms": ruling.terms,
        "rationale": ruling.rationale,
        "clauses": [{"id": c.id, "number": c.number, "title": c.title, "version_id": c.version_id}
                    for c in ruling.clauses],
        "created_at": ruling.created_at.isoformat(),
    }


def appeal_payload(appeal: Appeal) -> dict:
    return {"id": appeal.id, "ruling_id": appeal.ruling_id, "appellant": appeal.appellant_role,
            "grounds": appeal.grounds, "created_at": appeal.created_at.isoformat(),
            "decided_at": appeal.decided_at.isoformat() if appeal.decided_at else None,
            "decision_id": appeal.decision_id}


def _make_final(case: Case, ruling: Ruling, actor: Actor) -> None:
    case.set_outcome("ruled", ruling.buyer_refund, ruling.seller_release, ruling.return_required, ruling.terms)
    events.record(case, "ruling.final", actor, {"ruling": ruling_payload(ruling)})
    events.record(case, "case.resolved", actor, {"outcome": outcome_payload(case)})


def _new_ruling(case: Case, actor: Actor, outcome: Outcome, rationale: str, clause_ids: list[int], *,
                kind: str, decision: str | None = None) -> Ruling:
    check_money(case, outcome.buyer_refund, outcome.seller_release)
    cited = _cited_clauses(case, clause_ids)
    ruling = Ruling(case_id=case.id, mediator_id=actor.user_id, kind=kind, decision=decision,
                    refund_minor=outcome.buyer_refund.minor, release_minor=outcome.seller_release.minor,
                    currency=case.currency, return_required=bool(outcome.return_required),
                    terms=(outcome.terms or "").strip()[:10000], rationale=rationale, created_at=clock.now())
    ruling.clauses = cited
    db.session.add(ruling)
    db.session.flush()
    return ruling


def _check_reasons(rationale: str, clauses: list[int]) -> str:
    errors = {}
    rationale = (rationale or "").strip()
    if len(rationale) < MIN_RATIONALE:
        errors["rationale"] = [_l("Write the reasons: at least %(n)s characters.", n=MIN_RATIONALE)]
    if not clauses or not isinstance(clauses, list) or not all(type(c) is int for c in clauses):
        errors["clauses"] = [_l("Cite at least one clause of the case's rulebook.")]
    if errors:
        raise Invalid(_l("A ruling needs written reasons and at least one cited clause."), errors)
    return rationale[:20000]


def _cited_clauses(case: Case, clause_ids: list[int]):
    if case.rulebook_version_id is None:
        raise Invalid(_l("No rulebook was in force when this case opened; an admin must publish one."),
                      {"clauses": [_l("No rulebook for this case.")]})
    cited = rulebooks.clauses_of(case.rulebook_version_id, sorted(set(clause_ids)))
    if len(cited) != len(set(clause_ids)):
        raise Invalid(_l("Cite clauses of the rulebook version this case opened under."),
                      {"clauses": [_l("Not a clause of this case's rulebook.")]})
    return cited


def case_rulebook(actor: Actor, case_id: int):
    """The rulebook version the case is decided by (with its clauses), or None."""
    from mediation.models import RulebookVersion

    case = load(actor, case_id)
    return db.session.get(RulebookVersion, case.rulebook_version_id) if case.rulebook_version_id else None
