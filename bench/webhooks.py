"""Webhook benchmark: deliveries per second from 1 and 2 `flask mediation worker` processes to a loopback
receiver against a bare sender, the time from commit to the first delivery attempt, and what writing the
outbox costs the commands that write it. One run on PostgreSQL, loopback only, stops by itself (~3 minutes).

    .venv/bin/python bench/webhooks.py [--database bench_webhooks] [--cases 40] [--endpoints 2] [--json PATH]

The database (default bench_webhooks, on the PostgreSQL server at 127.0.0.1:5432; its name must start with
"bench") is dropped and made afresh, and dropped again at the end. The receiver is a threaded http.server
(HTTP/1.1 keep-alive) in a process of its own; the bare sender is plain `requests` POSTs of the same signed
bodies from 1 and 2 processes. Results: tables on stdout, JSON in bench/results/webhooks-latest.json or
--json PATH (see bench/README.md).
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import math
import multiprocessing as mp
import os
import signal
import statistics
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402  (the path above first)
    Child,
    Server,
    clean_env,
    cpu_between,
    cpu_of,
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
    stop_all,
)

RESULTS = ROOT / "bench" / "results" / "webhooks-latest.json"
DEFAULT_DATABASE = "bench_webhooks"
TARGET_SCALING = 1.6  # deliveries/s with 2 workers ≥ 1.6 × with 1
TARGET_P50, TARGET_P99 = 1.0, 5.0  # seconds from commit to the first delivery attempt
TARGET_OUTBOX = 0.9  # throughput with the outbox ≥ 0.9 × without (a cost of at most 10 %)
HARD_DEADLINE = 420.0  # the whole run, seconds; the watchdog ends it after this
ROUND_LIMIT = 60.0  # one delivery round, seconds
STEADY = (0.1, 0.9)  # the rate is taken between these shares of the arrivals (start-up and tail left out)


# ---- the receiver (a process of its own) -------------------------------------------------------------


def receiver_main(port: int) -> None:
    """Answers 204 to every POST and notes (arrival time, path, webhook-id, client port, the signature
    headers, body); GET /_count and GET /_records?bodies=1 read them, POST /_reset forgets them."""
    records: list[tuple] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a marketplace's server would

        def do_POST(self):  # the name http.server calls
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            arrived = time.time()
            if self.path == "/_reset":
                records.clear()
            else:
                records.append((arrived, self.path, self.headers.get("webhook-id"), self.client_address[1],
                                self.headers.get("webhook-timestamp"), self.headers.get("webhook-signature"),
                                body.decode()))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):  # the name http.server calls
            if self.path.startswith("/_records"):
                full = "bodies=1" in self.path
                data = json.dumps([r if full else r[:4] for r in list(records)]).encode()
            else:
                data = json.dumps({"count": len(records)}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.serve_forever()


def machine_idle() -> tuple[float, float]:
    """(idle, total) jiffies of all cores so far (Linux /proc/stat); two readings give the idle share."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return values[3] + values[4], sum(values[:8])
    except (OSError, ValueError, IndexError):
        return math.nan, math.nan


def idle_share(before: tuple[float, float]) -> float:
    after = machine_idle()
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total else math.nan


# Every child started (the receiver and the workers), so the run's last step stops whatever is left,
# whenever it ends (the watchdog too).
started: list[Child] = []


class Receiver(Server):
    def __init__(self, port: int, env: dict, log: Path):
        super().__init__("receiver", [sys.executable, str(Path(__file__).resolve()), "--receiver", str(port)],
                         port, env, log, probe="/_count")
        started.append(self)
        self.wait_ready()

    def _get(self, path: str):
        with urllib.request.urlopen(self.url + path, timeout=30) as answer:
            return json.load(answer)

    def count(self) -> int:
        return self._get("/_count")["count"]

    def records(self, bodies: bool = False) -> list[list]:
        return self._get("/_records?bodies=1" if bodies else "/_records")

    def reset(self) -> None:
        request = urllib.request.Request(self.url + "/_reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def wait_for(self, count: int, seconds: float) -> int:
        deadline = time.monotonic() + seconds
        for _poll in range(int(seconds / 0.05) + 1):
            got = self.count()
            if got >= count or time.monotonic() >= deadline:
                return got
            time.sleep(0.05)
        return self.count()


def start_workers(n: int, env: dict, tmpdir: Path, label: str) -> list[Child]:
    """`flask mediation worker` processes, once each has said it runs. Stopped with SIGTERM, which a worker
    takes as its cue to finish cleanly however often it comes; its threads get 30 s."""
    argv = [sys.executable, "-m", "flask", "--app", "wsgi", "mediation", "worker"]
    workers = [Child(f"worker {k}", argv, env, tmpdir / f"worker-{label}-{k}.log", stop_signal=signal.SIGTERM,
                     stop_seconds=30.0) for k in range(n)]
    started.extend(workers)
    try:
        for worker in workers:
            worker.wait_said("Worker running")
    except RuntimeError:
        stop_all(workers)
        raise
    return workers


# ---- the database, through the real services ------------------------------------------------------


def case_data(n: int) -> dict:
    from mediation.money import Money

    return {"external_order_id": f"BENCH-{n}", "reason": "damaged", "description": "The lid was cracked.",
            "amount": Money.parse("100.00", "USD"), "held_amount": Money.parse("100.00", "USD"),
            "buyer": {"external_id": f"b-{n}", "name": "Olivia Buyer", "email": "olivia@example.com",
                      "locale": "en"},
            "seller": {"external_id": f"s-{n}", "name": "Shen Seller", "email": "shen@example.cn",
                       "locale": "zh-CN"},
            "claimant": "buyer", "metadata": {}}


_orders = iter(range(1, 10**9))


def open_case(platform_id: int):
    from mediation.services import cases
    from mediation.services.actors import PlatformActor

    return cases.open_case(PlatformActor(platform_id), case_data(next(_orders)))


def build(receiver_url: str, cases_: int, endpoints: int, chat_cases: int) -> dict:
    """Platforms, endpoints and cases through the real services (admin, cases, proposals, messages)."""
    from mediation.money import Money
    from mediation.services import access, admin, cases, messages, proposals
    from mediation.services.actors import PlatformActor, StaffActor

    made = admin.create_platform("Deliveries", f"{receiver_url}/deliver/0")
    secrets = {"/deliver/0": made.webhook_secret}
    staff_id = admin.create_user(email="bench-admin@example.com", name="Bench Admin", role="admin",
                                 password="a long bench password")
    staff = StaffActor(user_id=staff_id, role="admin", name="Bench Admin")
    for k in range(1, endpoints):
        secrets[f"/deliver/{k}"] = admin.add_endpoint(staff, made.platform_id, f"{receiver_url}/deliver/{k}").secret
    platform_actor = PlatformActor(made.platform_id)
    for _n in range(cases_):  # settled and closed: 6 webhook events each
        opened = open_case(made.platform_id)
        buyer, seller = (access.party_from_join_token(opened.join_tokens[r]) for r in ("buyer", "seller"))
        proposal = proposals.create_proposal(seller, opened.case.id, buyer_refund=Money.parse("40.00", "USD"),
                                             seller_release=Money.parse("60.00", "USD"))
        proposals.accept_proposal(buyer, opened.case.id, proposal.id)
        cases.confirm_execution(platform_actor, opened.case.id, f"PAYOUT-{opened.case.id}")
    latency = admin.create_platform("Latency", f"{receiver_url}/latency")
    quiet = admin.create_platform("No endpoint", None).platform_id
    loud = admin.create_platform("One endpoint", f"{receiver_url}/cost").platform_id
    chats = []
    for _n in range(chat_cases):  # in negotiation: the seller has answered
        opened = open_case(quiet)
        buyer, seller = (access.party_from_join_token(opened.join_tokens[r]) for r in ("buyer", "seller"))
        messages.send_message(seller, opened.case.id, "joint", "I shipped it intact.", "first")
        chats.append((opened.case.id, buyer, seller))
    return {"deliver_platform": made.platform_id, "secrets": secrets, "latency_platform": latency.platform_id,
            "latency_secret": latency.webhook_secret, "quiet": quiet, "loud": loud, "chats": chats}


def _deliveries_of(platform_id: int):
    from sqlalchemy import select

    from mediation.models import WebhookDelivery

    return select(WebhookDelivery.id).where(WebhookDelivery.message.has(platform_id=platform_id))


def park_deliveries(platform_id: int) -> None:
    """Before a round: the platform's deliveries settled (so starting workers find nothing to do), their
    attempts forgotten, the tables vacuumed, so each round starts from the same state."""
    from sqlalchemy import delete, text, update

    from mediation import clock
    from mediation.extensions import db
    from mediation.models import DeliveryAttempt, WebhookDelivery

    ours = _deliveries_of(platform_id)
    with db.engine.begin() as connection:
        connection.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(ours)))
        connection.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ours)).values(
            state="delivered", attempts=1, delivered_at=clock.now()))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE) webhook_deliveries, webhook_attempts"))


def reset_deliveries(platform_id: int) -> int:
    """Every delivery of the platform pending and due now, in one commit (as an admin's redeliver makes one
    delivery): the workers, idle, find them all at their next poll."""
    from sqlalchemy import update

    from mediation import clock
    from mediation.extensions import db
    from mediation.models import WebhookDelivery

    with db.engine.begin() as connection:
        return connection.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(_deliveries_of(platform_id)))
                                  .values(state="pending", attempts=0, next_attempt_at=clock.now(),
                                          delivered_at=None, last_status=None, last_error=None)).rowcount


def delivered(platform_id: int) -> int:
    from sqlalchemy import func, select

    from mediation.extensions import db
    from mediation.models import WebhookDelivery

    with db.engine.connect() as connection:
        return connection.execute(select(func.count()).where(
            WebhookDelivery.message.has(platform_id=platform_id), WebhookDelivery.state == "delivered")).scalar()


def outbox_items(platform_id: int, secrets: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(path, webhook-id, body, secret) of every delivery of the platform, as the workers send them."""
    from sqlalchemy import select

    from mediation.extensions import db
    from mediation.models import WebhookDelivery, WebhookEndpoint, WebhookMessage

    rows = db.session.execute(select(WebhookEndpoint.url, WebhookMessage.msg_id, WebhookMessage.body)
                              .select_from(WebhookDelivery).join(WebhookMessage).join(WebhookEndpoint)
                              .where(WebhookMessage.platform_id == platform_id).order_by(WebhookDelivery.id)).all()
    db.session.rollback()
    items = []
    for url, msg_id, body in rows:
        path = "/" + url.split("/", 3)[3]
        items.append((path, msg_id, body, secrets[path]))
    return items


# ---- signatures ------------------------------------------------------------------------------------


def sign(secret: str, msg_id: str, timestamp: str, body: str) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    return "v1," + base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(),
                                             hashlib.sha256).digest()).decode()


def verifies(record: list, secret: str) -> bool:
    _t, _path, msg_id, _port, timestamp, signatures, body = record
    expected = sign(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, s) for s in (signatures or "").split())


# ---- the bare sender ---------------------------------------------------------------------------------


def bare_sender(url: str, items: list, ready: mp.Queue, go, done: mp.Queue) -> None:
    """POST each item, signed as the spec says, one after another: plain `requests` on one keep-alive
    connection (no database, no claims, no attempt log)."""
    import requests

    session = requests.Session()
    ready.put(os.getpid())
    go.wait(60)
    failures = 0
    for path, msg_id, body, secret in items:
        timestamp = str(int(time.time()))
        headers = {"content-type": "application/json", "webhook-id": msg_id, "webhook-timestamp": timestamp,
                   "webhook-signature": sign(secret, msg_id, timestamp, body)}
        try:
            answer = session.post(url + path, data=body.encode(), headers=headers, allow_redirects=False, timeout=15)
            failures += not 200 <= answer.status_code < 300
        except requests.RequestException:
            failures += 1
    session.close()
    done.put(failures)


def bare_round(receiver: Receiver, items: list, procs: int) -> dict:
    receiver.reset()
    ctx = mp.get_context("spawn")
    ready, done, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    senders = [ctx.Process(target=bare_sender, args=(receiver.url, items[k::procs], ready, go, done), daemon=True)
               for k in range(procs)]
    for sender in senders:
        sender.start()
    try:
        for _sender in senders:
            ready.get(timeout=60)
        cpu, idle = receiver.cpu(), machine_idle()
        go.set()
        failures = sum(done.get(timeout=ROUND_LIMIT) for _sender in senders)
        cpu, idle = cpu_between(cpu, receiver.cpu()), idle_share(idle)
    finally:
        for sender in senders:
            sender.join(10)
            if sender.is_alive():
                sender.kill()
    records = receiver.records()
    result = rates(records, len(items))
    result.update(kind="bare", senders=procs, failures=failures, connections=len({r[3] for r in records}),
                  receiver_cpu_share=cpu / result["span_s"],
                  receiver_cpu_ms_per_delivery=cpu * 1000 / max(1, len(records)), machine_idle_share=idle)
    return result


# ---- delivery rounds ---------------------------------------------------------------------------------


def worker_round(receiver: Receiver, fixture: dict, total: int, n_workers: int, env: dict, tmpdir: Path,
                 label: str, database: str) -> dict:
    """Start the workers, wait until they idle, make every delivery due at once, time the arrivals."""
    receiver.reset()
    platform_id = fixture["deliver_platform"]
    park_deliveries(platform_id)
    # The backends on the database before the workers start are this process's own: it stages the round
    # (the reset, the counts), it does not deliver.
    ours = set(postgres_backends(database))
    workers = start_workers(n_workers, env, tmpdir, label)
    try:
        time.sleep(1.2)  # past their first (empty) pass: now they poll every second
        backends = [pid for pid in postgres_backends(database) if pid not in ours]
        cpu = cpu_of(workers), receiver.cpu(), cpu_snapshot(backends)
        idle = machine_idle()
        reset_at = time.time()
        if reset_deliveries(platform_id) != total:
            raise RuntimeError("the deliveries to reset are not the ones built")
        got = receiver.wait_for(total, ROUND_LIMIT)
        settled = delivered(platform_id)
        for _poll in range(100):  # the last answers' results being recorded
            if settled >= total:
                break
            time.sleep(0.05)
            settled = delivered(platform_id)
        idle = idle_share(idle)
        worker_cpu = cpu_between(cpu[0], cpu_of(workers))
        receiver_cpu = cpu_between(cpu[1], receiver.cpu())
        backends = [pid for pid in postgres_backends(database) if pid not in ours]
        postgres_cpu_s = cpu_between(cpu[2], cpu_snapshot(backends))
    finally:
        stop_all(workers)
    records = receiver.records(bodies=True)
    result = rates(records, total)
    secrets = fixture["secrets"]
    sent = Counter((r[1], r[2]) for r in records)
    result.update(kind="workers", workers=n_workers, received=got, settled_delivered=settled,
                  duplicates=sum(n - 1 for n in sent.values()),
                  bad_signatures=sum(not verifies(r, secrets[r[1]]) for r in records),
                  pickup_s=min(r[0] for r in records) - reset_at if records else None,
                  connections=len({r[3] for r in records}),
                  worker_cpu_ms_per_delivery=worker_cpu * 1000 / max(1, len(records)),
                  postgres_cpu_ms_per_delivery=postgres_cpu_s * 1000 / max(1, len(records)),
                  receiver_cpu_ms_per_delivery=receiver_cpu * 1000 / max(1, len(records)),
                  machine_idle_share=idle,
                  receiver_cpu_share=receiver_cpu / result["span_s"] if result["span_s"] else None)
    return result


def rates(records: list, expected: int) -> dict:
    """Deliveries per second over the whole span (first to last arrival) and over the steady part."""
    times = sorted(r[0] for r in records)
    n = len(times)
    if n < 10:
        return {"arrivals": n, "expected": expected, "per_second": float("nan"),
                "whole_per_second": float("nan"), "span_s": float("nan")}
    span = times[-1] - times[0]
    a, b = int(n * STEADY[0]), int(n * STEADY[1]) - 1
    return {"arrivals": n, "expected": expected, "span_s": span,
            "whole_per_second": (n - 1) / span if span else float("nan"),
            "per_second": (b - a) / (times[b] - times[a]) if times[b] > times[a] else float("nan")}


def merge(rounds: list[dict]) -> dict:
    """Rounds of one kind: the mean rate (each round the same N), each round kept."""
    return {**{k: rounds[0][k] for k in ("kind", "workers", "senders", "expected") if k in rounds[0]},
            "per_second": sum(r["per_second"] for r in rounds) / len(rounds),
            "whole_per_second": sum(r["whole_per_second"] for r in rounds) / len(rounds),
            "rounds": rounds}


# ---- commit → first delivery attempt --------------------------------------------------------------


def latency_phase(receiver: Receiver, fixture: dict, n_workers: int, rate: float, seconds: float, env: dict,
                  tmpdir: Path) -> dict:
    """With the workers idle, open a case (one case.opened each) at a steady rate; the receiver notes each
    arrival. Latency = arrival − the moment open_case returned (committed)."""
    receiver.reset()
    workers = start_workers(n_workers, env, tmpdir, f"latency{n_workers}")
    committed: dict[int, float] = {}
    try:
        time.sleep(1.5)  # idle: polling once a second
        count = int(rate * seconds)
        start = time.monotonic() + 0.2
        for i in range(count):
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            opened = open_case(fixture["latency_platform"])
            committed[opened.case.id] = time.time()
        receiver.wait_for(count, 15)
    finally:
        stop_all(workers)
    first: dict[int, float] = {}
    for record in receiver.records(bodies=True):
        if record[1] == "/latency" and verifies(record, fixture["latency_secret"]):
            case_id = json.loads(record[6])["data"]["case"]["id"]
            first[case_id] = min(first.get(case_id, math.inf), record[0])
    latencies = sorted(first[c] - t for c, t in committed.items() if c in first)
    return {"workers": n_workers, "commits": len(committed), "arrived": len(latencies),
            "rate_per_second": rate, "p50_s": pct(latencies, 50), "p90_s": pct(latencies, 90),
            "p99_s": pct(latencies, 99), "max_s": latencies[-1] if latencies else float("nan"),
            "met": bool(latencies) and len(latencies) == len(committed)
            and pct(latencies, 50) <= TARGET_P50 and pct(latencies, 99) <= TARGET_P99}


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


# ---- the cost of the outbox ------------------------------------------------------------------------------


def row_counts() -> dict[str, int]:
    from sqlalchemy import text

    from mediation.extensions import db

    with db.engine.connect() as connection:
        return {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                for t in ("webhook_messages", "webhook_deliveries", "notifications")}


def timed(command, seconds: float, cap: int = 100_000) -> tuple[int, float]:
    """How many runs of `command` complete in `seconds` (at most `cap`), and the time they took."""
    started = time.monotonic()
    done = 0
    for _call in range(cap):
        if time.monotonic() - started >= seconds:
            break
        command()
        done += 1
    return done, time.monotonic() - started


def cost_phase(fixture: dict, rounds: int, seconds: float, warmup: float) -> dict:
    """Commands in this process, no sockets, workers stopped: each arm the same command with and without
    the outbox, rounds interleaved (ABC CBA ABC …, AB BA AB …) so a drifting load hits all arms alike."""
    from sqlalchemy import update

    from mediation import clock
    from mediation.extensions import db
    from mediation.models import Notification
    from mediation.services import cases, events, messages, notifications

    @contextlib.contextmanager
    def no_webhook_outbox():
        """No webhook rows and no webhook body. On PostgreSQL a case opens in one statement: the same one
        without the webhook's two parts."""
        with_webhook = cases._opening_statement
        with mock.patch.object(events, "_write_outbox", lambda run, case, event, case_json=None: None), \
                mock.patch.object(events, "outbox_values", lambda case, event, case_json=None: {}), \
                mock.patch.object(cases, "_opening_statement",
                                  lambda mails, with_key: with_webhook(mails, with_key, with_webhook=False)):
            yield

    @contextlib.contextmanager
    def no_digest_outbox():
        """No digest rows, and no digest bookkeeping read with the case either (the parties' ids only)."""
        ids_only = (notifications.PARTY_DIGESTS[0],)
        with mock.patch.object(notifications, "digests_owed", lambda case_id, sender, channel, parties: []), \
                mock.patch.object(notifications, "PARTY_DIGESTS", ids_only):
            yield

    chats, sent = fixture["chats"], iter(range(1, 10**9))

    def chat() -> None:
        n = next(sent)
        case_id, buyer, seller = chats[n % len(chats)]
        messages.send_message((buyer, seller)[n // len(chats) % 2], case_id, "joint", f"Message {n}.", f"m-{n}")

    def digests_sent() -> None:
        """As if the mail worker had sent the pending digests 16 minutes ago: the next message to each party
        writes a new digest row (else only a case's first message in 15 minutes does)."""
        with db.engine.begin() as connection:
            connection.execute(update(Notification).where(Notification.kind == notifications.DIGEST,
                                                          Notification.state == "pending")
                               .values(state="sent", sent_at=clock.now() - timedelta(minutes=16)))

    arms = {
        "open_case: no outbox": (no_webhook_outbox, lambda: open_case(fixture["quiet"]), None),
        "open_case: outbox, no endpoint": (contextlib.nullcontext, lambda: open_case(fixture["quiet"]), None),
        "open_case: outbox, 1 endpoint": (contextlib.nullcontext, lambda: open_case(fixture["loud"]), None),
        "send_message: no digest outbox": (no_digest_outbox, chat, None),
        "send_message: digest pending": (contextlib.nullcontext, chat, None),
        "send_message: digest rows": (contextlib.nullcontext, chat, digests_sent),
    }
    names = list(arms)
    for name in names:  # cold caches and statements would count against whichever arm came first
        patch, command, _before = arms[name]
        with patch():
            timed(command, warmup)
    results: dict[str, list[dict]] = {name: [] for name in names}
    # After the warm-up every party has a pending digest: "digest pending" checks for it and writes nothing
    # (a conversation's usual message); "digest rows" first marks them sent, so its messages write new ones.
    for group in (names[:3], names[3:]):
        say(f"  {', '.join(group)}: {rounds} rounds of {seconds:g} s each, interleaved ...")
        for r in range(rounds):
            for name in group if r % 2 == 0 else group[::-1]:
                patch, command, before = arms[name]
                with patch():
                    if before:
                        before()
                    rows = row_counts()
                    done, elapsed = timed(command, seconds)
                    after = row_counts()
                results[name].append({"commands": done, "seconds": elapsed, "per_second": done / elapsed,
                                      "rows_written": {t: after[t] - rows[t] for t in rows}})
    summary = {}
    for name, rounds in results.items():
        done, elapsed = sum(r["commands"] for r in rounds), sum(r["seconds"] for r in rounds)
        summary[name] = {"per_second": done / elapsed, "commands": done, "rounds": rounds}
    return summary


# ---- the run -------------------------------------------------------------------------------------------


_began = time.monotonic()


def say(text: str) -> None:
    """A progress line, with the seconds since the run began."""
    print(f"[{time.monotonic() - _began:5.0f} s] {text}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE,
                        help="PostgreSQL database on 127.0.0.1 (its name must start with bench), made afresh and "
                        f"dropped afterwards ({DEFAULT_DATABASE})")
    parser.add_argument("--cases", type=int, default=160, help="settled cases, 6 webhook events each")
    parser.add_argument("--endpoints", type=int, default=2, help="endpoints of the delivery platform")
    parser.add_argument("--rounds", type=int, default=2, help="delivery rounds per worker count (ABBA)")
    parser.add_argument("--latency-rate", type=float, default=5.0, help="commits per second")
    parser.add_argument("--latency-seconds", type=float, default=20.0,
                        help="with 1 worker; with 2 workers half as long")
    parser.add_argument("--cost-rounds", type=int, default=7, help="rounds per outbox-cost arm (interleaved)")
    parser.add_argument("--cost-seconds", type=float, default=1.5, help="measured window per cost round")
    parser.add_argument("--cost-warmup", type=float, default=1.0, help="unmeasured warm-up per arm, once")
    parser.add_argument("--chat-cases", type=int, default=40, help="cases the chat arm talks in")
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where to write the results ({RESULTS})")
    parser.add_argument("--deadline", type=float, default=HARD_DEADLINE,
                        help=f"seconds until the watchdog ends the run ({HARD_DEADLINE:.0f})")
    parser.add_argument("--receiver", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        receiver_main(args.receiver)
        return 0
    if not args.database.startswith("bench"):
        parser.error(f"refusing to drop and recreate {args.database!r}: --database must start with 'bench'")

    global _began
    began = _began = time.monotonic()
    load_start = os.getloadavg()[0]
    watchdog = start_watchdog(args.deadline)

    from mediation import create_app
    from mediation.extensions import db

    secret = os.urandom(16).hex()
    url = pg_url(args.database)
    create_database(args.database)
    app = create_app({"SECRET_KEY": secret, "SQLALCHEMY_DATABASE_URI": url, "BACKGROUND_WORKERS": False,
                      "TESTING": True})
    base_env = clean_env()
    worker_env = {**base_env, "MEDIATION_DATABASE_URL": url, "MEDIATION_SECRET_KEY": secret, "PYTHONUNBUFFERED": "1"}
    report: dict = {}
    with tempfile.TemporaryDirectory(prefix="mediation-bench-") as tmp, app.app_context():
        tmpdir = Path(tmp)
        try:
            receiver = Receiver(free_port(), base_env, tmpdir / "receiver.log")
            report = run(args, receiver, worker_env, tmpdir)
        finally:
            stop_all(started)
            db.session.remove()
            db.engine.dispose()
            drop_database(args.database)
    elapsed = time.monotonic() - began
    watchdog.cancel()
    report.update(summary_footer(args, elapsed, (load_start, os.getloadavg()[0])))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nJSON: {args.json}")
    return 0


def run(args, receiver: Receiver, worker_env: dict, tmpdir: Path) -> dict:
    from mediation.extensions import db

    total = args.cases * 6 * args.endpoints
    say(f"database: schema, {args.cases} settled cases × 6 events × {args.endpoints} endpoints = {total:,} "
        f"deliveries, {args.chat_cases} chat cases ...")
    t = time.monotonic()
    db.create_all()
    fixture = build(receiver.url, args.cases, args.endpoints, args.chat_cases)
    setup_seconds = time.monotonic() - t
    say(f"  ready in {setup_seconds:.1f} s")
    items = outbox_items(fixture["deliver_platform"], fixture["secrets"])
    if len(items) != total:
        raise RuntimeError(f"{len(items)} deliveries written, {total} expected")

    rounds: dict[str, list[dict]] = {"bare 1": [], "bare 2": [], "workers 1": [], "workers 2": []}
    order = ["bare 1", "bare 2"] + [k for r in range(args.rounds)
                                    for k in (("workers 1", "workers 2"), ("workers 2", "workers 1"))[r % 2]]
    order += ["bare 2", "bare 1"]
    for r, kind in enumerate(order):
        what, n = kind.split()
        say(f"deliveries: {kind} ({'sender processes' if what == 'bare' else 'worker processes'}), "
            f"round {len(rounds[kind]) + 1} ...")
        if what == "bare":
            result = bare_round(receiver, items, int(n))
        else:
            result = worker_round(receiver, fixture, total, int(n), worker_env, tmpdir, f"r{r}", args.database)
        say(f"  {result['per_second']:.1f}/s steady, {result['whole_per_second']:.1f}/s whole "
            f"({result['arrivals']} arrivals)")
        rounds[kind].append(result)
    deliveries = {kind: merge(rs) for kind, rs in rounds.items()}

    latency = []
    for n, seconds in ((1, args.latency_seconds), (2, args.latency_seconds / 2)):
        say(f"latency: {n} worker(s), {args.latency_rate:g} commits/s for {seconds:g} s ...")
        latency.append(latency_phase(receiver, fixture, n, args.latency_rate, seconds, worker_env, tmpdir))

    say("outbox cost (commands in this process, workers stopped) ...")
    cost = cost_phase(fixture, args.cost_rounds, args.cost_seconds, args.cost_warmup)
    report = summarise(deliveries, latency, cost, total)
    report["setup_seconds"] = setup_seconds
    return report


def summarise(deliveries: dict, latency: list[dict], cost: dict, total: int) -> dict:
    print(f"\ndeliveries to the loopback receiver ({total:,} per round; rate between the first 10 % and 90 % "
          "of arrivals; whole = first to last)")
    print(f"{'sender':7} {'procs':>5} {'rounds/s':>11} {'steady/s':>9} {'whole/s':>8} {'dup':>4} {'bad':>4} "
          f"{'TCP conns':>9} {'idle CPU':>8}   CPU ms per delivery: {'worker':>6} {'postgres':>8} {'receiver':>8}")
    for kind, d in deliveries.items():
        what, n = kind.split()
        rounds = d["rounds"]
        each = "/".join(f"{r['per_second']:.0f}" for r in rounds)
        dup = sum(r.get("duplicates", 0) for r in rounds)
        bad = sum(r.get("bad_signatures", 0) + r.get("failures", 0) for r in rounds)
        conns = max(r["connections"] for r in rounds)
        cpu = {k: mean([r.get(f"{k}_cpu_ms_per_delivery", math.nan) for r in rounds])
               for k in ("worker", "postgres", "receiver")}
        d["cpu_ms_per_delivery"] = cpu
        idle = mean([r["machine_idle_share"] for r in rounds])
        print(f"{'bare' if what == 'bare' else 'worker':7} {n:>5} {each:>11} {d['per_second']:>9.1f} "
              f"{d['whole_per_second']:>8.1f} {dup:>4} {bad:>4} {conns:>9} {idle * 100:>7.0f}%   {'':20} "
              f"{cpu['worker']:>6.2f} "
              f"{cpu['postgres']:>8.2f} {cpu['receiver']:>8.2f}")
    w1, w2 = deliveries["workers 1"]["per_second"], deliveries["workers 2"]["per_second"]
    b1, b2 = deliveries["bare 1"]["per_second"], deliveries["bare 2"]["per_second"]
    scaling = w2 / w1
    incomplete = [r for d in deliveries.values() for r in d["rounds"]
                  if r["arrivals"] != r["expected"] or r.get("duplicates") or r.get("bad_signatures")]
    met_scaling = scaling >= TARGET_SCALING and not incomplete
    print(f"ratio 2 workers / 1 worker: {scaling:.2f} ({w2:.1f} / {w1:.1f} deliveries/s) — target ≥ "
          f"{TARGET_SCALING}: {met(met_scaling)}")
    idle2 = mean([r["machine_idle_share"] for r in deliveries["workers 2"]["rounds"]])
    if idle2 < 0.1:
        print(f"  the cores were {100 - idle2 * 100:.0f} % busy during the 2-worker rounds (this run and anything else "
              "on the machine): a second worker had no spare CPU to use")
    print(f"ratio worker / bare sender: 1 process {w1 / b1:.3f} ({w1:.1f} / {b1:.1f}); "
          f"2 processes {w2 / b2:.3f} ({w2:.1f} / {b2:.1f})")
    if incomplete:
        print(f"  {len(incomplete)} round(s) incomplete, duplicated or badly signed: see the JSON")
    for kind in ("workers 1", "workers 2"):
        cpu = deliveries[kind]["cpu_ms_per_delivery"]
        total_cpu = sum(cpu.values())
        print(f"CPU per delivery, {kind.replace('workers', 'worker(s):')} {cpu['worker']:.2f} worker + "
              f"{cpu['postgres']:.2f} postgres + {cpu['receiver']:.2f} receiver = {total_cpu:.2f} ms: "
              f"{os.cpu_count()} idle cores could do {os.cpu_count() * 1000 / total_cpu:.0f} deliveries/s")

    print("\ncommit → first delivery attempt (arrival at the receiver − open_case returned; workers idle)")
    print(f"{'workers':>7} {'commits':>7} {'arrived':>7} {'p50 s':>7} {'p90 s':>7} {'p99 s':>7} {'max s':>7}  target")
    for lat in latency:
        print(f"{lat['workers']:>7} {lat['commits']:>7} {lat['arrived']:>7} {lat['p50_s']:>7.3f} {lat['p90_s']:>7.3f} "
              f"{lat['p99_s']:>7.3f} {lat['max_s']:>7.3f}  p50 ≤ {TARGET_P50:g} s, p99 ≤ {TARGET_P99:g} s: "
              f"{met(lat['met'])}")

    print("\nthe cost of the outbox (same command with and without it; rounds interleaved)")
    print(f"{'command':32} {'per s':>8} {'rounds/s':>15} {'webhook msgs':>12} {'deliveries':>10} {'mail rows':>9}")
    for name, c in cost.items():
        rows = Counter()
        for r in c["rounds"]:
            rows.update(r["rows_written"])
        each = "/".join(f"{r['per_second']:.0f}" for r in c["rounds"])
        print(f"{name:32} {c['per_second']:>8.1f} {each:>15} {rows['webhook_messages']:>12} "
              f"{rows['webhook_deliveries']:>10} {rows['notifications']:>9}")
    names = list(cost)
    pairs = {
        "open_case 1 endpoint / no outbox": (names[2], names[0]),
        "open_case no endpoint / no outbox": (names[1], names[0]),
        "send_message digest pending / none": (names[4], names[3]),
        "send_message digest rows / none": (names[5], names[3]),
    }
    ratios, round_ratios, met_cost = {}, {}, {}
    for label, (arm, base) in pairs.items():
        ratios[label] = cost[arm]["per_second"] / cost[base]["per_second"]
        # Each round ran the arms back to back: a load that drifts between rounds cancels out of the round's
        # own ratio, and the median leaves out a round that a burst of noise hit.
        median = round_ratios[label] = statistics.median(
            a["per_second"] / b["per_second"] for a, b in zip(cost[arm]["rounds"], cost[base]["rounds"], strict=True))
        met_cost[label] = median >= TARGET_OUTBOX
        print(f"ratio {label}: median of rounds {median:.3f} (cost {(1 - median) * 100:+.1f} %), all rounds "
              f"{ratios[label]:.3f} — target cost ≤ 10 %: {met(met_cost[label])}")
    return {
        "deliveries": deliveries,
        "deliveries_total_per_round": total,
        "ratio_2_workers_over_1": scaling,
        "ratio_worker_over_bare": {"1": w1 / b1, "2": w2 / b2},
        "target_scaling_met": met_scaling,
        "latency": latency,
        "target_latency_met": all(lat["met"] for lat in latency),
        "outbox_cost": cost,
        "outbox_ratios": ratios,
        "outbox_ratios_median_of_rounds": round_ratios,
        "target_outbox_met": met_cost,
    }


def summary_footer(args, elapsed: float, load: tuple[float, float]) -> dict:
    print(f"\nrun took {elapsed:.0f} s on {os.cpu_count()} CPUs; load average {load[0]:.1f} at the start, "
          f"{load[1]:.1f} at the end")
    return {
        "generated_at": now_iso(),
        "machine": machine(),
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "receiver"},
        "elapsed_seconds": elapsed,
        "load_average_1min": {"start": load[0], "end": load[1]},
    }


if __name__ == "__main__":
    sys.exit(main())
