"""Cases that have a document, each reached through the real services: a settlement, a ruling, and an
appeal decision."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from mediation.extensions import db
from mediation.models import CaseEvent
from mediation.services import documents, proposals, rulings
from mediation.services.rulings import Outcome
from tests.conftest import CaseInfo, money

RATIONALE = "The photos show a crack that the packaging could not have caused."


@dataclass
class Documented:
    case: CaseInfo
    seq: int

    @property
    def url(self) -> str:
        return f"/cases/{self.case.id}/documents/{self.seq}"

    def document(self) -> documents.Document:
        return documents.get_document(self.case.platform.actor, self.case.id, self.seq)

    def data(self) -> dict:
        return self.document().as_json()


def seq_of(case_id: int, type: str) -> int:
    return db.session.scalar(select(CaseEvent.seq).where(CaseEvent.case_id == case_id, CaseEvent.type == type)
                             .order_by(CaseEvent.seq.desc()).limit(1))


@pytest.fixture
def settled(frozen_clock, make_case) -> Documented:
    info = make_case()
    proposal = proposals.create_proposal(info.actor("seller"), info.id, buyer_refund=money("30.00"),
                                         seller_release=money("70.00"), terms="Keep the item.")
    proposals.accept_proposal(info.actor("buyer"), info.id, proposal.id)
    return Documented(info, seq_of(info.id, "case.resolved"))


@pytest.fixture
def ruled(frozen_clock, make_mediation_case, rulebook) -> Documented:
    info, mediator = make_mediation_case()
    rulings.issue_ruling(mediator, info.id, Outcome(money("40.00"), money("60.00"), False, "Keep the item."),
                         RATIONALE, rulebook.clause_ids[:2])
    return Documented(info, seq_of(info.id, "ruling.issued"))


@pytest.fixture
def appeal_decided(ruled, make_user, rulebook) -> Documented:
    second = make_user("mediator")
    appeal = rulings.appeal_ruling(ruled.case.actor("seller"), ruled.case.id,
                                   "The mediator ignored the courier's report.")
    rulings.decide_appeal(second, ruled.case.id, appeal.id, "replace", "The courier confirmed the damage.",
                          rulebook.clause_ids[:1], Outcome(money("100.00"), money("0.00"), True))
    return Documented(ruled.case, seq_of(ruled.case.id, "appeal.decided"))
