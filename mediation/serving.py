"""How this process serves: which concurrency Socket.IO should use, decided from what the server set up, a heap
the garbage collector need not walk, and connections that send their frames at once.

`flask mediation serve` runs Werkzeug's threaded server, so Socket.IO uses threads. gunicorn's gevent and
eventlet workers patch the standard library before they load the app (see gunicorn.conf.py); the app then
has to use the same library, or every socket would block the whole process.
"""
from __future__ import annotations

import contextlib
import gc
import socket
import sys


def async_mode() -> str:
    """"gevent" or "eventlet" when that library has patched this process's sockets, else "threading"."""
    if "gevent" in sys.modules:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            return "gevent"
    if "eventlet" in sys.modules:
        from eventlet import patcher

        if patcher.is_monkey_patched("socket"):
            return "eventlet"
    return "threading"


def freeze_heap() -> None:
    """Take every object alive now (the app and all it imported: about 230,000) out of the cyclic garbage
    collector's reach; call it once the app is loaded, before serving. Those objects live as long as the
    process, yet each full collection walked them all: 85 ms here, a pause that every client of the process
    waited through. In bench/room.py at 100 clients on gevent it took the room's p99 from 410–460 ms to
    295–330 ms. Objects made later are collected as before."""
    gc.freeze()


def send_frames_at_once(environ: dict) -> None:
    """Switch Nagle's algorithm off on the socket of the connection `environ` came with.

    A Socket.IO connection gets small frames back to back: a room's broadcast, then an ack. With Nagle on, the
    second waits for the client's delayed TCP ACK (~40 ms on Linux, up to 200 ms on Windows), so every round
    trip took 40+ ms. On a websocket connection (the room's only transport) the environ is the upgrade
    request's, so this is the websocket's own socket.
    """
    sock = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
    if sock is not None:
        with contextlib.suppress(OSError, AttributeError):  # not TCP (a Unix socket), or no setsockopt
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
