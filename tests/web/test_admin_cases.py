"""Admin pages for cases: read only (facts, the chained log, the joint channel, never a caucus), and the one
change an admin may make: reassigning the mediator, with a reason on the record."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from mediation.extensions import db
from mediation.models import Case, CaseEvent, Message, Proposal
from mediation.services import admin, cases, messages, proposals, rulings
from tests.admin_support import OUTSIDERS, become, post, refused, sign_in_admin
from tests.conftest import money


def listed(page) -> list[int]:
    return [int(n) for n in re.findall(r'href="/admin/cases/(\d+)"', page.data.decode())]


def case_row(case_id: int) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case_id)


def event_types(case_id: int) -> list[str]:
    return list(db.session.scalars(select(CaseEvent.type).where(CaseEvent.case_id == case_id)
                                   .order_by(CaseEvent.seq)))


def appealed_case(make_mediation_case, make_user, rulebook):
    """A case whose mediator ruled and whose buyer appealed; an appeal mediator was assigned."""
    info, mediator = make_mediation_case()
    appeal_mediator = make_user("mediator")
    rulings.issue_ruling(mediator, info.id, rulings.Outcome(money("30.00"), money("70.00")),
                         "The photos show transit damage, shared.", [rulebook.clause_ids[0]])
    rulings.appeal_ruling(info.actor("buyer"), info.id, "The seller packed it badly, not the carrier.")
    assert case_row(info.id).appeal_mediator_id == appeal_mediator.user_id
    return info, mediator, appeal_mediator


# ---- the list -------------------------------------------------------------------------------------------


def test_the_case_list_shows_every_case_newest_first(client, make_user, make_platform, make_case):
    first = make_case(platform=make_platform())
    second = make_case(platform=make_platform())
    sign_in_admin(client, make_user)
    page = client.get("/admin/cases")
    assert page.status_code == 200 and listed(page) == [second.id, first.id]


def test_the_case_list_filters_by_state(client, make_user, make_case, make_mediation_case):
    make_case()
    escalated, _mediator = make_mediation_case()
    sign_in_admin(client, make_user)
    assert listed(client.get("/admin/cases?state=mediation")) == [escalated.id]


def test_the_case_list_filters_by_platform(client, make_user, make_platform, make_case):
    one, two = make_platform(), make_platform()
    mine = make_case(platform=one)
    make_case(platform=two)
    sign_in_admin(client, make_user)
    assert listed(client.get(f"/admin/cases?platform={one.id}")) == [mine.id]


def test_the_case_list_pages_back_with_before(client, make_user, make_case):
    first, second, third = make_case(), make_case(), make_case()
    sign_in_admin(client, make_user)
    assert listed(client.get(f"/admin/cases?before={third.id}")) == [second.id, first.id]


def test_an_unknown_state_filter_is_answered_422(client, make_user):
    sign_in_admin(client, make_user)
    assert client.get("/admin/cases?state=lost").status_code == 422


# ---- the case page --------------------------------------------------------------------------------------


def test_the_case_page_shows_the_facts_the_parties_and_the_mediator(client, make_user, make_mediation_case):
    info, mediator = make_mediation_case()
    reference = case_row(info.id).reference
    sign_in_admin(client, make_user)
    page = client.get(f"/admin/cases/{info.id}").data.decode()
    assert reference in page and "Olivia Buyer" in page and "Shen Seller" in page and mediator.name in page


def test_the_case_page_shows_the_event_log_and_the_joint_messages(client, make_user, make_mediation_case):
    info, _mediator = make_mediation_case()
    sign_in_admin(client, make_user)
    page = client.get(f"/admin/cases/{info.id}").data.decode()
    assert all(f"<code>{kind}</code>" in page for kind in event_types(info.id))
    assert "I shipped it." in page


def test_the_case_page_never_shows_a_caucus_message(client, make_user, make_mediation_case):
    info, mediator = make_mediation_case()
    messages.send_message(info.actor("buyer"), info.id, "caucus:buyer", "Only for the mediator", "c-private")
    messages.send_message(mediator, info.id, "caucus:seller", "A word with the seller", "c-private-2")
    sign_in_admin(client, make_user)
    page = client.get(f"/admin/cases/{info.id}").data.decode()
    assert "Only for the mediator" not in page and "A word with the seller" not in page


def test_the_case_page_shows_the_outcome_of_a_settled_case(client, make_user, make_case):
    info = make_case()
    proposal = proposals.create_proposal(info.actor("seller"), info.id, buyer_refund=money("40.00"),
                                         seller_release=money("60.00"))
    proposals.accept_proposal(info.actor("buyer"), info.id, proposal.id)
    sign_in_admin(client, make_user)
    page = client.get(f"/admin/cases/{info.id}").data.decode()
    assert "Outcome" in page and "$40.00" in page and "$60.00" in page


def test_the_case_page_offers_no_way_to_change_the_record_but_reassignment(client, make_user, make_mediation_case):
    info, _mediator = make_mediation_case()
    sign_in_admin(client, make_user)
    page = client.get(f"/admin/cases/{info.id}").data.decode()
    actions = re.findall(r'<form method="post" action="([^"]+)"', page)
    assert actions == ["/logout", f"/admin/cases/{info.id}/reassign"]


def test_an_unknown_case_is_a_404(client, make_user):
    sign_in_admin(client, make_user)
    assert client.get("/admin/cases/999").status_code == 404


# ---- reassignment -----------------------------------------------------------------------------------------


def test_reassignment_with_a_reason_is_on_the_record(client, make_user, make_mediation_case):
    info, before = make_mediation_case()
    after = make_user("mediator")
    token = sign_in_admin(client, make_user)
    response = post(client, f"/admin/cases/{info.id}/reassign", token, mediator_id=str(after.user_id),
                    reason="The first mediator is on leave.")
    assert response.status_code == 302
    assert case_row(info.id).mediator_id == after.user_id
    event = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == info.id)
                               .order_by(CaseEvent.seq.desc())).first()
    assert event.type == "mediator.reassigned" and event.actor.startswith("admin:")
    assert event.payload["reason"] == "The first mediator is on leave."
    assert event.payload["previous_mediator_id"] == before.user_id
    assert b"The first mediator is on leave." in client.get(response.headers["Location"]).data


def test_reassignment_without_a_reason_is_refused_and_changes_nothing(client, make_user, make_mediation_case):
    info, before = make_mediation_case()
    after = make_user("mediator")
    events_before = event_types(info.id)
    token = sign_in_admin(client, make_user)
    page = post(client, f"/admin/cases/{info.id}/reassign", token, mediator_id=str(after.user_id), reason="  ")
    assert page.status_code == 422 and b"Give a reason for the reassignment." in page.data
    assert case_row(info.id).mediator_id == before.user_id and event_types(info.id) == events_before


def test_reassignment_to_a_conflicted_mediator_is_refused_on_the_form(client, make_user, make_mediation_case):
    info, before = make_mediation_case()
    after = make_user("mediator")
    admin.declare_conflict(make_user("admin"), after.user_id, platform_id=info.platform.id, reason="Shareholder")
    token = sign_in_admin(client, make_user)
    page = post(client, f"/admin/cases/{info.id}/reassign", token, mediator_id=str(after.user_id),
                reason="Rebalancing the load.")
    assert page.status_code == 422 and b"Conflict of interest." in page.data
    assert case_row(info.id).mediator_id == before.user_id


def test_reassignment_to_an_inactive_mediator_is_refused_on_the_form(client, make_user, make_mediation_case):
    info, before = make_mediation_case()
    after = make_user("mediator")
    admin.set_mediator_active(make_user("admin"), after.user_id, False)
    token = sign_in_admin(client, make_user)
    page = post(client, f"/admin/cases/{info.id}/reassign", token, mediator_id=str(after.user_id),
                reason="Rebalancing the load.")
    assert page.status_code == 422 and b"Not an active mediator." in page.data
    assert case_row(info.id).mediator_id == before.user_id


def test_a_case_without_a_mediator_slot_cannot_be_reassigned(client, make_user, make_case):
    info = make_case()
    mediator = make_user("mediator")
    token = sign_in_admin(client, make_user)
    page = post(client, f"/admin/cases/{info.id}/reassign", token, mediator_id=str(mediator.user_id),
                reason="Someone should look at it.")
    assert page.status_code == 409 and b"Only a case in mediation or on appeal" in page.data
    assert case_row(info.id).mediator_id is None


def test_an_appealed_case_gets_a_new_appeal_mediator(client, make_user, make_mediation_case, rulebook):
    info, mediator, _appeal_mediator = appealed_case(make_mediation_case, make_user, rulebook)
    replacement = make_user("mediator")
    token = sign_in_admin(client, make_user)
    assert b"Appeal mediator" in client.get(f"/admin/cases/{info.id}").data
    post(client, f"/admin/cases/{info.id}/reassign", token, mediator_id=str(replacement.user_id),
         reason="The appeal mediator is unwell.")
    case = case_row(info.id)
    assert (case.mediator_id, case.appeal_mediator_id) == (mediator.user_id, replacement.user_id)


def test_the_mediator_who_ruled_cannot_take_the_appeal(client, make_user, make_mediation_case, rulebook):
    info, mediator, appeal_mediator = appealed_case(make_mediation_case, make_user, rulebook)
    token = sign_in_admin(client, make_user)
    page = post(client, f"/admin/cases/{info.id}/reassign", token, mediator_id=str(mediator.user_id),
                reason="Let the first one decide.")
    assert page.status_code == 422
    assert case_row(info.id).appeal_mediator_id == appeal_mediator.user_id


# ---- the admin and the JSON API -------------------------------------------------------------------------


def test_the_admin_cannot_post_a_message_through_the_api(client, make_user, make_mediation_case):
    info, _mediator = make_mediation_case()
    token = sign_in_admin(client, make_user)
    before = db.session.scalar(select(func.count(Message.id)))
    response = client.post(f"/api/v1/cases/{info.id}/messages", headers={"X-CSRFToken": token},
                           json={"channel": "joint", "body": "Admin here", "client_id": "a1"})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(Message.id))) == before


def test_the_admin_cannot_propose_through_the_api(client, make_user, make_mediation_case):
    info, _mediator = make_mediation_case()
    token = sign_in_admin(client, make_user)
    response = client.post(f"/api/v1/cases/{info.id}/proposals", headers={"X-CSRFToken": token},
                           json={"buyer_refund": {"value": "50.00", "currency": "USD"},
                                 "seller_release": {"value": "50.00", "currency": "USD"}})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(Proposal.id))) == 0


def test_the_admin_cannot_read_a_caucus_through_the_api(client, make_user, make_mediation_case):
    info, _mediator = make_mediation_case()
    sign_in_admin(client, make_user)
    assert client.get(f"/api/v1/cases/{info.id}/messages?channel=caucus:buyer").status_code == 403


def test_the_admin_reads_the_record_through_the_service_like_the_page(make_user, make_mediation_case):
    info, _mediator = make_mediation_case()
    assert [e.type for e in cases.case_events(make_user("admin"), info.id)] == event_types(info.id)


# ---- who may not ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outsiders_are_refused_every_case_page_and_reassignment(client, make_user, make_mediation_case,
                                                                make_case, login_party, who):
    info, before = make_mediation_case()
    after = make_user("mediator")
    token = become(who, client, make_user, make_case, login_party)
    for url in ("/admin/cases", f"/admin/cases/{info.id}"):
        assert refused(who, client.get(url)), url
    assert refused(who, post(client, f"/admin/cases/{info.id}/reassign", token, mediator_id=str(after.user_id),
                             reason="Taking over."))
    assert case_row(info.id).mediator_id == before.user_id
