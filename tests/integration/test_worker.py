"""`flask mediation worker`, a process of its own beside the web processes: it delivers the webhooks the web
side wrote to the outbox, and stops cleanly on SIGTERM."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.admin_support import running_receiver
from tests.realtime.room_client import wait_until

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver():
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def worker(app):
    """Start the worker on the test's database; yields the process, stops it with SIGTERM afterwards."""
    env = {**os.environ, "MEDIATION_SECRET_KEY": "test-secret",
           "MEDIATION_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "PYTHONUNBUFFERED": "1"}
    env.pop("MEDIATION_DEMO", None)
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "mediation", "worker"], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield process
    if process.poll() is None:
        process.kill()
        process.wait(10)


def test_the_worker_delivers_what_the_web_side_wrote(make_platform, make_case, receiver, worker):
    platform = make_platform(webhook_url=receiver.url)
    case = make_case(platform=platform)
    wait_until(lambda: receiver.verified_with(platform.webhook_secret), timeout=20)
    [delivered] = receiver.verified_with(platform.webhook_secret)
    assert (delivered["type"], delivered["data"]["case"]["id"]) == ("case.opened", case.id)


def test_the_worker_stops_cleanly_on_sigterm(worker):
    wait_until(lambda: worker.poll() is not None or _said(worker, "Worker running"), timeout=20)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(20) == 0
    assert "Worker stopped." in worker.stdout.read()


def _said(process: subprocess.Popen, text: str) -> bool:
    """Whether the process has printed `text` yet (reads what it printed so far, line by line)."""
    line = process.stdout.readline()
    return text in line
