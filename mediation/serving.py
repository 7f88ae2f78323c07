"""How this process serves: which concurrency Socket.IO should use, decided from what the server set up, and
a heap the garbage collector need not walk.

`flask mediation serve` runs Werkzeug's threaded server, so Socket.IO uses threads. gunicorn's gevent and
eventlet workers patch the standard library before they load the app (see gunicorn.conf.py); the app then
has to use the same library, or every socket would block the whole process.
"""
from __future__ import annotations

import gc
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
