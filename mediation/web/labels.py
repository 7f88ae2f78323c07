"""Words for codes (states, reasons, roles), translated per viewer; shared by pages and the room script."""
from __future__ import annotations

import functools

from flask import Flask
from flask_babel import force_locale, format_currency, format_datetime, get_locale, get_timezone
from flask_babel import lazy_gettext as _l

from mediation.money import Money

STATES = {
    "open": _l("Open: waiting for the respondent"),
    "negotiation": _l("Negotiation"),
    "mediation": _l("Mediation"),
    "settled": _l("Settled"),
    "ruled": _l("Ruled"),
    "appealed": _l("Appealed"),
    "final": _l("Final"),
    "withdrawn": _l("Withdrawn"),
    "closed": _l("Closed"),
}
REASONS = {
    "not_received": _l("Item not received"),
    "not_as_described": _l("Item not as described"),
    "damaged": _l("Item arrived damaged"),
    "counterfeit": _l("Item is counterfeit"),
    "unauthorized": _l("Unauthorised purchase"),
    "other": _l("Other"),
}
ROLES = {"buyer": _l("Buyer"), "seller": _l("Seller"), "mediator": _l("Mediator"), "admin": _l("Admin"),
         "system": _l("Mediation")}
PROPOSAL_STATES = {
    "open": _l("Waiting for an answer"), "accepted": _l("Accepted"), "rejected": _l("Rejected"),
    "countered": _l("Countered"), "withdrawn": _l("Withdrawn"), "expired": _l("Expired"),
    "superseded": _l("Replaced by a newer proposal"),
}
EVENTS = {
    "case.opened": _l("The case was opened."),
    "case.negotiation_started": _l("The respondent answered: negotiation has started."),
    "proposal.created": _l("A settlement was proposed."),
    "proposal.rejected": _l("A proposal was rejected."),
    "proposal.withdrawn": _l("A proposal was withdrawn."),
    "proposal.accepted": _l("A proposal was accepted."),
    "case.settled": _l("The case is settled."),
    "case.resolved": _l("The outcome is final and goes to the marketplace."),
    "case.withdrawn": _l("The claimant withdrew the case."),
    "case.closed": _l("The marketplace carried out the outcome. The case is closed."),
    "join_links.revoked": _l("Earlier join links of a party were revoked."),
    "case.escalated": _l("The case went to mediation."),
    "mediator.assigned": _l("A mediator was assigned to the case."),
    "mediator.unavailable": _l("The case is waiting for a mediator."),
    "deadline.extended": _l("The mediator extended the deadline."),
    "proposal.expired": _l("A proposal expired without an answer."),
    "recommendation.accepted": _l("A party accepted the mediator's recommendation."),
    "ruling.issued": _l("The mediator issued a ruling."),
    "case.appealed": _l("The ruling was appealed."),
    "mediator.reassigned": _l("Another mediator took over."),
    "appeal.decided": _l("The appeal was decided."),
    "ruling.final": _l("The ruling is final."),
    "deadline.reminder": _l("A deadline is less than a day away."),
    "evidence.added": _l("A file was added to the evidence."),
    "evidence.withdrawn": _l("A file was withdrawn from the evidence."),
    "request.created": _l("Someone asked for evidence."),
    "request.answered": _l("A request for evidence was answered."),
    "request.cancelled": _l("A request for evidence was cancelled."),
    "checklist.answered": _l("An item of the evidence checklist was answered."),
}

SCRIPT_STRINGS = {
    "accept": _l("Accept"), "reject": _l("Reject"), "counter": _l("Counter-offer"), "withdraw": _l("Withdraw"),
    "refund": _l("Refund to the buyer"), "release": _l("Release to the seller"),
    "return_required": _l("The buyer returns the item"), "no_return": _l("No return needed"),
    "valid_until": _l("Valid until"), "by": _l("From"), "you": _l("You"),
    "sending": _l("Sending…"), "not_sent": _l("Not sent. Click to retry."),
    "connected": _l("Live"), "reconnecting": _l("Reconnecting…"), "online": _l("Online:"),
    "typing": _l("%(name)s is typing…"), "no_proposals": _l("No proposals yet."),
    "counter_title": _l("Counter-offer to proposal #%(id)s"), "propose_title": _l("Propose a settlement"),
    "outcome": _l("Outcome: refund %(refund)s to the buyer, release %(release)s to the seller."),
    "confirm_accept": _l("Accept this proposal? The case will be settled on these terms."),
    "confirm_withdraw": _l("Withdraw the dispute? This cannot be undone."),
    "left": _l("%(time)s left"), "passed": _l("passed"), "error": _l("Something went wrong."),
    # Channel tabs: the joint conversation and the private ones (caucus) with the mediator.
    "tab_joint": _l("Everyone"), "tab_caucus": _l("Private with the mediator"),
    "tab_caucus_buyer": _l("Private with the buyer"), "tab_caucus_seller": _l("Private with the seller"),
    "unread": _l("%(count)s unread"),
    "write_joint": _l("Write to the other party…"), "write_joint_mediator": _l("Write to both parties…"),
    "write_caucus": _l("Write privately to the mediator…"),
    "write_caucus_buyer": _l("Write privately to the buyer…"),
    "write_caucus_seller": _l("Write privately to the seller…"),
    "private_caucus": _l("Only you and the mediator can read this conversation."),
    "private_caucus_buyer": _l("Only you and the buyer can read this conversation."),
    "private_caucus_seller": _l("Only you and the seller can read this conversation."),
    "caucus_closed": _l("Private conversations are open only while the case is in mediation."),
    "mediator_waiting": _l("Not assigned yet"),
    # The mediator's recommendation, in the proposals panel: both parties must accept it.
    "recommendation": _l("Recommended by the mediator"), "your_recommendation": _l("Your recommendation"),
    "confirm_accept_recommendation": _l(
        "Accept the mediator's recommendation? The case is settled on these terms once both of you accept."),
    "rec_waiting_both": _l("Both parties must accept it."),
    "rec_you_accepted": _l("You accepted it. Waiting for the other party."),
    "rec_other_accepted": _l("The other party accepted it. Waiting for you."),
    "rec_buyer_accepted": _l("The buyer accepted it. Waiting for the seller."),
    "rec_seller_accepted": _l("The seller accepted it. Waiting for the buyer."),
    # Rulings and appeals.
    "ruling_by": _l("Ruling by %(name)s"),
    "decision_upheld": _l("Appeal decision by %(name)s: the ruling is upheld"),
    "decision_replaced": _l("Appeal decision by %(name)s: the ruling is replaced"),
    "issued_at": _l("Issued %(time)s"), "reasons": _l("Reasons"), "rules_applied": _l("Rules applied"),
    "terms": _l("Terms"), "clause": _l("%(number)s. %(title)s"), "new_tab": _l("(opens in a new tab)"),
    "appeal_until": _l("Either party may appeal until %(time)s."),
    "appeal_closed": _l("The appeal window has closed."),
    "appeal_lapsed": _l("Nobody appealed in time: the ruling is final."),
    "appealed_by_buyer": _l("Appealed by the buyer — awaiting the appeal mediator"),
    "appealed_by_seller": _l("Appealed by the seller — awaiting the appeal mediator"),
    "appeal_of_buyer": _l("Appealed by the buyer"), "appeal_of_seller": _l("Appealed by the seller"),
    "grounds": _l("Grounds of the appeal"),
    "final_outcome": _l("Final outcome: refund %(refund)s to the buyer, release %(release)s to the seller."),
    "fix_fields": _l("Please check the fields marked below."),
    "cancel": _l("Cancel"),
    # Evidence: the files of each channel, and the upload form with a progress bar per file.
    "ev_loading": _l("Loading the files…"), "ev_none": _l("No files here yet."),
    "ev_in_channel": _l("In: %(channel)s"), "ev_download": _l("Download"),
    "ev_open_preview": _l("Open the full-size image: %(name)s"),
    "ev_kind_pdf": _l("PDF document"), "ev_kind_video": _l("MP4 video"), "ev_kind_text": _l("Text file"),
    "ev_kind_file": _l("File"),
    "ev_shows": _l("Shows: %(item)s"), "ev_answers": _l("Answers the request: %(request)s"),
    "ev_withdrawn": _l("Withdrawn: %(reason)s"), "ev_withdraw": _l("Withdraw"),
    "ev_withdraw_reason": _l("Why withdraw this file? Everyone in the channel sees the reason."),
    "ev_withdraw_confirm": _l("Withdraw the file"),
    "ev_ready": _l("Ready to upload"), "ev_uploading": _l("Uploading…"), "ev_added": _l("Uploaded"),
    "ev_added_name": _l("%(name)s was added."), "ev_not_added": _l("Not added"),
    "ev_progress": _l("Uploading %(name)s"), "ev_remove": _l("Remove"),
    "ev_choose": _l("Choose at least one file first."),
    "ev_too_large": _l("This file is larger than %(size)s and cannot be added."),
    "ev_network": _l("The upload was interrupted. Check the connection and upload again."),
    # The evidence checklist.
    "cl_yours": _l("Your checklist"), "cl_of_buyer": _l("The buyer's checklist"),
    "cl_of_seller": _l("The seller's checklist"), "cl_done": _l("done"), "cl_todo": _l("not yet"),
    "cl_none": _l("Nothing on the checklist for this kind of dispute."),
    "cl_answer": _l("Answer: %(answer)s"), "cl_files": _l("Files: %(count)s"),
    "cl_by_request": _l("Answered on request."), "cl_answer_label": _l("Your answer"), "cl_save": _l("Save"),
    "cl_saved": _l("Your answer to “%(item)s” was saved."), "cl_add_file": _l("Add a file for this"),
    # Structured requests: who asked whom, as each viewer reads it.
    "req_you_buyer": _l("You asked the buyer"), "req_you_seller": _l("You asked the seller"),
    "req_buyer_you": _l("Asked of you by the buyer"), "req_seller_you": _l("Asked of you by the seller"),
    "req_mediator_you": _l("Asked of you by the mediator"),
    "req_buyer_seller": _l("The buyer asked the seller"), "req_seller_buyer": _l("The seller asked the buyer"),
    "req_mediator_buyer": _l("The mediator asked the buyer"),
    "req_mediator_seller": _l("The mediator asked the seller"),
    "req_private": _l("private"), "req_none": _l("No requests yet."),
    "req_waiting_you": _l("Waiting for your answer"), "req_waiting": _l("Waiting for the answer"),
    "req_open": _l("Open"), "req_due": _l("Due:"), "req_overdue": _l("Overdue"),
    "req_answered_words": _l("Answered: %(answer)s"), "req_answered_file": _l("Answered with a file"),
    "req_answered_file_name": _l("Answered with a file: %(name)s"), "req_cancelled": _l("Cancelled"),
    "req_answer_label": _l("Your answer"), "req_answer_send": _l("Send the answer"),
    "req_answer_file": _l("Answer with a file"), "req_answer_sent": _l("Your answer was sent."),
    "req_cancel": _l("Cancel the request"), "req_cancel_done": _l("The request was cancelled."),
    "req_sent": _l("Your request was sent."),
    "req_text_optional": _l("(optional)"), "req_text_required": _l("(required: say what you need)"),
}


def money(value: Money | None) -> str:
    return "—" if value is None else format_currency(value.decimal, value.currency)


def local_time(value) -> str:
    """A time in the viewer's zone, with the zone named."""
    return f"{format_datetime(value, 'medium')} ({get_timezone().zone})"


def for_script() -> dict:
    """All labels, resolved in the viewer's language, for the room script (its labels are shared between
    views in the same language: read them, never change them)."""
    locale = str(get_locale())
    return {**_resolved(locale), "timezone": get_timezone().zone,
            "locale": locale.replace("_Hans_CN", "-CN").replace("_", "-")}


@functools.lru_cache(maxsize=16)
def _resolved(locale: str) -> dict:
    """The tables in `locale`, resolved once: some 250 lookups through Flask-Babel were a sixth of the room
    page's CPU."""
    resolve = lambda table: {key: str(text) for key, text in table.items()}  # noqa: E731
    with force_locale(locale):
        return {"states": resolve(STATES), "reasons": resolve(REASONS), "roles": resolve(ROLES),
                "proposal_states": resolve(PROPOSAL_STATES), "events": resolve(EVENTS),
                "strings": resolve(SCRIPT_STRINGS)}


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        state_label=lambda s: STATES.get(s, s), reason_label=lambda r: REASONS.get(r, r),
        role_label=lambda r: ROLES.get(r, r), money=money, get_locale=get_locale,
        local_time=local_time)
