"""Soak: a bounded mixed load on the whole product for a set time, then checks that nothing was lost,
doubled, reordered, broken or leaked. Loopback only; stops by itself.

    .venv/bin/python bench/soak.py [--seconds 120] [--sqlite] [--clients 3] [--drivers 4] [--json PATH]

Servers, each its own process: by default the scaled-out stack (gunicorn with gevent web processes and
`flask mediation worker` processes on a fresh PostgreSQL database, Redis as the Socket.IO queue); with
`--sqlite`, one `flask mediation serve` on a temp SQLite file. A webhook receiver (bench/soak_receiver.py)
verifies signatures and fails one request in five. Client processes (bench/soak_load.py) open cases through
the API and take them to their end as both parties: chat over Socket.IO (and some over REST), resends of the
same client_id after reconnecting, proposals, counters, rejections, evidence uploads, escalation, withdrawal,
acceptance, the platform's execution, and API reads. Afterwards, checks:

  1. every acknowledged message is stored exactly once, with the acknowledged id;
  2. every outbox event was delivered, in log order per case, and no event arrived twice with other content;
  3. every case chain verifies (`flask mediation verify`);
  4. no server process grew by more than --rss-bound-mb from the end of warm-up to the end of the load;
  5. no request failed on the server's side (HTTP 5xx, an error ack 500) and no server logged an error.

Results: a summary on stdout, JSON in bench/results/soak-latest.json (or --json). Exit status 1 if a check
fails. See bench/README.md.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import multiprocessing as mp
import os
import platform
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import free_port, pct  # noqa: E402 - needs ROOT on sys.path first
from bench.soak_load import HTTP_TIMEOUT, client_process, merge  # noqa: E402

LOGGED_ERROR = re.compile(r"\b(ERROR|CRITICAL)\b|^Traceback \(most recent call last\)")
RESULTS = ROOT / "bench" / "results" / "soak-latest.json"
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
RAISED_LIMITS = {
    "MEDIATION_RATELIMIT_API": "1000000 per minute", "MEDIATION_RATELIMIT_JOIN": "1000000 per minute",
    "MEDIATION_RATELIMIT_LOGIN": "1000000 per minute", "MEDIATION_RATELIMIT_VERIFY": "1000000 per minute",
    "MEDIATION_SOCKET_EVENTS_PER_SECOND": "1000", "MEDIATION_SOCKET_EVENTS_BURST": "1000",
}


# ---- processes ----------------------------------------------------------------------------------


class Proc:
    """A server process of the soak, in a session of its own (so a stuck one can be ended with its children)."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path, stop_signal=signal.SIGTERM):
        self.name, self.log, self.stop_signal = name, log, stop_signal
        self._log_file = log.open("wb")
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_http(self, url: str, seconds: float = 60.0) -> None:
        deadline = time.monotonic() + seconds
        for _attempt in range(600):
            if self.proc.poll() is not None or time.monotonic() >= deadline:
                break
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start; see {self.log}:\n{self.tail()}")

    def tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def stop(self, seconds: float = 20.0) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)
            try:
                self.proc.wait(seconds)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)  # the session we started for it
                self.proc.wait(5)
        self._log_file.close()
        return self.proc.returncode


def run_cli(args: list[str], env: dict, timeout: float = 180.0) -> subprocess.CompletedProcess:
    return subprocess.run(FLASK + args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


# ---- memory -------------------------------------------------------------------------------------


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process so far, its ended threads included (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def waits_by_thread(pid: int) -> dict[str, float]:
    """Per live thread: seconds it was runnable but waiting for a CPU (Linux schedstat)."""
    waits = {}
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError):
                waits[task.name] = int((task / "schedstat").read_text().split()[1]) / 1e9
    except OSError:
        pass
    return waits


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return sorted(found)


class Sampler(threading.Thread):
    """RSS of every server process (gunicorn's workers found afresh each time) every `every` seconds."""

    def __init__(self, procs: dict[str, int], parents: dict[str, int], began: float, every: float):
        super().__init__(daemon=True, name="rss-sampler")
        self.procs, self.parents, self.began, self.every = procs, parents, began, every
        self.samples: dict[str, list[tuple[float, int]]] = defaultdict(list)
        # (t, CPU seconds, seconds waiting for a CPU): a large wait means the machine was short of CPU.
        self.cpu: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
        self._waits: dict[str, dict[str, float]] = {}
        self._waited: dict[str, float] = defaultdict(float)
        self.pids: dict[str, int] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        while True:
            self.sample()
            if self.stopping.wait(self.every):
                return

    def sample(self) -> None:
        now = time.monotonic() - self.began
        targets = dict(self.procs)
        for label, parent in self.parents.items():
            for n, pid in enumerate(children_of(parent), start=1):
                targets[f"{label} {n} (pid {pid})"] = pid
        for label, pid in targets.items():
            kb, cpu = rss_kb(pid), cpu_seconds(pid)
            if kb is not None:
                self.samples[label].append((round(now, 2), kb))
                self.pids[label] = pid
            if cpu is not None:
                self.cpu[label].append((round(now, 2), cpu, self._wait(label, pid)))

    def _wait(self, label: str, pid: int) -> float:
        """Waiting time summed over threads from sample to sample (a thread that ended loses its last
        interval: a thread-per-connection server's figure is a slight underestimate)."""
        now, before = waits_by_thread(pid), self._waits.get(label, {})
        self._waited[label] += sum(wait - before.get(tid, 0.0) for tid, wait in now.items())
        self._waits[label] = now
        return self._waited[label]

    def stop(self) -> None:
        self.stopping.set()
        self.join(10)
        self.sample()


def memory_report(sampler: Sampler, load: tuple[float, float], warm_at: float, bound_mb: float,
                  exempt: set[str]) -> dict:
    """Per process: RSS at the first sample, at the end of warm-up, at its peak and at the end of the load."""
    rows, failures = [], []
    for label, samples in sampler.samples.items():
        during = [(t, kb) for t, kb in samples if t <= load[1] + sampler.every]
        warm = next(((t, kb) for t, kb in during if t >= warm_at), None)
        end = during[-1] if during else None
        row = {"process": label, "pid": sampler.pids.get(label), "samples": len(samples),
               "start_mb": samples[0][1] / 1024, "warm_mb": warm[1] / 1024 if warm else None,
               "peak_mb": max(kb for _t, kb in samples) / 1024, "end_mb": end[1] / 1024 if end else None,
               "after_drain_mb": samples[-1][1] / 1024, "bounded": label not in exempt,
               "series_s_mb": [[t, round(kb / 1024, 1)] for t, kb in samples]}
        row["growth_mb"] = (row["end_mb"] - row["warm_mb"]) if warm and end else None
        cpu = [c for c in sampler.cpu.get(label, []) if load[0] <= c[0] <= load[1] + sampler.every]
        span = cpu[-1][0] - cpu[0][0] if len(cpu) > 1 else 0
        row["cpu_share_during_load"] = (cpu[-1][1] - cpu[0][1]) / span if span else None
        row["cpu_wait_share_during_load"] = (cpu[-1][2] - cpu[0][2]) / span if span else None
        lived = samples[-1][0] >= load[1] - sampler.every and samples[0][0] <= warm_at
        row["lived_through_run"] = lived
        if row["bounded"]:
            if not lived:
                failures.append(f"{label}: did not live through the run (started or exited midway)")
            elif row["growth_mb"] is not None and row["growth_mb"] > bound_mb:
                failures.append(f"{label}: grew {row['growth_mb']:.1f} MB > {bound_mb:.0f} MB")
        rows.append(row)
    return {"bound_mb": bound_mb, "warm_at_s": warm_at, "load_s": list(load), "processes": rows,
            "failures": failures, "ok": not failures and any(r["bounded"] for r in rows)}


# ---- database -----------------------------------------------------------------------------------


def pg_admin(base_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(base_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres",
                         autocommit=True) as connection:
        connection.execute(statement)


def query(engine, sql: str, **params) -> list:
    from sqlalchemy import text

    with engine.connect() as connection:
        return connection.execute(text(sql), params).all()


def wait_for_outbox(engine, seconds: float) -> dict:
    """Until no delivery is pending (or `seconds` pass); returns the count by state and how long it took."""
    started = time.monotonic()
    last_print = 0.0
    counts: dict[str, int] = {}
    for _poll in range(int(seconds * 2) + 1):
        counts = {state: n for state, n in query(engine, "SELECT state, count(*) FROM webhook_deliveries "
                                                         "GROUP BY state")}
        waited = time.monotonic() - started
        if not counts.get("pending"):
            break
        if waited - last_print >= 5:
            print(f"  outbox: {counts.get('pending', 0)} pending after {waited:.0f} s", flush=True)
            last_print = waited
        if waited >= seconds:
            break
        time.sleep(0.5)
    return {"by_state": counts, "waited_s": time.monotonic() - started}


# ---- checks -------------------------------------------------------------------------------------


def check_messages(engine, load: dict) -> dict:
    """Every acknowledged (case, client_id) is exactly one stored row with the acknowledged id; every stored
    row comes from a message a client sent; every resend was acknowledged as the stored message."""
    rows = query(engine, "SELECT id, case_id, client_id FROM messages")
    stored: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for message_id, case_id, client_id in rows:
        stored[client_id].append((message_id, case_id))
    sent = {client_id: case_id for case_id, client_id in load["sent"]}
    problems: list[str] = []
    acked = {}
    for case_id, client_id, message_id, via in load["acks"]:
        acked[client_id] = message_id
        found = stored.get(client_id, [])
        if len(found) != 1:
            problems.append(f"{client_id} ({via}): acknowledged as {message_id}, stored {len(found)} times")
        elif found[0] != (message_id, case_id):
            problems.append(f"{client_id} ({via}): acknowledged as {message_id} in case {case_id}, "
                            f"stored as {found[0][0]} in case {found[0][1]}")
    unknown = [c for c in stored if c not in sent]
    doubled = [c for c, found in stored.items() if len(found) > 1]
    problems += [f"{c}: stored but never sent by a client" for c in unknown[:20]]
    problems += [f"{c}: stored {len(stored[c])} times" for c in doubled[:20] if c not in acked]
    problems += [f"resend of {d['client_id']} answered {d['ack']} (stored {d['stored_id']})"
                 for d in load["duplicates_bad"][:20]]
    unacked_stored = sum(1 for c in stored if c in sent and c not in acked)
    return {"ok": not problems and not load["duplicates_bad"], "acknowledged": len(load["acks"]),
            "acknowledged_distinct": len(acked), "sent": len(sent), "stored": len(rows),
            "stored_without_ack": unacked_stored, "unknown_origin": len(unknown), "stored_twice": len(doubled),
            "resends_acknowledged_as_duplicate": load["duplicates_ok"],
            "resends_wrong": len(load["duplicates_bad"]), "problems": problems[:50]}


def check_webhooks(engine, records: list[dict], drain: dict) -> dict:
    """The outbox drained; the receiver's first acceptance of each webhook-id is, per case, exactly the outbox
    in order; the outbox is the case log's webhook events in log order; no id arrived with other content."""
    from mediation.services.events import WEBHOOK_TYPES

    outbox = query(engine, "SELECT d.id, d.case_id, d.state, d.attempts, m.msg_id, m.type, m.body, m.created_at "
                           "FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id ORDER BY d.id")
    events = query(engine, "SELECT case_id, seq, type, created_at FROM case_events ORDER BY case_id, seq")
    db_attempts = query(engine, "SELECT status_code, count(*) FROM webhook_attempts GROUP BY status_code")
    problems: list[str] = []
    undelivered = [row for row in outbox if row.state != "delivered"]
    problems += [f"delivery {r.id} ({r.type}, case {r.case_id}) is {r.state} after {r.attempts} attempt(s)"
                 for r in undelivered[:20]]
    sha = {row.msg_id: hashlib.sha256(row.body.encode()).hexdigest() for row in outbox}
    expected: dict[int, list[str]] = defaultdict(list)
    for row in outbox:
        expected[row.case_id].append(row.msg_id)
    log_order: dict[int, list] = defaultdict(list)
    for case_id, _seq, type_, created_at in events:
        if type_ in WEBHOOK_TYPES:
            log_order[case_id].append((type_, created_at))
    outbox_order: dict[int, list] = defaultdict(list)
    for row in outbox:
        outbox_order[row.case_id].append((row.type, row.created_at))
    for case_id in sorted(set(log_order) | set(outbox_order)):
        if log_order[case_id] != outbox_order[case_id]:
            problems.append(f"case {case_id}: outbox {[t for t, _ in outbox_order[case_id]]} is not the log's "
                            f"{[t for t, _ in log_order[case_id]]}")

    accepted: dict[int, list[str]] = defaultdict(list)
    first_sha: dict[str, str] = {}
    repeats = differing = unverified = 0
    for record in records:
        if not record["verified"]:
            unverified += 1
            problems.append(f"signature refused for {record['id']}: {record['error']}")
            continue
        if record["status"] >= 300:
            continue
        if record["id"] in first_sha:
            repeats += 1
            if first_sha[record["id"]] != record["sha256"]:
                differing += 1
                problems.append(f"{record['id']} accepted again with other content")
            continue
        first_sha[record["id"]] = record["sha256"]
        accepted[record["case_id"]].append(record["id"])
        if sha.get(record["id"]) not in (None, record["sha256"]):
            problems.append(f"{record['id']}: the body received is not the outbox's")
    # Held back: no event of a case was even attempted before every earlier one of that case had arrived.
    position = {msg_id: n for ids in expected.values() for n, msg_id in enumerate(ids)}
    arrived: dict[int, set[str]] = defaultdict(set)
    early = 0
    for record in records:
        case_id, n = record["case_id"], position.get(record["id"])
        if n is not None and not set(expected[case_id][:n]) <= arrived[case_id]:
            early += 1
            if early <= 10:
                problems.append(f"case {case_id}: {record['type']} ({record['id']}) was sent before an earlier "
                                "event of its case had arrived")
        if record["verified"] and record["status"] < 300:
            arrived[case_id].add(record["id"])
    for case_id in sorted(set(expected) | set(accepted)):
        want, got = expected.get(case_id, []), accepted.get(case_id, [])
        if want != got:
            missing = [m for m in want if m not in got]
            extra = [m for m in got if m not in want]
            first = next((n for n, (a, b) in enumerate(zip(want, got, strict=False)) if a != b), None)
            problems.append(f"case {case_id}: {len(want)} in the outbox, {len(got)} accepted; missing {len(missing)}, "
                            f"unknown {len(extra)}, first out of order at position {first}")
    attempts_by_status = Counter({str(k): v for k, v in db_attempts})
    failed_answers = sum(1 for r in records if r["status"] >= 300)
    return {"ok": not problems, "outbox_events": len(outbox), "cases": len(expected),
            "by_state": dict(Counter(r.state for r in outbox)), "drain_waited_s": drain["waited_s"],
            "receiver_requests": len(records), "receiver_failed_answers": failed_answers,
            "receiver_accepted_distinct": len(first_sha), "receiver_accepted_again_same": repeats - differing,
            "receiver_accepted_again_different": differing, "signatures_refused": unverified,
            "db_attempts": sum(attempts_by_status.values()), "db_attempts_by_status": dict(attempts_by_status),
            "max_attempts_of_one_event": max((r.attempts for r in outbox), default=0),
            "sent_before_earlier_arrived": early,
            "types": dict(Counter(r.type for r in outbox)), "problems": problems[:50]}


def check_chains(env: dict) -> dict:
    done = run_cli(["mediation", "verify"], env, timeout=300)
    lines = (done.stdout + done.stderr).strip().splitlines()
    return {"ok": done.returncode == 0, "exit_code": done.returncode, "output": lines[-5:]}


# ---- the run ------------------------------------------------------------------------------------


def start_stack(args, tmp: Path, env: dict, port: int) -> tuple[list[Proc], dict[str, int], dict[str, int]]:
    """The servers; returns them, the processes to sample by label and the parents whose children to sample."""
    url = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
    if args.sqlite:
        serve = Proc("serve", FLASK + ["mediation", "serve", "--host", "127.0.0.1", "--port", str(port)], env,
                     tmp / "serve.log", signal.SIGINT)
        serve.wait_http(url)
        return [serve], {"serve (web + deliverer)": serve.pid}, {}
    procs = [Proc("web", [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")], env,
                  tmp / "web.log")]
    for n in range(1, args.workers + 1):
        procs.append(Proc(f"worker {n}", FLASK + ["mediation", "worker"], env, tmp / f"worker-{n}.log"))
    procs[0].wait_http(url)
    time.sleep(1.0)
    for proc in procs[1:]:
        if proc.proc.poll() is not None:
            raise RuntimeError(f"{proc.name} exited at start:\n{proc.tail()}")
    sampled = {"gunicorn master": procs[0].pid, **{p.name: p.pid for p in procs[1:]}}
    return procs, sampled, {"gunicorn web process": procs[0].pid}


def run_load(args, url: str, api_key: str, run_tag: str) -> tuple[dict, float, float]:
    """The client processes, from start to their results; returns the merged results and the load window."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    began = time.monotonic()
    end = began + args.seconds
    workers = []
    for w in range(args.clients):
        spec = {"worker": w, "url": url, "api_key": api_key, "drivers": args.drivers, "end": end,
                "think_ms": args.think_ms, "max_ops": args.max_ops, "seed": args.seed, "run": run_tag}
        process = ctx.Process(target=client_process, args=(spec, out), daemon=True)
        process.start()
        workers.append(process)
    results, deadline = [], end + 2 * HTTP_TIMEOUT + 60
    next_print = began + 10
    while len(results) < args.clients and time.monotonic() < deadline:
        try:
            status, worker, value = out.get(timeout=1.0)
        except Exception:  # noqa: BLE001 - queue.Empty: nothing yet
            if time.monotonic() >= next_print and time.monotonic() < end:
                print(f"  load: {time.monotonic() - began:.0f} of {args.seconds:.0f} s", flush=True)
                next_print += 10
            continue
        if status == "error":
            raise RuntimeError(f"client process {worker} failed:\n{value}")
        results.append(value)
    finished = time.monotonic()
    for process in workers:
        process.join(10)
        if process.is_alive():
            process.kill()
    if len(results) < args.clients:
        raise RuntimeError(f"only {len(results)} of {args.clients} client processes reported")
    merged = merge(results, sum(r["stuck_drivers"] for r in results))
    merged["tail_s"] = finished - end  # after the end: the operations under way finish, sockets close
    return merged, began, end


def read_records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _deadline_hit(*_args) -> None:
    raise SystemExit("soak: stopped by SIGTERM (the watchdog's hard deadline, or from outside); cleaned up")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the load (default 120)")
    parser.add_argument("--sqlite", action="store_true", help="one `flask mediation serve` on SQLite instead of "
                                                              "gunicorn + workers on PostgreSQL and Redis")
    parser.add_argument("--clients", type=int, default=3, help="client processes (default 3)")
    parser.add_argument("--drivers", type=int, default=4, help="case drivers per client process (default 4)")
    parser.add_argument("--think-ms", type=float, default=20.0, help="mean pause between a driver's operations")
    parser.add_argument("--max-ops", type=int, default=50_000, help="cap on operations per driver")
    parser.add_argument("--web", type=int, default=2, help="gunicorn web processes (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="`flask mediation worker` processes (default 2)")
    parser.add_argument("--fail-every", type=int, default=5, help="the receiver fails one request in N (5)")
    parser.add_argument("--rss-bound-mb", type=float, default=50.0,
                        help="largest RSS growth allowed per server process after warm-up (default 50 MB)")
    parser.add_argument("--warmup-share", type=float, default=0.2, help="share of the run that is warm-up (0.2)")
    parser.add_argument("--rss-every", type=float, default=2.0, help="seconds between RSS samples (2)")
    parser.add_argument("--drain-seconds", type=float, default=90.0,
                        help="longest wait for the webhook outbox to empty after the load (default 90)")
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1", help="PostgreSQL server URL")
    parser.add_argument("--database", default="bench_soak", help="database to create and drop (bench_soak)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/4", help="Redis URL (its db 4 by default)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the clients' choices")
    parser.add_argument("--keep", action="store_true", help="keep the database and temp directory afterwards")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where to write the results ({RESULTS})")
    args = parser.parse_args()

    hard_deadline = args.seconds + args.drain_seconds + 300
    watchdog = threading.Timer(hard_deadline, lambda: os.kill(os.getpid(), signal.SIGTERM))
    watchdog.daemon = True
    watchdog.start()
    signal.signal(signal.SIGTERM, _deadline_hit)
    began = time.monotonic()
    load_avg = [os.getloadavg()[0]]
    tmp = Path(tempfile.mkdtemp(prefix="mediation-soak-"))
    run_tag = secrets.token_hex(3)
    procs: list[Proc] = []
    receiver: Proc | None = None
    pg_created = False
    try:
        if args.sqlite:
            db_url = f"sqlite:///{tmp / 'soak.db'}"
        else:
            db_url = f"{args.pg}/{args.database}"
            pg_admin(args.pg, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            pg_admin(args.pg, f'CREATE DATABASE "{args.database}"')
            pg_created = True
        port, hook_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIATION_") and k != "FLASK_APP"}
        env.update(RAISED_LIMITS, PYTHONUNBUFFERED="1", MEDIATION_SECRET_KEY=secrets.token_hex(32),
                   MEDIATION_DATABASE_URL=db_url, MEDIATION_EVIDENCE_DIR=str(tmp / "evidence"),
                   MEDIATION_HOST="127.0.0.1", MEDIATION_PORT=str(port))
        if not args.sqlite:
            env.update(MEDIATION_REDIS_URL=args.redis, MEDIATION_WEB_PROCESSES=str(args.web),
                       MEDIATION_SOCKETIO_CHANNEL=f"soak-{run_tag}", MEDIATION_PRESENCE_KEY_PREFIX=f"soak-{run_tag}:")
        print(f"soak {run_tag}: {stack_name(args)}; temp {tmp}", flush=True)
        done = run_cli(["db", "upgrade"], env)
        if done.returncode:
            raise RuntimeError(f"flask db upgrade failed:\n{done.stdout}{done.stderr}")
        done = run_cli(["mediation", "create-platform", "Soak marketplace", "--webhook-url",
                        f"http://127.0.0.1:{hook_port}/hooks", "--json"], env)
        if done.returncode:
            raise RuntimeError(f"create-platform failed:\n{done.stdout}{done.stderr}")
        created = json.loads(done.stdout.strip().splitlines()[-1])
        records_path = tmp / "receiver.jsonl"
        receiver = Proc("receiver", [sys.executable, str(ROOT / "bench" / "soak_receiver.py"), str(hook_port),
                                     str(records_path), str(args.fail_every)],
                        {**env, "SOAK_WEBHOOK_SECRET": created["webhook_secret"]}, tmp / "receiver.log",
                        signal.SIGINT)
        receiver.wait_http(f"http://127.0.0.1:{hook_port}/")
        procs, sampled, parents = start_stack(args, tmp, env, port)
        sampler = Sampler({**sampled, "receiver (bench)": receiver.pid}, parents, began, args.rss_every)
        sampler.start()
        print(f"servers up after {time.monotonic() - began:.0f} s; load for {args.seconds:.0f} s: "
              f"{args.clients} client processes x {args.drivers} case drivers", flush=True)
        load, load_start, load_end = run_load(args, f"http://127.0.0.1:{port}", created["api_key"], run_tag)
        print(f"load done ({load_end - load_start:.0f} s, then {load['tail_s']:.1f} s for the operations under way "
              "to finish); waiting for the webhook outbox to drain ...", flush=True)
        from sqlalchemy import create_engine

        engine = create_engine(db_url)
        drain = wait_for_outbox(engine, args.drain_seconds)
        time.sleep(0.5)
        sampler.stop()
        server_logs = {}
        for proc in procs:
            code = proc.stop()
            server_logs[proc.name] = {"exit_code": code, "errors": _log_problems(proc.log)}
        procs = []
        receiver.stop()
        records = read_records(records_path)
        load_avg.append(os.getloadavg()[0])
        print("checks ...", flush=True)
        warm_at = (load_start - began) + args.warmup_share * args.seconds
        checks = {
            "messages": check_messages(engine, load),
            "webhooks": check_webhooks(engine, records, drain),
            "chains": check_chains(env),
            "memory": memory_report(sampler, (load_start - began, load_end - began), warm_at, args.rss_bound_mb,
                                    {"receiver (bench)"}),
            "server_errors": server_error_check(load, server_logs),
        }
        engine.dispose()
        report = summarise(args, load, checks, load_end - load_start, time.monotonic() - began, load_avg,
                           server_logs)
    finally:
        watchdog.cancel()
        for proc in procs:
            proc.stop(5)
        if receiver is not None:
            receiver.stop(5)
        if pg_created and not args.keep:
            try:
                pg_admin(args.pg, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            except Exception as exc:  # noqa: BLE001
                print(f"could not drop {args.database}: {exc}", file=sys.stderr)
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nJSON: {args.json}")
    return 0 if report["passed"] else 1


def stack_name(args) -> str:
    if args.sqlite:
        return "SQLite, one process (flask mediation serve)"
    return (f"PostgreSQL ({args.database}) + Redis, gunicorn with {args.web} gevent web processes, "
            f"{args.workers} worker process(es)")


def _log_problems(log: Path) -> list[str]:
    """Tracebacks and ERROR lines in a server's log (first 20), for the report."""
    lines = log.read_text(errors="replace").splitlines()
    return [line[:300] for line in lines if LOGGED_ERROR.search(line)][:20]


def server_error_check(load: dict, server_logs: dict) -> dict:
    """No answer said the server failed, and no server process logged a traceback or an error."""
    failures = {kind: n for kind, n in load["errors"].items() if ": HTTP 5" in kind or ": ack 5" in kind}
    logged = {name: log["errors"] for name, log in server_logs.items() if log["errors"]}
    problems = [f"{n} x {kind}" for kind, n in failures.items()]
    problems += [f"{name} log: {lines[0]}" for name, lines in logged.items()]
    return {"ok": not problems, "server_errors": failures, "logged_errors": logged, "problems": problems}


def summarise(args, load: dict, checks: dict, load_seconds: float, elapsed: float, load_avg: list[float],
              server_logs: dict) -> dict:
    latencies = sorted(load["latencies"])
    ops = dict(sorted(load["ops"].items()))
    print(f"\n== soak: {stack_name(args)}; {load_seconds:.0f} s of load, {args.clients} x {args.drivers} case "
          f"drivers, {len(load['cases'])} cases opened")
    print("operations: " + ", ".join(f"{k} {v}" for k, v in ops.items()))
    print(f"  total {sum(ops.values())} ({sum(ops.values()) / load_seconds:.0f}/s); socket broadcasts received "
          f"{load['broadcasts']}")
    print(f"message ack round trip (socket, new messages): n={len(latencies)} p50 {pct(latencies, 50) * 1000:.1f} ms "
          f"p99 {pct(latencies, 99) * 1000:.1f} ms max {(latencies[-1] if latencies else float('nan')) * 1000:.0f} ms")
    if load["errors"]:
        print("errors by kind:")
        for kind, n in sorted(load["errors"].items(), key=lambda kv: -kv[1]):
            print(f"  {n:6}  {kind}   e.g. {load['examples'].get(kind, '')[:160]}")
    else:
        print("errors: none")
    m, w, c, r = checks["messages"], checks["webhooks"], checks["chains"], checks["memory"]
    print(f"messages: {m['acknowledged']} acknowledged ({m['sent']} sent), {m['stored']} stored, "
          f"{m['stored_without_ack']} stored without an ack, {m['resends_acknowledged_as_duplicate']} resends "
          f"acknowledged as duplicates, {m['resends_wrong']} wrong")
    print(f"webhooks: {w['outbox_events']} outbox events in {w['cases']} cases {w['by_state']}; receiver: "
          f"{w['receiver_requests']} attempts, {w['receiver_failed_answers']} answered 500, "
          f"{w['receiver_accepted_distinct']} accepted, {w['receiver_accepted_again_same']} accepted again (same "
          f"body); database: {w['db_attempts']} attempts {w['db_attempts_by_status']}; most attempts for one "
          f"event {w['max_attempts_of_one_event']}; drained in {w['drain_waited_s']:.1f} s after the load")
    print(f"chains: {' / '.join(c['output'][-1:])} (exit {c['exit_code']})")
    print(f"memory (RSS MB; bound: growth from the end of warm-up at {r['warm_at_s']:.0f} s to the end of the load "
          f"≤ {r['bound_mb']:.0f} MB per server process):")
    print(f"  {'process':40} {'start':>7} {'warm':>7} {'peak':>7} {'end':>7} {'growth':>7} {'CPU':>5} {'wait':>5}")
    for row in r["processes"]:
        def mb(value):
            return f"{value:7.1f}" if value is not None else "      -"
        note = "" if row["bounded"] else "  (not bounded)"
        cpu, wait = (f"{x * 100:4.0f}%" if x is not None else "    -"
                     for x in (row["cpu_share_during_load"], row["cpu_wait_share_during_load"]))
        print(f"  {row['process'][:40]:40} {mb(row['start_mb'])} {mb(row['warm_mb'])} {mb(row['peak_mb'])} "
              f"{mb(row['end_mb'])} {mb(row['growth_mb'])} {cpu} {wait}{note}")
    print(f"  CPU: share of one core on a CPU during the load; wait: share of the time runnable but waiting for a CPU "
          f"(the machine's other work). Client processes (bench): {load['client_cpu_s'] / load_seconds * 100:.0f}% "
          "of one core in all")
    names = {"messages": "1. every acknowledged message stored exactly once",
             "webhooks": "2. every outbox event delivered, in order per case",
             "chains": "3. every case chain verifies",
             "memory": f"4. no server process grew > {args.rss_bound_mb:.0f} MB after warm-up",
             "server_errors": "5. no server errors (HTTP 5xx, error acks 500, errors in server logs)"}
    for key, label in names.items():
        check = checks[key]
        print(f"{label}: {'PASSED' if check['ok'] else 'FAILED'}")
        for problem in (check.get("problems") or check.get("failures") or [])[:10]:
            print(f"    {problem}")
    passed = all(check["ok"] for check in checks.values())
    print(f"soak: {'PASSED' if passed else 'FAILED'}; run took {elapsed:.0f} s on {os.cpu_count()} CPUs, load "
          f"average {load_avg[0]:.1f} at the start, {load_avg[-1]:.1f} at the end")
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "passed": passed,
        "load_seconds": load_seconds, "tail_seconds": load["tail_s"], "elapsed_seconds": elapsed,
        "load_average_1min": {"start": load_avg[0], "end": load_avg[-1]},
        "cases_opened": len(load["cases"]), "operations": ops, "errors": load["errors"],
        "error_examples": load["examples"], "stuck_drivers": load["stuck_drivers"],
        "socket_broadcasts_received": load["broadcasts"],
        "ack_round_trip_ms": {"n": len(latencies), "p50": pct(latencies, 50) * 1000,
                              "p99": pct(latencies, 99) * 1000,
                              "max": latencies[-1] * 1000 if latencies else None},
        "client_cpu_seconds": load["client_cpu_s"], "checks": checks, "server_logs": server_logs,
    }


if __name__ == "__main__":
    sys.exit(main())
