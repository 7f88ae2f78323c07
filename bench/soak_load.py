"""The client side of bench/soak.py: processes of case drivers. Each driver takes case after case from
opening to closing through the real API and Socket.IO, as the platform and as both parties, and reports
what it did, what went wrong and what the servers acknowledged (for the checks in soak.py).

One driver works one case at a time, so nothing it does races with itself: a 409 or a refused ack is an
error, never an expected outcome. Bounded by the run's end time and by `max_ops` per driver.
"""
from __future__ import annotations

import contextlib
import io
import random
import re
import threading
import time
import traceback
from collections import Counter

NAMESPACE = "/cases"
CALL_TIMEOUT = 15.0  # one socket ack
HTTP_TIMEOUT = 30.0  # one HTTP request
REASONS = ("not_received", "not_as_described", "damaged", "counterfeit", "unauthorized", "other")
# One step in the middle of a case's life, by weight.
STEPS = {"chat": 56, "chat_rest": 5, "resend": 6, "proposal": 9, "evidence": 5, "read": 19}
# How a case ends: a seller's proposal accepted, the buyer withdraws, or escalation first then settlement.
ENDINGS = {"settle": 65, "withdraw": 15, "escalate": 20}
LINES = ("The lid was cracked when the parcel arrived.", "I can send photos of the box.",
         "Would a partial refund work for you?", "The courier's tracking shows it was delivered.",
         "收到的时候盖子已经裂了。", "We packed it with two layers of foam.", "OK, let me check with the warehouse.")


class Stop(Exception):
    """The run's time (or this driver's operation budget) is up."""


def client_process(spec: dict, out) -> None:
    """One client process: `spec["drivers"]` driver threads until `spec["end"]` (time.monotonic)."""
    try:
        drivers = [Driver(spec, n) for n in range(spec["drivers"])]
        threads = [threading.Thread(target=d.run, daemon=True, name=f"driver-{n}") for n, d in enumerate(drivers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, spec["end"] - time.monotonic()) + 2 * HTTP_TIMEOUT + 10)
        stuck = sum(thread.is_alive() for thread in threads)
        result = merge([d.result() for d in drivers], stuck)
        result["cpu_s"] = time.process_time()  # this client process, all its threads
        out.put(("done", spec["worker"], result))
    except BaseException:  # noqa: BLE001 - the orchestrator must hear about it, whatever it was
        out.put(("error", spec["worker"], traceback.format_exc()))


def merge(results: list[dict], stuck: int) -> dict:
    merged: dict = {"ops": Counter(), "errors": Counter(), "examples": {}, "latencies": [], "acks": [],
                    "sent": [], "cases": [], "duplicates_ok": 0, "duplicates_bad": [], "broadcasts": 0,
                    "stuck_drivers": stuck}
    for r in results:
        merged["ops"].update(r["ops"])
        merged["errors"].update(r["errors"])
        for key, example in r["examples"].items():
            merged["examples"].setdefault(key, example)
        for key in ("latencies", "acks", "sent", "cases", "duplicates_bad"):
            merged[key] += r[key]
        merged["duplicates_ok"] += r["duplicates_ok"]
        merged["broadcasts"] += r["broadcasts"]
        merged["client_cpu_s"] = merged.get("client_cpu_s", 0.0) + r.get("cpu_s", 0.0)
    merged["ops"], merged["errors"] = dict(merged["ops"]), dict(merged["errors"])
    return merged


def png(seed: tuple[int, ...]) -> bytes:
    """A small valid PNG, different for every seed (its pixels spell the seed)."""
    from PIL import Image

    rng = random.Random(repr(seed))
    image = Image.new("RGB", (40, 30), tuple(rng.randrange(256) for _ in range(3)))
    for x, value in enumerate(seed):
        for bit in range(24):
            if value >> bit & 1:
                image.putpixel((x % 40, bit), (255 - bit * 8, x * 16 % 256, 40))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


class Party:
    """One party's Socket.IO connection to its case room."""

    def __init__(self, driver: Driver, role: str, token: str, case_id: int):
        self.driver, self.role, self.token, self.case_id = driver, role, token, case_id
        self.client = None
        self.seen = 0  # the highest message id this party has seen (for `join {since}`)
        self.last: tuple[str, str, int] | None = None  # (client_id, body, id) of its last acknowledged message
        self.broadcasts = 0

    def connect(self) -> None:
        import socketio

        client = socketio.Client(reconnection=False, websocket_extra_options={"skip_utf8_validation": True})
        client.on("message", self._on_message, namespace=NAMESPACE)
        client.connect(self.driver.url, transports=["websocket"], namespaces=[NAMESPACE],
                       auth={"token": self.token}, wait_timeout=15)
        self.client = client
        ack = client.call("join", {"case_id": self.case_id, "since": self.seen or None}, namespace=NAMESPACE,
                          timeout=CALL_TIMEOUT)
        if not (isinstance(ack, dict) and ack.get("ok")):
            raise RuntimeError(f"join refused: {_ack_error(ack)}")
        for message in ack.get("messages", []):
            self.seen = max(self.seen, message["id"])

    def _on_message(self, data) -> None:
        self.broadcasts += 1
        if isinstance(data, dict) and isinstance(data.get("id"), int):
            self.seen = max(self.seen, data["id"])

    def disconnect(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):  # already gone
                client.disconnect()

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.connected


def _ack_error(ack) -> str:
    if isinstance(ack, dict) and isinstance(ack.get("error"), dict):
        return f"{ack['error'].get('code')} {ack['error'].get('message')}"
    return repr(ack)[:200]


class Driver:
    def __init__(self, spec: dict, index: int):
        import requests

        self.url, self.api_key, self.end = spec["url"], spec["api_key"], spec["end"]
        self.think, self.max_ops = spec["think_ms"] / 1000, spec["max_ops"]
        self.worker, self.index = spec["worker"], index
        self.tag = f"{spec['run']}-w{spec['worker']}d{index}"
        self.rng = random.Random(f"{spec['seed']}-{self.tag}")
        self.session = requests.Session()
        self.ops: Counter = Counter()
        self.errors: Counter = Counter()
        self.examples: dict[str, str] = {}
        self.latencies: list[float] = []  # socket send → ack, new messages only
        self.acks: list[list] = []  # [case_id, client_id, message id, "socket" | "rest"]
        self.sent: list[list] = []  # [case_id, client_id] of every new message sent, acknowledged or not
        self.cases: list[int] = []
        self.duplicates_ok = 0
        self.duplicates_bad: list[dict] = []
        self.parties: list[Party] = []
        self.retired_broadcasts = 0
        self.messages = 0
        self.uploads = 0

    # ---- bookkeeping ----------------------------------------------------------------------------

    def result(self) -> dict:
        return {"ops": self.ops, "errors": self.errors, "examples": self.examples, "latencies": self.latencies,
                "acks": self.acks, "sent": self.sent, "cases": self.cases, "duplicates_ok": self.duplicates_ok,
                "duplicates_bad": self.duplicates_bad,
                "broadcasts": self.retired_broadcasts + sum(p.broadcasts for p in self.parties)}

    def fail(self, op: str, kind: str, detail: str = "") -> None:
        key = f"{op}: {kind}"
        self.errors[key] += 1
        self.examples.setdefault(key, detail[:300])

    def pace(self) -> None:
        """Between operations: stop when the time or the budget is up, else think a little."""
        if time.monotonic() >= self.end or sum(self.ops.values()) >= self.max_ops:
            raise Stop
        if self.think:
            time.sleep(self.think * self.rng.uniform(0.5, 1.5))

    def run(self) -> None:
        try:
            self._run()
        finally:
            self.session.close()

    def _run(self) -> None:
        for _case in range(100_000):
            try:
                self.one_case()
            except Stop:
                return
            except Exception as exc:  # noqa: BLE001 - a bug in the client: counted, and the next case starts
                self.fail("driver", type(exc).__name__, traceback.format_exc())
                time.sleep(0.5)
            if time.monotonic() >= self.end:
                return

    # ---- HTTP -----------------------------------------------------------------------------------

    def http(self, op: str, method: str, path: str, token: str, ok=(200, 201), headers=None, **kwargs):
        import requests

        self.ops[op] += 1
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            answer = self.session.request(method, f"{self.url}/api/v1{path}", timeout=HTTP_TIMEOUT,
                                               headers={**auth, **(headers or {})}, **kwargs)
        except requests.RequestException as exc:
            self.fail(op, type(exc).__name__, str(exc))
            return None
        if answer.status_code not in ok:
            self.fail(op, f"HTTP {answer.status_code}", f"{method} {re.sub(r'/[0-9]+', '/N', path)}: "
                                                        f"{answer.text[:250]}")
            return None
        return answer

    # ---- one case, from opening to closing ------------------------------------------------------

    def one_case(self) -> None:
        opened = self.open_case()
        if opened is None:
            self.pace()
            return
        case_id, tokens = opened
        parties = {}
        for role in ("buyer", "seller"):
            answer = self.http("party_token", "POST", "/party-tokens", "", json={"join_token": tokens[role]})
            if answer is None:
                self.pace()
                return
            parties[role] = Party(self, role, answer.json()["token"], case_id)
        case = Case(case_id, parties)
        try:
            for party in parties.values():
                self.connect(party)
            self.pace()
            life = self.rng.randint(12, 45)
            ending = self.rng.choices(list(ENDINGS), weights=list(ENDINGS.values()))[0]
            # The buyer (claimant) speaks first; the seller's first words move the case to negotiation.
            for role in ("buyer", "seller"):
                self.chat(case, parties[role])
                self.pace()
            for step in range(life):
                if ending == "escalate" and step == life // 2:
                    self.escalate(case)
                else:
                    self.step(case)
                self.pace()
            self.finish(case, ending)
        finally:
            for party in parties.values():
                self.retired_broadcasts += party.broadcasts
                party.broadcasts = 0
                party.disconnect()

    def open_case(self) -> tuple[int, dict[str, str]] | None:
        n = len(self.cases)
        key = f"soak-{self.tag}-{n}"
        body = {
            "external_order_id": f"SOAK-{self.tag}-{n}", "reason": self.rng.choice(REASONS),
            "description": "Opened by bench/soak.py.",
            "amount": {"value": "100.00", "currency": "USD"}, "held_amount": {"value": "100.00", "currency": "USD"},
            "buyer": {"external_id": f"b-{self.tag}-{n}", "name": "Olivia Buyer", "email": "olivia@example.com",
                      "locale": "en"},
            "seller": {"external_id": f"s-{self.tag}-{n}", "name": "深圳茶具店", "email": "shen@example.cn",
                       "locale": "zh-CN"},
            "metadata": {"soak": self.tag},
        }
        answer = self.http("open_case", "POST", "/cases", self.api_key, ok=(201,), json=body,
                           headers={"Idempotency-Key": key})
        if answer is None:
            return None
        case = answer.json()
        self.cases.append(case["id"])
        if self.rng.random() < 0.1:  # a platform retrying its request: the same case, marked as replayed
            again = self.http("open_case_replay", "POST", "/cases", self.api_key, ok=(201,), json=body,
                              headers={"Idempotency-Key": key})
            if again is not None and (again.json()["id"] != case["id"]
                                      or again.headers.get("Idempotent-Replayed") != "true"):
                self.fail("open_case_replay", "not the same case", f"{case['id']} then {again.json()['id']}")
        tokens = {role: url.rstrip("/").rsplit("/", 1)[1] for role, url in case["join_urls"].items()}
        return case["id"], tokens

    def connect(self, party: Party) -> bool:
        self.ops["connect"] += 1
        try:
            party.connect()
            return True
        except Exception as exc:  # noqa: BLE001
            self.fail("connect", type(exc).__name__, str(exc))
            party.disconnect()
            return False

    def step(self, case: Case) -> None:
        kind = self.rng.choices(list(STEPS), weights=list(STEPS.values()))[0]
        party = case.parties[self.rng.choice(("buyer", "seller"))]
        if kind == "chat":
            self.chat(case, party)
        elif kind == "chat_rest":
            self.chat_rest(case, party)
        elif kind == "resend":
            self.resend(case, party)
        elif kind == "proposal":
            self.propose(case, party)
        elif kind == "evidence":
            self.upload(case, party)
        else:
            self.read(case, party)

    # ---- chat -----------------------------------------------------------------------------------

    def _new_message(self, case: Case) -> tuple[str, str]:
        self.messages += 1
        client_id = f"{self.tag}-{self.messages}"
        self.sent.append([case.id, client_id])
        return client_id, f"{self.rng.choice(LINES)} ({self.messages})"

    def chat(self, case: Case, party: Party) -> None:
        if not party.connected and not self.connect(party):
            return
        client_id, body = self._new_message(case)
        ack, elapsed = self._send(case, party, "chat", client_id, body)
        if ack is None:
            return
        if ack.get("duplicate"):
            self.fail("chat", "new message acknowledged as a duplicate", repr(ack))
        self.latencies.append(elapsed)
        self.acks.append([case.id, client_id, ack["id"], "socket"])
        party.last = (client_id, body, ack["id"])
        party.seen = max(party.seen, ack["id"])

    def _send(self, case: Case, party: Party, op: str, client_id: str, body: str):
        import socketio

        self.ops[op] += 1
        started = time.monotonic()
        try:
            ack = party.client.call("send", {"case_id": case.id, "channel": "joint", "body": body,
                                             "client_id": client_id}, namespace=NAMESPACE, timeout=CALL_TIMEOUT)
        except socketio.exceptions.TimeoutError:
            self.fail(op, "ack timeout", f"{CALL_TIMEOUT:.0f} s")
            party.disconnect()  # as a real client would: reconnect, then resend
            return None, 0.0
        except Exception as exc:  # noqa: BLE001
            self.fail(op, type(exc).__name__, str(exc))
            party.disconnect()
            return None, 0.0
        elapsed = time.monotonic() - started
        if not (isinstance(ack, dict) and ack.get("ok") and isinstance(ack.get("id"), int)):
            code = ack.get("error", {}).get("code") if isinstance(ack, dict) else None
            self.fail(op, f"ack {code}", _ack_error(ack))
            return None, elapsed
        return ack, elapsed

    def chat_rest(self, case: Case, party: Party) -> None:
        client_id, body = self._new_message(case)
        answer = self.http("chat_rest", "POST", f"/cases/{case.id}/messages", party.token, ok=(201,),
                           json={"channel": "joint", "body": body, "client_id": client_id})
        if answer is None:
            return
        sent = answer.json()
        if sent.get("duplicate"):
            self.fail("chat_rest", "new message acknowledged as a duplicate", repr(sent)[:200])
        self.acks.append([case.id, client_id, sent["id"], "rest"])
        party.last = (client_id, body, sent["id"])

    def resend(self, case: Case, party: Party) -> None:
        """A reconnecting client sends its last message again: the ack must say duplicate, with the same id."""
        if party.last is None:
            self.chat(case, party)
            return
        if self.rng.random() < 0.5 or not party.connected:
            self.ops["reconnect"] += 1
            party.disconnect()
            if not self.connect(party):
                return
        client_id, body, stored_id = party.last
        ack, _elapsed = self._send(case, party, "resend", client_id, body)
        if ack is None:
            return
        if ack.get("duplicate") is True and ack.get("id") == stored_id:
            self.duplicates_ok += 1
        else:
            self.duplicates_bad.append({"case_id": case.id, "client_id": client_id, "stored_id": stored_id,
                                        "ack": ack})
            self.fail("resend", "not acknowledged as the stored message", repr(ack)[:200])

    # ---- proposals, escalation, the end ---------------------------------------------------------

    def propose(self, case: Case, party: Party) -> None:
        other = "seller" if party.role == "buyer" else "buyer"
        theirs = case.open_proposals.get(other)
        roll = self.rng.random()
        if theirs and roll < 0.3:
            if self.http("reject", "POST", f"/cases/{case.id}/proposals/{theirs}/reject", party.token):
                case.open_proposals[other] = None
            return
        refund = self.rng.randrange(0, 21) * 5
        body = {"buyer_refund": {"value": f"{refund}.00", "currency": "USD"},
                "seller_release": {"value": f"{100 - refund}.00", "currency": "USD"},
                "return_required": self.rng.random() < 0.3, "terms": "Proposed by bench/soak.py."}
        op = "proposal"
        if theirs and roll < 0.6:
            body["counter_to"], op = theirs, "counter"
        answer = self.http(op, "POST", f"/cases/{case.id}/proposals", party.token, ok=(201,), json=body)
        if answer is None:
            return
        case.open_proposals[party.role] = answer.json()["proposal"]["id"]
        if op == "counter":
            case.open_proposals[other] = None

    def escalate(self, case: Case) -> None:
        party = case.parties[self.rng.choice(("buyer", "seller"))]
        self.http("escalate", "POST", f"/cases/{case.id}/escalate", party.token,
                  json={"reason": "We cannot agree on the refund."})

    def finish(self, case: Case, ending: str) -> None:
        buyer, seller = case.parties["buyer"], case.parties["seller"]
        if ending == "withdraw":
            if not self.http("withdraw_case", "POST", f"/cases/{case.id}/withdraw", buyer.token,
                             json={"reason": "We sorted it out ourselves."}):
                return
        else:
            if not case.open_proposals.get("seller"):
                self.propose_final(case, seller)
                self.pace()
            proposal = case.open_proposals.get("seller")
            if not proposal or not self.http("accept", "POST", f"/cases/{case.id}/proposals/{proposal}/accept",
                                             buyer.token):
                return
        self.pace()
        self.http("execution", "POST", f"/cases/{case.id}/execution", self.api_key,
                  json={"reference": f"EXEC-{self.tag}-{case.id}"})

    def propose_final(self, case: Case, seller: Party) -> None:
        body = {"buyer_refund": {"value": "40.00", "currency": "USD"},
                "seller_release": {"value": "60.00", "currency": "USD"}, "terms": "Final offer."}
        answer = self.http("proposal", "POST", f"/cases/{case.id}/proposals", seller.token, ok=(201,), json=body)
        if answer is not None:
            case.open_proposals["seller"] = answer.json()["proposal"]["id"]

    # ---- evidence and reads ---------------------------------------------------------------------

    def upload(self, case: Case, party: Party) -> None:
        self.uploads += 1
        data = png((self.worker, self.index, self.uploads, case.id))
        answer = self.http("evidence_upload", "POST", f"/cases/{case.id}/evidence", party.token, ok=(201,),
                           files={"file": (f"photo-{self.uploads}.png", data, "image/png")},
                           data={"caption": "The lid, as it arrived.", "channel": "joint"})
        if answer is not None:
            case.evidence.append(answer.json()["evidence"]["id"])

    def read(self, case: Case, party: Party) -> None:
        choices = ["case", "events", "list", "messages", "proposals", "evidence"]
        if case.evidence:
            choices.append("thumbnail")
        what = self.rng.choice(choices)
        if what == "case":
            self.http("read_case", "GET", f"/cases/{case.id}", self.api_key)
        elif what == "events":
            answer = self.http("read_events", "GET", f"/cases/{case.id}/events", self.api_key)
            if answer is not None and not _chained(answer.json()):
                self.fail("read_events", "events not chained", repr(answer.json())[:200])
        elif what == "list":
            self.http("list_cases", "GET", "/cases", self.api_key, params={"limit": 20})
        elif what == "messages":
            self.http("read_messages", "GET", f"/cases/{case.id}/messages", party.token, params={"channel": "joint"})
        elif what == "proposals":
            self.http("read_proposals", "GET", f"/cases/{case.id}/proposals", party.token)
        elif what == "evidence":
            self.http("read_evidence", "GET", f"/cases/{case.id}/evidence", party.token)
        else:
            self.http("read_thumbnail", "GET", f"/cases/{case.id}/evidence/{self.rng.choice(case.evidence)}/thumbnail",
                      party.token)


def _chained(events: list[dict]) -> bool:
    """The log as the API shows it: seq 1, 2, 3, … and each row naming the previous row's hash."""
    return all(e["seq"] == n + 1 and (n == 0 or e["prev_hash"] == events[n - 1]["hash"])
               for n, e in enumerate(events))


class Case:
    def __init__(self, case_id: int, parties: dict[str, Party]):
        self.id, self.parties = case_id, parties
        self.open_proposals: dict[str, int | None] = {}
        self.evidence: list[int] = []
