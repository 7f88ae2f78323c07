"""THE permission module: who may do what to which case. Nothing else decides it.

`policy` answers *who*; `workflow` answers *when* (which state allows it). A caller that may not even
see the case gets NotFound, exactly as for a case that does not exist, so ids reveal nothing.
"""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, false, or_, true

from mediation.errors import Forbidden, NotFound
from mediation.models import Case, Party, Proposal, User
from mediation.services.actors import Actor, PartyActor, PlatformActor, StaffActor


class Action(enum.StrEnum):
    VIEW_CASE = "view_case"
    VIEW_EVENTS = "view_events"
    READ_CHANNEL = "read_channel"
    SEND_MESSAGE = "send_message"
    PROPOSE = "propose"
    ANSWER_PROPOSAL = "answer_proposal"  # accept or reject
    WITHDRAW_PROPOSAL = "withdraw_proposal"
    WITHDRAW_CASE = "withdraw_case"
    ISSUE_JOIN_LINK = "issue_join_link"
    CONFIRM_EXECUTION = "confirm_execution"
    ESCALATE = "escalate"
    EXTEND_DEADLINE = "extend_deadline"
    RECOMMEND = "recommend"  # the mediator proposes a settlement both parties must accept
    ISSUE_RULING = "issue_ruling"
    APPEAL = "appeal"
    DECIDE_APPEAL = "decide_appeal"
    REASSIGN = "reassign"  # an admin gives the case (or its appeal) to another mediator
    UPLOAD_EVIDENCE = "upload_evidence"  # into `channel`
    VIEW_EVIDENCE = "view_evidence"  # of `channel`
    WITHDRAW_EVIDENCE = "withdraw_evidence"  # `evidence`: its uploader, or the case's mediator
    REQUEST_EVIDENCE = "request_evidence"  # ask a party for something
    ANSWER_REQUEST = "answer_request"  # `request`: the party it is addressed to
    CANCEL_REQUEST = "cancel_request"  # `request`: who asked
    ANSWER_CHECKLIST = "answer_checklist"  # a party ticks an item of their checklist with an answer
    CHANGE_PREFERENCES = "change_preferences"  # one's own language and time zone (require_own, not can)
    VIEW_DOCUMENT = "view_document"  # a settlement or ruling document: whoever may see the case


def can_view(actor: Actor, case: Case) -> bool:
    match actor:
        case PartyActor():
            return actor.case_id == case.id
        case PlatformActor():
            return actor.platform_id == case.platform_id
        case StaffActor(role="admin"):
            return True
        case StaffActor(role="mediator"):
            return actor.user_id in (case.mediator_id, case.appeal_mediator_id)
        case _:
            return False


def is_case_mediator(actor: Actor, case: Case) -> bool:
    """The mediator who works the case (not the appeal mediator)."""
    return isinstance(actor, StaffActor) and actor.role == "mediator" and case.mediator_id == actor.user_id


def is_appeal_mediator(actor: Actor, case: Case) -> bool:
    return (isinstance(actor, StaffActor) and actor.role == "mediator"
            and case.appeal_mediator_id is not None and case.appeal_mediator_id == actor.user_id)


def readable_channels(actor: Actor, case: Case) -> tuple[str, ...]:
    if not can_view(actor, case):
        return ()
    match actor:
        case PartyActor():
            return ("joint", f"caucus:{actor.role}")
        case StaffActor(role="mediator") if is_case_mediator(actor, case):
            return ("joint", "caucus:buyer", "caucus:seller")
        case StaffActor(role="mediator"):
            # The appeal mediator reviews the open record; what a party said in caucus stays with the
            # mediator it was said to.
            return ("joint",)
        case StaffActor(role="admin"):
            return ("joint",)  # a caucus is that party and the mediator only (PRODUCT.md, Channels)
        case _:
            return ()  # a platform follows state and outcome, not the parties' conversation


def can(actor: Actor, action: Action, case: Case, *, channel: str | None = None,
        proposal: Proposal | None = None, evidence=None, request=None) -> bool:
    if not can_view(actor, case):
        return False
    party = actor if isinstance(actor, PartyActor) else None
    match action:
        case Action.VIEW_CASE:
            return True
        case Action.VIEW_EVENTS:
            return party is not None or isinstance(actor, StaffActor | PlatformActor)
        case Action.READ_CHANNEL:
            return channel in readable_channels(actor, case)
        case Action.SEND_MESSAGE:
            if isinstance(actor, StaffActor) and actor.role == "mediator":
                return channel in readable_channels(actor, case)
            return party is not None and channel in ("joint", f"caucus:{party.role}")
        case Action.PROPOSE:
            return party is not None
        case Action.ANSWER_PROPOSAL:
            return party is not None and proposal is not None and party.role in proposal.needs_answer_from()
        case Action.WITHDRAW_PROPOSAL:
            if proposal is not None and proposal.author_role == "mediator":
                return is_case_mediator(actor, case)
            return party is not None and proposal is not None and proposal.author_role == party.role
        case Action.WITHDRAW_CASE:
            return party is not None and party.role == case.claimant_role
        case Action.ISSUE_JOIN_LINK | Action.CONFIRM_EXECUTION:
            return isinstance(actor, PlatformActor)
        case Action.ESCALATE:
            return party is not None
        case Action.EXTEND_DEADLINE | Action.RECOMMEND | Action.ISSUE_RULING:
            return is_case_mediator(actor, case)
        case Action.APPEAL:
            return party is not None
        case Action.DECIDE_APPEAL:
            return is_appeal_mediator(actor, case)
        case Action.REASSIGN:
            return isinstance(actor, StaffActor) and actor.role == "admin"
        case Action.UPLOAD_EVIDENCE:
            # Like posting a message: the parties and the case's mediator, where they may post.
            return (party is not None or is_case_mediator(actor, case)) and can(
                actor, Action.SEND_MESSAGE, case, channel=channel)
        case Action.VIEW_EVIDENCE:
            return channel in readable_channels(actor, case)
        case Action.WITHDRAW_EVIDENCE:
            return evidence is not None and (actor.key == evidence.uploader or is_case_mediator(actor, case))
        case Action.REQUEST_EVIDENCE:
            return party is not None or is_case_mediator(actor, case)
        case Action.ANSWER_REQUEST:
            return party is not None and request is not None and request.addressee_role == party.role
        case Action.CANCEL_REQUEST:
            return request is not None and actor.key == request.requester
        case Action.ANSWER_CHECKLIST:
            return party is not None
        case Action.VIEW_DOCUMENT:
            # Parties take it to enforcement, the platform executes it, mediators and admins stand behind it.
            return True
    return False


_REFUSALS = {
    Action.READ_CHANNEL: _l("You may not read this channel."),
    Action.SEND_MESSAGE: _l("You may not post in this channel."),
    Action.PROPOSE: _l("Only the buyer or the seller can propose a settlement."),
    Action.ANSWER_PROPOSAL: _l("Only the other party can accept or reject this proposal."),
    Action.WITHDRAW_PROPOSAL: _l("Only the author can withdraw this proposal."),
    Action.WITHDRAW_CASE: _l("Only the party who opened the dispute can withdraw it."),
    Action.ISSUE_JOIN_LINK: _l("Only the platform can issue join links."),
    Action.CONFIRM_EXECUTION: _l("Only the platform can confirm that an outcome was executed."),
    Action.ESCALATE: _l("Only the buyer or the seller can ask for a mediator."),
    Action.EXTEND_DEADLINE: _l("Only the case's mediator can extend its deadline."),
    Action.RECOMMEND: _l("Only the case's mediator can recommend a settlement."),
    Action.ISSUE_RULING: _l("Only the case's mediator can issue a ruling."),
    Action.APPEAL: _l("Only the buyer or the seller can appeal a ruling."),
    Action.DECIDE_APPEAL: _l("Only the appeal mediator can decide this appeal."),
    Action.REASSIGN: _l("Only an admin can reassign a case."),
    Action.UPLOAD_EVIDENCE: _l("You may not add evidence to this channel."),
    Action.VIEW_EVIDENCE: _l("You may not see evidence in this channel."),
    Action.WITHDRAW_EVIDENCE: _l("Only the person who added this file, or the case's mediator, can withdraw it."),
    Action.REQUEST_EVIDENCE: _l("Only the parties and the case's mediator can ask for evidence."),
    Action.ANSWER_REQUEST: _l("Only the party this request is addressed to can answer it."),
    Action.CANCEL_REQUEST: _l("Only the person who asked can cancel this request."),
    Action.ANSWER_CHECKLIST: _l("Only the buyer or the seller can answer their checklist."),
    Action.CHANGE_PREFERENCES: _l("You can only change your own language and time zone."),
}


def require(actor: Actor, action: Action, case: Case | None, **context) -> Case:
    """Return the case if `actor` may do `action`; raise NotFound or Forbidden otherwise."""
    if case is None or not can_view(actor, case):
        raise NotFound(_l("No such case."))
    if not can(actor, action, case, **context):
        raise Forbidden(_REFUSALS.get(action, _l("You may not do this.")))
    return case


def can_change_own(actor: Actor, row: Party | User | None) -> bool:
    """A person's own things (their preferences): a party its own party row, a staff member their own
    account. Nobody acts on another's behalf, not even an admin or the platform that opened the case."""
    match actor:
        case PartyActor():
            return isinstance(row, Party) and row.id == actor.party_id
        case StaffActor():
            return isinstance(row, User) and row.id == actor.user_id
        case _:
            return False


def require_own(actor: Actor, action: Action, row: Party | User | None) -> None:
    """Raise NotFound if `row` is a party of a case the actor may not see, Forbidden if it is not theirs."""
    if isinstance(row, Party) and not can_view(actor, row.case):
        raise NotFound(_l("No such case."))
    if not can_change_own(actor, row):
        raise Forbidden(_REFUSALS.get(action, _l("You may not do this.")))


def visible_cases(actor: Actor) -> ColumnElement[bool]:
    """A filter on Case for the cases `actor` may see."""
    match actor:
        case PartyActor():
            return Case.id == actor.case_id
        case PlatformActor():
            return Case.platform_id == actor.platform_id
        case StaffActor(role="admin"):
            return true()
        case StaffActor(role="mediator"):
            return or_(Case.mediator_id == actor.user_id, Case.appeal_mediator_id == actor.user_id)
        case _:
            return false()
