"""`flask mediation worker`, a process of its own beside the web processes: it delivers the webhooks the web
side wrote to the outbox, and stops cleanly on SIGTERM."""
from __future__ import annotations

import pytest

from tests.admin_support import running_receiver
from tests.integration.processes import Worker
from tests.realtime.room_client import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver():
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def worker(app, tmp_path):
    """Start the worker on the test's database; yields it, and makes sure it is gone afterwards."""
    worker = Worker(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "worker.log")
    yield worker
    worker.close()


def test_the_worker_delivers_what_the_web_side_wrote(make_platform, make_case, receiver, worker):
    platform = make_platform(webhook_url=receiver.url)
    case = make_case(platform=platform)
    wait_until(lambda: receiver.verified_with(platform.webhook_secret), timeout=20)
    [delivered] = receiver.verified_with(platform.webhook_secret)
    assert (delivered["type"], delivered["data"]["case"]["id"]) == ("case.opened", case.id)


def test_the_worker_stops_cleanly_on_sigterm(worker):
    worker.wait_running(timeout=20)
    assert worker.stop(timeout=20) == 0
    assert "Worker stopped." in worker.output()
