"""The bare stack the case room is measured against: Flask-SocketIO on the same server, worker class and
message queue, with none of Mediation. `send` returns its payload as the ack (an echo); `join` enters one
room and `broadcast` sends its payload to that room (the bare fan-out).

    gunicorn -k gevent bench.bare_socketio:app     # or bench/eventlet_server.py, or run_threaded(port)

BARE_REDIS_URL and BARE_CHANNEL make Redis its message queue, as MEDIATION_REDIS_URL does for the room.
"""
from __future__ import annotations

import os

from flask import Flask
from flask_socketio import SocketIO, emit, join_room

from mediation import serving

NAMESPACE = "/cases"

app = Flask("bare")
app.config["SECRET_KEY"] = "bare"
sio = SocketIO(app, async_mode=serving.async_mode(), max_http_buffer_size=64 * 1024, async_handlers=False,
               message_queue=os.environ.get("BARE_REDIS_URL") or None,
               channel=os.environ.get("BARE_CHANNEL", "bare-bench"))


@sio.on("connect", namespace=NAMESPACE)
def connect(auth=None):
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


def run_threaded(port: int) -> None:
    """Werkzeug's threaded server, as `flask mediation serve` runs the room."""
    sio.run(app, host="127.0.0.1", port=port, allow_unsafe_werkzeug=True, use_reloader=False)
