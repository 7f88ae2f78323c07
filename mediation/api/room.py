"""Party actions as JSON: messages, proposals, withdrawal, the case log; party tokens for clients."""
from __future__ import annotations

from flask_smorest import Blueprint

from mediation.api.auth import current_actor
from mediation.api.cases import case_view
from mediation.api.errors import documented_errors
from mediation.schemas.case import CaseAnswerOut, EventOut, ExtendIn, PartyTokenIn, PartyTokenOut, ReasonIn
from mediation.schemas.chat import (
    HistoryArgs,
    MessageIn,
    MessagePageOut,
    ProposalAnswerOut,
    ProposalIn,
    ProposalOut,
    SentOut,
)
from mediation.services import access, cases, deadlines, messages, proposals

blp = Blueprint("room", __name__, url_prefix="/api/v1", description="Case room actions, for parties")
PARTY = [{"partyToken": []}, {"session": []}]
STAFF = [{"session": []}]  # the case's mediator, signed in


@blp.route("/party-tokens", methods=["POST"])
@blp.arguments(PartyTokenIn())
@blp.response(201, PartyTokenOut)
@documented_errors(400, 401, 413, 422)
def create_party_token(data):
    """Exchange a join link's token (the last part of its URL) for a bearer party token."""
    token, actor, expires_at = access.issue_party_token(data["join_token"])
    return {"token": token, "case_id": actor.case_id, "role": actor.role, "expires_at": expires_at}


@blp.route("/cases/<id:case_id>/messages", methods=["GET"])
@blp.arguments(HistoryArgs(), location="query")
@blp.response(200, MessagePageOut)
@blp.doc(security=PARTY)
@documented_errors(401, 403, 404, 422)
def list_messages(args, case_id: int):
    """A channel's history, newest page first; pass `before` (a message id) for older pages."""
    page = messages.history(current_actor(case_id), case_id, args["channel"], args.get("before"), args["limit"])
    return {"items": page.messages, "has_older": page.has_older}


@blp.route("/cases/<id:case_id>/messages", methods=["POST"])
@blp.arguments(MessageIn())
@blp.response(201, SentOut)
@blp.doc(security=PARTY)
@documented_errors(400, 401, 403, 404, 409, 413, 422)
def send_message(data, case_id: int):
    """Post a message. Resending the same client_id returns the stored message, not a second one."""
    actor = current_actor(case_id)
    sent = messages.send_message(actor, case_id, data["channel"], data["body"], data["client_id"])
    return {"id": sent.message.id, "created_at": sent.message.created_at, "duplicate": sent.duplicate,
            "message": sent.message, "case": case_view(cases.get_case(actor, case_id), actor)}


@blp.route("/cases/<id:case_id>/proposals", methods=["GET"])
@blp.response(200, ProposalOut(many=True))
@blp.doc(security=PARTY)
@documented_errors(401, 404)
def list_proposals(case_id: int):
    """Every proposal of the case, newest first."""
    return proposals.list_proposals(current_actor(case_id), case_id)


def _answer(proposal, actor, case_id: int) -> dict:
    return {"proposal": proposal, "case": case_view(cases.get_case(actor, case_id), actor)}


@blp.route("/cases/<id:case_id>/proposals", methods=["POST"])
@blp.arguments(ProposalIn())
@blp.response(201, ProposalAnswerOut)
@blp.doc(security=PARTY)
@documented_errors(400, 401, 403, 404, 409, 413, 422)
def create_proposal(data, case_id: int):
    """Propose a settlement, or counter one (`counter_to`). Answered with the proposal and the case."""
    actor = current_actor(case_id)
    proposal = proposals.create_proposal(actor, case_id, **data)
    return _answer(proposal, actor, case_id)


def _proposal_action(name: str, command, summary: str):
    def view(case_id: int, proposal_id: int):
        actor = current_actor(case_id)
        return _answer(command(actor, case_id, proposal_id), actor, case_id)

    view.__name__ = f"{name}_proposal"
    view.__doc__ = summary
    view = documented_errors(400, 401, 403, 404, 409)(view)
    view = blp.doc(security=PARTY)(view)
    view = blp.response(200, ProposalAnswerOut)(view)
    blp.route(f"/cases/<id:case_id>/proposals/<id:proposal_id>/{name}", methods=["POST"])(view)


_proposal_action("accept", proposals.accept_proposal, "Accept a proposal made to you: the case is settled.")
_proposal_action("reject", proposals.reject_proposal, "Reject a proposal made to you.")
_proposal_action("withdraw", proposals.withdraw_proposal, "Withdraw your own open proposal.")


@blp.route("/cases/<id:case_id>/withdraw", methods=["POST"])
@blp.arguments(ReasonIn())
@blp.response(200, CaseAnswerOut)
@blp.doc(security=PARTY)
@documented_errors(400, 401, 403, 404, 409, 413, 422)
def withdraw_case(data, case_id: int):
    """The claimant withdraws the dispute."""
    actor = current_actor(case_id)
    return {"case": case_view(cases.withdraw_case(actor, case_id, data["reason"]), actor)}


@blp.route("/cases/<id:case_id>/escalate", methods=["POST"])
@blp.arguments(ReasonIn())
@blp.response(200, CaseAnswerOut)
@blp.doc(security=PARTY)
@documented_errors(400, 401, 403, 404, 409, 413, 422)
def escalate_case(data, case_id: int):
    """Ask for a neutral mediator (from negotiation). Answered with the case."""
    actor = current_actor(case_id)
    return {"case": case_view(deadlines.escalate_case(actor, case_id, data["reason"]), actor)}


@blp.route("/cases/<id:case_id>/deadlines/extend", methods=["POST"])
@blp.arguments(ExtendIn())
@blp.response(200, CaseAnswerOut)
@blp.doc(security=STAFF)
@documented_errors(400, 401, 403, 404, 409, 413, 422)
def extend_deadline(data, case_id: int):
    """The case's mediator extends its deadline, with a reason; both parties' deadline moves alike."""
    actor = current_actor(case_id)
    return {"case": case_view(deadlines.extend_deadline(actor, case_id, data["days"], data["reason"]), actor)}


@blp.route("/cases/<id:case_id>/events", methods=["GET"])
@blp.response(200, EventOut(many=True))
@blp.doc(security=[{"apiKey": []}, *PARTY])
@documented_errors(401, 403, 404)
def list_events(case_id: int):
    """The case's hash-chained log, oldest first."""
    return cases.case_events(current_actor(case_id), case_id)
