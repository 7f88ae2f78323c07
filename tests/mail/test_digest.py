"""Chat messages to a party who is not reading them are gathered into at most one e-mail per 15 minutes per
case: "not in the room" is what the read markers say, which every process shares."""
from __future__ import annotations

import threading
from itertools import count

import pytest

from mediation.extensions import db
from mediation.models import Notification
from mediation.services import mail, messages
from mediation.services.notifications import DIGEST_GATHER
from tests.mail.conftest import deliver, html_of, rows, set_person, text_of

SELLER, BUYER = "shen@example.cn", "olivia@example.com"
_ids = count(1)


def say(info, role: str, body: str, channel: str = "joint", actor=None):
    return messages.send_message(actor or info.actor(role), info.id, channel, body, f"c-{next(_ids)}").message


@pytest.fixture
def quiet_case(make_case, smtp, frozen_clock):
    """A case whose opening e-mail went out already: what arrives next is about the chat."""
    # The seller reads English here, so the digests say "unread message".
    info = make_case(seller={"external_id": "s-1", "name": "Shen Seller", "email": SELLER, "locale": "en"})
    deliver()
    smtp.received.clear()
    return info


def digests(smtp, address: str) -> list:
    return [m for m in smtp.to(address) if "unread message" in text_of(m)]


def test_many_messages_make_one_email(quiet_case, smtp, frozen_clock):
    for n in range(5):
        say(quiet_case, "buyer", f"Message number {n}")
    frozen_clock.move(minutes=2)
    deliver()
    [digest] = digests(smtp, SELLER)
    assert all(f"Message number {n}" in text_of(digest) for n in range(5))


def test_one_digest_waits_per_recipient_however_many_messages(quiet_case):
    for n in range(3):
        say(quiet_case, "buyer", f"Message number {n}")
    assert len([r for r in rows(quiet_case.id, "messages.digest") if r.state == "pending"]) == 1


def test_the_digest_gathers_for_two_minutes_first(quiet_case, smtp, frozen_clock):
    say(quiet_case, "buyer", "Are you there?")
    frozen_clock.move(minutes=1, seconds=59)
    deliver()
    assert digests(smtp, SELLER) == []


def test_a_second_burst_within_fifteen_minutes_waits_for_the_fifteen_minutes(quiet_case, smtp, frozen_clock):
    say(quiet_case, "buyer", "First burst")
    frozen_clock.move(minutes=2)
    deliver()  # the first digest goes out at minute 2
    frozen_clock.move(minutes=3)
    say(quiet_case, "buyer", "Second burst")
    frozen_clock.move(minutes=11, seconds=59)  # minute 16:59, a second short of 15 minutes after the first
    deliver()
    assert len(digests(smtp, SELLER)) == 1
    frozen_clock.move(seconds=1)
    deliver()
    first, second = digests(smtp, SELLER)
    assert "Second burst" in text_of(second) and "First burst" not in text_of(second)


def test_messages_the_party_has_read_are_not_mailed(quiet_case, smtp, frozen_clock):
    read = say(quiet_case, "buyer", "Read in the room")
    messages.mark_read(quiet_case.actor("seller"), quiet_case.id, "joint", read.id)
    say(quiet_case, "buyer", "Not read yet")
    frozen_clock.move(minutes=2)
    deliver()
    [digest] = digests(smtp, SELLER)
    assert "Not read yet" in text_of(digest) and "Read in the room" not in text_of(digest)


def test_a_party_who_read_everything_in_the_room_gets_no_email(quiet_case, smtp, frozen_clock):
    say(quiet_case, "buyer", "Hello")
    last = say(quiet_case, "buyer", "Hello again")
    messages.mark_read(quiet_case.actor("seller"), quiet_case.id, "joint", last.id)
    frozen_clock.move(minutes=2)
    deliver()
    assert digests(smtp, SELLER) == []
    assert [(r.state, r.last_error) for r in rows(quiet_case.id, "messages.digest")] == [("dropped", "nothing unread")]


def test_the_sender_gets_no_digest_of_their_own_messages(quiet_case, smtp, frozen_clock):
    say(quiet_case, "buyer", "Only the seller hears of this")
    frozen_clock.move(minutes=2)
    deliver()
    assert digests(smtp, BUYER) == []


def test_a_private_message_is_digested_only_for_its_party(make_mediation_case, smtp, frozen_clock):
    info, mediator = make_mediation_case()
    deliver()
    smtp.received.clear()
    say(info, "mediator", "Just between us", channel="caucus:buyer", actor=mediator)
    frozen_clock.move(minutes=2)
    deliver()
    assert len(digests(smtp, BUYER)) == 1 and digests(smtp, SELLER) == []


def test_the_digest_quotes_author_role_and_time_in_the_recipients_language_and_zone(quiet_case, smtp, frozen_clock):
    set_person(quiet_case.party_ids["seller"], "zh_Hans_CN", "Asia/Shanghai")
    say(quiet_case, "buyer", "The lid is cracked.")
    frozen_clock.move(minutes=2)
    deliver()
    text = text_of(smtp.to(SELLER)[0])
    # Buyer (买家), the joint channel (所有人), 09:00 UTC as 17:00 in Shanghai.
    assert "买家 Olivia Buyer · 所有人 · 2026年3月2日 17:00:00 (Asia/Shanghai)" in text


def test_the_html_part_escapes_what_people_wrote(quiet_case, smtp, frozen_clock):
    say(quiet_case, "buyer", "<script>alert(1)</script>")
    frozen_clock.move(minutes=2)
    deliver()
    html = html_of(smtp.to(SELLER)[0])
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_party_without_an_address_gets_no_digest_scheduled(make_case):
    info = make_case(seller={"external_id": "s-2", "name": "No Mail", "locale": "en"})
    say(info, "buyer", "Hello")
    assert rows(info.id, "messages.digest") == []


def test_a_mediators_message_to_everyone_is_digested_for_both_parties(make_mediation_case, smtp, frozen_clock):
    info, mediator = make_mediation_case(seller={"external_id": "s-3", "name": "Shen Seller", "email": SELLER,
                                                 "locale": "en"})
    frozen_clock.move(minutes=2)
    deliver()  # the buyer's digest of the seller's first message goes out
    smtp.received.clear()
    frozen_clock.move(minutes=15)
    say(info, "mediator", "Both of you, please answer by Friday.", actor=mediator)
    frozen_clock.move(minutes=2)
    deliver()
    assert all("please answer by Friday" in text_of(digest)
               for digest in digests(smtp, BUYER) + digests(smtp, SELLER))
    assert len(digests(smtp, BUYER)) == 1 and len(digests(smtp, SELLER)) == 1


def test_a_resent_message_schedules_no_second_digest(quiet_case, smtp, frozen_clock):
    actor = quiet_case.actor("buyer")
    messages.send_message(actor, quiet_case.id, "joint", "Are you there?", "resent-1")
    frozen_clock.move(minutes=2)
    deliver()  # the digest went out: the next new message would schedule another
    again = messages.send_message(actor, quiet_case.id, "joint", "Are you there?", "resent-1")
    assert again.duplicate
    assert [r.state for r in rows(quiet_case.id, "messages.digest")] == ["sent"]


# ---- several mail workers (PostgreSQL) -----------------------------------------------------------


def _needs_postgres() -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("several mail workers need PostgreSQL; on SQLite one process sends all mail")


def _pending_digest(case_id: int) -> Notification:
    [row] = [r for r in rows(case_id, "messages.digest") if r.state == "pending"]
    return row


def test_a_digest_waits_while_another_worker_has_that_partys_digest_turn(quiet_case, smtp, frozen_clock):
    _needs_postgres()
    say(quiet_case, "buyer", "Where is my refund?")
    frozen_clock.move(minutes=2)
    row = _pending_digest(quiet_case.id)
    with mail.digest_turn(row) as turn:  # another worker, rendering and sending the seller a digest
        assert turn
        deliver()
    assert digests(smtp, SELLER) == []
    waiting = _pending_digest(quiet_case.id)
    assert waiting.leased_until is None and waiting.next_attempt_at == frozen_clock.at + DIGEST_GATHER
    frozen_clock.move(minutes=2)
    deliver()
    [digest] = digests(smtp, SELLER)
    assert "Where is my refund?" in text_of(digest)


def test_two_workers_send_a_party_one_digest_when_two_were_scheduled_at_once(app, make_case, slow_smtp,
                                                                               frozen_clock):
    _needs_postgres()
    info = make_case(seller={"external_id": "s-1", "name": "Shen Seller", "email": SELLER, "locale": "en"})
    deliver()
    say(info, "buyer", "Where is my refund?")
    # Two messages committing at the same instant can each schedule a digest: the second row stands for that.
    first = _pending_digest(info.id)
    db.session.add(Notification(case_id=info.id, recipient=first.recipient, kind=first.kind, payload={},
                                created_at=first.created_at, next_attempt_at=first.next_attempt_at))
    db.session.commit()
    frozen_clock.move(minutes=2)
    start, errors = threading.Barrier(2), []

    def worker() -> None:
        try:
            with app.app_context():
                start.wait(5)
                mail.deliver_due(limit=1)
        except Exception as error:  # reported below: an exception in a thread would pass unseen
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(digests(slow_smtp, SELLER)) == 1
    assert sorted(r.state for r in rows(info.id, "messages.digest")) == ["pending", "sent"]
