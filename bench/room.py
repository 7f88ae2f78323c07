"""Case-room benchmark: `send`→ack round trips and fan-out against a bare Flask-SocketIO app on the same
server, worker class and message queue, and `join` cost with 10 versus 1,000,000 messages in the case.
Beside the bare echo, the floor: the bare app's `send_durable`, which commits one row through the driver and
broadcasts to the case's room before its ack, the least any chat that acks after commit does. The room's
distance to the floor is Mediation's own; the floor's to the echo, the stack's and the machine's.
One run, loopback only, stops by itself (about 8 minutes with every stack).

    .venv/bin/python bench/room.py [--stacks sqlite,gevent,eventlet] [--clients 1,100] [--json PATH]

Stacks (each server its own process; the bare app is bench/bare_socketio.py):
  sqlite    one process: `flask mediation serve` (Werkzeug threaded) on a fresh SQLite file (WAL);
  gevent    two web processes: gunicorn (gunicorn.conf.py, gevent) on two ports, PostgreSQL + Redis;
  eventlet  two web processes: eventlet's WSGI server (bench/eventlet_server.py), PostgreSQL + Redis.
Clients are python-socketio Clients over websocket, spread over client processes and over the stack's
ports. Results: tables on stdout and JSON in bench/results/room-latest.json (see bench/README.md).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import platform
import signal
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402  (the path above first)
    UNLIMITED,
    Server,
    clean_env,
    cpu_between,
    cpu_of,
    cpu_snapshot,
    create_database,
    drop_database,
    free_port,
    pct,
    pg_url,
    service_pids,
)

NAMESPACE = "/cases"
RESULTS = ROOT / "bench" / "results" / "room-latest.json"
TARGET_THROUGHPUT_RATIO = 0.5  # room ≥ 0.5 × bare round trips per second
TARGET_P99_RATIO = 3.0  # room p99 ≤ 3 × bare p99
TARGET_JOIN_RATIO = 1.2  # join p50 with 1M messages within 20 % of join p50 with 10
CALL_TIMEOUT = 10.0  # one ack
HARD_DEADLINE = 720.0  # the whole run, seconds; the watchdog kills everything after this
STACKS = ("sqlite", "gevent", "eventlet")
# The three fleets: the bare echo; the case room; the floor (bench/bare_socketio.py), a bare `send` that commits
# one row through the driver and broadcasts to the case's room before its ack, as any durable chat must.
KINDS = ("bare", "room", "floor")
JOIN_EVENT = {"room": "join", "floor": "join_pair"}
SEND_EVENT = {"bare": "send", "room": "send", "floor": "send_durable"}

# ---- servers ------------------------------------------------------------------------------------

SOCKETIO_PROBE = "/socket.io/?EIO=4&transport=polling"


class Group:
    """The processes of one side of a stack (one, or one per port); clients are spread over their ports."""

    def __init__(self, name: str, servers: list[Server]):
        self.name, self.servers = name, servers

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    def wait_ready(self) -> None:
        for server in self.servers:
            server.wait_ready(60)

    def cpu(self) -> dict[int, int]:
        """A CPU snapshot of every process of the group (gunicorn's web processes included)."""
        return cpu_of(self.servers)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


# ---- the database -------------------------------------------------------------------------------


def build_database(url: str, secret: str, rate_cases: int, sizes: dict[str, int]) -> dict:
    """Schema from db.create_all(); cases opened through the real services; party tokens issued. The bulk
    messages of `sizes` are for SQLite only (bench/history.py does PostgreSQL).

    Returns {"rate": [[buyer token, seller token, case id], ...], "join": {label: (token, case id)}}.
    """
    from mediation import create_app
    from mediation.extensions import db
    from mediation.money import Money
    from mediation.services import access, admin, cases
    from mediation.services.actors import PlatformActor

    app = create_app({"SECRET_KEY": secret, "SQLALCHEMY_DATABASE_URI": url,
                      "BACKGROUND_WORKERS": False, "TESTING": True})
    opened: list[tuple[int, dict[str, str], dict[str, int]]] = []
    with app.app_context():
        db.create_all()
        platform_id = admin.create_platform("Bench marketplace", None).platform_id
        for n in range(rate_cases + len(sizes)):
            case = cases.open_case(PlatformActor(platform_id), {
                "external_order_id": f"BENCH-{n}", "reason": "damaged", "description": "The lid was cracked.",
                "amount": Money.parse("100.00", "USD"), "held_amount": Money.parse("100.00", "USD"),
                "buyer": {"external_id": f"b-{n}", "name": "Olivia Buyer", "email": "o@example.com",
                          "locale": "en"},
                "seller": {"external_id": f"s-{n}", "name": "Shen Seller", "email": "s@example.cn",
                           "locale": "zh-CN"},
                "claimant": "buyer", "metadata": {},
            })
            tokens = {role: access.issue_party_token(token)[0] for role, token in case.join_tokens.items()}
            opened.append((case.case.id, tokens, {p.role: p.id for p in case.case.parties}))
        db.session.remove()
        db.engine.dispose()
    rate = [[tokens["buyer"], tokens["seller"], case_id] for case_id, tokens, _ in opened[:rate_cases]]
    join = {}
    if not sizes:
        return {"rate": rate, "join": join}
    path = Path(url.removeprefix("sqlite:///"))
    for (label, count), (case_id, tokens, party_ids) in zip(sizes.items(), opened[rate_cases:], strict=True):
        insert_messages(path, case_id, party_ids, count)
        join[label] = (tokens["buyer"], case_id)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"rate": rate, "join": join}


def insert_messages(path: Path, case_id: int, party_ids: dict[str, int], count: int) -> float:
    """`count` valid joint-channel messages, alternating buyer and seller, in one INSERT … SELECT."""
    started = time.perf_counter()
    base = (datetime.now(UTC) - timedelta(seconds=count + 3600)).replace(tzinfo=None, microsecond=0)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            """
            WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :count)
            INSERT INTO messages (case_id, channel, sender, author_role, author_name, body, client_id,
                                  created_at)
            SELECT :case_id, 'joint',
                   CASE n % 2 WHEN 1 THEN :buyer_key ELSE :seller_key END,
                   CASE n % 2 WHEN 1 THEN 'buyer' ELSE 'seller' END,
                   CASE n % 2 WHEN 1 THEN 'Olivia Buyer' ELSE 'Shen Seller' END,
                   'Message ' || n || ': the lid was cracked when the parcel arrived, photos attached.',
                   'bulk-' || n,
                   datetime(:base, '+' || n || ' seconds') || '.000000'
            FROM seq
            """,
            {"count": count, "case_id": case_id, "buyer_key": f"party:{party_ids['buyer']}",
             "seller_key": f"party:{party_ids['seller']}", "base": base.isoformat(sep=" ")},
        )
        connection.execute("COMMIT")
        stored = connection.execute("SELECT count(*) FROM messages WHERE case_id = ?",
                                    (case_id,)).fetchone()[0]
    finally:
        connection.close()
    if stored != count:
        raise RuntimeError(f"case {case_id}: {stored} messages stored, {count} expected")
    return time.perf_counter() - started


# ---- clients ------------------------------------------------------------------------------------


def _connect(url: str, token: str | None):
    import socketio

    # websocket-client checks incoming UTF-8 in pure Python unless wsaccel is installed: per byte it cost
    # the *client* more than the server spent building the answer, so a bigger ack looked slower than it
    # is. A browser checks natively. Both fleets (bare and room) skip it alike; the servers still check.
    client = socketio.Client(reconnection=False, websocket_extra_options={"skip_utf8_validation": True})
    client.received = 0  # type: ignore[attr-defined]

    def on_message(_data):
        client.received += 1  # type: ignore[attr-defined]

    client.on("message", on_message, namespace=NAMESPACE)
    client.connect(url, transports=["websocket"], namespaces=[NAMESPACE], auth={"token": token or "bare"},
                   wait_timeout=15)
    return client


def client_worker(spec: dict, go: mp.Queue, out: mp.Queue) -> None:
    """One process holding len(spec["clients"]) connected clients. Each plan from `go` is one round:
    every client a thread in a closed send→ack loop. None (or no plan for 5 minutes) ends the process."""
    clients = []
    try:
        for token, case_id, url in spec["clients"]:
            client = _connect(url, token)
            if spec["kind"] in JOIN_EVENT:
                ack = client.call(JOIN_EVENT[spec["kind"]], {"case_id": case_id}, namespace=NAMESPACE,
                                  timeout=CALL_TIMEOUT)
                if not (isinstance(ack, dict) and ack.get("ok")):
                    raise RuntimeError(f"join refused: {ack}")
            clients.append((client, case_id))
        out.put(("ready", spec["worker"], None))
        for _round in range(100):
            plan = go.get(timeout=300)
            if plan is None:
                return
            received_before = sum(client.received for client, _ in clients)
            results: list[dict] = [{} for _ in clients]
            threads = [threading.Thread(target=_send_loop, args=(spec, plan, n, client, case_id, results[n]),
                                        daemon=True) for n, (client, case_id) in enumerate(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(max(0.0, plan["end"] - time.monotonic()) + CALL_TIMEOUT + 5)
            time.sleep(0.3)  # let the last broadcasts arrive before counting them
            out.put(("done", spec["worker"], {
                "latencies": [x for r in results for x in r.get("latencies", [])],
                "errors": sum(r.get("errors", 0) for r in results),
                "first_error": next((r["first_error"] for r in results if r.get("first_error")), None),
                "sent": sum(r.get("sent", 0) for r in results),
                "received": sum(client.received for client, _ in clients) - received_before,
            }))
    except Exception as error:  # report, never hang the orchestrator
        out.put(("error", spec["worker"], f"{type(error).__name__}: {error}"))
    finally:
        for client, _ in clients:
            with contextlib.suppress(Exception):
                client.disconnect()


def _send_loop(spec: dict, plan: dict, n: int, client, case_id: int, result: dict) -> None:
    latencies: list[float] = []
    errors = sent = 0
    first_error = None
    prefix = f"{plan['label']}-{spec['worker']}-{n}"
    time.sleep(max(0.0, plan["warm"] - time.monotonic()))
    for i in range(plan["max_calls"]):
        started = time.monotonic()
        if started >= plan["end"]:
            break
        payload = {"case_id": case_id, "channel": "joint", "body": f"Round trip {i} from {prefix}.",
                   "client_id": f"{prefix}-{i}"}
        try:
            ack = client.call(SEND_EVENT[spec["kind"]], payload, namespace=NAMESPACE, timeout=CALL_TIMEOUT)
            if spec["kind"] != "room":
                ok = ack == payload
            else:
                ok = isinstance(ack, dict) and ack.get("ok") is True and not ack.get("duplicate")
        except Exception as error:
            ack, ok = f"{type(error).__name__}: {error}", False
        finished = time.monotonic()
        sent += 1
        if not ok:
            errors += 1
            first_error = first_error or repr(ack)[:300]
        elif started >= plan["start"] and finished <= plan["end"]:
            latencies.append(finished - started)
    result.update(latencies=latencies, errors=errors, sent=sent, first_error=first_error)


class Fleet:
    """`clients` connected to `server` (and, for the room, joined), spread over client processes."""

    def __init__(self, server: Group, kind: str, clients: list[tuple[str | None, int]], procs: int):
        self.server, self.kind, self.clients = server, kind, clients
        urls = server.urls
        placed = [(token, case_id, urls[n % len(urls)]) for n, (token, case_id) in enumerate(clients)]
        ctx = mp.get_context("spawn")
        self.out: mp.Queue = ctx.Queue()
        self.procs = max(1, min(procs, len(clients)))
        self.gos = [ctx.Queue() for _ in range(self.procs)]
        self.workers = []
        for w in range(self.procs):
            spec = {"worker": w, "kind": kind, "clients": placed[w::self.procs]}
            process = ctx.Process(target=client_worker, args=(spec, self.gos[w], self.out), daemon=True)
            process.start()
            self.workers.append(process)

    def wait_ready(self) -> None:
        _collect(self.out, self.procs, "ready", 90)

    def round(self, label: str, warmup: float, seconds: float, max_calls: int) -> dict:
        """Closed-loop sends for `warmup` + `seconds`; count the acks completed inside the window."""
        now = time.monotonic()
        plan = {"label": label, "max_calls": max_calls, "warm": now + 0.2, "start": now + 0.2 + warmup,
                "end": now + 0.2 + warmup + seconds}
        for go in self.gos:
            go.put(plan)
        time.sleep(max(0.0, plan["start"] - time.monotonic()))
        # The whole machine's CPU, by part: the clients (who also receive the room's broadcasts), the server,
        # and PostgreSQL with Redis. All share the same 2 cores.
        clients, services = [process.pid for process in self.workers], service_pids()
        clients_before, services_before = cpu_snapshot(clients), cpu_snapshot(services)
        cpu_before = self.server.cpu()
        time.sleep(max(0.0, plan["end"] - time.monotonic()))
        cpu = cpu_between(cpu_before, self.server.cpu())
        clients_cpu = cpu_between(clients_before, cpu_snapshot(clients))
        services_cpu = cpu_between(services_before, cpu_snapshot(services))
        parts = _collect(self.out, self.procs, "done", CALL_TIMEOUT + 30)
        latencies = sorted(x for p in parts for x in p["latencies"])
        count = len(latencies)
        return {
            "server": self.kind, "clients": len(self.clients), "client_processes": self.procs,
            "window_s": seconds, "round_trips": count, "per_second": count / seconds,
            "p50_ms": pct(latencies, 50) * 1000, "p99_ms": pct(latencies, 99) * 1000,
            "errors": sum(p["errors"] for p in parts), "sent_total": sum(p["sent"] for p in parts),
            "first_error": next((p["first_error"] for p in parts if p["first_error"]), None),
            "broadcasts_received": sum(p["received"] for p in parts),
            "server_cpu_ms_per_round_trip": _ms_each(cpu, count), "server_cpu_share": cpu / seconds,
            "client_cpu_ms_per_round_trip": _ms_each(clients_cpu, count),
            "services_cpu_ms_per_round_trip": _ms_each(services_cpu, count),
            "_latencies": latencies, "_cpu": cpu, "_clients_cpu": clients_cpu, "_services_cpu": services_cpu,
        }

    def close(self) -> None:
        for go in self.gos:
            go.put(None)
        for process in self.workers:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join(5)


def _ms_each(cpu_seconds: float, round_trips: int) -> float | None:
    return cpu_seconds * 1000 / round_trips if round_trips else None


def merge_rounds(rounds: list[dict]) -> dict:
    """One result from several equal rounds: round trips and CPU summed, latencies pooled."""
    latencies = sorted(x for r in rounds for x in r.pop("_latencies"))
    window = sum(r["window_s"] for r in rounds)
    cpu = sum(r["_cpu"] for r in rounds)
    clients_cpu, services_cpu = (sum(r[key] for r in rounds) for key in ("_clients_cpu", "_services_cpu"))
    merged = {**rounds[0], "window_s": window, "round_trips": len(latencies),
              "per_second": len(latencies) / window,
              "p50_ms": pct(latencies, 50) * 1000, "p99_ms": pct(latencies, 99) * 1000,
              "errors": sum(r["errors"] for r in rounds), "sent_total": sum(r["sent_total"] for r in rounds),
              "first_error": next((r["first_error"] for r in rounds if r["first_error"]), None),
              "broadcasts_received": sum(r["broadcasts_received"] for r in rounds),
              "server_cpu_ms_per_round_trip": _ms_each(cpu, len(latencies)), "server_cpu_share": cpu / window,
              "client_cpu_ms_per_round_trip": _ms_each(clients_cpu, len(latencies)),
              "services_cpu_ms_per_round_trip": _ms_each(services_cpu, len(latencies)),
              "rounds_per_second": [r["per_second"] for r in rounds]}
    for r in (merged, *rounds):
        for key in ("_cpu", "_clients_cpu", "_services_cpu"):
            r.pop(key, None)
    merged["rounds"] = rounds
    return merged


def _collect(out: mp.Queue, procs: int, kind: str, seconds: float) -> list:
    deadline = time.monotonic() + seconds
    got = []
    for _message in range(procs * 10):
        if len(got) == procs:
            return got
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"client processes: {len(got)} of {procs} {kind} in {seconds:.0f} s")
        try:
            status, worker, value = out.get(timeout=left)
        except Exception:
            continue
        if status == "error":
            raise RuntimeError(f"client process {worker}: {value}")
        if status == kind:
            got.append(value)
    if len(got) == procs:
        return got
    raise RuntimeError(f"client processes: {len(got)} of {procs} {kind}, unexpected messages")


def run_joins(server: Group, cases: dict[str, tuple[str, int]], joins: int, warm: int = 5) -> dict:
    """One client per case; joins alternate between the cases so drift hits all alike."""
    clients = {label: _connect(server.urls[0], token) for label, (token, _case) in cases.items()}
    times: dict[str, list[float]] = {label: [] for label in cases}
    sizes: dict[str, int] = {}
    deadline = time.monotonic() + 60
    try:
        for i in range(warm + joins):
            if time.monotonic() > deadline:
                break
            for label, (_token, case_id) in cases.items():
                started = time.monotonic()
                ack = clients[label].call("join", {"case_id": case_id}, namespace=NAMESPACE,
                                          timeout=CALL_TIMEOUT)
                elapsed = time.monotonic() - started
                if not (isinstance(ack, dict) and ack.get("ok")):
                    raise RuntimeError(f"join {label} refused: {ack}")
                sizes[label] = len(ack["messages"])
                if i >= warm:
                    times[label].append(elapsed)
    finally:
        for client in clients.values():
            client.disconnect()
    return {label: {"joins": len(values), "p50_ms": statistics.median(values) * 1000,
                    "p99_ms": pct(sorted(values), 99) * 1000, "messages_in_ack": sizes[label]}
            for label, values in times.items()}


# ---- fan-out ------------------------------------------------------------------------------------


def fanout_worker(spec: dict, go: mp.Queue, out: mp.Queue) -> None:
    """Room members: len(spec["clients"]) connected clients that note when each message reaches them. For
    each number from `go`, report the latest arrival of that message over all members (or None)."""
    import socketio

    clients, arrivals = [], []
    try:
        for n, (token, case_id, url) in enumerate(spec["clients"]):
            client = socketio.Client(reconnection=False, websocket_extra_options={"skip_utf8_validation": True})
            seen: dict[str, float] = {}
            arrivals.append(seen)

            def on_message(data, seen=seen):
                seen[data.get("body", "")] = time.monotonic()

            client.on("message", on_message, namespace=NAMESPACE)
            client.connect(url, transports=["websocket"], namespaces=[NAMESPACE],
                           auth={"token": token or "bare"}, wait_timeout=15)
            ack = client.call("join", {"case_id": case_id}, namespace=NAMESPACE, timeout=CALL_TIMEOUT)
            if not (isinstance(ack, dict) and ack.get("ok")):
                raise RuntimeError(f"member {n}: join refused: {ack}")
            clients.append(client)
        out.put(("ready", spec["worker"], None))
        for _message in range(10_000):
            body = go.get(timeout=300)
            if body is None:
                return
            deadline = time.monotonic() + CALL_TIMEOUT
            while time.monotonic() < deadline and not all(body in seen for seen in arrivals):
                time.sleep(0.0005)
            got = [seen[body] for seen in arrivals if body in seen]
            out.put(("done", spec["worker"], {"last": max(got) if len(got) == len(arrivals) else None,
                                               "received": len(got)}))
    except Exception as error:
        out.put(("error", spec["worker"], f"{type(error).__name__}: {error}"))
    finally:
        for client in clients:
            with contextlib.suppress(Exception):
                client.disconnect()


def run_fanout(group: Group, kind: str, members: list[tuple[str | None, int]], sender: tuple[str | None, int],
               messages: int, procs: int, warm: int = 3) -> dict:
    """One sender, `members` listening in the same room over the group's ports; per message, the time from
    the send until the last member has it."""
    urls = group.urls
    placed = [(token, case_id, urls[n % len(urls)]) for n, (token, case_id) in enumerate(members)]
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    gos = [ctx.Queue() for _ in range(procs)]
    workers = [ctx.Process(target=fanout_worker, args=({"worker": w, "clients": placed[w::procs]}, gos[w], out),
                           daemon=True) for w in range(procs)]
    for process in workers:
        process.start()
    token, case_id = sender
    client = _connect(urls[0], token)
    times, missed = [], 0
    try:
        _collect(out, procs, "ready", 120)
        if kind == "room":
            client.call("join", {"case_id": case_id}, namespace=NAMESPACE, timeout=CALL_TIMEOUT)
        for i in range(warm + messages):
            body = f"fan-out {kind} {i} {os.urandom(4).hex()}"
            for go in gos:
                go.put(body)
            started = time.monotonic()
            if kind == "room":
                ack = client.call("send", {"case_id": case_id, "channel": "joint", "body": body,
                                           "client_id": body.replace(" ", "-")}, namespace=NAMESPACE,
                                  timeout=CALL_TIMEOUT)
            else:
                ack = client.call("broadcast", {"body": body}, namespace=NAMESPACE, timeout=CALL_TIMEOUT)
            if not (isinstance(ack, dict) and ack.get("ok")):
                raise RuntimeError(f"fan-out send refused: {ack}")
            parts = _collect(out, procs, "done", CALL_TIMEOUT + 10)
            if any(p["last"] is None for p in parts):
                missed += 1
            elif i >= warm:
                times.append(max(p["last"] for p in parts) - started)
    finally:
        for go in gos:
            go.put(None)
        with contextlib.suppress(Exception):
            client.disconnect()
        for process in workers:
            process.join(10)
            if process.is_alive():
                process.kill()
    times.sort()
    return {"server": kind, "members": len(members), "messages": len(times), "missed": missed,
            "p50_ms": pct(times, 50) * 1000, "p99_ms": pct(times, 99) * 1000,
            "max_ms": (times[-1] * 1000) if times else float("nan")}


# ---- the run ------------------------------------------------------------------------------------


def _deadline_hit(*_args) -> None:
    raise SystemExit(f"bench: stopped after the hard deadline of {HARD_DEADLINE:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stacks", default=",".join(STACKS), help=f"comma-separated, of {', '.join(STACKS)}")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured window per rate round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per server and concurrency (ABBA)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured warm-up per rate round")
    parser.add_argument("--clients", default="1,100", help="concurrencies, comma-separated")
    parser.add_argument("--per-case", type=int, default=2,
                        help="room clients per case (2: buyer and seller of each case)")
    parser.add_argument("--procs", type=int, default=2, help="client processes (at most)")
    parser.add_argument("--joins", type=int, default=50, help="measured joins per case size (sqlite stack)")
    parser.add_argument("--big", type=int, default=1_000_000, help="messages in the big case (sqlite stack)")
    parser.add_argument("--members", type=int, default=100, help="room members for the fan-out (PostgreSQL stacks)")
    parser.add_argument("--fanout-messages", type=int, default=20, help="measured fan-out messages per server")
    parser.add_argument("--max-calls", type=int, default=100_000, help="cap on sends per client per run")
    parser.add_argument("--database", default="bench_room",
                        help="PostgreSQL database on 127.0.0.1 for the scaled-out stacks (dropped and made afresh)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5", help="Redis, the message queue")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where to write the results ({RESULTS})")
    parser.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        from bench.bare_socketio import run_threaded

        run_threaded(args.bare_server)
        return 0

    began = time.monotonic()
    load_start = os.getloadavg()[0]
    watchdog = threading.Timer(HARD_DEADLINE, lambda: os.kill(os.getpid(), signal.SIGTERM))
    watchdog.daemon = True
    watchdog.start()
    signal.signal(signal.SIGTERM, _deadline_hit)

    stacks = [s.strip() for s in args.stacks.split(",") if s.strip()]
    unknown = set(stacks) - set(STACKS)
    if unknown:
        parser.error(f"unknown stack(s): {', '.join(sorted(unknown))}")
    concurrencies = [int(c) for c in args.clients.split(",") if c.strip()]
    results = {}
    with tempfile.TemporaryDirectory(prefix="mediation-bench-") as tmp:
        for stack in stacks:
            results[stack] = run_stack(stack, args, concurrencies, Path(tmp))
    elapsed = time.monotonic() - began
    watchdog.cancel()
    load = (load_start, os.getloadavg()[0])
    report = summarise(results, concurrencies, args, elapsed, load)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nJSON: {args.json}")
    return 0


def run_stack(stack: str, args, concurrencies: list[int], tmpdir: Path) -> dict:
    rate_cases = max(1, -(-max(concurrencies) // args.per_case))
    sizes = ({"10 messages": 10, "60 messages (control: full page)": 60, f"{args.big:,} messages": args.big}
             if stack == "sqlite" else {})
    secret = os.urandom(16).hex()
    if stack == "sqlite":
        url = f"sqlite:///{tmpdir / f'{stack}.db'}"
    else:
        create_database(args.database)
        url = pg_url(args.database)
    print(f"\n== {stack}: database, {rate_cases + len(sizes)} cases, {sum(sizes.values()):,} bulk messages ...",
          flush=True)
    t = time.monotonic()
    fixture = build_database(url, secret, rate_cases, sizes)
    setup_seconds = time.monotonic() - t
    print(f"  ready in {setup_seconds:.1f} s", flush=True)
    room, bare = start_servers(stack, url, secret, args.redis_url, tmpdir)
    rates, joins, fanout = [], None, []
    try:
        room.wait_ready()
        bare.wait_ready()
        for n in concurrencies:
            rates.extend(run_rates(room, bare, fixture, n, args))
        from bench.bare_socketio import count_floor_rows  # the bare app's module makes an app: not at import

        floor_acks = sum(r["sent_total"] - r["errors"] for r in rates if r["server"] == "floor")
        floor_rows = count_floor_rows(url)
        if floor_rows != floor_acks:  # a floor that skipped its write would look fast
            raise RuntimeError(f"the floor acknowledged {floor_acks} sends but committed {floor_rows} rows")
        if sizes:
            print("joins ...", flush=True)
            joins = run_joins(room, fixture["join"], args.joins)
        else:
            buyer, seller, case_id = fixture["rate"][0]
            members = [((buyer, seller)[k % 2], case_id) for k in range(args.members)]
            per_round = max(1, args.fanout_messages // 2)
            rounds: dict[str, list[dict]] = {"bare": [], "room": []}
            for kind in ("bare", "room", "room", "bare"):
                print(f"fan-out: {kind}, {args.members} members, {per_round} messages ...", flush=True)
                group = room if kind == "room" else bare
                rounds[kind].append(run_fanout(group, kind, members if kind == "room" else
                                               [(None, 0)] * args.members, (buyer, case_id) if kind == "room"
                                               else (None, 0), per_round, args.procs))
            fanout = [merge_fanout(rounds["bare"]), merge_fanout(rounds["room"])]
    finally:
        room.stop()
        bare.stop()
        if stack != "sqlite":
            drop_database(args.database)
    errors_tail = None
    if any(r["errors"] for r in rates):
        errors_tail = "\n".join(s.log_tail(1500) for s in room.servers)
    return {"rates": rates, "joins": joins, "fanout": fanout, "setup_seconds": setup_seconds,
            "room_server_log_tail": errors_tail}


def run_rates(room: Group, bare: Group, fixture: dict, n: int, args) -> list[dict]:
    # Case after case, `per_case` clients each, alternately the buyer's and the seller's token.
    room_clients = [(pair[k % 2], pair[2]) for pair in fixture["rate"] for k in range(args.per_case)][:n]
    bare_clients = [(None, case_id) for _token, case_id in room_clients]
    fleets = {"bare": Fleet(bare, "bare", bare_clients, args.procs),
              "room": Fleet(room, "room", room_clients, args.procs),
              "floor": Fleet(bare, "floor", bare_clients, args.procs)}
    rounds: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    try:
        for fleet in fleets.values():
            fleet.wait_ready()
        # ABBA…: a load that drifts during the run (the machine may be shared) hits both alike.
        order = [kind for r in range(args.rounds) for kind in (KINDS, KINDS[::-1])[r % 2]]
        for r, kind in enumerate(order):
            print(f"rate: {kind}, {n} client(s), round {len(rounds[kind]) + 1} of {args.rounds} ...", flush=True)
            rounds[kind].append(fleets[kind].round(f"{kind}{n}r{r}", args.warmup, args.seconds, args.max_calls))
    finally:
        for fleet in fleets.values():
            fleet.close()
    merged = []
    for kind in KINDS:
        result = merge_rounds(rounds[kind])
        result["cases"] = len({case_id for _t, case_id in room_clients}) if kind in JOIN_EVENT else None
        merged.append(result)
    return merged


def merge_fanout(rounds: list[dict]) -> dict:
    return {**rounds[0], "messages": sum(r["messages"] for r in rounds), "missed": sum(r["missed"] for r in rounds),
            "p50_ms": statistics.median([r["p50_ms"] for r in rounds]),
            "p99_ms": max(r["p99_ms"] for r in rounds), "max_ms": max(r["max_ms"] for r in rounds),
            "rounds": rounds}


def start_servers(stack: str, url: str, secret: str, redis_url: str, tmpdir: Path) -> tuple[Group, Group]:
    """The room and the bare app (the echo and the floor) on the stack's server and worker class: one process
    each for sqlite, two (on two ports, Redis between them) for the scaled-out stacks."""
    from bench.bare_socketio import create_floor_table

    env = clean_env()
    create_floor_table(url)  # the floor writes to a table of its own in the room's database
    env["BARE_DATABASE_URL"] = url
    room_env = {**env, **UNLIMITED, "MEDIATION_DATABASE_URL": url, "MEDIATION_SECRET_KEY": secret,
                "MEDIATION_HOST": "127.0.0.1"}
    python = sys.executable
    if stack == "sqlite":
        port, bare_port = free_port(), free_port()
        room = Server("room", [python, "-m", "flask", "--app", "wsgi", "mediation", "serve", "--host", "127.0.0.1",
                               "--port", str(port)], port, room_env, tmpdir / "sqlite-room.log", SOCKETIO_PROBE)
        bare = Server("bare", [python, str(Path(__file__).resolve()), "--bare-server", str(bare_port)], bare_port,
                      env, tmpdir / "sqlite-bare.log", SOCKETIO_PROBE)
        return Group("room", [room]), Group("bare", [bare])
    channel = f"bench-room-{os.urandom(4).hex()}"
    room_env.update({"MEDIATION_REDIS_URL": redis_url, "MEDIATION_SOCKETIO_CHANNEL": channel,
                     "MEDIATION_PRESENCE_KEY_PREFIX": f"{channel}:presence", "MEDIATION_WEB_PROCESSES": "1"})
    bare_env = {**env, "BARE_REDIS_URL": redis_url, "BARE_CHANNEL": f"{channel}-bare"}
    rooms, bares = [], []
    for i in range(2):
        port, bare_port = free_port(), free_port()
        if stack == "gevent":
            argv = [python, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
            bare_argv = [python, "-m", "gunicorn", "-k", "gevent", "-w", "1", "--worker-connections", "2000",
                         "-b", f"127.0.0.1:{bare_port}", "--no-control-socket", "bench.bare_socketio:app"]
        else:
            argv = [python, str(ROOT / "bench" / "eventlet_server.py"), "wsgi", str(port)]
            bare_argv = [python, str(ROOT / "bench" / "eventlet_server.py"), "bench.bare_socketio", str(bare_port)]
        rooms.append(Server(f"room{i}", argv, port, {**room_env, "MEDIATION_PORT": str(port)},
                            tmpdir / f"{stack}-room{i}.log", SOCKETIO_PROBE))
        bares.append(Server(f"bare{i}", bare_argv, bare_port, bare_env, tmpdir / f"{stack}-bare{i}.log",
                            SOCKETIO_PROBE))
    return Group("room", rooms), Group("bare", bares)


def _machine_cpu(rate: dict) -> float:
    return sum(rate[key] or 0.0 for key in ("client_cpu_ms_per_round_trip", "server_cpu_ms_per_round_trip",
                                            "services_cpu_ms_per_round_trip"))


def _ratio(a: dict, b: dict, key: str) -> float:
    return a[key] / b[key] if b[key] else float("nan")


def _ms(value: float | None) -> str:
    return f"{value:.2f}" if value else "-"


def summarise(results: dict, concurrencies: list[int], args, elapsed: float, load: tuple[float, float]) -> dict:
    described = {"sqlite": "1 process, Werkzeug threaded, SQLite WAL",
                 "gevent": "2 processes, gunicorn gevent, PostgreSQL + Redis",
                 "eventlet": "2 processes, eventlet WSGI server, PostgreSQL + Redis"}
    report_stacks = {}
    for stack, result in results.items():
        rates = result["rates"]
        print(f"\n== {stack} ({described[stack]}): send → ack, closed loop, room commits before the ack")
        print(f"{'server':6} {'clients':>7} {'cases':>5} {'rt/s':>8} {'rounds rt/s':>15} {'p50 ms':>8} "
              f"{'p99 ms':>8} {'errors':>6} {'srv CPU ms/rt':>13} {'srv CPU':>7} {'clients ms/rt':>13} "
              f"{'pg+redis ms/rt':>14}")
        for r in rates:
            cpu = r["server_cpu_ms_per_round_trip"]
            each = "/".join(f"{x:.0f}" for x in r["rounds_per_second"])
            print(f"{r['server']:6} {r['clients']:>7} {r['cases'] or '-':>5} {r['per_second']:>8.1f} {each:>15} "
                  f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>6} "
                  f"{_ms(cpu):>13} {r['server_cpu_share'] * 100:>6.0f}% "
                  f"{_ms(r['client_cpu_ms_per_round_trip']):>13} {_ms(r['services_cpu_ms_per_round_trip']):>14}")
        targets = {}
        for n in concurrencies:
            bare, room, floor = (next(r for r in rates if r["server"] == kind and r["clients"] == n) for kind in KINDS)
            rate_ratio, p99_ratio = _ratio(room, bare, "per_second"), _ratio(room, bare, "p99_ms")
            met = (rate_ratio >= TARGET_THROUGHPUT_RATIO and p99_ratio <= TARGET_P99_RATIO
                   and room["errors"] == 0 and bare["errors"] == 0)
            floor_ratio, floor_p99_ratio = _ratio(floor, bare, "per_second"), _ratio(floor, bare, "p99_ms")
            whole = {r["server"]: _machine_cpu(r) for r in (bare, room, floor)}
            targets[str(n)] = {"rate_ratio": rate_ratio, "p99_ratio": p99_ratio, "met": met,
                               "floor_rate_ratio": floor_ratio, "floor_p99_ratio": floor_p99_ratio,
                               "room_over_floor": _ratio(room, floor, "per_second"),
                               "machine_cpu_ms_per_round_trip": whole}
            print(f"{n} client(s): room/bare round trips {rate_ratio:.2f} (target ≥ {TARGET_THROUGHPUT_RATIO}), "
                  f"p99 {p99_ratio:.2f} × bare (target ≤ {TARGET_P99_RATIO}): {'MET' if met else 'NOT MET'}")
            print(f"  the floor (commit one row, broadcast, ack): floor/bare round trips {floor_ratio:.2f}, p99 "
                  f"{floor_p99_ratio:.2f} × bare; room/floor round trips {targets[str(n)]['room_over_floor']:.2f}")
            print(f"  the machine's CPU per round trip (clients + server + PostgreSQL and Redis): bare "
                  f"{whole['bare']:.2f} ms, room {whole['room']:.2f} ms, floor {whole['floor']:.2f} ms")
        for r in rates:
            if r["first_error"]:
                print(f"  {r['server']} at {r['clients']}: {r['errors']} errors, first: {r['first_error']}")
        entry = {"description": described[stack], "rates": rates, "targets": targets,
                 "setup_seconds": result["setup_seconds"], "room_server_log_tail": result["room_server_log_tail"]}
        if result["fanout"]:
            print(f"\nfan-out: one message to {args.members} members over 2 processes; send → last member has it")
            print(f"{'server':6} {'messages':>8} {'missed':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
            for f in result["fanout"]:
                print(f"{f['server']:6} {f['messages']:>8} {f['missed']:>6} {f['p50_ms']:>8.2f} {f['p99_ms']:>8.2f} "
                      f"{f['max_ms']:>8.2f}")
            bare_f, room_f = result["fanout"]
            entry["fanout"] = result["fanout"]
            entry["fanout_ratio_p50"] = room_f["p50_ms"] / bare_f["p50_ms"]
            print(f"ratio room/bare p50: {entry['fanout_ratio_p50']:.2f}")
        if result["joins"]:
            joins = result["joins"]
            print("\njoin → ack (p50 over the measured joins; one client per case, alternating)")
            print(f"{'case':34} {'joins':>5} {'msgs in ack':>11} {'p50 ms':>8} {'p99 ms':>8}")
            for label, j in joins.items():
                print(f"{label:34} {j['joins']:>5} {j['messages_in_ack']:>11} {j['p50_ms']:>8.2f} "
                      f"{j['p99_ms']:>8.2f}")
            small, control, big = (joins[label] for label in joins)
            entry.update(joins=joins, join_ratio_big_over_10=big["p50_ms"] / small["p50_ms"],
                         join_ratio_big_over_control=big["p50_ms"] / control["p50_ms"])
            entry["target_join_met"] = entry["join_ratio_big_over_10"] <= TARGET_JOIN_RATIO
            print(f"ratio join p50 {args.big:,} / 10 messages: {entry['join_ratio_big_over_10']:.2f}  "
                  f"(vs full-page control: {entry['join_ratio_big_over_control']:.2f}); target within 20 %: "
                  f"{'MET' if entry['target_join_met'] else 'NOT MET'}")
        report_stacks[stack] = entry
    comparison = None
    if "gevent" in results and "eventlet" in results:
        top = str(max(concurrencies))
        pick = {stack: next(r for r in report_stacks[stack]["rates"] if r["server"] == "room"
                            and str(r["clients"]) == top) for stack in ("gevent", "eventlet")}
        comparison = {"room_rt_per_s_ratio": pick["gevent"]["per_second"] / pick["eventlet"]["per_second"],
                      "room_p99_ratio": pick["gevent"]["p99_ms"] / pick["eventlet"]["p99_ms"],
                      "clients": int(top)}
        if report_stacks["gevent"].get("fanout") and report_stacks["eventlet"].get("fanout"):
            comparison["fanout_p50_ratio"] = (report_stacks["gevent"]["fanout"][1]["p50_ms"]
                                              / report_stacks["eventlet"]["fanout"][1]["p50_ms"])
        print(f"\ngevent / eventlet, case room at {top} clients: round trips {comparison['room_rt_per_s_ratio']:.2f}, "
              f"p99 {comparison['room_p99_ratio']:.2f}"
              + (f", fan-out p50 {comparison['fanout_p50_ratio']:.2f}" if "fanout_p50_ratio" in comparison else ""))
    print(f"\nrun took {elapsed:.0f} s on {os.cpu_count()} CPUs; load average {load[0]:.1f} at the start, "
          f"{load[1]:.1f} at the end")
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "bare_server"},
        "stacks": report_stacks,
        "gevent_over_eventlet": comparison,
        "elapsed_seconds": elapsed,
        "load_average_1min": {"start": load[0], "end": load[1]},
    }


if __name__ == "__main__":
    sys.exit(main())
