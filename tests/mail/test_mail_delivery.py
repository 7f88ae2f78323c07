"""The mail worker against a real SMTP server on loopback: arrival, retries, giving up, never twice."""
from __future__ import annotations

import re

from mediation.services import mail
from tests.conftest import free_port
from tests.mail.conftest import deliver, html_of, notification_id, rows, text_of

SELLER = "shen@example.cn"


def test_an_email_arrives_with_a_text_and_an_html_part(make_case, smtp):
    make_case(seller={"external_id": "s-1", "name": "Shen Seller", "email": "shen@example.cn", "locale": "en"})
    assert deliver() == 1
    message = smtp.to(SELLER)[0]
    assert message.get_content_type() == "multipart/alternative"
    assert "order ORD-" in text_of(message) and "<html" in html_of(message)


def test_the_subject_carries_the_case_reference(make_case, smtp):
    from mediation.extensions import db
    from mediation.models import Case

    info = make_case()
    deliver()
    assert db.session.get(Case, info.id).reference in smtp.to(SELLER)[0]["Subject"]


def test_a_sent_row_is_marked_sent_and_not_sent_again(make_case, smtp, frozen_clock):
    info = make_case()
    deliver()
    sent_at = frozen_clock.at
    frozen_clock.move(hours=1)
    assert deliver() == 0
    row = rows(info.id, "case.opened")[0]
    assert (row.state, row.sent_at, len(smtp.received)) == ("sent", sent_at, 1)


def test_the_join_link_in_the_email_signs_the_respondent_in(make_case, smtp, client):
    info = make_case()
    deliver()
    token = re.search(r"/join/(\S+)", text_of(smtp.to(SELLER)[0])).group(1)
    assert client.get(f"/join/{token}").headers["Location"] == f"/cases/{info.id}"


def test_a_server_that_refuses_twice_gets_the_mail_on_the_third_try_and_one_copy_arrives(
        make_case, refusing_smtp, frozen_clock):
    info = make_case()
    assert deliver() == 0
    frozen_clock.move(minutes=1)
    assert deliver() == 0
    frozen_clock.move(minutes=5)
    assert deliver() == 1
    frozen_clock.move(days=1)
    deliver()
    assert len(refusing_smtp.offered) == 3 and len(refusing_smtp.received) == 1
    assert rows(info.id, "case.opened")[0].attempts == 2


def test_every_try_carries_the_same_message_id(make_case, refusing_smtp, frozen_clock):
    make_case()
    for _ in range(3):
        deliver()
        frozen_clock.move(minutes=30)
    assert len({m["Message-ID"] for m in refusing_smtp.offered}) == 1


def test_a_refused_send_waits_for_its_retry(make_case, refusing_smtp, frozen_clock):
    info = make_case()
    deliver()
    frozen_clock.move(seconds=59)
    deliver()
    row = rows(info.id, "case.opened")[0]
    assert (row.state, row.attempts, len(refusing_smtp.offered)) == ("pending", 1, 1)
    assert row.last_error.startswith("SMTPDataError: (451")


def test_an_unreachable_server_leaves_the_mail_pending_with_the_error(app, make_case, frozen_clock):
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=free_port(), MAIL_TIMEOUT=2)
    info = make_case()
    assert deliver() == 0
    row = rows(info.id, "case.opened")[0]
    assert (row.state, row.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in row.last_error


def test_a_mail_the_server_keeps_refusing_fails_after_about_three_days(make_case, refusing_smtp, frozen_clock):
    refusing_smtp.refuse_data = 100
    info = make_case()
    started = frozen_clock.at
    while rows(info.id, "case.opened")[0].state == "pending":
        deliver()
        frozen_clock.move(hours=1)
    row = rows(info.id, "case.opened")[0]
    assert (row.state, row.attempts) == ("failed", mail.MAX_ATTEMPTS)
    assert 2.5 <= (frozen_clock.at - started).total_seconds() / 86400 <= 3.5


def test_an_address_the_server_says_does_not_exist_fails_at_once(make_case, smtp):
    smtp.unknown.add(SELLER)
    info = make_case()
    deliver()
    row = rows(info.id, "case.opened")[0]
    assert (row.state, row.attempts) == ("failed", 1)


def test_without_an_smtp_host_outside_demo_mode_the_mail_waits_in_the_outbox(make_case):
    info = make_case()
    assert deliver() == 0
    assert rows(info.id, "case.opened")[0].state == "pending"


def test_each_mail_is_the_row_it_came_from(make_case, smtp):
    info = make_case()
    deliver()
    assert notification_id(smtp.to(SELLER)[0]) == rows(info.id, "case.opened")[0].id


def test_flask_mediation_send_mail_sends_what_is_due(make_case, smtp, runner):
    make_case()
    result = runner.invoke(args=["mediation", "send-mail"])
    assert result.exit_code == 0 and result.output.strip() == "1 sent"
    assert len(smtp.received) == 1


def test_flask_mediation_send_mail_says_when_no_smtp_host_is_configured(make_case, runner):
    make_case()
    result = runner.invoke(args=["mediation", "send-mail"])
    assert "No SMTP host configured" in result.output


def test_there_is_no_demo_mailbox_outside_demo_mode(client):
    assert client.get("/demo/mail").status_code == 404
