"""`flask mediation cluster` (what `make run-cluster` runs) as an operator starts it: it serves, starts a
killed worker again, and stops every process on SIGTERM."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import PG_URL, REDIS_URL, free_port
from tests.integration.cluster_support import environment
from tests.integration.processes import ROOT
from tests.realtime.room_client import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (PG_URL and REDIS_URL), reason="MEDIATION_TEST_DATABASE_URL and MEDIATION_TEST_REDIS_URL "
                                                          "not both set: the cluster needs PostgreSQL and Redis"),
]


@pytest.fixture
def app_config() -> dict:
    return {"REDIS_URL": REDIS_URL}


def children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def command_line(pid: int) -> str:
    """The process's command line; "" for one that ended between being listed and being read (the killed
    worker, reaped by the supervisor)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def test_the_cluster_serves_restarts_a_dead_worker_and_stops_on_sigterm(app, tmp_path):
    port = free_port()
    log = tmp_path / "cluster.log"
    cluster = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "mediation", "cluster", "--web", "2",
                                "--workers", "2", "--port", str(port)], cwd=ROOT, env=environment(app.config),
                               stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: healthy(f"http://127.0.0.1:{port}"), timeout=60)
        workers = [pid for pid in children(cluster.pid) if "mediation worker" in command_line(pid)]
        [gunicorn] = [pid for pid in children(cluster.pid) if "gunicorn" in command_line(pid)]
        assert len(workers) == 2
        wait_until(lambda: len(children(gunicorn)) == 2, timeout=30)  # two web processes

        subprocess.run(["kill", "-KILL", str(workers[0])], check=True)
        wait_until(lambda: len([pid for pid in children(cluster.pid) if "mediation worker" in command_line(pid)
                                and pid not in workers]) == 1, timeout=30)

        cluster.send_signal(signal.SIGTERM)
        assert cluster.wait(60) == 0
        time.sleep(0.5)
        assert not healthy(f"http://127.0.0.1:{port}")
        output = log.read_text()
        assert "worker-1 exited with -9; starting it again" in output
        assert "All processes stopped." in output
    finally:
        # The whole group: a run stopped half-way must not leave gunicorn or a worker serving the test database.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait(10)
