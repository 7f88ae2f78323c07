"""Evidence checklists: per dispute reason, what each party should put on the record so the case can settle.

Each party gets the items that let *them* make their case (the seller proves shipping and packing, the buyer
shows what arrived), so neither side is asked to carry the whole burden. An item is ticked by a file
(evidence naming the item), by an answer in words (ChecklistAnswer), or by an answered structured request
for the same thing. Items are data (keys); labels and hints render in each viewer's language at read time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from mediation.errors import Forbidden, Invalid, InvalidTransition, NotFound
from mediation.extensions import db
from mediation.models import Case, ChecklistAnswer, Evidence, EvidenceRequest, EvidenceWithdrawal
from mediation.services import events, policy, uow, workflow
from mediation.services.actors import Actor, PartyActor
from mediation.services.cases import load
from mediation.services.messages import note_response
from mediation.services.policy import Action

BOTH = ("buyer", "seller")
FILE, WORDS = "file", "words"
MAX_ANSWER = 500


@dataclass(frozen=True)
class Item:
    key: str
    roles: tuple[str, ...]  # the party (or both parties, each on their own list) it is for
    answer_by: str  # FILE: evidence with checklist_item=key; WORDS: a ChecklistAnswer
    label: object  # lazy strings: rendered in the reader's language
    hint: object
    request_kinds: tuple[str, ...] = ()  # an answered structured request of these kinds ticks it too
    pattern: str | None = None  # a words answer must match this in full
    pattern_error: object = None


_TRACKING = Item(
    "tracking_number", ("seller",), WORDS, _l("Tracking number"),
    _l("The carrier's tracking number for the shipment (letters, digits, spaces and dashes)."),
    ("tracking_number",), r"[A-Za-z0-9 -]{4,40}", _l("Use 4 to 40 letters, digits, spaces or dashes."))

CHECKLISTS: dict[str, tuple[Item, ...]] = {
    "not_received": (
        _TRACKING,
        Item("delivery_proof", ("seller",), FILE, _l("Carrier's proof of delivery"),
             _l("The carrier's delivery confirmation: a screenshot of the tracking page or a signed receipt."),
             ("delivery_proof",)),
        Item("delivery_address", ("buyer",), WORDS, _l("Your delivery address"),
             _l("The address the order should have reached, so it can be compared with the carrier's record.")),
        Item("carrier_inquiry", ("buyer",), FILE, _l("What the carrier told you"),
             _l("A screenshot of the tracking status you see, or the carrier's reply to your inquiry.")),
    ),
    "damaged": (
        Item("item_photos", ("buyer",), FILE, _l("Photos of the damaged item"),
             _l("Clear photos showing the damage, from several sides."), ("damage_photos",)),
        Item("packaging_photos", ("buyer",), FILE, _l("Photos of the packaging"),
             _l("Photos of the box and packing material as they arrived, including the shipping label."),
             ("packaging_photos",)),
        Item("packing_proof", ("seller",), FILE, _l("Proof of how it was packed"),
             _l("Photos of the item and its packing before shipping, or the packing record."),
             ("packaging_photos",)),
    ),
    "not_as_described": (
        Item("item_comparison", ("buyer",), FILE, _l("Photos of the item against the listing"),
             _l("Photos showing where the item differs from what the listing promised."),
             ("listing_comparison",)),
        Item("listing", BOTH, FILE, _l("The listing"),
             _l("A screenshot of the listing as it was when the order was placed.")),
        Item("shipped_item_photos", ("seller",), FILE, _l("Photos of the item you shipped"),
             _l("Photos of the item taken before shipping.")),
    ),
    "counterfeit": (
        Item("label_photos", ("buyer",), FILE, _l("Photos of labels and serial numbers"),
             _l("Close-up photos of brand labels, tags, serial numbers and holograms."), ("serial_number",)),
        Item("authenticity_proof", ("seller",), FILE, _l("Proof of authenticity"),
             _l("An invoice from the brand or an authorised distributor covering this item."), ("receipt",)),
    ),
    "unauthorized": (
        Item("not_ordered_statement", ("buyer",), WORDS, _l("Your statement"),
             _l("State that you did not place this order and how you noticed it.")),
        Item("delivery_or_activity_proof", ("seller",), FILE, _l("Proof of delivery or account activity"),
             _l("Proof of delivery to the account's address, or records of activity on the buyer's account."),
             ("delivery_proof",)),
    ),
    "other": (
        Item("supporting_document", BOTH, FILE, _l("A file that supports your account"),
             _l("Add a file and describe in its caption what it shows.")),
    ),
}


def items_for(case: Case, role: str | None = None) -> tuple[Item, ...]:
    """The checklist of the case's reason; only the items for `role` when given."""
    items = CHECKLISTS.get(case.reason, ())
    return tuple(item for item in items if role is None or role in item.roles)


def is_item(case: Case, key: str | None, role: str | None = None) -> bool:
    """Whether `key` is on the case's checklist (for `role`, when given): for the evidence upload's
    `checklist_item`."""
    return any(item.key == key for item in items_for(case, role))


@dataclass(frozen=True)
class ItemView:
    """One item of one party's checklist as a reader sees it."""

    key: str
    role: str
    answer_by: str
    label: object
    hint: object
    done: bool
    answer: str | None = None  # the words answer, if any
    answered_at: datetime | None = None
    evidence_ids: list[int] = field(default_factory=list)
    request_ids: list[int] = field(default_factory=list)
    can_answer: bool = False  # the reader may answer it in words now


def checklist(actor: Actor, case_id: int) -> list[ItemView]:
    """A party's own checklist; both parties' for the mediators and admins (buyer's items first).

    Only files and requests in channels the reader may read count, so a tick never reveals a caucus.
    Raises NotFound, Forbidden (the platform: the checklist belongs to the parties' conversation)."""
    case = load(actor, case_id)
    require_reader(actor, case)
    roles = (actor.role,) if isinstance(actor, PartyActor) else BOTH
    readable = policy.readable_channels(actor, case)
    answers = {(a.role, a.item): a for a in db.session.scalars(
        select(ChecklistAnswer).where(ChecklistAnswer.case_id == case.id))}
    files = db.session.execute(
        select(Evidence.id, Evidence.uploader_role, Evidence.checklist_item)
        .outerjoin(EvidenceWithdrawal, EvidenceWithdrawal.evidence_id == Evidence.id)
        .where(Evidence.case_id == case.id, Evidence.channel.in_(readable), Evidence.checklist_item.is_not(None),
               EvidenceWithdrawal.id.is_(None))
        .order_by(Evidence.id)).all()
    answered = db.session.execute(
        select(EvidenceRequest.id, EvidenceRequest.kind, EvidenceRequest.addressee_role)
        .where(EvidenceRequest.case_id == case.id, EvidenceRequest.state == "answered",
               EvidenceRequest.channel.in_(readable))
        .order_by(EvidenceRequest.id)).all()
    views = []
    for role in roles:
        for item in items_for(case, role):
            answer = answers.get((role, item.key))
            evidence_ids = [f.id for f in files if f.uploader_role == role and f.checklist_item == item.key]
            request_ids = [r.id for r in answered if r.addressee_role == role and r.kind in item.request_kinds]
            views.append(ItemView(
                item.key, role, item.answer_by, item.label, item.hint,
                done=bool(answer or evidence_ids or request_ids),
                answer=answer.value.get("text") if answer else None,
                answered_at=answer.created_at if answer else None,
                evidence_ids=evidence_ids, request_ids=request_ids,
                can_answer=(isinstance(actor, PartyActor) and actor.role == role and item.answer_by == WORDS
                            and answer is None and case.state in workflow.ACTIVE)))
    return views


def answer_checklist_item(actor: Actor, case_id: int, item: str, value_text: str) -> ChecklistAnswer:
    """A party answers an item of their own checklist in words. Answers are on the record: the first one
    stands, a correction goes into the chat.

    Raises NotFound (case, or no such item for its reason), Forbidden (not a party; the other party's item),
    Invalid (a file item; empty, too long or malformed value), InvalidTransition (case decided; already
    answered). Emits checklist.answered (and case.negotiation_started for the respondent's first answer).
    """
    with uow.transaction():
        case = load(actor, case_id, Action.ANSWER_CHECKLIST)
        definition = _item(case, item, actor.role)
        text = _valid_answer(definition, value_text)
        if case.state not in workflow.ACTIVE:
            raise InvalidTransition(_l("The case is %(state)s: the checklist can no longer be answered.",
                                       state=workflow.state_word(case.state)), state=case.state)
        if db.session.scalar(select(ChecklistAnswer.id).where(
                ChecklistAnswer.case_id == case.id, ChecklistAnswer.role == actor.role,
                ChecklistAnswer.item == definition.key)) is not None:
            raise InvalidTransition(_l("You have already answered this item. To correct it, write in the chat."),
                                    item=definition.key)
        answer = ChecklistAnswer(case_id=case.id, role=actor.role, item=definition.key, value={"text": text})
        db.session.add(answer)
        db.session.flush()
        note_response(case, actor)
        events.record(case, "checklist.answered", actor,
                      {"role": actor.role, "item": definition.key, "value": {"text": text}}, channel="joint")
    return answer


def require_reader(actor: Actor, case: Case) -> None:
    """Checklists and requests are part of the parties' conversation: whoever reads the joint channel."""
    if not policy.can(actor, Action.READ_CHANNEL, case, channel="joint"):
        raise Forbidden(_l("Only the parties and the mediators can see the evidence checklist and requests."))


def _item(case: Case, key: str, role: str) -> Item:
    found = next((item for item in items_for(case) if item.key == key), None)
    if found is None:
        raise NotFound(_l("There is no such item on this case's checklist."))
    if role not in found.roles:
        raise Forbidden(_l("This item is on the other party's checklist."))
    return found


def _valid_answer(item: Item, value_text: str | None) -> str:
    if item.answer_by != WORDS:
        message = _l("Answer this item by adding a file that names it.")
        raise Invalid(message, {"value": [message]})
    text = (value_text or "").strip()
    if not text:
        message = _l("Write your answer.")
    elif len(text) > MAX_ANSWER:
        message = _l("Use at most %(count)s characters.", count=MAX_ANSWER)
    elif item.pattern and not re.fullmatch(item.pattern, text):
        message = item.pattern_error
    else:
        return text
    raise Invalid(message, {"value": [message]})
