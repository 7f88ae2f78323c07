"""The bare stack the case room is measured against: Flask-SocketIO on the same server, worker class and
message queue, with none of Mediation. `send` returns its payload as the ack (an echo); `join` enters one
room and `broadcast` sends its payload to that room (the bare fan-out).

The floor: with BARE_DATABASE_URL set, `join_pair` enters the room of one case and `send_durable` does what
no chat that acks after commit can skip: it commits one row through the database driver itself (sqlite3 or
psycopg, no ORM, no checks), sends the payload to the others in the case's room (through the message queue
when there is one) and returns it as the ack. What the room spends beyond the floor is Mediation's own.

    gunicorn -k gevent bench.bare_socketio:app     # or bench/eventlet_server.py, or run_threaded(port)

BARE_REDIS_URL and BARE_CHANNEL make Redis its message queue, as MEDIATION_REDIS_URL does for the room.
"""
from __future__ import annotations

import contextlib
import os
import queue
import threading

from flask import Flask, request
from flask_socketio import SocketIO, emit, join_room

from mediation import serving

NAMESPACE = "/cases"
FLOOR_TABLE = "bench_floor_messages"
FLOOR_DDL = {
    "sqlite": f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL, "
              "client_id TEXT NOT NULL, body TEXT NOT NULL)",
    "postgresql": f"CREATE TABLE IF NOT EXISTS {FLOOR_TABLE} (id bigserial PRIMARY KEY, case_id integer NOT NULL, "
                  "client_id text NOT NULL, body text NOT NULL)",
}

app = Flask("bare")
app.config["SECRET_KEY"] = "bare"
sio = SocketIO(app, async_mode=serving.async_mode(), max_http_buffer_size=64 * 1024, async_handlers=False,
               message_queue=os.environ.get("BARE_REDIS_URL") or None,
               channel=os.environ.get("BARE_CHANNEL", "bare-bench"))


@sio.on("connect", namespace=NAMESPACE)
def connect(auth=None):
    serving.send_frames_at_once(request.environ)  # as the room does: the floor's broadcast and ack go at once
    return True


@sio.on("send", namespace=NAMESPACE)
def send(data=None):
    return data


@sio.on("join", namespace=NAMESPACE)
def join(data=None):
    join_room("members")
    return {"ok": True, "messages": []}


@sio.on("broadcast", namespace=NAMESPACE)
def broadcast(data=None):
    emit("message", data, to="members", include_self=False)
    return {"ok": True}


class FloorStore:
    """One INSERT committed per call, straight through the driver. SQLite: a connection per thread in
    autocommit (WAL, synchronous=NORMAL, as the room runs it) and one writer at a time, as the room queues its
    writers. PostgreSQL: autocommit connections from a queue (gevent patches the queue)."""

    def __init__(self, url: str):
        self.url = url
        self.sqlite = url.startswith("sqlite:///")
        self._local = threading.local()
        self._writer = threading.Lock()
        self._pool: queue.Queue = queue.Queue()
        self._made = 0
        self._made_lock = threading.Lock()

    def insert(self, case_id: int, client_id: str, body: str) -> None:
        if self.sqlite:
            connection = self._sqlite()
            with self._writer:
                connection.execute(f"INSERT INTO {FLOOR_TABLE} (case_id, client_id, body) VALUES (?, ?, ?)",
                                   (case_id, client_id, body))
            return
        with self._postgres() as connection:
            connection.execute(f"INSERT INTO {FLOOR_TABLE} (case_id, client_id, body) VALUES (%s, %s, %s)",
                               (case_id, client_id, body))

    def _sqlite(self):
        connection = getattr(self._local, "connection", None)
        if connection is None:
            import sqlite3

            connection = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None,
                                         check_same_thread=False)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
                connection.execute(f"PRAGMA {pragma}")
            self._local.connection = connection
        return connection

    @contextlib.contextmanager
    def _postgres(self):
        try:
            connection = self._pool.get_nowait()
        except queue.Empty:
            connection = self._connect_or_wait()
        try:
            yield connection
        finally:
            self._pool.put(connection)

    def _connect_or_wait(self):
        with self._made_lock:
            make = self._made < 20
            self._made += make
        if not make:
            return self._pool.get()
        import psycopg

        return psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


_store = FloorStore(os.environ["BARE_DATABASE_URL"]) if os.environ.get("BARE_DATABASE_URL") else None


def create_floor_table(url: str) -> None:
    """The floor's table, made once by the benchmark before any server starts."""
    with _connect(url) as connection:
        connection.execute(FLOOR_DDL["sqlite" if url.startswith("sqlite:///") else "postgresql"])


def count_floor_rows(url: str) -> int:
    """Rows the floor committed: the benchmark checks it against the acks the floor's clients had."""
    with _connect(url) as connection:
        return connection.execute(f"SELECT count(*) FROM {FLOOR_TABLE}").fetchone()[0]


def _connect(url: str):
    """A driver connection that commits each statement, for the benchmark's own set-up and checks."""
    if url.startswith("sqlite:///"):
        import sqlite3

        return contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None))
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


@sio.on("join_pair", namespace=NAMESPACE)
def join_pair(data=None):
    join_room(f"case:{data['case_id']}")
    return {"ok": True}


@sio.on("send_durable", namespace=NAMESPACE)
def send_durable(data=None):
    _store.insert(data["case_id"], data["client_id"], data["body"])
    emit("message", data, to=f"case:{data['case_id']}", include_self=False)
    return data


def run_threaded(port: int) -> None:
    """Werkzeug's threaded server, as `flask mediation serve` runs the room."""
    sio.run(app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True, use_reloader=False)
