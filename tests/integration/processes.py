"""Real `flask --app wsgi mediation worker` processes for the integration tests, on the test's database.

What a worker prints goes to a file, not a pipe: a pipe nobody reads fills up and stalls the worker.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNNING = "Worker running"


class Worker:
    """One worker process. `env` adds MEDIATION_* settings (e.g. MEDIATION_WEBHOOK_LEASE_SECONDS)."""

    def __init__(self, database_url: str, log: Path, env: dict[str, str] | None = None):
        environment = {**os.environ, "MEDIATION_SECRET_KEY": "test-secret", "MEDIATION_DATABASE_URL": database_url,
                       "PYTHONUNBUFFERED": "1", **(env or {})}
        environment.pop("MEDIATION_DEMO", None)
        self.log = log
        with log.open("wb") as out:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "mediation", "worker"],
                                            cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def said(self, text: str) -> bool:
        return text in self.output()

    def wait_running(self, timeout: float = 30) -> None:
        """Until it says it runs (its deliverer has started); fails with its output if it exits or takes longer."""
        deadline = time.monotonic() + timeout
        while not self.said(RUNNING):
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.pid} exited with {self.process.returncode}:\n{self.output()}")
            if time.monotonic() >= deadline:
                raise AssertionError(f"worker {self.pid} not running after {timeout} s:\n{self.output()}")
            time.sleep(0.05)

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, as a process manager stops it; returns its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> int:
        """SIGKILL: no clean-up of any kind, as when a machine dies."""
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait(10)

    def close(self) -> None:
        """After a test, whatever happened in it: make sure the process is gone."""
        if self.process.poll() is None:
            self.kill()
