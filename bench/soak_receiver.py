"""The marketplace's webhook receiver for bench/soak.py, a process of its own on loopback.

    SOAK_WEBHOOK_SECRET=whsec_… .venv/bin/python bench/soak_receiver.py PORT RECORD_FILE [FAIL_EVERY]

Verifies every request's Standard Webhooks signature (the `standardwebhooks` package) and answers 500 to one
request in FAIL_EVERY (default 5), deterministically: every FAIL_EVERY-th request fails, except that a
webhook-id which failed once is not failed again (that failure goes to the next request instead). So the
ratio holds while no event needs the schedule's third try, five minutes later, which a bounded soak could
not wait for. Every attempt is one JSON line in RECORD_FILE, written before the answer goes out:
{"n", "t", "id", "status", "verified", "type", "case_id", "timestamp", "sha256", "error"}.
GET / answers 200 (the readiness probe).
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, secret: str, record_path: str, fail_every: int):
        from standardwebhooks.webhooks import Webhook

        self.webhook = Webhook(secret)
        self.fail_every = fail_every
        self.lock = threading.Lock()
        self.requests = 0
        self.owed = 0  # failures due but not yet given (their request was a retry of a failed id)
        self.failed_ids: set[str] = set()
        self.record = open(record_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open all run

    def decide(self, msg_id: str, verified: bool) -> tuple[int, int]:
        """(request number, status to answer) for one request; the caller records it."""
        with self.lock:
            self.requests += 1
            n = self.requests
            if not verified:
                return n, 401
            if self.fail_every and n % self.fail_every == 0:
                self.owed += 1
            if self.owed and msg_id not in self.failed_ids:
                self.owed -= 1
                self.failed_ids.add(msg_id)
                return n, 500
            return n, 204

    def write(self, line: dict) -> None:
        with self.lock:
            self.record.write(json.dumps(line, separators=(",", ":")) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the deliverer reuses its connection

    def do_GET(self):  # the name http.server calls
        self._answer(200)

    def do_POST(self):  # the name http.server calls
        state: State = self.server.state
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        headers = {key.lower(): value for key, value in self.headers.items()}
        msg_id = headers.get("webhook-id", "")
        line = {"id": msg_id, "sha256": hashlib.sha256(body).hexdigest(), "type": None, "case_id": None,
                "timestamp": None, "error": None}
        try:
            payload = state.webhook.verify(body, headers)
            verified = True
            line.update(type=payload.get("type"), timestamp=payload.get("timestamp"),
                        case_id=(payload.get("data") or {}).get("case", {}).get("id"))
        except Exception as exc:  # noqa: BLE001 - a bad signature, timestamp or body: refused and recorded
            verified, line["error"] = False, f"{type(exc).__name__}: {exc}"[:300]
        n, status = state.decide(msg_id, verified)
        state.write({"n": n, "t": time.time(), "status": status, "verified": verified, **line})
        self._answer(status)

    def _answer(self, status: int) -> None:
        body = b"" if status == 204 else b"ok" if status < 300 else b"refused by the soak receiver"
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, *args):
        pass


def main() -> int:
    port, record_path = int(sys.argv[1]), sys.argv[2]
    fail_every = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    secret = os.environ["SOAK_WEBHOOK_SECRET"]
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.state = State(secret, record_path, fail_every)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.state.record.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
