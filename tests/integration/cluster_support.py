"""Real web processes of a scaled-out deployment for integration tests: gunicorn (gevent, as gunicorn.conf.py
runs it) on the test's PostgreSQL database and Redis; workers are tests.integration.processes.Worker."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.conftest import free_port
from tests.integration.processes import ROOT

START_TIMEOUT = 60.0  # seconds for a process to come up on a loaded machine


def environment(config, **extra: str) -> dict[str, str]:
    """The environment that points a process at the test's database, Redis, channel and presence keys, with
    limits out of the way (these tests load the service on purpose)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1",
           "MEDIATION_SECRET_KEY": config["SECRET_KEY"],
           "MEDIATION_DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
           "MEDIATION_SOCKETIO_CHANNEL": config["SOCKETIO_CHANNEL"],
           "MEDIATION_PRESENCE_KEY_PREFIX": config["PRESENCE_KEY_PREFIX"],
           "MEDIATION_RATELIMIT_API": "100000 per minute", "MEDIATION_RATELIMIT_JOIN": "100000 per minute",
           "MEDIATION_SOCKET_EVENTS_PER_SECOND": "1000", "MEDIATION_SOCKET_EVENTS_BURST": "1000", **extra}
    if config["REDIS_URL"]:
        env["MEDIATION_REDIS_URL"] = config["REDIS_URL"]
    env.pop("MEDIATION_DEMO", None)
    return env


@dataclass
class WebProcess:
    """One gunicorn master with one gevent web process, on its own loopback port."""
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serving_pid(self) -> int:
        """The web process itself (gunicorn's worker), not its master."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        assert children, f"gunicorn has no worker; its log:\n{self.log.read_text()}"
        return int(children[0])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start_web(env: dict[str, str], log_dir: Path) -> WebProcess:
    port = free_port()
    log = log_dir / f"web-{port}.log"
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")], cwd=ROOT,
                               env={**env, "MEDIATION_PORT": str(port), "MEDIATION_WEB_PROCESSES": "1"},
                               stdout=log.open("wb"), stderr=subprocess.STDOUT)
    web = WebProcess(port, process, log)
    wait_healthy(web)
    return web


def wait_healthy(web: WebProcess) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if web.process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {web.process.returncode}:\n{web.log.read_text()}")
        try:
            if requests.get(f"{web.url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or still loading the app
            pass
        time.sleep(0.1)
    raise AssertionError(f"gunicorn on {web.port} not healthy in {START_TIMEOUT} s:\n{web.log.read_text()}")
