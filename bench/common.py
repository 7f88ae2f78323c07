"""Shared plumbing for the benchmarks in bench/ (api.py, history.py, room.py, webhooks.py; soak.py uses a little).

Servers and other child processes with their CPU read from /proc (the whole process tree, so gunicorn's
workers count), PostgreSQL's per-database backend CPU, nearest-rank percentiles, a watchdog, scratch
databases. Loopback only.
"""
from __future__ import annotations

import math
import os
import platform
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/3"
_TICK = os.sysconf("SC_CLK_TCK")
# Rate limits of the product, raised so a benchmark measures the work, not the refusals.
UNLIMITED = {"MEDIATION_RATELIMIT_API": "1000000 per minute", "MEDIATION_RATELIMIT_JOIN": "1000000 per minute",
             "MEDIATION_RATELIMIT_LOGIN": "1000000 per minute", "MEDIATION_RATELIMIT_VERIFY": "1000000 per minute",
             "MEDIATION_SOCKET_EVENTS_PER_SECOND": "1000000", "MEDIATION_SOCKET_EVENTS_BURST": "1000000"}


def clean_env() -> dict:
    """This environment without any MEDIATION_* setting or FLASK_APP of the caller's."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MEDIATION_") and k != "FLASK_APP"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile of sorted `values` (NaN when empty)."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, math.ceil(p / 100 * len(values)) - 1))]


# ---- CPU from /proc ------------------------------------------------------------------------------


def _ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime of the process itself
    except (OSError, ValueError, IndexError):
        return None


def _tree(root: int) -> list[int]:
    """`root` and every descendant (gunicorn's master and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            ppid = int(Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    for _step in range(10_000):
        if not todo:
            break
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_snapshot(pids: list[int]) -> dict[int, int]:
    return {pid: t for pid in pids if (t := _ticks(pid)) is not None}


def cpu_between(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU seconds spent between two snapshots; a process born in between counts from zero."""
    return sum(t - before.get(pid, 0) for pid, t in after.items()) / _TICK


def service_pids() -> list[int]:
    """Every PostgreSQL and Redis server process on this machine (on a quiet machine: the stack's own)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                name = Path(f"/proc/{entry.name}/comm").read_text().strip()
            except OSError:
                continue
            if name == "postgres" or name.startswith("redis-server"):
                found.append(int(entry.name))
    return found


def postgres_backends(database: str) -> list[int]:
    """PIDs of the PostgreSQL backends connected to `database` (same machine)."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        return [row[0] for row in connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (database,))]


# ---- child processes and servers -----------------------------------------------------------------


class Child:
    """A child process in a session (and process group) of its own, so stopping it never reaches this one,
    its output in a log file. `stop_signal` asks it to stop; after `stop_seconds` its group is killed."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path, stop_signal: int = signal.SIGINT,
                 stop_seconds: float = 10.0):
        self.name, self.log = name, log
        self.stop_signal, self.stop_seconds = stop_signal, stop_seconds
        self._asked = False
        self._log_file = log.open("wb")
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def pids(self) -> list[int]:
        return _tree(self.proc.pid)

    def cpu(self) -> dict[int, int]:
        return cpu_snapshot(self.pids())

    def log_tail(self, chars: int = 2000) -> str:
        self._log_file.flush()
        return self.log.read_text(errors="replace")[-chars:]

    def said(self, text: str) -> bool:
        """Whether its output so far has `text` in it."""
        return text in self.log.read_text(errors="replace")

    def wait_said(self, text: str, seconds: float = 60.0) -> None:
        """Wait until its output has `text` in it (for a process that is not an HTTP server)."""
        deadline = time.monotonic() + seconds
        for _poll in range(int(seconds / 0.05) + 1):
            if self.said(text):
                return
            if self.proc.poll() is not None or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start; see {self.log}:\n{self.log_tail()}")

    def ask_to_stop(self) -> None:
        """Send the stop signal, once: a second SIGINT would cut a clean stop short."""
        if self.proc.poll() is None and not self._asked:
            self._asked = True
            self.proc.send_signal(self.stop_signal)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.ask_to_stop()
            try:
                self.proc.wait(self.stop_seconds)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # its own process group (start_new_session)
                self.proc.wait(5)
        self._log_file.close()


def cpu_of(children: list[Child]) -> dict[int, int]:
    """One CPU snapshot of several children together, their process trees included (for `cpu_between`)."""
    return cpu_snapshot([pid for child in children for pid in child.pids()])


def stop_all(children: list[Child]) -> None:
    """Ask every one to stop first, then wait for each: they stop side by side."""
    for child in children:
        child.ask_to_stop()
    for child in children:
        child.stop()


class Server(Child):
    """A server in its own process group; `probe` is a path that answers 2xx–4xx once it is up."""

    def __init__(self, name: str, argv: list[str], port: int, env: dict, log: Path, probe: str = "/"):
        self.port, self.probe = port, probe
        self.url = f"http://127.0.0.1:{port}"
        super().__init__(name, argv, env, log)

    def wait_ready(self, seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        for _attempt in range(600):
            if self.proc.poll() is not None or time.monotonic() >= deadline:
                break
            try:
                with urllib.request.urlopen(self.url + self.probe, timeout=2):
                    return
            except urllib.error.HTTPError as error:
                if error.code < 500:
                    return
                time.sleep(0.1)
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} server did not start; see {self.log}:\n{self.log_tail()}")


# ---- PostgreSQL scratch databases ----------------------------------------------------------------


def pg_url(database: str, driver: str = "postgresql+psycopg") -> str:
    return f"{driver}://postgres@127.0.0.1:5432/{database}"


def create_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def flush_redis(url: str = REDIS_URL) -> None:
    """Empty the benchmark's own Redis database (index 3): stale rate-limit counters would skew a run."""
    import redis

    redis.Redis.from_url(url).flushdb()


# ---- the run -------------------------------------------------------------------------------------


def start_watchdog(seconds: float) -> threading.Timer:
    """After `seconds`, SIGTERM this process; the handler raises SystemExit so `finally` blocks stop servers
    and drop databases."""
    def _hit(*_args) -> None:
        raise SystemExit(f"bench: stopped after the hard deadline of {seconds:.0f} s")

    signal.signal(signal.SIGTERM, _hit)
    timer = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGTERM))
    timer.daemon = True
    timer.start()
    return timer


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def met(flag: bool | None) -> str:
    return "MET" if flag else "NOT MET"


def mediation_app():
    """`wsgi:app` with this run's own Socket.IO channel: the product's `create_app()`, configured from the
    environment as in production, plus SOCKETIO_CHANNEL from BENCH_SOCKETIO_CHANNEL (it has no MEDIATION_*
    variable). Pub/sub channels are not per Redis database, so a benchmark on the default channel would
    send its room events to any other deployment on the same Redis. Used as
    `gunicorn -c gunicorn.conf.py 'bench.common:mediation_app()'`."""
    from mediation import create_app

    return create_app({"SOCKETIO_CHANNEL": os.environ["BENCH_SOCKETIO_CHANNEL"]})
