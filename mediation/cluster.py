"""`flask mediation cluster`: Mediation as several processes on one host (`make run-cluster`).

One gunicorn (gunicorn.conf.py) with N gevent web processes on one port, plus M `flask mediation worker`
processes for webhook delivery, e-mail and the scheduler, all on PostgreSQL with Redis as the Socket.IO message
queue between them. This process only supervises: a worker that dies is started again (gunicorn's master does
the same for its web processes), and SIGTERM or Ctrl-C stops everything in order.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mediation.config import ROOT

RESTART_DELAY = 1.0  # seconds before a dead child is started again; at most one restart per delay
STOP_TIMEOUT = 20.0  # how long children get to finish after SIGTERM (a worker's delivery, gunicorn's requests)


class ClusterRefused(Exception):
    """The configuration cannot run as several processes (said in the message)."""


def check_configuration(config) -> None:
    """Several processes need a shared database with row locks and a message queue between them."""
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        raise ClusterRefused("Several processes need PostgreSQL: set MEDIATION_DATABASE_URL=postgresql+psycopg://…")
    if not config["REDIS_URL"]:
        raise ClusterRefused("Several processes need Redis between them: set MEDIATION_REDIS_URL=redis://…")


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen | None = None
    started_at: float = field(default=0.0)

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env)
        self.started_at = time.monotonic()

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()


def children(web_processes: int, workers: int, host: str, port: int, env: dict[str, str] | None = None,
             python: str = sys.executable) -> list[Child]:
    """What to run: one gunicorn with `web_processes` web processes, and `workers` background workers."""
    base = {**(env if env is not None else os.environ), "PYTHONUNBUFFERED": "1"}
    web_env = {**base, "MEDIATION_WEB_PROCESSES": str(web_processes), "MEDIATION_HOST": host,
               "MEDIATION_PORT": str(port)}
    web = Child("web", [python, "-m", "gunicorn", "-c", str(Path(ROOT) / "gunicorn.conf.py")], web_env)
    return [web] + [Child(f"worker-{n}", [python, "-m", "flask", "--app", "wsgi", "mediation", "worker"], base)
                    for n in range(1, workers + 1)]


def supervise(procs: list[Child], say: Callable[[str], None], stop_requested: Callable[[], bool]) -> None:
    """Start every child, start again any that exits, until `stop_requested`; then stop them all."""
    for child in procs:
        child.start()
        say(f"{child.name} started (pid {child.process.pid})")
    try:
        while not stop_requested():
            for child in procs:
                code = child.exited()
                if code is not None and time.monotonic() - child.started_at >= RESTART_DELAY:
                    say(f"{child.name} exited with {code}; starting it again")
                    child.start()
            time.sleep(0.2)
    finally:
        stop(procs, say)


def stop(procs: list[Child], say: Callable[[str], None]) -> None:
    running = [c for c in procs if c.process is not None and c.process.poll() is None]
    for child in running:
        child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in running:
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{child.name} did not stop in {STOP_TIMEOUT:.0f} s; killing it")
            child.process.kill()
            child.process.wait()
    say("All processes stopped.")


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database `url` names if it does not exist yet; True if it was created."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    if not target.drivername.startswith("postgresql"):
        return False
    server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                        {"name": target.database}).first()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{target.database}"'))
            return not exists
    finally:
        server.dispose()
