"""A mediator's queue: their cases only, the most urgent first, with unread counts."""
from __future__ import annotations

from mediation.services import deadlines, mediators, messages, proposals
from tests.conftest import money


def to_mediation(info):
    proposals.create_proposal(info.actor("seller"), info.id, buyer_refund=money("10.00"),
                              seller_release=money("90.00"))
    return deadlines.escalate_case(info.actor("buyer"), info.id, "We cannot agree")


def sign_in(client, app, email):
    app.config["WTF_CSRF_ENABLED"] = False
    assert client.post("/login", data={"email": email, "password": "a long password"}).status_code == 302


def test_the_queue_lists_the_mediators_cases_most_urgent_first_with_unread_counts(make_case, make_user,
                                                                                     frozen_clock):
    mediator = make_user("mediator")
    first = make_case()
    to_mediation(first)
    frozen_clock.move(days=1)
    second = make_case()
    to_mediation(second)
    messages.send_message(second.actor("buyer"), second.id, "caucus:buyer", "Here is the tracking number", "t1")
    messages.send_message(second.actor("seller"), second.id, "joint", "I shipped it", "t2")
    items = mediators.queue(mediator)
    assert [item.case.id for item in items] == [first.id, second.id]
    unread = {item.case.id: item.unread for item in items}
    assert unread == {first.id: 0, second.id: 2}


def test_reading_a_channel_lowers_the_unread_count(make_case, make_user):
    mediator = make_user("mediator")
    info = make_case()
    to_mediation(info)
    sent = messages.send_message(info.actor("buyer"), info.id, "caucus:buyer", "Private note", "p1")
    before = mediators.queue(mediator)[0].unread
    messages.mark_read(mediator, info.id, "caucus:buyer", sent.message.id)
    assert mediators.queue(mediator)[0].unread == before - 1


def test_another_mediators_cases_are_not_in_the_queue(make_case, make_user):
    mine = make_user("mediator")
    info = make_case()
    to_mediation(info)
    other = make_user("mediator")
    assert [item.case.id for item in mediators.queue(mine)] == [info.id]
    assert mediators.queue(other) == []


def test_the_queue_page_shows_a_signed_in_mediator_their_cases(client, app, make_case, make_user):
    make_user("mediator", email="mei@example.com")
    info = make_case()
    to_mediation(info)
    sign_in(client, app, "mei@example.com")
    page = client.get("/cases")
    assert page.status_code == 200 and b"MD-" in page.data and b"Unread" in page.data
    assert client.get(f"/cases/{info.id}").status_code == 200


def test_an_unassigned_mediator_cannot_open_the_case_room(client, app, make_case, make_user):
    make_user("mediator")
    info = make_case()
    to_mediation(info)
    make_user("mediator", email="late@example.com")
    sign_in(client, app, "late@example.com")
    assert client.get(f"/cases/{info.id}").status_code == 404


def appealed_to(second, info, mediator, rulebook):
    from mediation.services import rulings

    rulings.issue_ruling(mediator, info.id, rulings.Outcome(money("40.00"), money("60.00")),
                         "The photos show damage in transit.", rulebook.clause_ids[:1])
    rulings.appeal_ruling(info.actor("seller"), info.id, "The ruling ignored the courier's report.")


def test_the_appeal_mediator_finds_the_appeal_in_their_queue_marked_as_such(make_mediation_case, make_user, rulebook):
    info, mediator = make_mediation_case()
    second = make_user("mediator")
    appealed_to(second, info, mediator, rulebook)
    items = mediators.queue(second)
    assert [(item.case.id, item.part) for item in items] == [(info.id, "appeal")]
    assert [item.part for item in mediators.queue(mediator)] == ["mediation"]


def test_the_appeal_mediators_unread_count_leaves_out_the_caucus_they_cannot_read(make_mediation_case, make_user,
                                                                                 rulebook):
    info, mediator = make_mediation_case()
    messages.send_message(info.actor("buyer"), info.id, "caucus:buyer", "Only for the first mediator", "c1")
    second = make_user("mediator")
    appealed_to(second, info, mediator, rulebook)
    messages.send_message(info.actor("buyer"), info.id, "joint", "Please look again", "j1")
    assert mediators.queue(second)[0].unread == 2  # the seller's "I shipped it." and this one, not the caucus


def test_the_queue_page_names_the_mediators_part(client, app, make_mediation_case, make_user, rulebook):
    from mediation.extensions import db
    from mediation.models import User

    info, mediator = make_mediation_case()
    second = make_user("mediator")
    appealed_to(second, info, mediator, rulebook)
    sign_in(client, app, db.session.get(User, second.user_id).email)
    assert "Deciding the appeal" in client.get("/cases").get_data(as_text=True)
