"""The demo's mailbox and webhook inbox with Redis: every process of a cluster lists the same items, so the
page a web process shows includes the e-mail a worker process printed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from mediation.extensions import db
from mediation.models import Case
from tests.conftest import REDIS_URL
from tests.integration.cluster_support import ROOT
from tests.mail.conftest import deliver

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not REDIS_URL, reason="MEDIATION_TEST_REDIS_URL not set: the shared demo lists need Redis"),
]

PREFIX = f"mediation-test:{uuid.uuid4().hex}:demo"

OTHER_PROCESS = """
import json, sys
from mediation import create_app
from mediation.services import mail
app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite:///unused.db", "REDIS_URL": sys.argv[1],
                  "DEMO_KEY_PREFIX": sys.argv[2], "DEMO": True})
with app.app_context():
    print(json.dumps([item["subject"] for item in mail.console.received()]))
"""


@pytest.fixture
def app_config() -> dict:
    return {"DEMO": True, "REDIS_URL": REDIS_URL, "DEMO_KEY_PREFIX": PREFIX}


def test_an_email_printed_by_one_process_is_listed_by_another(make_case, tmp_path):
    info = make_case()
    assert deliver() == 1
    other = subprocess.run([sys.executable, "-c", OTHER_PROCESS, REDIS_URL, PREFIX], cwd=tmp_path,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60,
                           check=True)
    subjects = json.loads(other.stdout.strip().splitlines()[-1])
    assert any(db.session.get(Case, info.id).reference in subject for subject in subjects)


def test_the_shared_list_keeps_the_newest_first_and_drops_the_oldest(app):
    from mediation.demo_store import DemoList

    inbox = DemoList(f"inbox-{uuid.uuid4().hex}", keep=3)
    for n in range(5):
        inbox.add({"n": n})
    assert [item["n"] for item in inbox.items()] == [4, 3, 2]
