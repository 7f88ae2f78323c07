"""Demo mode without an SMTP server: each e-mail is printed on the console and listed at /demo/mail."""
from __future__ import annotations

import pytest

from mediation.extensions import db
from mediation.models import Case
from tests.mail.conftest import deliver, rows


@pytest.fixture
def app_config() -> dict:
    return {"DEMO": True}


def test_the_console_prints_each_email(make_case, capsys):
    info = make_case()
    assert deliver() == 1
    printed = capsys.readouterr().out
    assert db.session.get(Case, info.id).reference in printed and "To: Shen Seller <shen@example.cn>" in printed
    assert rows(info.id, "case.opened")[0].state == "sent"


def test_the_demo_mailbox_lists_the_email_with_its_text(make_case, client):
    info = make_case(seller={"external_id": "s-1", "name": "Shen Seller", "email": "shen@example.cn", "locale": "en"})
    deliver()
    page = client.get("/demo/mail").get_data(as_text=True)
    assert db.session.get(Case, info.id).reference in page and "The buyer opened a dispute" in page


def test_the_demo_mailbox_shows_the_html_part_as_escaped_source(make_case, client):
    make_case(description="<script>alert(1)</script>")
    deliver()
    page = client.get("/demo/mail").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
