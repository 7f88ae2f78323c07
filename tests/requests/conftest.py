"""Helpers for structured requests and checklists: files put on the record directly (the evidence upload is
built elsewhere), a settled case, a signed-in mediator."""
from __future__ import annotations

import pytest

from mediation.extensions import db
from mediation.models import Evidence, EvidenceWithdrawal
from mediation.services import proposals
from tests.conftest import money


@pytest.fixture
def add_file(app):
    """An Evidence row as the upload service will store it; returns its id."""

    def add(info, role: str, *, channel: str = "joint", checklist_item: str | None = None,
            request_id: int | None = None) -> int:
        evidence = Evidence(case_id=info.id, channel=channel, uploader=f"party:{info.party_ids[role]}",
                            uploader_role=role, uploader_name=role.title(), sha256="ab" * 32, size=1234,
                            media_type="image/jpeg", filename="photo.jpg", caption="What arrived",
                            checklist_item=checklist_item, request_id=request_id)
        db.session.add(evidence)
        db.session.commit()
        return evidence.id

    return add


@pytest.fixture
def withdraw_file(app):
    def withdraw(evidence_id: int, by_role: str = "buyer") -> None:
        db.session.add(EvidenceWithdrawal(evidence_id=evidence_id, by="party:1", by_role=by_role,
                                          reason="Wrong photo"))
        db.session.commit()

    return withdraw


@pytest.fixture
def settle(app):
    """Settle a case on a proposal of the buyer's that the seller accepts."""

    def settle_case(info) -> None:
        made = proposals.create_proposal(info.actor("buyer"), info.id, buyer_refund=money("40.00"),
                                         seller_release=money("60.00"))
        proposals.accept_proposal(info.actor("seller"), info.id, made.id)

    return settle_case


@pytest.fixture
def mediating(make_mediation_case, staff_login):
    """A case in mediation, its mediator, and the mediator's signed-in browser headers (CSRF)."""
    info, mediator = make_mediation_case()
    return info, mediator, staff_login(mediator)
