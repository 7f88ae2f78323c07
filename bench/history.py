"""History benchmark: opening a case room with 10 and with 10,000,000 messages in the case, on PostgreSQL
with gunicorn (gevent, 1 web process). One run, loopback only, stops by itself (3–6 minutes, most of it
inserting the 10,000,000 rows; `--messages 1000000` for a quick run).

    .venv/bin/python bench/history.py [--messages 10000000] [--calls 50] [--keep | --reuse] [--json PATH]

Cases in one fresh database: --messages, then --later messages of another case (so the big case's newest
message is not the table's newest), then 10 messages and 60 (the control: the same 50-message first page as
the big case). Measured, interleaved between the cases: the Socket.IO `join` ack, the room page
`GET /cases/<id>` (a browser's party session from its join link) and the keyset history call
`GET /api/v1/cases/<id>/messages?before=…` at the newest and the oldest end. Then EXPLAIN (ANALYZE, BUFFERS)
of the history query. Results: a table on stdout and JSON in bench/results/history-latest.json or --json
PATH (see bench/README.md).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
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
    cpu_snapshot,
    create_database,
    database_exists,
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

NAMESPACE = "/cases"
RESULTS = ROOT / "bench" / "results" / "history-latest.json"
TARGET_RATIO = 1.2  # big and 10-message case within 20 % of each other (p50; either way round)
CALL_TIMEOUT = 15.0
HARD_DEADLINE = 480.0  # the whole run, seconds; the watchdog ends it after this
PAGE = 50  # HISTORY_PAGE, the product's default page
# External order ids of the cases, in the order their messages are inserted: the big case first, then other
# cases' later traffic (so the big case's newest message is not the table's newest, as in a live system where
# other cases go on talking), then the two small cases, opened last.
CASES = ("HIST-BIG", "HIST-LATER", "HIST-10", "HIST-60")


# ---- the database --------------------------------------------------------------------------------


def _app(url: str, secret: str):
    from mediation import create_app

    return create_app({"SECRET_KEY": secret, "SQLALCHEMY_DATABASE_URI": url, "BACKGROUND_WORKERS": False})


def build_cases(url: str, secret: str) -> None:
    """Schema from the migrations, one platform and three cases opened through the real services."""
    import flask_migrate

    from mediation.extensions import db
    from mediation.money import Money
    from mediation.services import admin, cases
    from mediation.services.actors import PlatformActor

    app = _app(url, secret)
    with app.app_context():
        flask_migrate.upgrade()
        platform_id = admin.create_platform("Bench marketplace", None).platform_id
        for n, order in enumerate(CASES):
            cases.open_case(PlatformActor(platform_id), {
                "external_order_id": order, "reason": "damaged", "description": "The lid was cracked.",
                "amount": Money.parse("100.00", "USD"), "held_amount": Money.parse("100.00", "USD"),
                "buyer": {"external_id": f"b-{n}", "name": "Olivia Buyer", "email": "o@example.com", "locale": "en"},
                "seller": {"external_id": f"s-{n}", "name": "Shen Seller", "email": "s@example.cn",
                           "locale": "zh-CN"},
                "claimant": "buyer", "metadata": {},
            })
        db.session.remove()
        db.engine.dispose()


def case_parties(url: str, secret: str) -> dict[str, dict]:
    """Per case: its id, party ids, a fresh join link token and a party token for the buyer."""
    from sqlalchemy import select

    from mediation.extensions import db
    from mediation.models import Case
    from mediation.services import access

    app = _app(url, secret)
    found = {}
    with app.app_context():
        for order in CASES:
            case = db.session.scalar(select(Case).where(Case.external_order_id == order))
            if case is None:
                raise RuntimeError(f"no case {order} in the database")
            buyer = case.party("buyer")
            link = access.join_token(buyer, access.fresh_link_expiry())
            party_token = access.issue_party_token(link)[0]
            found[order] = {"case_id": case.id, "parties": {p.role: p.id for p in case.parties},
                            "join_token": link, "party_token": party_token}
        db.session.remove()
        db.engine.dispose()
    return found


def insert_messages(database: str, case_id: int, parties: dict[str, int], count: int, bulk: bool = False) -> float:
    """`count` valid joint-channel messages in one INSERT … SELECT generate_series: alternating buyer and
    seller, client_id unique per sender, created_at one second apart and ending an hour ago.

    With `bulk` (the big case, into an empty table), in the same transaction the two secondary indexes (the
    keyset index and the unique client_id constraint) are dropped before the INSERT and built again after it
    from their own definitions as read from the catalogue, so the schema ends exactly as the migrations made
    it; a sorted build is cheaper than ten million ordered inserts. Progress (the table's size, then the index
    builds) is printed every 10 s from a second connection."""
    import psycopg

    started = time.perf_counter()
    base = datetime.now(UTC) - timedelta(seconds=count + 3600)
    done = threading.Event()
    watcher = threading.Thread(target=_progress, args=(database, count, started, done), daemon=True)
    if bulk:
        watcher.start()
    try:
        with psycopg.connect(pg_url(database, "postgresql"), autocommit=False) as connection:
            # For this session only: no per-row foreign-key trigger (the case exists, the same id every row),
            # no wait for the WAL flush, memory for the index builds.
            connection.execute("SET session_replication_role = replica")
            connection.execute("SET synchronous_commit = off")
            connection.execute("SET maintenance_work_mem = '512MB'")
            rebuild = _drop_secondary_indexes(connection) if bulk else []
            connection.execute(
                """
                INSERT INTO messages (case_id, channel, sender, author_role, author_name, body, client_id,
                                      created_at)
                SELECT %(case_id)s, 'joint',
                       CASE WHEN n %% 2 = 1 THEN %(buyer)s ELSE %(seller)s END,
                       CASE WHEN n %% 2 = 1 THEN 'buyer' ELSE 'seller' END,
                       CASE WHEN n %% 2 = 1 THEN 'Olivia Buyer' ELSE 'Shen Seller' END,
                       'Message ' || n || ': the lid was cracked when the parcel arrived, photos attached.',
                       'bulk-' || lpad(n::text, 10, '0'),
                       %(base)s::timestamptz + n * interval '1 second'
                FROM generate_series(1, %(count)s) AS n
                """,
                {"case_id": case_id, "buyer": f"party:{parties['buyer']}", "seller": f"party:{parties['seller']}",
                 "base": base, "count": count})
            if bulk:
                print(f"  rows in after {time.perf_counter() - started:.0f} s; building "
                      f"{', '.join(name for name, _ in rebuild)} ...", flush=True)
            for _name, statement in rebuild:
                connection.execute(statement)
            connection.commit()
            stored = connection.execute("SELECT count(*) FROM messages WHERE case_id = %s", (case_id,)).fetchone()[0]
    finally:
        done.set()
    if stored != count:
        raise RuntimeError(f"case {case_id}: {stored} messages stored, {count} expected")
    return time.perf_counter() - started


def _drop_secondary_indexes(connection) -> list[tuple[str, str]]:
    """Drop the messages table's unique constraints and plain indexes (not its primary key); return the
    statements that make them again, as PostgreSQL itself prints their definitions."""
    constraints = connection.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'messages'::regclass AND contype = 'u' ORDER BY conname").fetchall()
    indexes = connection.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'messages' "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'messages'::regclass) "
        "ORDER BY indexname").fetchall()
    for name, _definition in constraints:
        connection.execute(f'ALTER TABLE messages DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    remake = [(name, f'ALTER TABLE messages ADD CONSTRAINT "{name}" {definition}') for name, definition in constraints]
    return [(name, definition) for name, definition in indexes] + remake


def _progress(database: str, count: int, started: float, done: threading.Event) -> None:
    """Every 10 s: the index build's phase, else the heap's size. The loader holds an exclusive lock on the table
    (it dropped indexes), so nothing here may open it: the size comes from its files (pg_stat_file) and the
    build from pg_stat_progress_create_index."""
    import psycopg

    try:
        _report_progress(database, count, started, done, psycopg)
    except Exception as error:  # progress is a courtesy: say why it stopped, never stop the load
        print(f"  (no more progress: {type(error).__name__}: {error})", flush=True)


def _report_progress(database: str, count: int, started: float, done: threading.Event, psycopg) -> None:
    with psycopg.connect(pg_url(database, "postgresql"), autocommit=True) as c:
        path = c.execute("SELECT pg_relation_filepath('messages')").fetchone()[0]
        for _tick in range(1000):
            if done.wait(10):
                return
            elapsed = time.perf_counter() - started
            building = c.execute(
                "SELECT phase, blocks_done, blocks_total, tuples_done, tuples_total "
                "FROM pg_stat_progress_create_index WHERE datname = current_database()").fetchone()
            if building:
                phase, blocks, blocks_total, tuples, tuples_total = building
                share = tuples / tuples_total if tuples_total else blocks / blocks_total if blocks_total else 0
                print(f"  … {elapsed:4.0f} s: building an index: {phase} ({share * 100:.0f} %)", flush=True)
                continue
            heap = int(c.execute(
                "SELECT coalesce(sum(f.size), 0) FROM generate_series(0, 255) AS segment, "
                "LATERAL pg_stat_file(%s || CASE WHEN segment = 0 THEN '' ELSE '.' || segment END, true) AS f",
                (path,)).fetchone()[0])
            # ~175 bytes of heap per row (measured): a rough share of the way.
            share = min(100.0, heap / (count * 175) * 100)
            print(f"  … {elapsed:4.0f} s: messages heap {heap / 1e6:,.0f} MB (~{share:.0f} % of the rows)", flush=True)


def message_counts(database: str, case_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """case id -> (count, min id, max id) of its joint channel."""
    import psycopg

    with psycopg.connect(pg_url(database, "postgresql"), autocommit=True) as connection:
        return {case_id: connection.execute(
            "SELECT count(*), coalesce(min(id), 0), coalesce(max(id), 0) FROM messages "
            "WHERE case_id = %s AND channel = 'joint'", (case_id,)).fetchone() for case_id in case_ids}


def analyze(database: str) -> float:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(pg_url(database, "postgresql"), autocommit=True) as connection:
        connection.execute("ANALYZE")
    return time.perf_counter() - started


def prepare_database(args, secret: str) -> tuple[dict, dict]:
    """A fresh database with the three cases filled (or, with --reuse, the one left by --keep)."""
    database = args.database
    sizes = {"HIST-BIG": args.messages, "HIST-LATER": args.later, "HIST-10": 10, "HIST-60": 60}
    timings: dict[str, float] = {}
    if args.reuse and database_exists(database):
        fixture = case_parties(pg_url(database), secret)
        counts = message_counts(database, [f["case_id"] for f in fixture.values()])
        if all(counts[fixture[order]["case_id"]][0] == size for order, size in sizes.items()):
            print(f"database {database}: reused ({args.messages:,} messages in the big case)", flush=True)
            return fixture, {"reused": True}
        print(f"database {database}: not the fixture asked for, built again", flush=True)
    t = time.perf_counter()
    create_database(database)
    build_cases(pg_url(database), secret)
    fixture = case_parties(pg_url(database), secret)
    timings["schema_and_cases_s"] = time.perf_counter() - t
    for order, size in sizes.items():
        print(f"database {database}: {size:,} messages into case {fixture[order]['case_id']} ({order}) ...",
              flush=True)
        timings[f"insert_{order}_s"] = insert_messages(database, fixture[order]["case_id"],
                                                       fixture[order]["parties"], size, bulk=order == "HIST-BIG")
        print(f"  done in {timings[f'insert_{order}_s']:.1f} s", flush=True)
    timings["analyze_s"] = analyze(database)
    print(f"ANALYZE in {timings['analyze_s']:.1f} s", flush=True)
    return fixture, {"reused": False, **timings}


# ---- measuring -----------------------------------------------------------------------------------


def _connect_socket(url: str, token: str):
    import socketio

    # As in bench/room.py: websocket-client's pure-Python UTF-8 check of incoming frames would cost the
    # client more per byte than the server spends, and make a bigger ack look slower than it is.
    client = socketio.Client(reconnection=False, websocket_extra_options={"skip_utf8_validation": True})
    client.connect(url, transports=["websocket"], namespaces=[NAMESPACE], auth={"token": token}, wait_timeout=15)
    return client


class Caller:
    """The three ways of opening one case: its socket client, its browser session, its API session."""

    def __init__(self, url: str, label: str, fixture: dict, ids: tuple[int, int, int]):
        import requests

        self.label, self.case_id, self.party_token = label, fixture["case_id"], fixture["party_token"]
        self.count, self.min_id, self.max_id = ids
        self.url = url
        self.socket = _connect_socket(url, fixture["party_token"])
        self.browser = requests.Session()
        answer = self.browser.get(f"{url}/join/{fixture['join_token']}", allow_redirects=False, timeout=CALL_TIMEOUT)
        if answer.status_code != 302:
            raise RuntimeError(f"join link of {label}: {answer.status_code} {answer.text[:200]}")
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {fixture['party_token']}"

    def join(self) -> int:
        ack = self.socket.call("join", {"case_id": self.case_id}, namespace=NAMESPACE, timeout=CALL_TIMEOUT)
        if not (isinstance(ack, dict) and ack.get("ok")):
            raise RuntimeError(f"join {self.label} refused: {str(ack)[:300]}")
        return len(ack["messages"])

    def page(self) -> int:
        answer = self.browser.get(f"{self.url}/cases/{self.case_id}", timeout=CALL_TIMEOUT)
        if answer.status_code != 200 or "Message " not in answer.text:
            raise RuntimeError(f"room page {self.label}: {answer.status_code} {answer.text[:300]}")
        return answer.text.count('"author_role"')

    def history(self, before: int) -> int:
        answer = self.api.get(f"{self.url}/api/v1/cases/{self.case_id}/messages",
                              params={"channel": "joint", "before": before, "limit": PAGE}, timeout=CALL_TIMEOUT)
        if answer.status_code != 200:
            raise RuntimeError(f"history {self.label}: {answer.status_code} {answer.text[:300]}")
        return len(answer.json()["items"])

    def near(self) -> int:
        """The newest page through the API (the page a client shows first)."""
        return self.history(self.max_id + 1)

    def far(self) -> int:
        """The oldest page: `before` just past the case's 50 oldest messages."""
        return self.history(min(self.min_id + PAGE, self.max_id + 1))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.socket.disconnect()
        self.browser.close()
        self.api.close()


KINDS = ("join", "page", "near", "far")


def measure(server: Server, database: str, callers: dict[str, Caller], calls: int, warm: int,
            seconds: float) -> dict:
    """Every call kind on every case in turn, `warm` rounds unmeasured then `calls` measured; the server's
    and the database backends' CPU read around each call (summed, so the 10 ms tick evens out)."""
    times = {(k, label): [] for k in KINDS for label in callers}
    cpu = {(k, label): [0.0, 0.0] for k in KINDS for label in callers}
    items: dict[tuple[str, str], int] = {}
    worker_pids, backends = server.pids(), []
    deadline = time.monotonic() + seconds
    for i in range(warm + calls):
        if time.monotonic() > deadline:
            print(f"  measuring stopped at its time limit after {i - warm} measured rounds", flush=True)
            break
        if i == warm:
            backends = postgres_backends(database)
        for kind in KINDS:
            for label, caller in callers.items():
                srv, dbc = cpu_snapshot(worker_pids), cpu_snapshot(backends)
                started = time.perf_counter()
                items[(kind, label)] = getattr(caller, kind)()
                elapsed = time.perf_counter() - started
                if i >= warm:
                    times[(kind, label)].append(elapsed)
                    cpu[(kind, label)][0] += cpu_between(srv, cpu_snapshot(worker_pids))
                    cpu[(kind, label)][1] += cpu_between(dbc, cpu_snapshot(backends))
    results: dict[str, dict] = {kind: {} for kind in KINDS}
    for (kind, label), values in times.items():
        results[kind][label] = {
            "calls": len(values), "items": items.get((kind, label)),
            "p50_ms": statistics.median(values) * 1000 if values else float("nan"),
            "p99_ms": pct(sorted(values), 99) * 1000,
            "server_cpu_ms_per_call": cpu[(kind, label)][0] * 1000 / len(values) if values else None,
            "db_cpu_ms_per_call": cpu[(kind, label)][1] * 1000 / len(values) if values else None}
    return results


def explain(url: str, secret: str, callers: dict[str, Caller]) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of the history query exactly as the product sends it: services/messages.history
    runs in this process against the same database, its SELECT on messages is caught with its parameters and
    explained (twice; the warm plan is kept). For each case: opening the room (no `before`: the join ack and
    the room page) and the oldest page. Then the opening query as a prepared statement with
    plan_cache_mode=force_generic_plan: the plan PostgreSQL may switch to once psycopg prepares a statement
    that runs often (prepare_threshold 5)."""
    import psycopg
    from sqlalchemy import event

    from mediation.extensions import db
    from mediation.services import access, messages

    app = _app(url, secret)
    caught: list[tuple[str, dict]] = []

    def catch(_conn, _cursor, statement, parameters, _context, _executemany):
        if "FROM messages" in statement:
            caught.append((statement, parameters))

    plans = {}
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", catch)
        try:
            for label, caller in callers.items():
                actor = access.party_from_token(caller.party_token)
                for end, before in (("open", None), ("oldest", min(caller.min_id + PAGE, caller.max_id + 1))):
                    caught.clear()
                    messages.history(actor, caller.case_id, "joint", before)
                    db.session.rollback()
                    statement, params = caught[-1]
                    with db.engine.connect() as connection:
                        driver = connection.connection.driver_connection
                        for _run in range(2):
                            rows = driver.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params).fetchall()
                        plans[f"{label}, {end}"] = [r[0] for r in rows]
                        if end == "open":
                            plans[f"{label}, {end}, generic plan"] = _generic_plan(driver, statement, params, psycopg)
        finally:
            event.remove(db.engine, "before_cursor_execute", catch)
            db.session.remove()
            db.engine.dispose()
    return plans


def _generic_plan(driver, statement: str, params: dict, psycopg) -> list[str]:
    names: list[str] = []

    def number(match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    driver.execute("PREPARE bench_history_q AS " + re.sub(r"%\((\w+)\)s", number, statement))
    try:
        driver.execute("SET plan_cache_mode = force_generic_plan")
        values = ", ".join(psycopg.sql.Literal(params[name]).as_string(driver) for name in names)
        rows = driver.execute(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_history_q({values})").fetchall()
    finally:
        driver.execute("RESET plan_cache_mode")
        driver.execute("DEALLOCATE bench_history_q")
    return [r[0] for r in rows]


# ---- the run -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000_000, help="messages in the big case")
    parser.add_argument("--later", type=int, default=100_000,
                        help="messages of another case written after the big case's (0: none)")
    parser.add_argument("--calls", type=int, default=50, help="measured calls per kind and case")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured calls per kind and case first")
    parser.add_argument("--database", default="bench_history", help="PostgreSQL database (dropped afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (for --reuse, EXPLAIN)")
    parser.add_argument("--reuse", action="store_true", help="use the database a --keep run left, if it fits")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where to write the results ({RESULTS})")
    args = parser.parse_args()
    if not args.database.startswith("bench_history"):
        parser.error("--database must start with bench_history")

    began = time.monotonic()
    load_start = os.getloadavg()[0]
    watchdog = start_watchdog(HARD_DEADLINE)
    secret = uuid.uuid4().hex  # tokens are issued afresh each run, also on a reused database
    server = None
    callers: dict[str, Caller] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="mediation-bench-history-") as tmp:
            fixture, setup = prepare_database(args, secret)
            ids = message_counts(args.database, [f["case_id"] for f in fixture.values()])
            port = free_port()
            env = {**clean_env(), **UNLIMITED, "MEDIATION_DATABASE_URL": pg_url(args.database),
                   "MEDIATION_SECRET_KEY": secret, "MEDIATION_HOST": "127.0.0.1", "MEDIATION_PORT": str(port),
                   "MEDIATION_WEB_PROCESSES": "1", "MEDIATION_REDIS_URL": "redis://127.0.0.1:6379/3",
                   "MEDIATION_LOG_LEVEL": "warning", "BENCH_SOCKETIO_CHANNEL": f"bench-history-{uuid.uuid4().hex[:8]}"}
            server = Server("mediation", [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                                          "bench.common:mediation_app()"], port, env, Path(tmp) / "server.log")
            server.wait_ready()
            labels = {"HIST-10": "10 messages", "HIST-60": "60 messages (control: full page)",
                      "HIST-BIG": f"{args.messages:,} messages"}
            for order, label in labels.items():
                callers[label] = Caller(server.url, label, fixture[order], ids[fixture[order]["case_id"]])
            print(f"measuring: {args.warmup} + {args.calls} rounds of join, page, near, far on each case ...",
                  flush=True)
            results = measure(server, args.database, callers, args.calls, args.warmup,
                              max(30.0, HARD_DEADLINE - (time.monotonic() - began) - 60))
            print("EXPLAIN (ANALYZE) of the history query ...", flush=True)
            plans = explain(pg_url(args.database), secret, callers)
    finally:
        for caller in callers.values():
            caller.close()
        if server is not None:
            server.stop()
        if not args.keep:
            drop_database(args.database)
    watchdog.cancel()
    report = summarise(results, plans, args, setup, time.monotonic() - began, (load_start, os.getloadavg()[0]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nJSON: {args.json}")
    return 0


NAMES = {"join": "join ack (Socket.IO)", "page": "room page GET /cases/<id>",
         "near": "history API, newest page", "far": "history API, oldest page"}


def summarise(results: dict, plans: dict, args, setup: dict, elapsed: float, load: tuple[float, float]) -> dict:
    print("\nopening a room (PostgreSQL, gunicorn gevent, 1 web process; one client, calls interleaved)")
    print(f"{'call':27} {'case':34} {'calls':>5} {'items':>5} {'p50 ms':>8} {'p99 ms':>8} {'srv CPU ms':>10} "
          f"{'db CPU ms':>9}")
    for kind, by_case in results.items():
        for label, r in by_case.items():
            srv, dbc = r["server_cpu_ms_per_call"], r["db_cpu_ms_per_call"]
            print(f"{NAMES[kind]:27} {label:34} {r['calls']:>5} {r['items']:>5} {r['p50_ms']:>8.2f} "
                  f"{r['p99_ms']:>8.2f} {(f'{srv:.2f}' if srv is not None else '-'):>10} "
                  f"{(f'{dbc:.2f}' if dbc is not None else '-'):>9}")
    # Opening a room (join ack, room page) is judged against the 10-message case, as asked; a history page
    # against the 60-message control, which returns the same 50 messages (10 would be a smaller answer).
    ratios = {}
    for kind, by_case in results.items():
        small, control, big = by_case.values()
        reference = small if kind in ("join", "page") else control
        ratio = big["p50_ms"] / reference["p50_ms"]
        ok = max(ratio, 1 / ratio) <= TARGET_RATIO if ratio > 0 else False
        ratios[kind] = {"big_over_10": big["p50_ms"] / small["p50_ms"],
                        "big_over_control": big["p50_ms"] / control["p50_ms"], "judged": ratio, "met": ok}
        print(f"{NAMES[kind]:27} {args.messages:,} / 10 messages: {ratios[kind]['big_over_10']:.2f}, "
              f"/ control: {ratios[kind]['big_over_control']:.2f}  within 20 % of "
              f"{'10' if reference is small else 'the control'}: {met(ok)}")
    far_near = results["far"][list(results["far"])[-1]]["p50_ms"] / results["near"][list(results["near"])[-1]]["p50_ms"]
    print(f"history API, {args.messages:,}-message case: oldest / newest page p50 {far_near:.2f}")
    opening = ratios["join"]["met"] and ratios["page"]["met"]
    paging = ratios["near"]["met"] and ratios["far"]["met"]
    print(f"target: opening a room (join ack and room page) with {args.messages:,} messages within 20 % of one "
          f"with 10: {met(opening)}")
    print(f"        history pages of the {args.messages:,}-message case at both ends within 20 % of the same page "
          f"of the control: {met(paging)}")
    all_met = opening and paging
    print("\nEXPLAIN (ANALYZE) of the history query, top plan node and execution time:")
    for name, lines in plans.items():
        scans = [line.strip().removeprefix("->").strip().split("  (")[0] for line in lines if "->" in line]
        removed = next((line.strip() for line in lines if "Rows Removed by Filter" in line), "")
        execution = next((line for line in lines if line.startswith("Execution Time")), "")
        print(f"  {name:52} {' / '.join(scans)[:80]:80} {execution}{'  ' + removed if removed else ''}")
    print(f"\nrun took {elapsed:.0f} s (database set-up {sum(v for v in setup.values() if isinstance(v, float)):.0f} s"
          f"{', reused' if setup.get('reused') else ''}) on {os.cpu_count()} CPUs; load average {load[0]:.1f} at "
          f"the start, {load[1]:.1f} at the end")
    return {"generated_at": now_iso(), "machine": machine(),
            "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "setup": setup, "results": results, "ratios": ratios, "history_far_over_near": far_near,
            "target_opening_met": opening, "target_history_met": paging, "target_met": all_met, "plans": plans,
            "elapsed_seconds": elapsed, "load_average_1min": {"start": load[0], "end": load[1]}}


if __name__ == "__main__":
    sys.exit(main())
