"""API benchmark: `POST /api/v1/cases` per second against a bare Flask endpoint that does one INSERT, on
(a) SQLite with the embedded server and (b) PostgreSQL with gunicorn gevent. One run, loopback only, stops
by itself (~3 minutes).

    .venv/bin/python bench/api.py [--seconds 5] [--rounds 2] [--clients 1,16] [--configs sqlite,postgres]

Servers (each its own process; the bare one on the same server and worker class as the real one):
  sqlite    real `flask --app wsgi mediation serve` (Werkzeug threaded) on a fresh SQLite file;
            bare  a Flask app with app.run(threaded=True) on a SQLite file of its own;
  postgres  real gunicorn -c gunicorn.conf.py (gevent, 2 web processes) on PostgreSQL + Redis;
            bare  gunicorn -k gevent -w 2 on a PostgreSQL database of its own.
Clients are keep-alive HTTP/1.1 connections (http.client) in closed loops, spread over client processes.
Results: a table on stdout and JSON in bench/results/api-latest.json or --json PATH (see bench/README.md).
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402  (the path above first)
    UNLIMITED,
    Server,
    clean_env,
    cpu_between,
    cpu_snapshot,
    create_database,
    drop_database,
    free_port,
    machine,
    met,
    now_iso,
    pct,
    pg_url,
    postgres_backends,
    start_watchdog,
)

RESULTS = ROOT / "bench" / "results" / "api-latest.json"
TARGET_RATIO = 0.4  # real ≥ 0.4 × bare, each configuration and concurrency
CALL_TIMEOUT = 15.0  # one request
HARD_DEADLINE = 420.0  # the whole run, seconds; the watchdog ends it after this
REAL_PATH, BARE_PATH = "/api/v1/cases", "/orders"


# ---- the bare baseline ---------------------------------------------------------------------------


def bare_app(url: str | None = None):
    """The baseline: one POST JSON endpoint, one INSERT through Flask-SQLAlchemy, 201 JSON.

    On SQLite it uses the product's PRAGMAs (WAL, synchronous=NORMAL) and, like the product's writer queue,
    one process lock around the write, so neither pays SQLite's busy-wait sleeps. Same pool sizes as the
    product; no pre-ping (a bare app would not have one)."""
    from datetime import UTC, datetime

    from flask import Flask, jsonify, request
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy import Column, DateTime, Integer, String, Text, event

    url = url or os.environ["BENCH_BARE_DATABASE_URL"]
    sqlite = url.startswith("sqlite")
    app = Flask("bare")
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = (
        {"connect_args": {"check_same_thread": False, "timeout": 30}, "pool_size": 64, "max_overflow": 64}
        if sqlite else {"pool_size": 10, "max_overflow": 20})
    db = SQLAlchemy(app)

    class Order(db.Model):
        __tablename__ = "orders"
        id = Column(Integer, primary_key=True)
        external_order_id = Column(String(128), nullable=False)
        body = Column(Text, nullable=False)
        created_at = Column(DateTime(timezone=True), nullable=False)

    writer = threading.Lock() if sqlite else contextlib.nullcontext()
    if sqlite:
        with app.app_context():
            @event.listens_for(db.engine, "connect")
            def _pragmas(dbapi_connection, _record):
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()

    @app.post(BARE_PATH)
    def create_order():
        data = request.get_json()
        order = Order(external_order_id=data["external_order_id"], body=request.get_data(as_text=True),
                      created_at=datetime.now(UTC))
        with writer:
            db.session.add(order)
            db.session.flush()  # the INSERT … RETURNING id
            order_id = order.id
            db.session.commit()
        return jsonify(id=order_id, external_order_id=data["external_order_id"]), 201

    app.extensions["bench_db"] = db
    return app


def create_bare_schema(url: str) -> None:
    app = bare_app(url)
    with app.app_context():
        db = app.extensions["bench_db"]
        db.create_all()
        db.engine.dispose()


# ---- the real server's database ------------------------------------------------------------------


def build_real_database(url: str, secret: str) -> str:
    """Schema from the migrations (`flask db upgrade`, which also seeds the standard rulebook), one platform
    made through the real service. Returns its API key."""
    import flask_migrate

    from mediation import create_app
    from mediation.extensions import db
    from mediation.services import admin

    app = create_app({"SECRET_KEY": secret, "SQLALCHEMY_DATABASE_URI": url, "BACKGROUND_WORKERS": False})
    with app.app_context():
        flask_migrate.upgrade()
        key = admin.create_platform("Bench marketplace", None).api_key
        db.session.remove()
        db.engine.dispose()
    return key


def case_body(order_id: str) -> dict:
    """A valid case, as in tests/conftest.py `case_data` and the README's API example."""
    return {"external_order_id": order_id, "reason": "damaged", "description": "The lid was cracked.",
            "amount": {"value": "100.00", "currency": "USD"}, "held_amount": {"value": "100.00", "currency": "USD"},
            "buyer": {"external_id": "b-1", "name": "Olivia Buyer", "email": "olivia@example.com", "locale": "en"},
            "seller": {"external_id": "s-1", "name": "Shen Seller", "email": "shen@example.cn", "locale": "zh-CN"},
            "claimant": "buyer", "metadata": {}}


# ---- clients -------------------------------------------------------------------------------------


def client_worker(spec: dict, go: mp.Queue, out: mp.Queue) -> None:
    """One process, spec["threads"] keep-alive connections kept across rounds. Each plan from `go` is one
    round: every connection a thread in a closed loop. None (or no plan for 5 minutes) ends the process."""
    connections = [http.client.HTTPConnection("127.0.0.1", spec["port"], timeout=CALL_TIMEOUT)
                   for _ in range(spec["threads"])]
    try:
        out.put(("ready", spec["worker"], None))
        for _round in range(100):
            plan = go.get(timeout=300)
            if plan is None:
                return
            # A connection left idle while the other server had its round may have been closed by the server
            # (gunicorn's keep-alive is 2 s); open fresh ones, in the warm-up.
            for connection in connections:
                connection.close()
            results: list[dict] = [{} for _ in connections]
            threads = [threading.Thread(target=_post_loop, args=(spec, plan, n, connection, results[n]),
                                        daemon=True) for n, connection in enumerate(connections)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(max(0.0, plan["end"] - time.monotonic()) + CALL_TIMEOUT + 5)
            statuses: dict[str, int] = {}
            for r in results:
                for status, count in r.get("statuses", {}).items():
                    statuses[status] = statuses.get(status, 0) + count
            out.put(("done", spec["worker"], {
                "latencies": [x for r in results for x in r.get("latencies", [])],
                "errors": sum(r.get("errors", 0) for r in results),
                "first_error": next((r["first_error"] for r in results if r.get("first_error")), None),
                "sent": sum(r.get("sent", 0) for r in results),
                "connects": sum(r.get("connects", 0) for r in results),
                "statuses": statuses,
            }))
    except Exception as error:  # report, never hang the orchestrator
        out.put(("error", spec["worker"], f"{type(error).__name__}: {error}"))
    finally:
        for connection in connections:
            connection.close()


def _post_loop(spec: dict, plan: dict, n: int, connection: http.client.HTTPConnection, result: dict) -> None:
    latencies: list[float] = []
    errors = sent = connects = 0
    first_error = None
    statuses: dict[str, int] = {}
    prefix = f"{spec['tag']}-{plan['label']}-{spec['worker']}-{n}"
    headers = {"Content-Type": "application/json", **spec["headers"]}
    time.sleep(max(0.0, plan["warm"] - time.monotonic()))
    for i in range(plan["max_calls"]):
        started = time.monotonic()
        if started >= plan["end"]:
            break
        body = json.dumps(case_body(f"{prefix}-{i}")).encode()
        if spec["kind"] == "real":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        connects += connection.sock is None
        try:
            connection.request("POST", spec["path"], body, headers)
            answer = connection.getresponse()
            data = answer.read()
            status = str(answer.status)
            ok = answer.status == 201 and "id" in json.loads(data)
            if ok and spec["kind"] == "real":
                ok = answer.getheader("Idempotent-Replayed") is None and "join_urls" in json.loads(data)
            if not ok:
                first_error = first_error or f"{status} {data[:300]!r}"
        except Exception as error:
            connection.close()  # the next request opens a new connection
            status, ok = type(error).__name__, False
            first_error = first_error or f"{status}: {error}"[:300]
        finished = time.monotonic()
        sent += 1
        statuses[status] = statuses.get(status, 0) + 1
        if not ok:
            errors += 1
        elif started >= plan["start"] and finished <= plan["end"]:
            latencies.append(finished - started)
    result.update(latencies=latencies, errors=errors, sent=sent, first_error=first_error, connects=connects,
                  statuses=statuses)


class Fleet:
    """`clients` keep-alive connections to `server`, spread over client processes."""

    def __init__(self, server: Server, kind: str, clients: int, procs: int, headers: dict, tag: str,
                 database: str | None):
        self.server, self.kind, self.clients, self.database = server, kind, clients, database
        ctx = mp.get_context("spawn")
        self.out: mp.Queue = ctx.Queue()
        self.procs = max(1, min(procs, clients))
        self.gos = [ctx.Queue() for _ in range(self.procs)]
        self.workers = []
        for w in range(self.procs):
            spec = {"worker": w, "kind": kind, "port": server.port, "tag": tag, "headers": headers,
                    "path": REAL_PATH if kind == "real" else BARE_PATH,
                    "threads": clients // self.procs + (w < clients % self.procs)}
            process = ctx.Process(target=client_worker, args=(spec, self.gos[w], self.out), daemon=True)
            process.start()
            self.workers.append(process)

    def wait_ready(self) -> None:
        _collect(self.out, self.procs, "ready", 60)

    def round(self, label: str, warmup: float, seconds: float, max_calls: int) -> dict:
        """Closed loops for `warmup` + `seconds`; count the 201s completed inside the window."""
        now = time.monotonic()
        plan = {"label": label, "max_calls": max_calls, "warm": now + 0.2, "start": now + 0.2 + warmup,
                "end": now + 0.2 + warmup + seconds}
        for go in self.gos:
            go.put(plan)
        time.sleep(max(0.0, plan["start"] - time.monotonic()))
        backends = postgres_backends(self.database) if self.database else []
        srv_before, db_before = self.server.cpu(), cpu_snapshot(backends)
        time.sleep(max(0.0, plan["end"] - time.monotonic()))
        srv_after = self.server.cpu()
        if self.database:
            backends = sorted(set(backends) | set(postgres_backends(self.database)))
        db_cpu = cpu_between(db_before, cpu_snapshot(backends)) if self.database else None
        srv_cpu = cpu_between(srv_before, srv_after)
        parts = _collect(self.out, self.procs, "done", CALL_TIMEOUT + 30)
        statuses: dict[str, int] = {}
        for p in parts:
            for status, count in p["statuses"].items():
                statuses[status] = statuses.get(status, 0) + count
        return {"server": self.kind, "clients": self.clients, "window_s": seconds,
                "_latencies": sorted(x for p in parts for x in p["latencies"]),
                "errors": sum(p["errors"] for p in parts), "sent_total": sum(p["sent"] for p in parts),
                "first_error": next((p["first_error"] for p in parts if p["first_error"]), None),
                "connections_opened": sum(p["connects"] for p in parts), "statuses": statuses,
                "_srv_cpu": srv_cpu, "_db_cpu": db_cpu}

    def close(self) -> None:
        for go in self.gos:
            go.put(None)
        for process in self.workers:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join(5)


def _collect(out: mp.Queue, procs: int, kind: str, seconds: float) -> list:
    deadline = time.monotonic() + seconds
    got = []
    for _message in range(procs * 10):
        if len(got) == procs:
            return got
        left = deadline - time.monotonic()
        if left <= 0:
            break
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
    raise RuntimeError(f"client processes: {len(got)} of {procs} {kind} in {seconds:.0f} s")


def merge_rounds(rounds: list[dict]) -> dict:
    """One result from several equal rounds: requests and CPU summed, latencies pooled."""
    latencies = sorted(x for r in rounds for x in r["_latencies"])
    window = sum(r["window_s"] for r in rounds)
    srv = sum(r["_srv_cpu"] for r in rounds)
    dbc = None if rounds[0]["_db_cpu"] is None else sum(r["_db_cpu"] for r in rounds)
    statuses: dict[str, int] = {}
    for r in rounds:
        for status, count in r["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    count = len(latencies)
    each = [{k: v for k, v in r.items() if not k.startswith("_")} | {"per_second": len(r["_latencies"]) / r["window_s"]}
            for r in rounds]
    return {"server": rounds[0]["server"], "clients": rounds[0]["clients"], "window_s": window,
            "requests": count, "per_second": count / window,
            "rounds_per_second": [e["per_second"] for e in each],
            "p50_ms": pct(latencies, 50) * 1000, "p99_ms": pct(latencies, 99) * 1000,
            "errors": sum(r["errors"] for r in rounds), "sent_total": sum(r["sent_total"] for r in rounds),
            "statuses": statuses, "first_error": next((r["first_error"] for r in rounds if r["first_error"]), None),
            "connections_opened": sum(r["connections_opened"] for r in rounds),
            "server_cpu_ms_per_request": srv * 1000 / count if count else None,
            "server_cpu_share": srv / window,
            "db_cpu_ms_per_request": (dbc * 1000 / count if count else None) if dbc is not None else None,
            "rounds": each}


# ---- one configuration ---------------------------------------------------------------------------


def run_config(name: str, args, tmpdir: Path, secret: str, tag: str) -> dict:
    """Both servers of one configuration up, then per concurrency ABBA rounds; servers stopped after."""
    env = {**clean_env(), **UNLIMITED}
    real_port, bare_port = free_port(), free_port()
    databases: list[str] = []
    servers: list[Server] = []
    t = time.monotonic()
    try:
        if name == "sqlite":
            real_url, bare_url = f"sqlite:///{tmpdir / 'real.db'}", f"sqlite:///{tmpdir / 'bare.db'}"
            real_db = bare_db = None
        else:
            real_db, bare_db = f"bench_api_{os.getpid()}", f"bench_api_{os.getpid()}_bare"
            for database in (real_db, bare_db):
                create_database(database)
                databases.append(database)
            real_url, bare_url = pg_url(real_db), pg_url(bare_db)
        print(f"[{name}] databases: migrations + one platform (real), one table (bare) ...", flush=True)
        api_key = build_real_database(real_url, secret)
        create_bare_schema(bare_url)
        real_env = {**env, "MEDIATION_DATABASE_URL": real_url, "MEDIATION_SECRET_KEY": secret,
                    "MEDIATION_HOST": "127.0.0.1", "MEDIATION_PORT": str(real_port),
                    "MEDIATION_EVIDENCE_DIR": str(tmpdir / "evidence")}
        bare_env = {**env, "BENCH_BARE_DATABASE_URL": bare_url}
        if name == "sqlite":
            real_argv = [sys.executable, "-m", "flask", "--app", "wsgi", "mediation", "serve",
                         "--host", "127.0.0.1", "--port", str(real_port)]
            bare_argv = [sys.executable, str(Path(__file__).resolve()), "--bare-server", str(bare_port)]
        else:
            real_env |= {"MEDIATION_WEB_PROCESSES": str(args.web_processes), "MEDIATION_LOG_LEVEL": "warning",
                         "MEDIATION_REDIS_URL": "redis://127.0.0.1:6379/3", "BENCH_SOCKETIO_CHANNEL": f"bench-{tag}"}
            real_argv = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "bench.common:mediation_app()"]
            bare_argv = [sys.executable, "-m", "gunicorn", "-k", "gevent", "-w", str(args.web_processes),
                         "--worker-connections", "2000", "-b", f"127.0.0.1:{bare_port}", "--log-level", "warning",
                         "bench.api:bare_app()"]
        real = Server("real", real_argv, real_port, real_env, tmpdir / f"{name}-real.log", probe="/")
        servers.append(real)
        bare = Server("bare", bare_argv, bare_port, bare_env, tmpdir / f"{name}-bare.log", probe="/")
        servers.append(bare)
        real.wait_ready()
        bare.wait_ready()
        setup = time.monotonic() - t
        results = []
        for n in args.clients:
            fleets = {"bare": Fleet(bare, "bare", n, args.procs, {}, tag, bare_db),
                      "real": Fleet(real, "real", n, args.procs, {"Authorization": f"Bearer {api_key}"}, tag,
                                    real_db)}
            rounds: dict[str, list[dict]] = {"bare": [], "real": []}
            try:
                for fleet in fleets.values():
                    fleet.wait_ready()
                # ABBA…: a load that drifts during the run (the machine may be shared) hits both alike.
                order = [kind for r in range(args.rounds) for kind in (("bare", "real"), ("real", "bare"))[r % 2]]
                for r, kind in enumerate(order):
                    print(f"[{name}] {kind}, {n} client(s), round {len(rounds[kind]) + 1} of {args.rounds} ...",
                          flush=True)
                    rounds[kind].append(fleets[kind].round(f"{name}{kind}{n}r{r}", args.warmup, args.seconds,
                                                           args.max_calls))
            finally:
                for fleet in fleets.values():
                    fleet.close()
            for kind in ("bare", "real"):
                results.append({"config": name, **merge_rounds(rounds[kind])})
        tails = {s.name: s.log_tail(1500) for s in servers} if any(r["errors"] for r in results) else None
        return {"config": name, "setup_seconds": setup, "results": results, "server_log_tails": tails}
    finally:
        for server in servers:
            server.stop()
        for database in databases:
            if not args.keep:
                drop_database(database)


# ---- the run -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured window per round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per server and concurrency (ABBA)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured warm-up per round")
    parser.add_argument("--clients", default="1,16", help="concurrencies (connections), comma-separated")
    parser.add_argument("--procs", type=int, default=2, help="client processes (at most)")
    parser.add_argument("--configs", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--web-processes", type=int, default=2, help="gunicorn workers (postgres config)")
    parser.add_argument("--max-calls", type=int, default=1_000_000, help="cap on requests per connection per round")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases afterwards")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where to write the results ({RESULTS})")
    parser.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_app().run(host="127.0.0.1", port=args.bare_server, threaded=True)
        return 0
    args.clients = [int(c) for c in args.clients.split(",") if c.strip()]
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]

    began = time.monotonic()
    load_start = os.getloadavg()[0]
    watchdog = start_watchdog(HARD_DEADLINE)
    secret, tag = os.urandom(16).hex(), uuid.uuid4().hex[:8]
    runs = []
    with tempfile.TemporaryDirectory(prefix="mediation-bench-api-") as tmp:
        for name in configs:
            runs.append(run_config(name, args, Path(tmp), secret, tag))
    watchdog.cancel()
    report = summarise(runs, args, time.monotonic() - began, (load_start, os.getloadavg()[0]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nJSON: {args.json}")
    return 0


def summarise(runs: list[dict], args, elapsed: float, load: tuple[float, float]) -> dict:
    print("\nPOST /api/v1/cases (real) vs POST /orders, one INSERT (bare); closed loops, keep-alive")
    print(f"{'config':8} {'server':6} {'clients':>7} {'req/s':>8} {'rounds req/s':>13} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'errors':>6} {'conns':>5} {'srv CPU ms/req':>14} {'db CPU ms/req':>13} {'srv CPU':>7}")
    ratios = []
    for run in runs:
        for r in run["results"]:
            cpu, dbc = r["server_cpu_ms_per_request"], r["db_cpu_ms_per_request"]
            each = "/".join(f"{x:.0f}" for x in r["rounds_per_second"])
            print(f"{r['config']:8} {r['server']:6} {r['clients']:>7} {r['per_second']:>8.1f} {each:>13} "
                  f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['errors']:>6} {r['connections_opened']:>5} "
                  f"{(f'{cpu:.2f}' if cpu else '-'):>14} {(f'{dbc:.2f}' if dbc else '-'):>13} "
                  f"{r['server_cpu_share'] * 100:>6.0f}%")
    for run in runs:
        for n in args.clients:
            real = next(r for r in run["results"] if r["server"] == "real" and r["clients"] == n)
            bare = next(r for r in run["results"] if r["server"] == "bare" and r["clients"] == n)
            ratio = real["per_second"] / bare["per_second"] if bare["per_second"] else float("nan")
            ok = ratio >= TARGET_RATIO and real["errors"] == 0 and bare["errors"] == 0
            cpu_ratio = (real["server_cpu_ms_per_request"] / bare["server_cpu_ms_per_request"]
                         if real["server_cpu_ms_per_request"] and bare["server_cpu_ms_per_request"] else None)
            ratios.append({"config": run["config"], "clients": n, "ratio": ratio, "met": ok,
                           "server_cpu_per_request_ratio": cpu_ratio})
            print(f"[{run['config']}] real/bare at {n:>2} client(s): {ratio:.2f} "
                  f"({real['per_second']:.1f} / {bare['per_second']:.1f} req/s; server CPU per request "
                  f"{(f'{cpu_ratio:.1f}' if cpu_ratio else '-')} ×)  target ≥ {TARGET_RATIO}: {met(ok)}")
    for run in runs:
        for r in run["results"]:
            if r["first_error"]:
                print(f"  {r['config']} {r['server']} at {r['clients']}: {r['errors']} errors "
                      f"(statuses {r['statuses']}), first: {r['first_error']}")
    all_met = all(r["met"] for r in ratios)
    print(f"target real ≥ {TARGET_RATIO} × bare, every configuration and concurrency: {met(all_met)}")
    print(f"\nrun took {elapsed:.0f} s on {os.cpu_count()} CPUs; load average {load[0]:.1f} at the start, "
          f"{load[1]:.1f} at the end")
    return {"generated_at": now_iso(), "machine": machine(),
            "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
                         if k != "bare_server"},
            "runs": runs, "ratios_real_over_bare": ratios, "target_met": all_met, "elapsed_seconds": elapsed,
            "load_average_1min": {"start": load[0], "end": load[1]}}


if __name__ == "__main__":
    sys.exit(main())
